# The home page.
home-loading = Loading the course…
join-the-class = Join the class
home-join-prompt = with the code from your instructor, or continue with your resume code.
home-you = You
home-you-are = You are
home-in = in
home-which-starts = , which starts
home-keep-resume-code = To continue in another browser or another day, keep your resume code
home-or-this-link = or this link:
home-recording-notice = Your terminal sessions are recorded for your instructor (not what you type with echo off, such as a password).
home-tier-filter = Filter labs by sandbox tier
home-tier = Sandbox tier:
home-tier-all = all
home-session = Session { $n }
home-slides = { $count ->
    [one] 1 slide
   *[other] { $count } slides
}
home-homework = Homework
home-steps-points = { $steps } steps · { $points } points
# Joining.
join-signed-in-as = You are signed in as { $name }. Type the class code your instructor gave you.
join-intro-sign-in = Your instructor has the class code. Join with your name, or sign in with { $with }.
join-intro = Your instructor has the class code. No account, no password.
join-recording = Your instructor may record your terminal sessions (you will see it beside your terminal).
join-class-code = Class code
join-your-name = Your name
sign-in-with = Sign in with { $with }
resume-title = Continue where you were
resume-intro = Joined before? Your resume code brings back your progress and files.
resume-code = Resume code
resume-continue = Continue
join-heading = Join a class, or continue where you were
# The lab page.
lab-loading = Loading the lab…
lab-not-found = There is no such lab.
lab-see-all = See all labs
skip-to = Skip to
skip-to-instructions = Skip to instructions
skip-to-terminal = Skip to terminal
labs = Labs
lab-points = { $done } / { $total } points
steps = Steps
step-state-done = done
step-state-started = in progress
step-state-new = not started
lab-complete = Lab complete
announce-passed = Step { $n } passed: { $reason }
announce-done = Step { $n } done
announce-failed = Step { $n } not done yet: { $reason }
step-count = Step { $n } of { $count } · { $points ->
    [one] 1 point
   *[other] { $points } points
}
check-done = Done
check-done-because = Done — { $reason }
check-manual = Nothing to check here: mark it done when you have done it.
check-not-yet = Not done yet — { $reason }
check-as-you-work = This step is checked as you work.
checking = Checking…
check-mark-done = I've done this
check = Check
hint = Hint
hint-show = Show a hint ({ $left } left)
solution = Solution
solution-confirm = Show the solution? Your instructor will see that you looked.
solution-show = Show the solution…
step-previous = ← Previous
step-next = Next step →
stuck-here = Stuck here?
ask-for-help = Ask for help
splitter = Resize the terminal
# The terminal pane.
terminal = Terminal
terminal-tabs = Terminals and editor
terminal-n = Terminal { $n }
editor = Editor
terminal-open-another = Open another terminal
terminal-recorded-title = Terminal sessions are recorded for your instructor. Passwords typed with echo off are not.
terminal-recorded = recorded
terminal-keys = In the terminal, Tab completes: press Escape, then Tab, to move on.
terminal-needs-js = The terminal needs JavaScript.
screen-reader-title = Read the terminal's output with a screen reader
screen-reader-mode = Screen reader mode
# Quizzes.
quiz-pick-first = Pick an answer first.
quiz-multiple = Quiz — pick all that apply
quiz = Quiz
quiz-answer-again = Answer again
quiz-answer = Answer
quiz-right = Right!
quiz-wrong = Not quite.
quiz-graded = Graded: { $points ->
    [one] 1 point
   *[other] { $points } points
} — the first answer counts.

# A tier coming up (the cluster, a VM).
tier-ready = Your { $tier } is up.
tier-failed = Your { $tier } did not start: { $reason }
tier-no-reason = no reason given
tier-step = : { $n } of { $count }, { $name }
tier-starting = Starting your { $tier }{ $step }…

# Ports and web previews.
ports = Ports
ports-looking = Looking…
ports-none = Nothing in your sandbox listens on a TCP port yet.
ports-other = Other port
ports-open = Open
ports-share-link = Share link for port { $port }
ports-stop-sharing = Stop sharing
ports-port = Port { $port }
ports-share-title = Anyone with the link can open this preview, without signing in
ports-share = Share
# Asking for help, messages, the spotlight.
sender-you = You
sender-instructor = Your instructor
help-instructor-looking = The instructor is looking at your terminal
help-looking = { $name } is looking at your terminal
help-hand-raised = Hand raised
help = Help
close = Close
help-intro = Stuck? Raise your hand: your instructor sees the step you are on and what its check says.
help-in-queue = Your hand is up: you are in the queue.
help-note = What are you stuck on? (optional)
help-update-note = Update my note
help-raise = Raise my hand
help-lower = Lower my hand
help-message-label = Message to your instructor
help-write = Write to your instructor
send = Send
spotlight-ask-class = Your instructor would like to show your terminal { $tab } to the class, on everyone's screen.
spotlight-ask-presenter = Your instructor would like to show your terminal { $tab } on the presenter's screen.
spotlight-show = Show it
spotlight-not-now = Not now
spotlight-shown = Your terminal is shown to the class.
spotlight-stop = Stop showing it
spotlight-terminal-of = { $name }'s terminal
spotlight-shown-by-instructor = { $name }'s terminal, shown by your instructor (read-only)
sandbox-stops-in = Your sandbox stops in { $time } (your files are kept).
sandbox-extend = Extend by { $minutes } min ({ $left } min left)
help-thread = Your messages with your instructor
eyes-on-me-kept = Your terminal and your work are kept; the page comes back when your instructor is done.
message-to-class = To the class
message-to-you = { $sender } to you
message-dismiss = Dismiss the message
recordings-yours = Your recordings
recordings-none = Nothing recorded yet.
recording-terminal = terminal { $tab }
play = Play
download = Download
# Live polls.
poll-number-needed = Answer with a number.
poll-your-answer = Your answer
poll-change = Change my answer
poll-sent = Answer sent. You can change it until the poll closes.
poll-right-answer = right answer
poll-answers-so-far = Answers so far
poll-total = { $count ->
    [one] 1 answer
   *[other] { $count } answers
}
poll-from-instructor = Poll from your instructor

# Decks.
deck-loading = Loading the slides…
deck-not-found = There is no such deck.
deck-see-all = See all decks
slide-of = Slide { $n } of { $count }
deck-join-for-quiz = Join the class to answer this slide's quiz.
slide-previous = Previous slide
slide-next = Next slide
deck-follow = Follow the instructor's slide
deck-live = Live
deck-go-live = Go live
deck-role = slide deck
# The scripts' words (app/js); { $name } stands where the script puts a value.
js-connecting = Connecting…
js-reconnecting = Connection lost — reconnecting…
js-stopped = Your sandbox was stopped (your files are kept).
js-ended = The shell ended.
js-error = The terminal is unavailable.
js-no-estimate = no estimate yet
js-about-minutes = about { $minutes } min
js-queued = The class is full: you are number { $position } in line for a sandbox ({ $wait }). This terminal opens by itself when one is free.
js-their-shell-ended = Their shell ended (exit { $code }). This view follows them to their next one.
js-shell-ended = The shell ended (exit { $code }).
js-restart-sandbox = Restart sandbox
js-new-shell = New shell
js-copied = Copied
js-select-to-copy = Select the text to copy it
js-play = Play
js-pause = Pause
js-speed = Speed
js-position = Position
js-find-command = Find a command
js-cannot-play = This recording cannot be played: { $reason }
js-files = Files
js-pick-file = Pick a file on the left.
js-save = Save
js-drop-changes = Drop the changes to { $path } that are not saved?
js-opening = Opening { $path }…
js-saving = Saving { $path }…
js-saved = Saved { $path }.
js-reload = Reload from the sandbox
# The buttons on a lab's code.
lab-run = Run
lab-run-title = Type this into your terminal
lab-copy = Copy
lab-copy-title = Copy to the clipboard
lab-run-inline-title = Run in terminal
lab-copy-inline-title = Copy
