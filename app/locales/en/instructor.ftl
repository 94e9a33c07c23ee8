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
# Time per step.
times-histogram = { $count ->
    [one] 1 learner passed
   *[other] { $count } learners passed
}, from { $fastest } to { $slowest }
times = Time per step
times-passed = Passed
times-working = Working
times-median = Median
times-slowest = Slowest tenth
times-failed = Failed checks
times-times = Times
# Staff.
role-none = no role
role-owner = owner
role-instructor = instructor
role-assistant = assistant
role = Role
staff-role-given = { $name } is now { $role } of this class.
staff-role-taken = { $name } has no role in this class any more.
staff-of-class = Staff of this class
staff-of-class-intro = Owners and instructors run the class; assistants help in it (hands, messages, watching terminals). People who sign in with the school's account appear here after their first sign-in.
staff-school-account = school account
staff-role-of = Role of { $name }
staff-accounts = Staff accounts
staff-accounts-intro = An account signs in on this page with its login and password, makes classes of its own, and runs or helps in the classes whose owners give it a role. Its password is kept only as an argon2 hash.
staff-name = Staff member's name
staff-login = Their login
staff-password = Their password
staff-make = Make account
staff-made = { $name } can now sign in as { $login }.
# Assistants and one-time codes.
assistants = Teaching assistants
assistants-intro = An assistant sees this class and its help queue, claims and resolves hands, writes to learners and watches their terminals; only you take over terminals, reset sandboxes, change the class and export grades.
assistant-link = Login link for { $name }
assistant-link-once = shown once: pass it on now
remove = Remove
assistant-name = Assistant's name
assistant-add = Add assistant
codes-not-a-number = How many codes: a whole number.
codes = One-time join codes
codes-intro = Each code joins one learner, once: print them or mail one to each learner.
codes-make-before = Make
codes-make-after = codes
codes-make = Make codes
print = Print
codes-used-by = used by { $name }
codes-learner-gone = a learner since gone
# LTI 1.3.
lti-registered = { $name } is registered.
lti-unregistered = { $name } is no longer registered.
lti-rotated = The tool now signs with key { $kid }; the one before stays published.
lti = LMS (LTI 1.3)
lti-off = LTI is off: start the server with --public-url (the address people reach it at) to register it in an LMS.
lti-give = Give the LMS these when you register Stacklab as an external tool (LTI 1.3):
lti-login-url = Login initiation URL
lti-launch-url = Launch (redirect) URL
lti-deep-link-url = Deep linking URL
lti-jwks-url = Public keyset (JWKS) URL
lti-signs-with = The tool signs with key { $kid }.
lti-rotate = Rotate the key
lti-registered-lmss = Registered LMSs
lti-issuer = Issuer
lti-client-id = Client id
lti-deployments = Deployments
lti-from-file = from the registrations file
lti-remove = Remove { $name }
lti-name = LMS name
lti-issuer-field = Issuer (platform id)
lti-auth-url = Authentication request URL
lti-token-url = Access token URL
lti-keyset-url = Public keyset URL
lti-deployment-ids = Deployment ids
lti-register = Register LMS
lti-reading-roster = Reading the roster…
lti-roster-read = The roster is read: { $count ->
    [one] 1 learner added.
   *[other] { $count } learners added.
}
lti-link = { $lab } in { $lms }
lti-link-graded = { $lab } in { $lms } (graded)
lti-score-failed = { $times ->
    [one] failed once
   *[other] failed { $times } times
}, trying again: { $error }
lti-score-sent = sent
lti-score-pending = pending
lti-score-failed-plain = failed
lti-gradebook = LMS gradebook
refresh = Refresh
lti-read-roster = Read the roster
lab = Lab
lti-score = Score
lti-sent = Sent to the LMS
# Polls in the presenter view.
poll = Poll
poll-reveal = Reveal
poll-close = Close poll
poll-deck-question = A question of this deck
poll-launch = Launch poll
poll-quick = Or a quick question
poll-quick-placeholder = Which namespace isolates mounts?
poll-number = answered with a number
poll-choices = Choices, one per line (2 to 6)
poll-ask = Ask the class
