//! The class's sandboxes: one per learner, started on first use, stopped when idle or past its
//! lifetime (the learner's files stay), extended or reset on request, pre-warmed before class
//! (spares wait for learners who have not joined yet), and adopted from the previous server
//! process at start. Backend-independent: it drives any [`sandbox::Backend`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use app::class::{SandboxState, SandboxView};
use futures::StreamExt;
use sandbox::{Backend, Device, ExecOutput, ExecRequest, Limits, SandboxInfo, SandboxSpec, Shell, ShellRequest};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

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
    pub failed: Vec<String>,
}

pub struct Sandboxes {
    backend: Arc<dyn Backend>,
    policy: Policy,
    leases: Mutex<HashMap<String, Lease>>,
    /// Lifetimes that differ from the policy's (the learner's class chose one).
    lifetimes: Mutex<HashMap<String, Duration>>,
    ended: Mutex<HashMap<String, Ended>>,
    /// Owners of running sandboxes nobody has joined as yet: the next learners take them.
    spares: Mutex<Vec<String>>,
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
            ended: Mutex::new(HashMap::new()),
            spares: Mutex::new(Vec::new()),
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

    /// The learner's class chose its own sandbox lifetime (`None`: the server's).
    pub fn set_lifetime(&self, learner: &str, lifetime: Option<Duration>) {
        {
            let mut lifetimes = locked(&self.lifetimes);
            match lifetime {
                Some(l) => lifetimes.insert(learner.to_string(), l),
                None => lifetimes.remove(learner),
            };
        }
        // A running sandbox (adopted at start, or when the class changes) follows at once.
        let lifetime = self.lifetime_of(learner);
        if let Some(lease) = locked(&self.leases).get_mut(learner) {
            lease.expires = (lease.began + lifetime).max(Instant::now());
        }
    }

    fn lifetime_of(&self, learner: &str) -> Duration {
        locked(&self.lifetimes).get(learner).copied().unwrap_or(self.policy.lifetime)
    }

    /// Running sandboxes (learners' and spares'), and how many of them are spares.
    pub fn counts(&self) -> (usize, usize) {
        (locked(&self.leases).len(), locked(&self.spares).len())
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    fn spec(&self, learner: &str) -> SandboxSpec {
        SandboxSpec {
            name: sandbox_name(learner),
            owner: learner.to_string(),
            limits: self.policy.limits.clone(),
            devices: self.policy.devices.clone(),
            network: self.policy.network,
        }
    }

    /// The learner's running sandbox, started if it is not.
    pub async fn ensure(&self, learner: &str) -> sandbox::Result<SandboxInfo> {
        let info = self.backend.start(&self.spec(learner)).await?;
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
        match self.backend.stop(&name).await {
            Ok(()) | Err(sandbox::Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
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
    /// have not joined yet, a few at a time.
    pub async fn prewarm(&self, learners: Vec<String>, spares: usize) -> Prewarmed {
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
        let mut starts = futures::stream::iter(owners)
            .map(|(owner, spare)| async move { (self.ensure(&owner).await, owner, spare) })
            .buffer_unordered(PREWARM_PARALLEL);
        while let Some((result, owner, spare)) = starts.next().await {
            match result {
                Ok(_) if spare => {
                    locked(&self.spares).push(owner);
                    report.spares += 1;
                }
                Ok(_) => report.started += 1,
                Err(e) => {
                    tracing::warn!(%owner, "pre-warming a sandbox: {e}");
                    report.failed.push(e.to_string());
                }
            }
        }
        report
    }

    /// A running spare sandbox for a learner about to join: its owner becomes their id.
    pub fn take_spare(&self, lifetime: Option<Duration>) -> Option<String> {
        let running: Vec<String> = locked(&self.leases).keys().cloned().collect();
        let mut spares = locked(&self.spares);
        spares.retain(|s| running.contains(s));
        let owner = spares.pop()?;
        drop(spares);
        self.set_lifetime(&owner, lifetime);
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
            }
        }
        view
    }

    /// Reaps every `every` until `shutdown`.
    pub fn spawn_reaper(self: &Arc<Self>, every: Duration, shutdown: CancellationToken) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => this.reap().await,
                    () = shutdown.cancelled() => break,
                }
            }
        });
    }
}
