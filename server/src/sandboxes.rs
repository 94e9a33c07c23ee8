//! The class's sandboxes: one per learner, started on first use, stopped when idle or past its
//! lifetime (the learner's files stay), extended or reset on request, and adopted from the
//! previous server process at start. Backend-independent: it drives any [`sandbox::Backend`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

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

struct Lease {
    name: String,
    started: SystemTime,
    expires: SystemTime,
    last_used: Instant,
}

pub struct Sandboxes {
    backend: Arc<dyn Backend>,
    policy: Policy,
    leases: Mutex<HashMap<String, Lease>>,
}

/// Sandbox names are hostnames: `lab-` and the learner's id.
pub fn sandbox_name(learner: &str) -> String {
    format!("lab-{learner}")
}

impl Sandboxes {
    /// Adopts what the backend still runs from an earlier server process.
    pub async fn open(backend: Arc<dyn Backend>, policy: Policy) -> sandbox::Result<Self> {
        let running = backend.running().await?;
        let now = SystemTime::now();
        let leases = running
            .into_iter()
            .map(|info| {
                let expires = info.started_at + policy.lifetime;
                tracing::info!(sandbox = %info.name, learner = %info.owner, "sandbox adopted");
                (info.owner.clone(), Lease { name: info.name, started: info.started_at, expires: expires.max(now), last_used: Instant::now() })
            })
            .collect();
        Ok(Self { backend, policy, leases: Mutex::new(leases) })
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
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        let lease = leases.entry(learner.to_string()).or_insert_with(|| Lease {
            name: info.name.clone(),
            started: info.started_at,
            expires: SystemTime::now() + self.policy.lifetime,
            last_used: Instant::now(),
        });
        lease.last_used = Instant::now();
        lease.started = info.started_at;
        Ok(info)
    }

    /// Marks the learner's sandbox as in use (terminal input, a check).
    pub fn touch(&self, learner: &str) {
        if let Some(lease) = self.leases.lock().unwrap_or_else(|p| p.into_inner()).get_mut(learner) {
            lease.last_used = Instant::now();
        }
    }

    pub fn status(&self, learner: &str) -> Status {
        let leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        match leases.get(learner) {
            Some(lease) => Status::Running {
                name: lease.name.clone(),
                started_at: lease.started,
                expires_in_secs: lease.expires.duration_since(SystemTime::now()).unwrap_or_default().as_secs(),
                idle_secs: lease.last_used.elapsed().as_secs(),
            },
            None => Status::Stopped,
        }
    }

    /// Pushes the sandbox's end `by` further (from now, if it is already past).
    pub fn extend(&self, learner: &str, by: Duration) -> bool {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        match leases.get_mut(learner) {
            Some(lease) => {
                lease.expires = lease.expires.max(SystemTime::now()) + by;
                true
            }
            None => false,
        }
    }

    /// Stops the learner's sandbox; their files stay.
    pub async fn stop(&self, learner: &str) -> sandbox::Result<()> {
        let lease = self.leases.lock().unwrap_or_else(|p| p.into_inner()).remove(learner);
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
        let now = SystemTime::now();
        let running: Vec<String> = match self.backend.running().await {
            Ok(infos) => infos.into_iter().map(|i| i.name).collect(),
            Err(e) => {
                tracing::warn!("listing sandboxes: {e}");
                return;
            }
        };
        let due: Vec<(String, &'static str)> = {
            let leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
            leases
                .iter()
                .filter_map(|(learner, lease)| {
                    let why = if !running.contains(&lease.name) {
                        "its processes are gone"
                    } else if lease.expires <= now {
                        "its lifetime is over"
                    } else if lease.last_used.elapsed() >= self.policy.idle {
                        "it was idle"
                    } else {
                        return None;
                    };
                    Some((learner.clone(), why))
                })
                .collect()
        };
        for (learner, why) in due {
            tracing::info!(%learner, "stopping the sandbox: {why} (files kept)");
            if let Err(e) = self.stop(&learner).await {
                tracing::error!(%learner, "stopping the sandbox: {e}");
            }
        }
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
