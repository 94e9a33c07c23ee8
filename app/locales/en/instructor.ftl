# The presenter view.
present-terminal-of = { $name }'s terminal (read-only)
present-end-spotlight = End spotlight
present-elapsed = Elapsed
present-planned = Planned to here
present-of = { $part } of { $whole }
present-this-slide = This slide
present-next-button = Next →
present-next = Next
present-end-of-deck = End of the deck.
present-notes = Notes
present-no-notes = No notes for this slide.
# The instructor's home.
instructor-sign-in = Instructor sign-in
instructor-sign-in-intro = Open the login link the server printed in its log when it started, or sign in with your staff account.
instructor-login = Login
instructor-login-empty = empty for the server's password
password = Password
sign-out = Sign out
instructor = Instructor
classes = Classes
class = Class
join-code = Join code
learners = Learners
starts = Starts
class-new = New class
class-new-needs-js = Making a class needs JavaScript.
present = Present
# Making and changing a class.
class-not-a-number = "{ $text }" is not a whole number.
class-pick-a-lab = Pick at least one lab.
name = Name
class-code-help = (optional: 4–12 letters and digits; drawn at random if empty)
decks = Decks
ends = Ends
class-ends-help = (no new joins after)
class-lifetime = Sandbox lifetime, minutes
class-lifetime-help = (empty: the server's)
class-stuck-after = Flag as stuck after, minutes (default { $default })
class-prewarm-at = Start sandboxes at
class-prewarm-at-help = (the roster's, before class)
class-prewarm-spares = and spares for learners yet to join
class-self-extend = Learners may extend their sandbox by, minutes in all
class-self-extend-help = (empty: they may not)
class-codes-only = Only one-time codes join (not the class code)
class-sign-in-required = Learners sign in with the school's account
class-sign-in-required-help = (no anonymous joins)
class-record = Record learners' terminals
class-record-help = (they are told; replay per step)
class-recording-quota = Keep, MB per learner (default { $default })
class-recording-days = for days (default { $default })
class-create = Create class
class-save = Save class
# The class dashboard.
class-loading = Loading the class…
working = Working…
spares-not-a-number = Spares: a whole number.
classes-all = All classes
assistant-named = Assistant: { $name }
link = link
learners-count = learners
spare-sandboxes = spare sandboxes
starts-at = starts
ends-at = ends
dashboard-needs-js = The dashboard needs JavaScript to stay live.
class-message = Message to the class
class-message-placeholder = Message to the whole class
class-message-send = Send to class
prewarm-roster = Pre-warm: roster +
prewarm-spares = spares
prewarm-start = Start sandboxes
grades-csv = Grades CSV
recordings-zip = Recordings (zip)
class-edit = Edit class
class-saved = Saved { $name }.
legend-done = done
legend-working = working
legend-failing = same check failing
legend-none = not reached.
legend-compact = A cell per lab: steps done of its steps. Close the panel for every step.
legend-full = Times are time on the step. Click a learner to help them.
# The help queue and "eyes on me".
the-instructor = the instructor
help-queue = Help queue
help-no-hands = No hands up.
help-waiting = waiting { $time }
help-is-helping = { $name } is helping
help-check = Check:
help-unclaim = Back to queue
help-claim = Claim
help-resolve = Resolve
eyes-on-me-shown = Learners' pages show:
eyes-on-me-release = Release the pages
eyes-on-me-label = Eyes on me message
eyes-on-me-placeholder = Eyes on me, please.
eyes-on-me = Eyes on me
# The class matrix.
sandbox-running = running
sandbox-idle = idle
sandbox-expired = expired
sandbox-stopped = stopped
sandbox-queued = queued
matrix-caption = Learners and their progress in each lab step
learner = Learner
sandbox = Sandbox
total = Total
matrix-empty = Nobody has joined yet. Learners join at /join with the class code.
matrix-step-title = { $lab }: { $step } ({ $points } pt)
matrix-labs-compact = Labs (steps done)
matrix-lab-short = L{ $n }
matrix-lab = { $lab }: { $done } of { $steps } steps done
matrix-lab-failing = { $lab }: { $done } of { $steps } steps done, one failing
cell-not-reached = { $step }: not reached
cell-done = { $step }: done in { $time }
cell-working = { $step }: working for { $time } · { $checks ->
    [one] 1 check
   *[other] { $checks } checks
}
cell-failing = { $step }: failing the same check again and again for { $time } · { $checks ->
    [one] 1 check
   *[other] { $checks } checks
}
cell-last = last: { $reason }
cell-hints = { $count ->
    [one] 1 hint
   *[other] { $count } hints
}
cell-solution-shown = solution shown
# Flags on a learner's row.
flag-stuck = stuck { $time }
flag-failing = failing ×{ $times }
flag-stuck-detail = No progress for { $time } (on { $step })
flag-failing-detail = The same check failed { $times } times in a row ({ $step })
# Helping one learner.
panel-take-over-confirm = Type into { $name }'s terminal? They see what you type, and are told you took over.
panel-help = Help { $name }
panel-stops-in = stops in { $time }
panel-idle = idle { $time }
panel-hand-up = Hand up
panel-check = check:
panel-extend = Extend 30 min
panel-restart-confirm = Restart { $name }'s sandbox? Their files and progress are kept.
panel-restart = Restart sandbox
panel-reset-confirm = Reset { $name }'s sandbox to a fresh one? Every file they made in it is deleted. Their progress is kept.
panel-reset = Reset sandbox (wipe files)…
panel-spotlight-shown = Shown to the class.
panel-spotlight-waiting = Waiting for them to agree…
panel-spotlight = Spotlight to the class
panel-editing = In the editor:
panel-previews = Web previews open:
panel-port = port { $port }
panel-no-terminal = No terminal open. The view connects when they open one.
panel-terminals = The learner's terminals
panel-stop-typing = Stop typing (read-only)
panel-take-over = Take over…
panel-replay-step = Replay a step
step = Step
panel-replay = Replay
panel-close-replay = Close replay
panel-recordings = Recordings: { $used } of { $quota }
panel-messages-with = Messages with { $name }
message = Message
panel-message-to = Message to { $name }
