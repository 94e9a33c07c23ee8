//! The class's sandboxes: one per learner, started on first use, stopped when idle or past its
//! lifetime (the learner's files stay), extended or reset on request, pre-warmed before class
//! (spares wait for learners who have not joined yet), and adopted from the previous server
//! process at start. When the class is full (the backend has no room, or `--max-sandboxes` are
//! running) learners wait in line ([`queue`]) instead of failing. Backend-independent: it drives
//! any [`sandbox::Backend`].

pub mod foreground;
pub mod queue;
pub mod said;
mod terms;
#[cfg(test)]
mod tests;

pub use terms::{ClassTerms, devices_for, init_for};

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use app::class::{SandboxState, SandboxView};
use futures::StreamExt;
use sandbox::{Backend, Device, ExecOutput, ExecRequest, Limits, SandboxInfo, SandboxSpec, Shell, ShellRequest};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use queue::Queue;
pub use queue::QueueSpot;
pub use said::said;

/// How long sandboxes live and what they may use.
#[derive(Clone, Debug)]
pub struct Policy {
    pub limits: Limits,
    pub devices: Vec<Device>,
    /// Stopped after this long without use.
    pub idle: Duration,
    /// Stopped this long after starting, unless extended.
    pub lifetime: Duration,
    pub network: sandbox::Network,
    /// At most this many running at once (learners beyond wait in line). `None`: as many as
    /// the backend has room for, when it can tell (a cluster), else no limit.
    pub max_running: Option<usize>,
}

impl Policy {
    /// A sandbox of no class: the server's devices, the minimal init.
    fn shape(&self) -> Shape {
        Shape { devices: self.devices.clone(), init: sandbox::Init::Minimal }
    }
}

/// How a learner's sandbox is made, beyond the policy's limits and network.
#[derive(Clone, Debug, PartialEq)]
struct Shape {
    devices: Vec<Device>,
    init: sandbox::Init,
}

#[cfg(test)]
impl Policy {
    /// For unit tests: default limits, no devices, half an hour idle, four hours of life, no
    /// limit on how many run.
    pub fn for_tests() -> Self {
        Self {
            limits: sandbox::Limits::default(),
            devices: Vec::new(),
            idle: Duration::from_secs(1800),
            lifetime: Duration::from_secs(4 * 3600),
            network: sandbox::Network::Isolated,
            max_running: None,
        }
    }
}

/// What the learner (and the dashboard) sees of a sandbox.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Status {
    Running {
        name: String,
        /// When this sandbox started: a restart or reset gives a new one.
        #[serde(skip)]
        started_at: SystemTime,
        expires_in_secs: u64,
        idle_secs: u64,
    },
    /// Not running; the learner's files are kept and it starts again on the next use.
    Stopped,
}

/// A sandbox unused this long shows as idle on the dashboard.
const IDLE_AFTER: Duration = Duration::from_secs(120);
/// Sandboxes started at once when pre-warming (each start is mostly waiting on the kernel).
const PREWARM_PARALLEL: usize = 4;
/// How long the backend's count of its room is trusted (a cluster's takes two API calls).
const ROOM_FRESH: Duration = Duration::from_secs(2);
/// Learners in line look again this often even when nothing here ended (a cluster's room also
/// changes by itself: a node joins, another namespace's pod ends).
const RECHECK: Duration = Duration::from_secs(2);
/// What a start is taken to last until one was measured.
const FIRST_START_GUESS: Duration = Duration::from_secs(5);

/// Lifetimes run on the monotonic clock: the wall clock jumping (NTP stepping it, an operator
/// setting it) neither ends every sandbox at once nor keeps them for ever. `started` is the
/// wall-clock start, for people and for adoption after a restart.
struct Lease {
    name: String,
    started: SystemTime,
    /// `started` on the monotonic clock.
    began: Instant,
    expires: Instant,
    last_used: Instant,
}

/// Where a wall-clock instant falls on the monotonic clock (now, for one in the future).
fn monotonic(at: SystemTime) -> Instant {
    let ago = SystemTime::now().duration_since(at).unwrap_or_default();
    Instant::now().checked_sub(ago).unwrap_or_else(Instant::now)
}

/// Why a learner's sandbox last stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// Idle or past its lifetime: it comes back on the learner's next use.
    Expired,
    /// On request, or its processes died.
    Stopped,
}

/// What pre-warming did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Prewarmed {
    pub started: usize,
    pub already_running: usize,
    pub spares: usize,
    /// Not started: the class was full.
    pub no_room: usize,
    pub failed: Vec<String>,
}

/// Whether a learner's sandbox may start.
enum Admission<'a> {
    /// It runs already.
    Running,
    /// It may start now; the guard counts it as starting until dropped.
    Admitted(#[expect(dead_code, reason = "held for its Drop")] Starting<'a>),
    /// The class is full (only when not waiting).
    Full,
}

/// A sandbox being started: counted against the room until its lease exists.
struct Starting<'a> {
    sandboxes: &'a Sandboxes,
    learner: String,
}

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        locked(&self.sandboxes.starting).remove(&self.learner);
        self.sandboxes.room_changed();
    }
}

/// A learner's place in line, given up when dropped (the terminal closed, the start began).
struct Place<'a> {
    sandboxes: &'a Sandboxes,
    learner: String,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        locked(&self.sandboxes.queue).leave(&self.learner);
        // Everyone behind moved up.
        self.sandboxes.freed.notify_waiters();
    }
}

pub struct Sandboxes {
    backend: Arc<dyn Backend>,
    policy: Policy,
    leases: Mutex<HashMap<String, Lease>>,
    /// Lifetimes that differ from the policy's (the learner's class chose one).
    lifetimes: Mutex<HashMap<String, Duration>>,
    /// How the learner's sandbox is made, from their class's tiers; without an entry, the
    /// policy's devices and the minimal init.
    shapes: Mutex<HashMap<String, Shape>>,
    ended: Mutex<HashMap<String, Ended>>,
    /// Owners of running sandboxes nobody has joined as yet: the next learners take them.
    spares: Mutex<Vec<String>>,
    /// Learners waiting for room.
    queue: Mutex<Queue>,
    /// Learners whose sandbox is being started (admitted, no lease yet).
    starting: Mutex<HashSet<String>>,
    /// One admission decision at a time, so two learners never take the same last place.
    admitting: tokio::sync::Mutex<()>,
    /// Something ended or moved: learners in line look again.
    freed: tokio::sync::Notify,
    /// The backend's last count of its room, and when it was made.
    room_seen: Mutex<Option<(Instant, Option<u64>)>>,
    /// How long starts take (a moving average), for the line's estimates.
    start_time: Mutex<Duration>,
    /// Starts are foreground work: a learner waits for their prompt.
    foreground: foreground::Foreground,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sandbox names are hostnames: `lab-` and the learner's id.
pub fn sandbox_name(learner: &str) -> String {
    format!("lab-{learner}")
}

impl Sandboxes {
    /// Adopts what the backend still runs from an earlier server process.
    pub async fn open(backend: Arc<dyn Backend>, policy: Policy) -> sandbox::Result<Self> {
        let running = backend.running().await?;
        let leases = running
            .into_iter()
            .map(|info| {
                let began = monotonic(info.started_at);
                tracing::info!(sandbox = %info.name, learner = %info.owner, "sandbox adopted");
                (
                    info.owner.clone(),
                    Lease {
                        name: info.name,
                        started: info.started_at,
                        began,
                        expires: (began + policy.lifetime).max(Instant::now()),
                        last_used: Instant::now(),
                    },
                )
            })
            .collect();
        Ok(Self {
            backend,
            policy,
            leases: Mutex::new(leases),
            lifetimes: Mutex::new(HashMap::new()),
            shapes: Mutex::new(HashMap::new()),
            ended: Mutex::new(HashMap::new()),
            spares: Mutex::new(Vec::new()),
            queue: Mutex::new(Queue::default()),
            starting: Mutex::new(HashSet::new()),
            admitting: tokio::sync::Mutex::new(()),
            freed: tokio::sync::Notify::new(),
            room_seen: Mutex::new(None),
            start_time: Mutex::new(FIRST_START_GUESS),
            foreground: foreground::Foreground::default(),
        })
    }

    /// Sandboxes adopted at start whose owner is no learner are spares from a pre-warm.
    pub fn adopt_spares(&self, learners: &HashSet<String>) {
        let owners: Vec<String> = locked(&self.leases).keys().filter(|o| !learners.contains(*o)).cloned().collect();
        if !owners.is_empty() {
            tracing::info!(spares = owners.len(), "spare sandboxes adopted");
        }
        locked(&self.spares).extend(owners);
    }

    /// What the learner's class decides: their sandbox's lifetime (at once, for a running
    /// one) and its devices and init (from its next start).
    pub fn set_terms(&self, learner: &str, terms: &ClassTerms) {
        {
            let mut lifetimes = locked(&self.lifetimes);
            match terms.lifetime {
                Some(l) => lifetimes.insert(learner.to_string(), l),
                None => lifetimes.remove(learner),
            };
        }
        let shape = self.shape_given(terms);
        locked(&self.shapes).insert(learner.to_string(), shape);
        // A running sandbox (adopted at start, or when the class changes) follows at once.
        let lifetime = self.lifetime_of(learner);
        if let Some(lease) = locked(&self.leases).get_mut(learner) {
            lease.expires = (lease.began + lifetime).max(Instant::now());
        }
    }

    /// The sandbox `terms` ask for, with the devices of theirs that this server gives at all.
    fn shape_given(&self, terms: &ClassTerms) -> Shape {
        Shape { devices: terms.devices.iter().copied().filter(|d| self.policy.devices.contains(d)).collect(), init: terms.init }
    }

    fn shape_of(&self, learner: &str) -> Shape {
        locked(&self.shapes).get(learner).cloned().unwrap_or_else(|| self.policy.shape())
    }

    fn lifetime_of(&self, learner: &str) -> Duration {
        locked(&self.lifetimes).get(learner).copied().unwrap_or(self.policy.lifetime)
    }

    /// Running sandboxes (learners' and spares'), and how many of them are spares.
    pub fn counts(&self) -> (usize, usize) {
        (locked(&self.leases).len(), locked(&self.spares).len())
    }

    /// What the host is doing for learners who wait (starts here, checks they pressed).
    pub fn foreground(&self) -> &foreground::Foreground {
        &self.foreground
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    fn spec(&self, learner: &str) -> SandboxSpec {
        let shape = self.shape_of(learner);
        SandboxSpec {
            name: sandbox_name(learner),
            owner: learner.to_string(),
            limits: self.policy.limits.clone(),
            devices: shape.devices,
            network: self.policy.network,
            init: shape.init,
        }
    }

    /// The learner's running sandbox, started if it is not: when the class is full, once their
    /// turn in line comes (see [`Sandboxes::queue_spot`] meanwhile).
    pub async fn ensure(&self, learner: &str) -> sandbox::Result<SandboxInfo> {
        let admission = self.admit(learner, true).await;
        self.start(learner, admission).await
    }

    /// The learner's running sandbox, started if there is room for it now; `None` when the
    /// class is full (their terminal waits in line; a page's request should not).
    pub async fn start_now(&self, learner: &str) -> sandbox::Result<Option<SandboxInfo>> {
        match self.admit(learner, false).await {
            Admission::Full => Ok(None),
            admission => self.start(learner, admission).await.map(Some),
        }
    }

    /// As [`Sandboxes::start_now`], for a lab that needs `init` as the sandbox's pid 1: a running
    /// sandbox with the minimal init instead (started before the class had such a lab) is
    /// restarted with it. Its files are kept; its processes end, and the learner's terminal
    /// reconnects to the new one.
    pub async fn start_now_with(&self, learner: &str, init: sandbox::Init) -> sandbox::Result<Option<SandboxInfo>> {
        if init != sandbox::Init::Minimal {
            locked(&self.shapes).entry(learner.to_string()).or_insert_with(|| self.policy.shape()).init = init;
        }
        match self.start_now(learner).await? {
            Some(info) if info.spec.init != init && init != sandbox::Init::Minimal => {
                tracing::info!(%learner, from = %info.spec.init, to = %init, "restarting a sandbox for a lab that needs another init");
                self.stop(learner).await?;
                self.start_now(learner).await
            }
            started => Ok(started),
        }
    }

    /// Waits for room for the learner's sandbox (with `wait`; without, says `Full` at once).
    async fn admit(&self, learner: &str, wait: bool) -> Admission<'_> {
        if locked(&self.leases).contains_key(learner) {
            return Admission::Running;
        }
        locked(&self.queue).join(learner);
        let _place = Place { sandboxes: self, learner: learner.to_string() };
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before looking, so an end between the look and the wait is not missed.
            freed.as_mut().enable();
            let being_started = {
                let _one_at_a_time = self.admitting.lock().await;
                if locked(&self.leases).contains_key(learner) {
                    return Admission::Running;
                }
                let being_started = locked(&self.starting).contains(learner);
                if !being_started {
                    let ahead = locked(&self.queue).ahead(learner).unwrap_or(0);
                    if self.room().await.is_none_or(|room| ahead < room) {
                        locked(&self.starting).insert(learner.to_string());
                        return Admission::Admitted(Starting { sandboxes: self, learner: learner.to_string() });
                    }
                }
                being_started
            };
            // Another request of this learner's is starting it: that is worth a wait either way.
            if !wait && !being_started {
                return Admission::Full;
            }
            tokio::select! {
                () = freed => {}
                () = tokio::time::sleep(RECHECK) => {}
            }
        }
    }

    /// How many more sandboxes may start now (`None`: no limit known), less those starting.
    async fn room(&self) -> Option<usize> {
        let running = locked(&self.leases).len();
        let starting = locked(&self.starting).len();
        let by_policy = self.policy.max_running.map(|max| max.saturating_sub(running + starting));
        // A pod being created may already count in the cluster's own figure: this errs on the
        // side of a moment's wait, never of a start the cluster cannot place.
        let by_backend = self.backend_room().await.map(|free| usize::try_from(free).unwrap_or(usize::MAX).saturating_sub(starting));
        match (by_policy, by_backend) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    async fn backend_room(&self) -> Option<u64> {
        if let Some((at, room)) = *locked(&self.room_seen)
            && at.elapsed() < ROOM_FRESH
        {
            return room;
        }
        let room = match self.backend.room(&self.policy.limits).await {
            Ok(room) => room,
            Err(e) => {
                // Starting will say what is wrong; the line must not stall on a count.
                tracing::warn!("counting the room for sandboxes: {e}");
                None
            }
        };
        *locked(&self.room_seen) = Some((Instant::now(), room));
        room
    }

    /// A sandbox ended or started: the backend's count is stale, and those in line look again.
    fn room_changed(&self) {
        *locked(&self.room_seen) = None;
        self.freed.notify_waiters();
    }

    /// Where the learner is in line, if they are waiting.
    pub fn queue_spot(&self, learner: &str) -> Option<QueueSpot> {
        let ahead = locked(&self.queue).ahead(learner)?;
        let spares: HashSet<String> = locked(&self.spares).iter().cloned().collect();
        let now = Instant::now();
        let ends = locked(&self.leases)
            .iter()
            .map(|(owner, lease)| {
                // A spare is not idle but waiting for its learner: only its lifetime ends it.
                let end = if spares.contains(owner) { lease.expires } else { lease.expires.min(lease.last_used + self.policy.idle) };
                end.saturating_duration_since(now)
            })
            .collect();
        Some(QueueSpot { position: ahead + 1, eta: queue::wait(ends, ahead, *locked(&self.start_time)) })
    }

    /// Learners waiting for a sandbox.
    pub fn queued(&self) -> usize {
        locked(&self.queue).len()
    }

    async fn start(&self, learner: &str, admission: Admission<'_>) -> sandbox::Result<SandboxInfo> {
        let _waited_for = self.foreground.enter();
        let began = Instant::now();
        let info = self.backend.start(&self.spec(learner)).await?;
        if matches!(admission, Admission::Admitted(_)) {
            let mut average = locked(&self.start_time);
            *average = (*average * 3 + began.elapsed()) / 4;
        }
        locked(&self.ended).remove(learner);
        let lifetime = self.lifetime_of(learner);
        let mut leases = locked(&self.leases);
        let lease = leases.entry(learner.to_string()).or_insert_with(|| Lease {
            name: info.name.clone(),
            started: info.started_at,
            began: monotonic(info.started_at),
            expires: Instant::now() + lifetime,
            last_used: Instant::now(),
        });
        lease.last_used = Instant::now();
        if lease.started != info.started_at {
            // Started again since the lease was made (its processes had died): a new start.
            lease.started = info.started_at;
            lease.began = monotonic(info.started_at);
        }
        drop(leases);
        // The lease counts now; the admission's guard stops counting the start.
        drop(admission);
        Ok(info)
    }

    /// Marks the learner's sandbox as in use (terminal input, a check).
    pub fn touch(&self, learner: &str) {
        if let Some(lease) = locked(&self.leases).get_mut(learner) {
            lease.last_used = Instant::now();
        }
    }

    pub fn status(&self, learner: &str) -> Status {
        let leases = locked(&self.leases);
        match leases.get(learner) {
            Some(lease) => Status::Running {
                name: lease.name.clone(),
                started_at: lease.started,
                expires_in_secs: lease.expires.saturating_duration_since(Instant::now()).as_secs(),
                idle_secs: lease.last_used.elapsed().as_secs(),
            },
            None => Status::Stopped,
        }
    }

    /// Pushes the sandbox's end `by` further (from now, if it is already past).
    pub fn extend(&self, learner: &str, by: Duration) -> bool {
        let mut leases = locked(&self.leases);
        match leases.get_mut(learner) {
            Some(lease) => {
                lease.expires = lease.expires.max(Instant::now()) + by;
                true
            }
            None => false,
        }
    }

    /// Stops the learner's sandbox; their files stay.
    pub async fn stop(&self, learner: &str) -> sandbox::Result<()> {
        self.stop_because(learner, Ended::Stopped).await
    }

    async fn stop_because(&self, learner: &str, why: Ended) -> sandbox::Result<()> {
        locked(&self.ended).insert(learner.to_string(), why);
        let lease = locked(&self.leases).remove(learner);
        let name = lease.map(|l| l.name).unwrap_or_else(|| sandbox_name(learner));
        let stopped = match self.backend.stop(&name).await {
            Ok(()) | Err(sandbox::Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        };
        self.room_changed();
        stopped
    }

    /// Stops the sandbox and deletes the learner's files: the next start is from the image.
    pub async fn reset(&self, learner: &str) -> sandbox::Result<()> {
        self.stop(learner).await?;
        self.backend.wipe(learner).await
    }

    pub async fn exec(&self, learner: &str, request: ExecRequest) -> sandbox::Result<ExecOutput> {
        let info = self.ensure(learner).await?;
        self.backend.exec(&info.name, request).await
    }

    pub async fn open_shell(&self, learner: &str, request: ShellRequest) -> sandbox::Result<Shell> {
        let info = self.ensure(learner).await?;
        self.backend.open_shell(&info.name, request).await
    }

    /// A connection to `port` on the loopback of the learner's running sandbox (a web preview).
    /// A stopped sandbox is not started for it: [`sandbox::Error::NotFound`].
    pub async fn connect(&self, learner: &str, port: u16) -> sandbox::Result<sandbox::Connection> {
        let name = self.running_name(learner)?;
        self.touch(learner);
        self.backend.connect(&name, port).await
    }

    fn running_name(&self, learner: &str) -> sandbox::Result<String> {
        locked(&self.leases).get(learner).map(|l| l.name.clone()).ok_or_else(|| sandbox::Error::NotFound(sandbox_name(learner)))
    }

    /// The TCP ports the learner's running sandbox listens on that a preview can reach.
    pub async fn listening(&self, learner: &str) -> sandbox::Result<Vec<u16>> {
        let name = self.running_name(learner)?;
        let mut request = ExecRequest::script(crate::previews::ports::SCRIPT);
        request.timeout = Duration::from_secs(5);
        request.output_limit = 512 * 1024;
        let output = self.backend.exec(&name, request).await?;
        Ok(crate::previews::ports::listening(&output.stdout_text()))
    }

    /// Stops sandboxes that are idle, past their lifetime, or whose processes all died.
    pub async fn reap(&self) {
        let now = Instant::now();
        let running: Vec<String> = match self.backend.running().await {
            Ok(infos) => infos.into_iter().map(|i| i.name).collect(),
            Err(e) => {
                tracing::warn!("listing sandboxes: {e}");
                return;
            }
        };
        let spares: HashSet<String> = locked(&self.spares).iter().cloned().collect();
        let due: Vec<(String, &'static str, Ended)> = {
            let leases = locked(&self.leases);
            leases
                .iter()
                .filter_map(|(learner, lease)| {
                    let (why, ended) = if !running.contains(&lease.name) {
                        ("its processes are gone", Ended::Stopped)
                    } else if lease.expires <= now {
                        ("its lifetime is over", Ended::Expired)
                    } else if lease.last_used.elapsed() >= self.policy.idle && !spares.contains(learner) {
                        // A spare waits, unused by definition, for its learner.
                        ("it was idle", Ended::Expired)
                    } else {
                        return None;
                    };
                    Some((learner.clone(), why, ended))
                })
                .collect()
        };
        for (learner, why, ended) in due {
            locked(&self.spares).retain(|s| *s != learner);
            tracing::info!(%learner, "stopping the sandbox: {why} (files kept)");
            if let Err(e) = self.stop_because(&learner, ended).await {
                tracing::error!(%learner, "stopping the sandbox: {e}");
            }
        }
    }

    /// Starts the sandboxes of `learners` (a class's roster) and `spares` more for learners who
    /// have not joined yet, a few at a time, as far as there is room (pre-warming never waits in
    /// line, and never takes a place from a learner who does).
    pub async fn prewarm(&self, learners: Vec<String>, spares: usize, terms: &ClassTerms) -> Prewarmed {
        let mut report = Prewarmed::default();
        let mut owners: Vec<(String, bool)> = Vec::new();
        for learner in learners {
            if matches!(self.status(&learner), Status::Running { .. }) {
                report.already_running += 1;
            } else {
                owners.push((learner, false));
            }
        }
        owners.extend((0..spares).map(|_| (crate::store::learner_id(), true)));
        // Spares too are made on the class's terms (its devices), for its learners to take.
        for (owner, _) in &owners {
            self.set_terms(owner, terms);
        }
        let mut starts = futures::stream::iter(owners)
            .map(|(owner, spare)| async move { (self.start_now(&owner).await, owner, spare) })
            .buffer_unordered(PREWARM_PARALLEL);
        while let Some((result, owner, spare)) = starts.next().await {
            match result {
                Ok(None) => report.no_room += 1,
                Ok(Some(_)) if spare => {
                    locked(&self.spares).push(owner);
                    report.spares += 1;
                }
                Ok(Some(_)) => report.started += 1,
                Err(e) => {
                    tracing::warn!(%owner, "pre-warming a sandbox: {e}");
                    report.failed.push(e.to_string());
                }
            }
        }
        report
    }

    /// A running spare sandbox for a learner about to join: its owner becomes their id. Only
    /// one made with the devices and init of the learner's class (a spare adopted from an
    /// earlier server counts as having the server's devices and the minimal init).
    pub fn take_spare(&self, terms: &ClassTerms) -> Option<String> {
        let wanted = self.shape_given(terms);
        let running: Vec<String> = locked(&self.leases).keys().cloned().collect();
        let mut spares = locked(&self.spares);
        spares.retain(|s| running.contains(s));
        let at = spares.iter().rposition(|s| self.shape_of(s) == wanted)?;
        let owner = spares.remove(at);
        drop(spares);
        self.set_terms(&owner, terms);
        if let Some(lease) = locked(&self.leases).get_mut(&owner) {
            // Its life starts now, with its learner.
            lease.expires = Instant::now() + self.lifetime_of(&owner);
            lease.last_used = Instant::now();
        }
        Some(owner)
    }

    pub fn spares(&self) -> usize {
        locked(&self.spares).len()
    }

    /// The learner's sandbox as the dashboard shows it.
    pub async fn view(&self, learner: &str) -> SandboxView {
        let mut view = SandboxView::off();
        match self.status(learner) {
            Status::Running { name, expires_in_secs, idle_secs, .. } => {
                view.state = if Duration::from_secs(idle_secs) >= IDLE_AFTER { SandboxState::Idle } else { SandboxState::Running };
                view.expires_in_secs = Some(expires_in_secs);
                view.idle_secs = Some(idle_secs);
                if let Ok(stats) = self.backend.stats(&name).await {
                    view.memory_bytes = Some(stats.memory_bytes);
                    view.memory_limit_bytes = Some(stats.memory_limit_bytes);
                }
            }
            Status::Stopped => {
                view.state = match locked(&self.ended).get(learner) {
                    Some(Ended::Expired) => SandboxState::Expired,
                    _ => SandboxState::Stopped,
                };
                if let Some(spot) = self.queue_spot(learner) {
                    view.state = SandboxState::Queued;
                    view.queue_position = u32::try_from(spot.position).ok();
                }
            }
        }
        view
    }

    /// Reaps every `every` until `shutdown`.
    pub fn spawn_reaper(self: &Arc<Self>, every: Duration, shutdown: CancellationToken) {
        let this = self.clone();
        crate::periodic::spawn_every(every, shutdown, move || {
            let this = this.clone();
            async move { this.reap().await }
        });
    }
}
