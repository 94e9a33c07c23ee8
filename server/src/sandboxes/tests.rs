//! The class's sandboxes driven on the in-memory backend: admission and the line, lifetimes on
//! the monotonic clock, reaping, spares and adoption. No root, no image: milliseconds each.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sandbox::Device;
use sandbox::fake::{Call, FakeBackend};

use super::*;

/// A server that gives /dev/kvm and /dev/net/tun where a class asks for them.
fn policy() -> Policy {
    Policy { devices: vec![Device::Kvm, Device::Tun], ..Policy::for_tests() }
}

async fn open(policy: Policy) -> (Arc<FakeBackend>, Arc<Sandboxes>) {
    let fake = Arc::new(FakeBackend::new());
    let sandboxes = Sandboxes::open(fake.clone(), policy).await.unwrap();
    (fake, Arc::new(sandboxes))
}

fn full_at(max: usize) -> Policy {
    Policy { max_running: Some(max), ..policy() }
}

/// Waits (briefly, a few yields at a time) until `ready` holds: for a spawned task to reach
/// the point a test looks at, never as a measure of speed.
async fn until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..2000 {
        if ready() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("never happened: {what}");
}

fn running(sandboxes: &Sandboxes, learner: &str) -> bool {
    matches!(sandboxes.status(learner), Status::Running { .. })
}

#[tokio::test]
async fn a_first_use_starts_the_sandbox_and_a_second_finds_it_running() {
    let (fake, sandboxes) = open(policy()).await;
    let first = sandboxes.ensure("ada").await.unwrap();
    let again = sandboxes.ensure("ada").await.unwrap();
    assert_eq!(first.name, "lab-ada");
    assert_eq!(first, again, "the same sandbox, from the same start");
    assert_eq!(sandboxes.counts(), (1, 0));
    assert!(fake.is_running("lab-ada") && running(&sandboxes, "ada"));
    assert_eq!(sandboxes.queued(), 0, "a running sandbox never waits in line");
}

#[tokio::test]
async fn two_learners_racing_for_the_last_place_one_starts_and_one_waits() {
    let (fake, sandboxes) = open(full_at(1)).await;
    fake.set_start_delay(Duration::from_millis(20));
    let (a, b) = (sandboxes.clone(), sandboxes.clone());
    let ada = tokio::spawn(async move { a.ensure("ada").await });
    let bob = tokio::spawn(async move { b.ensure("bob").await });
    until("one started, one in line", || sandboxes.counts().0 == 1 && sandboxes.queued() == 1).await;
    // Whoever lost waits first in line, and nothing else started.
    let (winner, loser) = if running(&sandboxes, "ada") { ("ada", "bob") } else { ("bob", "ada") };
    assert_eq!(sandboxes.queue_spot(loser).map(|s| s.position), Some(1));
    assert_eq!(fake.count(|c| matches!(c, Call::Start(_))), 1);
    sandboxes.stop(winner).await.unwrap();
    let (ada, bob) = (ada.await.unwrap().unwrap(), bob.await.unwrap().unwrap());
    assert_eq!((ada.name.as_str(), bob.name.as_str()), ("lab-ada", "lab-bob"));
    assert!(running(&sandboxes, loser) && !running(&sandboxes, winner));
    assert_eq!(sandboxes.queued(), 0);
}

#[tokio::test]
async fn the_line_is_first_come_first_served_and_leaving_gives_the_place_up() {
    let (_fake, sandboxes) = open(full_at(1)).await;
    sandboxes.ensure("ada").await.unwrap();
    let waiting = |learner: &'static str| {
        let s = sandboxes.clone();
        tokio::spawn(async move { s.ensure(learner).await })
    };
    let bob = waiting("bob");
    until("bob in line", || sandboxes.queued() == 1).await;
    let cyd = waiting("cyd");
    until("cyd in line", || sandboxes.queued() == 2).await;
    assert_eq!(sandboxes.queue_spot("bob").map(|s| s.position), Some(1));
    assert_eq!(sandboxes.queue_spot("cyd").map(|s| s.position), Some(2));
    // Bob closes his terminal: Cyd moves up.
    bob.abort();
    until("bob's place given up", || sandboxes.queued() == 1).await;
    assert_eq!(sandboxes.queue_spot("bob"), None);
    assert_eq!(sandboxes.queue_spot("cyd").map(|s| s.position), Some(1));
    sandboxes.stop("ada").await.unwrap();
    assert_eq!(cyd.await.unwrap().unwrap().name, "lab-cyd");
}

#[tokio::test]
async fn the_estimate_is_the_nth_running_end_plus_a_start() {
    let policy = Policy { idle: Duration::from_secs(600), lifetime: Duration::from_secs(3600), ..full_at(2) };
    let (_fake, sandboxes) = open(policy).await;
    sandboxes.ensure("ada").await.unwrap();
    sandboxes.ensure("bob").await.unwrap();
    let s = sandboxes.clone();
    let _cyd = tokio::spawn(async move { s.ensure("cyd").await });
    until("cyd in line", || sandboxes.queued() == 1).await;
    let spot = sandboxes.queue_spot("cyd").unwrap();
    let eta = spot.eta.expect("two running sandboxes will end");
    // The first to end is idle in at most 10 minutes; a start is a few seconds more.
    assert!(eta > Duration::from_secs(590) && eta <= Duration::from_secs(600) + FIRST_START_GUESS, "{eta:?}");
    assert!(spot.to_string().contains("number 1 in line"), "{spot}");
}

#[tokio::test]
async fn a_page_never_waits_in_line() {
    let (_fake, sandboxes) = open(full_at(1)).await;
    sandboxes.ensure("ada").await.unwrap();
    assert_eq!(sandboxes.start_now("bob").await.unwrap(), None);
    assert_eq!(sandboxes.queued(), 0, "start_now takes no place");
    assert!(sandboxes.start_now("ada").await.unwrap().is_some(), "a running one is there");
}

#[tokio::test]
async fn the_backends_own_room_is_respected() {
    let (fake, sandboxes) = open(policy()).await;
    fake.set_capacity(Some(1));
    sandboxes.ensure("ada").await.unwrap();
    assert_eq!(sandboxes.start_now("bob").await.unwrap(), None, "the cluster has no room left");
    fake.set_capacity(Some(2));
    // The count is trusted for a moment; a sandbox ending makes it stale at once.
    sandboxes.stop("ada").await.unwrap();
    assert!(sandboxes.start_now("bob").await.unwrap().is_some());
}

#[tokio::test]
async fn a_failed_start_frees_its_place() {
    let (fake, sandboxes) = open(full_at(1)).await;
    fake.fail_next_start("no loop device");
    let err = sandboxes.ensure("ada").await.unwrap_err();
    assert!(err.to_string().contains("no loop device"), "{err}");
    assert_eq!(sandboxes.counts(), (0, 0));
    sandboxes.ensure("bob").await.unwrap();
}

#[tokio::test]
async fn a_sandbox_past_its_lifetime_is_stopped_and_shows_expired() {
    let (fake, sandboxes) = open(Policy { lifetime: Duration::from_millis(30), ..policy() }).await;
    sandboxes.ensure("ada").await.unwrap();
    sandboxes.reap().await;
    assert!(running(&sandboxes, "ada"), "not yet");
    tokio::time::sleep(Duration::from_millis(40)).await;
    sandboxes.reap().await;
    assert!(!running(&sandboxes, "ada"));
    assert!(!fake.is_running("lab-ada"));
    assert!(fake.has_files("ada"), "the learner's files stay");
    assert_eq!(sandboxes.view("ada").await.state, SandboxState::Expired);
}

#[tokio::test]
async fn extending_pushes_the_end_on() {
    let (_fake, sandboxes) = open(Policy { lifetime: Duration::from_millis(30), ..policy() }).await;
    sandboxes.ensure("ada").await.unwrap();
    assert!(sandboxes.extend("ada", Duration::from_secs(3600)));
    tokio::time::sleep(Duration::from_millis(40)).await;
    sandboxes.reap().await;
    assert!(running(&sandboxes, "ada"));
    let Status::Running { expires_in_secs, .. } = sandboxes.status("ada") else { unreachable!() };
    assert!(expires_in_secs >= 3599, "{expires_in_secs}");
    assert!(!sandboxes.extend("bob", Duration::from_secs(60)), "nothing to extend");
}

#[tokio::test]
async fn idle_sandboxes_are_stopped_but_spares_wait_for_their_learner() {
    let (_fake, sandboxes) = open(Policy { idle: Duration::from_millis(30), ..policy() }).await;
    sandboxes.ensure("ada").await.unwrap();
    let report = sandboxes.prewarm(Vec::new(), 1, &ClassTerms::default()).await;
    assert_eq!(report.spares, 1);
    tokio::time::sleep(Duration::from_millis(40)).await;
    sandboxes.reap().await;
    assert!(!running(&sandboxes, "ada"), "idle");
    assert_eq!(sandboxes.counts(), (1, 1), "the spare is still there");
}

#[tokio::test]
async fn using_a_sandbox_keeps_it_from_idling() {
    let (_fake, sandboxes) = open(Policy { idle: Duration::from_millis(60), ..policy() }).await;
    sandboxes.ensure("ada").await.unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        sandboxes.touch("ada");
        sandboxes.reap().await;
    }
    assert!(running(&sandboxes, "ada"));
}

#[tokio::test]
async fn a_sandbox_whose_processes_died_is_recorded_as_stopped() {
    let (fake, sandboxes) = open(policy()).await;
    sandboxes.ensure("ada").await.unwrap();
    fake.vanish("lab-ada");
    sandboxes.reap().await;
    assert_eq!(sandboxes.view("ada").await.state, SandboxState::Stopped);
    // The next use starts it again.
    sandboxes.ensure("ada").await.unwrap();
    assert!(fake.is_running("lab-ada"));
}

#[tokio::test]
async fn a_reset_stops_then_wipes() {
    let (fake, sandboxes) = open(policy()).await;
    sandboxes.ensure("ada").await.unwrap();
    sandboxes.reset("ada").await.unwrap();
    let calls: Vec<Call> = fake.calls().into_iter().filter(|c| matches!(c, Call::Stop(_) | Call::Wipe(_))).collect();
    assert_eq!(calls, vec![Call::Stop("lab-ada".into()), Call::Wipe("ada".into())]);
    assert!(!fake.has_files("ada"));
}

#[tokio::test]
async fn stopping_what_is_not_running_is_not_an_error() {
    let (_fake, sandboxes) = open(policy()).await;
    sandboxes.stop("ada").await.unwrap();
    assert_eq!(sandboxes.view("ada").await.state, SandboxState::Stopped);
}

#[tokio::test]
async fn sandboxes_of_an_earlier_server_are_adopted_and_unknown_owners_become_spares() {
    let fake = Arc::new(FakeBackend::new());
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    fake.add_running("ada", hour_ago);
    fake.add_running("spare1", SystemTime::now());
    let sandboxes = Sandboxes::open(fake.clone(), Policy { lifetime: Duration::from_secs(2 * 3600), ..policy() }).await.unwrap();
    sandboxes.adopt_spares(&HashSet::from(["ada".to_string()]));
    assert_eq!(sandboxes.counts(), (2, 1));
    // Its lifetime counts from when it really started, an hour ago.
    let Status::Running { expires_in_secs, .. } = sandboxes.status("ada") else { panic!("adopted") };
    assert!((3590..=3600).contains(&expires_in_secs), "{expires_in_secs}");
    assert_eq!(fake.count(|c| matches!(c, Call::Start(_))), 0);
}

#[tokio::test]
async fn prewarming_starts_what_fits_and_reports_the_rest() {
    let (fake, sandboxes) = open(full_at(2)).await;
    sandboxes.ensure("ada").await.unwrap();
    fake.fail_next_start("the image is broken");
    let report = sandboxes.prewarm(vec!["ada".into(), "bob".into(), "cyd".into()], 1, &ClassTerms::default()).await;
    assert_eq!(report.already_running, 1);
    assert_eq!(report.started + report.spares + report.no_room + report.failed.len(), 3, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(report.no_room >= 1, "the class holds two: {report:?}");
    assert_eq!(sandboxes.queued(), 0, "pre-warming never takes a place in line");
}

#[tokio::test]
async fn a_spare_goes_only_to_a_class_with_the_same_devices_and_init() {
    let (_fake, sandboxes) = open(policy()).await;
    let shell_class = ClassTerms::default();
    let vm_class = ClassTerms { devices: vec![Device::Kvm, Device::Tun], ..ClassTerms::default() };
    let systemd_class = ClassTerms { init: sandbox::Init::Systemd, ..ClassTerms::default() };
    sandboxes.prewarm(Vec::new(), 1, &shell_class).await;
    assert_eq!(sandboxes.take_spare(&vm_class), None, "a shell class's spare has no /dev/kvm");
    assert_eq!(sandboxes.take_spare(&systemd_class), None, "nor systemd");
    let owner = sandboxes.take_spare(&shell_class).expect("a matching spare");
    assert!(running(&sandboxes, &owner));
    assert_eq!(sandboxes.spares(), 0);
}

#[tokio::test]
async fn a_class_devices_and_init_reach_the_backend_and_its_lifetime_the_running_sandbox() {
    let (fake, sandboxes) = open(policy()).await;
    let terms =
        ClassTerms { devices: vec![Device::Kvm, Device::Fuse], lifetime: Some(Duration::from_secs(60)), init: sandbox::Init::Systemd };
    sandboxes.set_terms("ada", &terms);
    let info = sandboxes.ensure("ada").await.unwrap();
    assert_eq!(info.spec.devices, vec![Device::Kvm], "only devices this server gives at all");
    assert_eq!(info.spec.init, sandbox::Init::Systemd);
    let Status::Running { expires_in_secs, .. } = sandboxes.status("ada") else { unreachable!() };
    assert!(expires_in_secs <= 60, "{expires_in_secs}");
    sandboxes.set_terms("ada", &ClassTerms { lifetime: Some(Duration::from_secs(7200)), ..ClassTerms::default() });
    let Status::Running { expires_in_secs, .. } = sandboxes.status("ada") else { unreachable!() };
    assert!(expires_in_secs > 7000, "the running sandbox follows at once: {expires_in_secs}");
    assert!(fake.is_running("lab-ada"));
}

#[tokio::test]
async fn a_lab_that_needs_systemd_restarts_a_sandbox_without_it() {
    let (fake, sandboxes) = open(policy()).await;
    sandboxes.set_terms("ada", &ClassTerms::default());
    assert_eq!(sandboxes.ensure("ada").await.unwrap().spec.init, sandbox::Init::Minimal);
    let info = sandboxes.start_now_with("ada", sandbox::Init::Systemd).await.unwrap().unwrap();
    assert_eq!(info.spec.init, sandbox::Init::Systemd, "restarted with systemd");
    assert!(fake.is_running("lab-ada"));
    // A lab that needs nothing more leaves it as it is.
    let again = sandboxes.start_now_with("ada", sandbox::Init::Minimal).await.unwrap().unwrap();
    assert_eq!((again.spec.init, again.started_at), (sandbox::Init::Systemd, info.started_at));
}

#[tokio::test]
async fn exec_and_shells_go_to_the_learners_own_sandbox() {
    let (fake, sandboxes) = open(policy()).await;
    fake.on_exec(|name, _| sandbox::fake::output(0, name));
    let out = sandboxes.exec("ada", sandbox::ExecRequest::script("hostname")).await.unwrap();
    assert_eq!(out.stdout_text(), "lab-ada");
    sandboxes.open_shell("bob", sandbox::ShellRequest::default()).await.unwrap();
    assert!(fake.terminal("lab-bob").is_some());
}
