//! The check engine on the in-memory backend and an in-memory store: when setups and checks
//! run, what they make of the sandbox's answers, and what the learner and the dashboard hear.
//! The scripts' text only marks which one ran; the fake answers for the sandbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sandbox::fake::{Call, FakeBackend, output};
use sandbox::{ExecEnd, ExecOutput};

use super::*;
use crate::sandboxes::Policy;
use crate::store::SqlStore;
use crate::terminals::Typist;
use crate::updates::Update;

const LAB: &str = "demo";
const STEP: &str = "make-file";
const SLOW_STEP: &str = "slow";

/// A one-lab course: a step with a setup, a check and a hint check, and a step whose check
/// never finishes in time.
fn course(dir: &std::path::Path) -> Course {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("course.toml", "title = \"T\"\nsummary = \"S\"\nsessions = [\"s1\"]\n");
    write("s1/session.md", "+++\ntitle = \"Session\"\nsummary = \"S\"\n+++\n\nIntro.\n");
    write("s1/labs/demo/lab.md", "+++\ntitle = \"Demo\"\nsummary = \"S\"\n+++\n\nIntro.\n");
    write(
        "s1/labs/demo/01-make-file.md",
        "+++\ntitle = \"Make a file\"\n+++\n\nMake it.\n\n```setup\necho SETUP-MARK\n```\n\n```check\necho CHECK-MARK\n```\n\n\
         ```hint-check Use touch.\necho HINT-MARK\n```\n\n```solution\ntouch /root/f\n```\n",
    );
    write(
        "s1/labs/demo/02-slow.md",
        "+++\ntitle = \"Slow\"\ntimeout = 5\n+++\n\nWait.\n\n```check\necho SLOW-MARK\n```\n\n```solution\ntrue\n```\n",
    );
    // A Killercoda scenario whose only step has no verify: the learner marks it done.
    write(
        "s1/labs/kc/index.json",
        r#"{ "title": "KC", "details": { "intro": { "background": "intro.sh" }, "steps": [ { "title": "Look", "text": "look.md", "background": "bg.sh" } ], "finish": { "background": "finish.sh" } } }"#,
    );
    write("s1/labs/kc/look.md", "Look around: `ls`{{exec}}\n");
    write("s1/labs/kc/bg.sh", "echo SETUP-MARK\n");
    write("s1/labs/kc/intro.sh", "echo LAB-SETUP-MARK\n");
    write("s1/labs/kc/finish.sh", "echo FINISH-MARK\n");
    labs::load::load_course(dir).unwrap_or_else(|problems| panic!("{problems:?}"))
}

/// Which of the course's scripts an exec ran.
fn script(call: &Call) -> Option<&'static str> {
    let Call::Exec { env, .. } = call else { return None };
    let source = &env.iter().find(|(k, _)| k == "__STACKLAB_SCRIPT")?.1;
    ["LAB-SETUP-MARK", "SETUP-MARK", "CHECK-MARK", "HINT-MARK", "SLOW-MARK", "FINISH-MARK"].into_iter().find(|m| source.contains(m))
}

struct Engine {
    _dir: tempfile::TempDir,
    fake: Arc<FakeBackend>,
    sandboxes: Arc<Sandboxes>,
    progress: Arc<CheckEngine>,
    updates: crate::updates::Updates,
    learner: String,
    /// Whether the learner has done the step: the check passes.
    done: Arc<AtomicBool>,
}

impl Engine {
    async fn new() -> Self {
        Self::with_policy(None).await
    }

    async fn with_policy(max_running: Option<usize>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let course = Arc::new(course(dir.path()));
        let store: Arc<dyn Store> = Arc::new(SqlStore::memory().await.unwrap());
        let class = store.create_class("Class", None, &Default::default()).await.unwrap();
        let learner = store.create_learner(&class.id, "Ada", None).await.unwrap().id;
        let fake = Arc::new(FakeBackend::new());
        let done = Arc::new(AtomicBool::new(false));
        let seen = done.clone();
        fake.on_exec(move |_, request| answer(request, seen.load(Ordering::SeqCst)));
        let policy = Policy { max_running, ..Policy::for_tests() };
        let sandboxes = Arc::new(Sandboxes::open(fake.clone(), policy).await.unwrap());
        let updates = crate::updates::channel();
        let progress = CheckEngine::new(course, store, sandboxes.clone(), updates.clone(), AWAY_AFTER);
        Self { _dir: dir, fake, sandboxes, progress, updates, learner, done }
    }

    fn ran(&self, mark: &str) -> usize {
        self.fake.count(|c| script(c) == Some(mark))
    }

    async fn until(&self, what: &str, ready: impl Fn(&Self) -> bool) {
        for _ in 0..3000 {
            if ready(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("never happened: {what}");
    }

    fn command(&self, command: &str, typist: Typist) {
        let record = crate::store::CommandRecord { command: command.into(), exit_status: 0, started_at: 1, duration_ms: 1 };
        crate::terminals::CommandSink::command(self.progress.clone(), &self.learner, record, typist);
    }
}

/// The sandbox's answer to a script: the check passes once the learner is done; the hint
/// check always does; the slow check runs out of time.
fn answer(request: &sandbox::ExecRequest, done: bool) -> ExecOutput {
    let source = request.env.iter().find(|(k, _)| k == "__STACKLAB_SCRIPT").map(|(_, v)| v.as_str()).unwrap_or("");
    if source.contains("SLOW-MARK") {
        ExecOutput { end: ExecEnd::TimedOut, stdout: Vec::new(), stderr: Vec::new(), took: request.timeout }
    } else if source.contains("CHECK-MARK") && !done {
        output(1, "Make the file first")
    } else {
        output(0, "Well done")
    }
}

#[tokio::test]
async fn reaching_a_step_starts_the_sandbox_runs_its_setup_and_checks() {
    let e = Engine::new().await;
    let state = e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    assert!(!state.done);
    assert!(e.fake.is_running(&crate::sandboxes::sandbox_name(&e.learner)));
    e.until("the first check", |e| e.ran("CHECK-MARK") == 1).await;
    assert_eq!(e.ran("SETUP-MARK"), 1);
    let setup_first = e.fake.calls().iter().position(|c| script(c) == Some("SETUP-MARK"));
    let check_first = e.fake.calls().iter().position(|c| script(c) == Some("CHECK-MARK"));
    assert!(setup_first < check_first, "the setup runs before the step's first check");
}

#[tokio::test]
async fn the_setup_runs_once_per_sandbox_start() {
    let e = Engine::new().await;
    e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    assert_eq!((e.ran("SETUP-MARK"), e.ran("CHECK-MARK")), (1, 2));
    // A restart is a new sandbox: its setup runs again.
    e.sandboxes.stop(&e.learner).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    assert_eq!(e.ran("SETUP-MARK"), 2);
}

#[tokio::test]
async fn a_burst_of_commands_runs_one_check() {
    let e = Engine::new().await;
    e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    e.until("the first check", |e| e.ran("CHECK-MARK") == 1).await;
    for command in ["touch /root/a", "touch /root/b", "touch /root/c", "touch /root/d", "touch /root/e"] {
        e.command(command, Typist::Learner);
    }
    e.until("the burst's check", |e| e.ran("CHECK-MARK") == 2).await;
    // Nothing else is pending: a while later there is still one check for the five commands.
    tokio::time::sleep(DEBOUNCE * 2).await;
    assert_eq!(e.ran("CHECK-MARK"), 2);
}

#[tokio::test]
async fn check_pressed_after_a_command_is_the_only_check_of_it() {
    let e = Engine::new().await;
    e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    e.until("the first check", |e| e.ran("CHECK-MARK") == 1).await;
    // A class finishing a step together: the command, then Check at once. The check that was
    // waiting to see the command would see nothing new: it does not run.
    e.command("touch /root/f", Typist::Learner);
    e.until("the command's check waiting", |e| e.progress.pending.lock().unwrap().contains_key(&e.learner)).await;
    e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    assert_eq!(e.ran("CHECK-MARK"), 2);
    tokio::time::sleep(DEBOUNCE * 3).await;
    assert_eq!(e.ran("CHECK-MARK"), 2, "the pending check was covered by the one asked for");
}

#[tokio::test]
async fn a_command_after_check_is_still_checked() {
    let e = Engine::new().await;
    e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    e.until("the first check", |e| e.ran("CHECK-MARK") == 1).await;
    e.command("touch /root/a", Typist::Learner);
    e.until("the command's check waiting", |e| e.progress.pending.lock().unwrap().contains_key(&e.learner)).await;
    e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    // A command after the check (while the first command's check still waits): it is seen.
    e.command("touch /root/f", Typist::Learner);
    e.until("the later command's check", |e| e.ran("CHECK-MARK") == 3).await;
    tokio::time::sleep(DEBOUNCE * 2).await;
    assert_eq!(e.ran("CHECK-MARK"), 3);
}

#[tokio::test]
async fn checks_nobody_waits_on_never_hold_the_slot_a_pressed_check_needs() {
    let e = Engine::new().await;
    e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    e.until("the first check", |e| e.ran("CHECK-MARK") == 1).await;
    // The whole class's background checks are queued or running: every one of their permits is
    // taken. A learner who presses Check still gets a slot and an answer.
    let all = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    let _class = e.progress.background.acquire_many(all).await.unwrap();
    assert_eq!(e.progress.background.available_permits(), 0);
    e.command("touch /root/f", Typist::Learner);
    tokio::time::sleep(DEBOUNCE * 2).await;
    assert_eq!(e.ran("CHECK-MARK"), 1, "the command's check waits for a background permit");
    // Commands meanwhile join the waiting check rather than queue checks of their own. (The
    // command is recorded by a task of its own: Check is pressed once it has joined, so the
    // check pressed sees it.)
    let joined = |e: &Engine| e.progress.pending.lock().unwrap().get(&e.learner).map(|(_, asked)| *asked);
    let before = joined(&e);
    e.command("touch /root/g", Typist::Learner);
    e.until("the second command joining the waiting check", |e| joined(e) != before).await;
    assert_eq!(e.progress.pending.lock().unwrap().len(), 1);
    e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    assert_eq!(e.ran("CHECK-MARK"), 2);
    // Its turn comes: the check pressed saw both commands, so it does not run.
    drop(_class);
    e.until("the waiting check taken", |e| e.progress.pending.lock().unwrap().is_empty()).await;
    tokio::time::sleep(DEBOUNCE).await;
    assert_eq!(e.ran("CHECK-MARK"), 2);
}

#[tokio::test]
async fn checks_nobody_waits_on_wait_for_the_learners_who_do() {
    let e = Engine::new().await;
    e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    e.until("the first check", |e| e.ran("CHECK-MARK") == 1).await;
    // Another learner's sandbox is starting (or their pressed check running): the command's check
    // waits rather than take the CPU from them, and holds no turn while it does.
    let someone_waits = e.sandboxes.foreground().enter();
    e.command("touch /root/f", Typist::Learner);
    tokio::time::sleep(DEBOUNCE * 3).await;
    assert_eq!(e.ran("CHECK-MARK"), 1, "the command's check waits for the foreground");
    assert_eq!(e.progress.background.available_permits() as usize, std::thread::available_parallelism().map_or(2, |n| n.get()));
    drop(someone_waits);
    e.until("the command's check once nobody waits", |e| e.ran("CHECK-MARK") == 2).await;
}

#[tokio::test]
async fn a_step_just_reached_is_set_up_and_checked_at_once_while_the_class_joins() {
    let e = Engine::new().await;
    // The class is joining: the foreground does not idle. The learner who reaches a step still
    // gets its setup and first check now, not after the checks that give way.
    let _class_joining = e.sandboxes.foreground().enter();
    e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    e.until("the setup and first check", |e| e.ran("SETUP-MARK") == 1 && e.ran("CHECK-MARK") == 1).await;
}

#[tokio::test]
async fn the_timer_rechecks_a_step_only_when_nothing_checked_it_lately() {
    let e = Engine::new().await;
    let every = Duration::from_secs(15);
    let (ada, bo) = (e.learner.clone(), "bo".to_string());
    let t = Instant::now();
    // Never checked: both due, and asked for now.
    assert_eq!(e.progress.due(vec![ada.clone(), bo.clone()], every, t), vec![ada.clone(), bo.clone()]);
    // Asked a moment ago: not again at the next look.
    assert!(e.progress.due(vec![ada.clone(), bo.clone()], every, t + Duration::from_secs(1)).is_empty());
    // Ada's check began 10 s later (she pressed Check): at 15 s only Bo is due, Ada 15 s after
    // her check.
    e.progress.began.lock().unwrap().insert(ada.clone(), t + Duration::from_secs(10));
    assert_eq!(e.progress.due(vec![ada.clone(), bo.clone()], every, t + every), vec![bo.clone()]);
    assert_eq!(e.progress.due(vec![ada.clone(), bo.clone()], every, t + Duration::from_secs(25)), vec![ada.clone()]);
}

#[tokio::test]
async fn a_passing_check_marks_the_step_done_and_tells_the_dashboard() {
    let e = Engine::new().await;
    let mut updates = e.updates.subscribe();
    let state = e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    assert_eq!((state.done, state.last_reason.as_deref()), (false, Some("Make the file first")));
    e.done.store(true, Ordering::SeqCst);
    let state = e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    assert!(state.done);
    assert_eq!(state.last_reason.as_deref(), Some("Well done"));
    let mut steps = Vec::new();
    while let Ok(update) = updates.try_recv() {
        if let Update::Step { state, .. } = update {
            steps.push(state.done);
        }
    }
    assert_eq!(steps, vec![false, true], "each result goes out as it is stored");
    // Background re-checks leave a done step alone.
    let before = e.ran("CHECK-MARK");
    e.progress.run(&e.learner, LAB, STEP, CheckRun::Timer, None).await.unwrap();
    assert_eq!(e.ran("CHECK-MARK"), before);
}

#[tokio::test]
async fn a_hint_check_reveals_its_hint_once() {
    let e = Engine::new().await;
    let mut updates = e.updates.subscribe();
    for _ in 0..3 {
        e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    }
    assert_eq!(e.ran("HINT-MARK"), 3, "hint checks run while the step fails");
    let mut hints = 0;
    while let Ok(update) = updates.try_recv() {
        if let Update::Hint { index, html, .. } = update {
            assert_eq!(index, 0);
            assert!(html.contains("Use touch."), "{html}");
            hints += 1;
        }
    }
    assert_eq!(hints, 1, "revealed once, however often its check succeeds");
    e.done.store(true, Ordering::SeqCst);
    e.progress.check_now(&e.learner, LAB, STEP).await.unwrap();
    assert_eq!(e.ran("HINT-MARK"), 3, "not run once the step passes");
}

#[tokio::test]
async fn a_check_that_runs_out_of_time_fails_with_a_reason() {
    let e = Engine::new().await;
    let state = e.progress.check_now(&e.learner, LAB, SLOW_STEP).await.unwrap();
    assert!(!state.done);
    assert_eq!(state.last_reason.as_deref(), Some("The check did not finish within 5 s"));
    let limits: Vec<Duration> = e
        .fake
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Exec { timeout, .. } => Some(timeout),
            _ => None,
        })
        .collect();
    assert_eq!(limits, vec![Duration::from_secs(5)], "the step's own time limit goes to the sandbox");
}

#[tokio::test]
async fn only_the_learners_own_attempts_count_as_failures() {
    let e = Engine::new().await;
    let mut updates = e.updates.subscribe();
    // Each check's result, once stored.
    let mut next_result = async || loop {
        match tokio::time::timeout(Duration::from_secs(5), updates.recv()).await.expect("a result in time").unwrap() {
            Update::Step { state, .. } => return state,
            _ => continue,
        }
    };
    e.progress.focus(&e.learner, LAB, STEP).await.unwrap();
    assert_eq!(next_result().await.same_failures, 0, "the first check is the engine's own");
    // Looking around, and the instructor's commands during a take-over, are no attempts.
    e.command("ls -la", Typist::Learner);
    assert_eq!(next_result().await.same_failures, 0);
    e.command("touch /root/x", Typist::Instructor);
    assert_eq!(next_result().await.same_failures, 0);
    // A command that may change something is.
    e.command("touch /root/y", Typist::Learner);
    assert_eq!(next_result().await.same_failures, 1);
}

#[tokio::test]
async fn a_full_class_answers_check_with_the_place_in_line() {
    let e = Engine::with_policy(Some(0)).await;
    let err = e.progress.check_now(&e.learner, LAB, STEP).await.unwrap_err();
    assert!(matches!(err, CheckError::Queued(_)), "{err}");
    assert!(err.to_string().contains("The class is full"), "{err}");
    assert_eq!(e.fake.count(|c| matches!(c, Call::Start(_))), 0);
}

#[tokio::test]
async fn an_unknown_step_is_an_error_that_names_it() {
    let e = Engine::new().await;
    let err = e.progress.check_now(&e.learner, LAB, "no-such-step").await.unwrap_err();
    assert_eq!(err.to_string(), "there is no step \"no-such-step\" in lab \"demo\"");
}

#[tokio::test]
async fn a_step_without_a_check_is_done_when_the_learner_says_so() {
    let e = Engine::new().await;
    let mut updates = e.updates.subscribe();
    let state = e.progress.focus(&e.learner, "kc", "step1").await.unwrap();
    assert!(!state.done);
    e.until("the step's setup", |e| e.ran("SETUP-MARK") == 1).await;
    assert_eq!(e.ran("LAB-SETUP-MARK"), 1, "the lab's setup (its intro's background) runs first");
    let order: Vec<_> = e.fake.calls().iter().filter_map(script).collect();
    assert_eq!(order, ["LAB-SETUP-MARK", "SETUP-MARK"]);
    // Commands and the timer leave it alone: there is nothing to check.
    e.command("touch /root/y", Typist::Learner);
    tokio::time::sleep(DEBOUNCE * 2).await;
    e.progress.run(&e.learner, "kc", "step1", CheckRun::Timer, None).await.unwrap();
    let state = e.progress.store().start_step(&e.learner, "kc", "step1").await.unwrap();
    assert!(!state.done && state.last_check_at.is_none(), "{state:?}");
    // "I've done this" (or "Next") marks it done, and everyone hears.
    let state = e.progress.check_now(&e.learner, "kc", "step1").await.unwrap();
    assert!(state.done);
    assert_eq!(state.last_reason.as_deref(), Some("Marked as done"));
    let mut done = false;
    while let Ok(update) = updates.try_recv() {
        if let Update::Step { state, .. } = update {
            done |= state.done;
        }
    }
    assert!(done, "the dashboard hears the step is done");
    // That was the lab's last step: its finish script runs, once.
    e.until("the finish script", |e| e.ran("FINISH-MARK") == 1).await;
    // Asking again changes nothing.
    assert_eq!(e.progress.check_now(&e.learner, "kc", "step1").await.unwrap().done_at, state.done_at);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(e.ran("FINISH-MARK"), 1);
}
