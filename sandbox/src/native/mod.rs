//! The native backend: sandboxes made by the server itself from Linux namespaces, cgroups and
//! overlayfs on the host it runs on, with no daemon. See `builder.rs` for how one is built.
//!
//! On disk, under `<data>/native/`:
//! - `layers/<owner>/` — the owner's files (`layer.ext4` or `layer/`) and uid `slot`;
//! - `sandboxes/<name>.json` — what the server needs to adopt a running sandbox after restart;
//! - `run/<name>/` — empty mount points, used only inside the sandbox's own mount namespace.
//!
//! A sandbox's mounts exist only in its mount namespace and its loop device clears itself, so
//! when its last process dies the kernel takes everything down; what can outlive it (the
//! cgroup, the state file, the run directory) is removed on stop and on server start.

mod agent;
pub mod builder;
pub mod cgroup;
pub(crate) mod connect;
mod devices;
mod enter;
mod helper;
mod layer;
mod locks;
mod loopdev;
mod outbound;
mod plan;
pub mod probe;
mod spawn;
mod spawner;
mod stalled;
pub(crate) mod sys;

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend::*;
use crate::image::LabImage;
use crate::pty::{PtyMaster, PtySize};
use crate::spec::{Device, SandboxSpec, valid_name};
use cgroup::CgroupDriver;
use layer::Layers;
pub use plan::Phase;
pub use plan::SharedFile;
use plan::{CreatePlan, CreateReply, DeviceBind, Stopwatch};
use spawn::Parent;
pub use spawn::StartLimits;

pub use layer::IDS_PER_SLOT;

#[derive(Clone, Debug)]
pub struct NativeConfig {
    pub data_dir: PathBuf,
    /// The lab image (a folder with `image.json` and `rootfs/`).
    pub image: PathBuf,
    /// How to run the helper: a program and its arguments (the server passes its own binary and
    /// `sandbox-helper`).
    pub helper: Vec<OsString>,
    /// First host uid of the ranges sandboxes' roots map to (65536 ids per owner).
    pub uid_base: u32,
    /// The directory under each cgroup hierarchy holding this server's sandboxes.
    pub cgroup_root: String,
    /// Where `cgroup_root` goes in each hierarchy ("" for its top): under systemd, the cgroup of
    /// a unit that delegates it (deploy/stacklab-sandboxes.service), so that systemd neither
    /// kills the sandboxes with the server nor takes their controllers back.
    pub cgroup_parent: String,
    /// An IPv4 range (`10.213.0.0/16`) for sandboxes that may reach the outside world; `None`
    /// keeps every sandbox on loopback only.
    pub outbound: Option<String>,
    /// Host files every sandbox sees read-only under /etc (the KVM probe's result).
    pub shared_files: Vec<SharedFile>,
    /// How long a process's start into a sandbox may take (`StartLimits::default()` but in tests
    /// of the limits themselves).
    pub start_limits: StartLimits,
}

pub struct NativeBackend {
    config: NativeConfig,
    /// `None` only for a backend opened to clean up ([`NativeBackend::open_for_cleanup`]).
    image: Option<LabImage>,
    cgroups: Arc<dyn CgroupDriver>,
    layers: Arc<Layers>,
    /// The node each tier device is bound from (see `devices.rs`).
    device_nodes: Vec<(Device, PathBuf)>,
    sandboxes: Mutex<HashMap<String, Arc<Running>>>,
    /// Serialise start/stop of one name, and what touches one owner's layer (keys
    /// `owner <owner>`; a name has no space).
    lifecycle: locks::KeyedLocks,
    /// Starts under way: one prepares (layer, cgroups) while the helpers build others.
    in_flight: tokio::sync::Semaphore,
    /// Held from a start's choice of an outbound subnet to its sandbox in the map: two starts
    /// never pick the same.
    placing: tokio::sync::Mutex<()>,
    outbound: Option<outbound::Outbound>,
    /// Where the last start's time went, phase by phase (for the bench).
    last_start: Mutex<Vec<Phase>>,
    /// The helper processes that build sandboxes, kept between starts.
    helper: helper::Helper,
    /// The process every process entering a sandbox is copied from (not the server).
    spawner: Arc<spawner::Spawner>,
}

/// A running sandbox as the server tracks it.
struct Running {
    info: SandboxInfo,
    /// Host pid of the sandbox's init, and a pidfd that cannot outlive it into a reused pid.
    pid: i32,
    pidfd: OwnedFd,
    /// Depth of the sandbox's pid namespace in NSpid (host = 0).
    pid_level: usize,
    /// Its outbound subnet, if it has one.
    net_index: Option<u32>,
    /// What runs its checks (see `agent.rs`); held while one runs.
    agent: tokio::sync::Mutex<agent::Slot>,
}

impl Running {
    fn alive(&self) -> bool {
        let mut fds = [nix::poll::PollFd::new(self.pidfd.as_fd(), nix::poll::PollFlags::POLLIN)];
        // A pidfd becomes readable when the process exits.
        matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO), Ok(0))
    }
}

/// What `sandboxes/<name>.json` holds.
#[derive(Serialize, Deserialize)]
struct SavedSandbox {
    info: SandboxInfo,
    pid: i32,
    start_ticks: u64,
    #[serde(default)]
    net_index: Option<u32>,
}

impl NativeBackend {
    /// Opens the backend: checks the host and the image, adopts sandboxes still running from an
    /// earlier server process and cleans up after those that are not.
    pub fn open(config: NativeConfig) -> Result<Self> {
        let image = LabImage::open(&config.image)?;
        Self::open_with(config, Some(image))
    }

    /// Opens the backend without needing the lab image: enough to stop what is left running
    /// (`stacklab stop-sandboxes`), not to start anything.
    pub fn open_for_cleanup(config: NativeConfig) -> Result<Self> {
        Self::open_with(config, None)
    }

    fn open_with(config: NativeConfig, image: Option<LabImage>) -> Result<Self> {
        if !nix::unistd::Uid::effective().is_root() {
            return Err(Error::Unsupported { backend: "native", reason: "the server must run as root".into() });
        }
        let cgroups: Arc<dyn CgroupDriver> = cgroup::detect(&config.cgroup_parent, &config.cgroup_root)
            .map_err(|e| Error::Unsupported { backend: "native", reason: e.to_string() })?
            .into();
        let native = config.data_dir.join("native");
        for dir in ["layers", "sandboxes", "run"] {
            std::fs::create_dir_all(native.join(dir)).map_err(|e| Error::io(format!("creating {}", native.join(dir).display()), e))?;
        }
        if let Some(image) = &image {
            probe_host(&config, &image.rootfs(), &native.join("run"))?;
        }
        let layers = Arc::new(Layers::new(native.join("layers"), config.uid_base));
        let device_nodes = devices::prepare(&native.join("devices")).map_err(|e| Error::io("preparing device nodes for sandboxes", e))?;
        let outbound = match (&config.outbound, &image) {
            (Some(cidr), Some(_)) => {
                let tag = config.cgroup_root.to_ascii_uppercase();
                Some(outbound::Outbound::install(cidr, &tag).map_err(|e| Error::Unsupported {
                    backend: "native",
                    reason: format!("outbound networking ({cidr}): {e} (is iptables installed?)"),
                })?)
            }
            _ => None,
        };
        let backend = Self {
            helper: helper::Helper::new(config.helper.clone(), HELPERS),
            spawner: Arc::new(spawner::Spawner::new(&config.helper, config.start_limits)),
            config,
            image,
            cgroups,
            layers,
            device_nodes,
            sandboxes: Mutex::new(HashMap::new()),
            lifecycle: locks::KeyedLocks::default(),
            in_flight: tokio::sync::Semaphore::new(HELPERS + 1),
            placing: tokio::sync::Mutex::new(()),
            last_start: Mutex::default(),
            outbound,
        };
        backend.adopt_or_clean();
        Ok(backend)
    }

    fn dir(&self, what: &str) -> PathBuf {
        self.config.data_dir.join("native").join(what)
    }

    fn state_file(&self, name: &str) -> PathBuf {
        self.dir("sandboxes").join(format!("{name}.json"))
    }

    pub fn cgroup_version(&self) -> u8 {
        self.cgroups.version()
    }

    pub fn image(&self) -> &LabImage {
        self.image.as_ref().expect("opened with an image")
    }

    /// Stops every sandbox and removes this backend's cgroup root (blocking): for tests and for
    /// an operator taking Stacklab off a host. Learners' files stay.
    pub fn shutdown_all_blocking(&self) {
        let mut known = std::mem::take(&mut *self.sandboxes.lock().unwrap_or_else(|p| p.into_inner()));
        for name in self.cgroups.sandboxes() {
            self.teardown(&name, known.remove(&name));
        }
        if let Err(e) = self.cgroups.remove_root() {
            tracing::warn!("removing the cgroup root: {e}");
        }
        match (&self.outbound, &self.config.outbound) {
            (Some(outbound), _) => outbound.uninstall(),
            (None, Some(_)) => outbound::Outbound::remove_rules(&self.config.cgroup_root.to_ascii_uppercase()),
            (None, None) => {}
        }
    }

    /// Sandboxes whose init still runs (same pid, same start time) are adopted; everything else
    /// found on disk or in the cgroup tree is a leftover and goes.
    fn adopt_or_clean(&self) {
        let mut adopted = HashMap::new();
        for entry in std::fs::read_dir(self.dir("sandboxes")).into_iter().flatten().flatten() {
            let path = entry.path();
            let saved: Option<SavedSandbox> = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
            let Some(saved) = saved else {
                tracing::warn!(file = %path.display(), "unreadable sandbox state; removing it");
                let _ = std::fs::remove_file(&path);
                continue;
            };
            let alive = enter::start_ticks(saved.pid).ok() == Some(saved.start_ticks);
            let running = alive.then(|| sys::pidfd_open(saved.pid).ok()).flatten().and_then(|pidfd| {
                let level = enter::ns_pids(saved.pid)?.len().checked_sub(1)?;
                Some(Running {
                    info: saved.info.clone(),
                    pid: saved.pid,
                    pidfd,
                    pid_level: level,
                    net_index: saved.net_index,
                    agent: Default::default(),
                })
            });
            match running {
                Some(r) => {
                    tracing::info!(sandbox = %saved.info.name, pid = saved.pid, "adopted a running sandbox");
                    // The earlier server's check agent ended with its pipes; its group goes.
                    self.cgroups.remove_idle_commands(&saved.info.name);
                    adopted.insert(saved.info.name.clone(), Arc::new(r));
                }
                None => {
                    tracing::info!(sandbox = %saved.info.name, "sandbox from an earlier run is gone; cleaning up");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        for name in self.cgroups.sandboxes() {
            if !adopted.contains_key(&name) {
                self.teardown(&name, None);
            }
        }
        for entry in std::fs::read_dir(self.dir("run")).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !adopted.contains_key(&name) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        *self.sandboxes.lock().unwrap_or_else(|p| p.into_inner()) = adopted;
    }

    /// Kills and removes whatever is left of sandbox `name` (blocking).
    fn teardown(&self, name: &str, init: Option<Arc<Running>>) {
        teardown(&*self.cgroups, &self.dir("run").join(name), &self.state_file(name), name, init);
    }

    /// [`Self::teardown`] off the async threads.
    async fn teardown_async(&self, name: &str, init: Option<Arc<Running>>) {
        let (cgroups, run, state, name) = (self.cgroups.clone(), self.dir("run").join(name), self.state_file(name), name.to_string());
        self.blocking(move || teardown(&*cgroups, &run, &state, &name, init)).await;
    }

    /// A TCP connection to `addr` made from inside the sandbox's network namespace (its own
    /// loopback included): how the host reaches a service running in a sandbox — the cluster
    /// tier's API server, for the Kubernetes backend's test and bench — while the sandbox
    /// itself gets no way out. Blocking.
    pub fn connect_inside(&self, name: &str, addr: std::net::SocketAddr) -> Result<std::net::TcpStream> {
        let running = self.get(name)?;
        connect::to(running.pidfd.as_fd(), addr).map_err(|e| Error::io(format!("connecting to {addr} in sandbox {name}"), e))
    }

    fn get(&self, name: &str) -> Result<Arc<Running>> {
        let map = self.sandboxes.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(name) {
            Some(r) if r.alive() => Ok(r.clone()),
            _ => Err(Error::NotFound(name.to_string())),
        }
    }

    /// Where the last start's time went, phase by phase.
    pub fn last_start_phases(&self) -> Vec<Phase> {
        self.last_start.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Has the helper build the sandbox: its init's pid, and the helper's phases.
    async fn spawn_helper(&self, helper: helper::Idle<'_>, plan: &CreatePlan) -> Result<(i32, Vec<Phase>)> {
        let name = plan.hostname.clone();
        let request = serde_json::to_string(plan).map_err(|e| Error::create(&name, "the helper's plan", e))?;
        let reply = helper.ask(&request, Duration::from_secs(60)).await.map_err(|e| Error::create(&name, "the helper", e))?;
        match serde_json::from_str::<CreateReply>(&reply) {
            Ok(CreateReply::Ready { pid, phases }) => Ok((pid, phases)),
            // The helper is another process: its step's error arrives as text.
            Ok(CreateReply::Failed { step, error }) => Err(Error::create(&name, step, error)),
            Err(_) => Err(Error::create_failed(&name, format!("the helper said: {}", reply.trim()))),
        }
    }

    /// Kills everything in the cgroup `rel` (below the sandboxes' root) and removes the group.
    async fn kill_group(&self, rel: &str) {
        let (cgroups, rel) = (self.cgroups.clone(), rel.to_string());
        let result = self
            .blocking(move || {
                cgroups.kill(&rel)?;
                cgroups.remove(&rel)
            })
            .await;
        if let Err(e) = result {
            tracing::warn!("cleaning up after a command: {e}");
        }
    }

    /// Starts sandbox `name`'s check agent, in a command group of its own.
    async fn start_agent(&self, running: &Running, name: &str) -> std::io::Result<agent::Agent> {
        let (group, entry) = self.cgroups.create_exec(name)?;
        let started = async {
            let env = [("__STACKLAB_AGENT".to_string(), crate::check::agent_script())];
            let mut cmd = enter::command(running.pidfd.as_fd(), Parent::Server, &crate::check::agent_argv(), &env, entry)?;
            let pipes = cmd.pipes()?;
            let (says, said) = tokio::net::unix::pipe::pipe()?;
            cmd.give(says.into_blocking_fd()?, crate::check::AGENT_SAYS_FD);
            let child = self.spawn_off_worker(cmd).await?;
            Ok::<_, std::io::Error>(agent::Agent::new(group.clone(), child, pipes, said))
        };
        match started.await {
            Ok(agent) => Ok(agent),
            Err(e) => {
                self.kill_group(&group).await;
                Err(e)
            }
        }
    }

    /// Ends an agent with everything in its group; a sandbox whose agent `failed` at once runs
    /// its checks the one-off way for a while.
    async fn retire_agent(&self, slot: &mut agent::Slot, group: &str, failed: bool) {
        *slot = if failed { agent::Slot::Failed(Instant::now()) } else { agent::Slot::None };
        self.kill_group(group).await;
    }

    /// Whether the agent's group holds only itself again once a check has ended (what the check
    /// left in its process group was killed and may take a moment to go).
    async fn agent_idle(&self, group: &str) -> bool {
        for _ in 0..10 {
            match self.cgroups.pids(group) {
                Ok(pids) if pids.len() <= agent::IDLE_PROCESSES => return true,
                Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                Err(_) => return false,
            }
        }
        false
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(f).await.expect("blocking task panicked")
    }
}

fn teardown(cgroups: &dyn CgroupDriver, run_dir: &Path, state_file: &Path, name: &str, init: Option<Arc<Running>>) {
    if let Err(e) = cgroups.kill(name) {
        tracing::error!(sandbox = name, "killing the sandbox's processes: {e}");
    }
    // A sandbox's init is orphaned when its helper exits, so the host's init reaps it. (Being a
    // subreaper ourselves would make us reap every orphan, the commands' children included, and an
    // unreaped one keeps a dying pid namespace's init waiting forever.)
    drop(init);
    if let Err(e) = cgroups.remove(name) {
        tracing::error!(sandbox = name, "removing the sandbox's cgroup: {e}");
    }
    let _ = std::fs::remove_dir_all(run_dir);
    let _ = std::fs::remove_file(state_file);
}

/// How long a connection to a learner's service may take to be accepted (it is on the sandbox's
/// own loopback: a wait means a full backlog, not a network).
pub(crate) const CONNECT_WITHIN: Duration = Duration::from_secs(5);

/// How long systemd may take to listen for `systemctl` (~0.3 s on a real host; emulated hosts
/// are tens of times slower).
const SYSTEMD_READY: Duration = Duration::from_secs(90);

/// Helpers building sandboxes side by side, with a start more under way preparing the next.
/// Two joined a class of 200 a little sooner than one (docs/src/benchmarks.md); the unbounded
/// side by side of an earlier round was worse than one.
const HELPERS: usize = 2;

/// The lifecycle lock's key for what touches `owner`'s layer.
fn owner_key(owner: &str) -> String {
    format!("owner {owner}")
}

/// Waits until the systemd running as `pid` takes `systemctl`'s connections (its private
/// socket exists), so that the learner's first `systemctl` and a lab's first check never meet
/// a manager still starting. Only looks (lstat) into the sandbox, which nothing but systemd
/// runs in as yet.
async fn manager_ready(pid: i32, within: Duration) -> std::io::Result<()> {
    let socket = PathBuf::from(format!("/proc/{pid}/root/run/systemd/private"));
    let deadline = Instant::now() + within;
    loop {
        match std::fs::symlink_metadata(&socket) {
            Ok(meta) if std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => return Ok(()),
            _ if !Path::new(&format!("/proc/{pid}")).exists() => return Err(std::io::Error::other("systemd ended while starting")),
            _ if Instant::now() > deadline => {
                return Err(std::io::Error::other(format!("systemd did not listen for systemctl within {} s", within.as_secs())));
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// The host's nameservers a sandbox can reach (not a loopback resolver such as
/// systemd-resolved's 127.0.0.53: the sandbox has its own loopback).
fn host_resolvers() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let mut text = read("/etc/resolv.conf");
    if text.lines().any(|l| l.trim_start().starts_with("nameserver 127.")) {
        text = read("/run/systemd/resolve/resolv.conf");
    }
    text.lines().filter(|l| l.trim_start().starts_with("nameserver") && !l.contains(" 127.")).map(|l| format!("{l}\n")).collect()
}

#[async_trait]
impl Backend for NativeBackend {
    fn kind(&self) -> &'static str {
        "native"
    }

    async fn start(&self, spec: &SandboxSpec) -> Result<SandboxInfo> {
        for id in [&spec.name, &spec.owner] {
            if !valid_name(id) {
                return Err(Error::InvalidName(id.clone()));
            }
        }
        let _name = self.lifecycle.lock(&spec.name).await;
        let _owner = self.lifecycle.lock(&owner_key(&spec.owner)).await;
        // More at once only contend for the host: a class's join is a line (measured in
        // docs/src/benchmarks.md), two deep so the line never waits on the kernel alone.
        let _in_flight = self.in_flight.acquire().await.expect("the semaphore is never closed");
        if let Ok(running) = self.get(&spec.name) {
            return Ok(running.info.clone());
        }
        {
            let map = self.sandboxes.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(other) = map.values().find(|r| r.info.owner == spec.owner && r.alive()) {
                return Err(Error::create_failed(
                    &spec.name,
                    format!("{} already runs a sandbox ({}): one at a time per owner", spec.owner, other.info.name),
                ));
            }
        }
        let image = self.image.as_ref().ok_or_else(|| Error::Image("this backend was opened for cleanup only".into()))?;
        if spec.network == crate::spec::Network::Outbound && self.outbound.is_none() {
            return Err(Error::Unsupported { backend: "native", reason: "this server was not started with outbound networking".into() });
        }
        image.check()?;
        if !image.has_init(spec.init) {
            return Err(Error::Unsupported {
                backend: "native",
                reason: format!(
                    "the lab image has no {} init ({}): rebuild it with `stacklab image build`",
                    spec.init,
                    spec.init.argv()[0]
                ),
            });
        }
        let started = Instant::now();
        let mut clock = Stopwatch::default();
        let name = spec.name.clone();
        let step = |step: &str| {
            let (name, step) = (name.clone(), step.to_string());
            move |e: std::io::Error| Error::create(&name, step, e)
        };

        let layer = {
            let (owner, disk, layers) = (spec.owner.clone(), spec.limits.disk_bytes, self.layers.clone());
            // Made once per owner (a copy of a formatted template); quick after that.
            self.blocking(move || layers.prepare(&owner, disk)).await.map_err(step("preparing the learner's layer"))?
        };
        clock.mark("server: the learner's layer file");
        // Anything left under this name (a crashed start) goes first.
        self.teardown_async(&spec.name, None).await;
        clock.mark("server: clearing leftovers");
        let join = {
            // Some thirty mkdirs, writes and chowns on cgroup v1: off the runtime's threads, which
            // a class's terminals need while it joins.
            let (cgroups, name, limits, uid) = (self.cgroups.clone(), spec.name.clone(), spec.limits.clone(), layer.uid);
            self.blocking(move || cgroups.create_sandbox(&name, &limits, uid)).await.map_err(step("its cgroups"))?
        };
        clock.mark("server: its cgroups");
        let run_dir = self.dir("run").join(&spec.name);
        std::fs::create_dir_all(&run_dir).map_err(step("its run directory"))?;
        // Searchable by the sandbox's root (whatever the umask): its init walks from here into
        // its root filesystem (see `builder::prepare_init`). Nothing in it can be listed.
        std::fs::set_permissions(&run_dir, std::os::unix::fs::PermissionsExt::from_mode(0o711))
            .map_err(step("its run directory's mode"))?;
        let plan = CreatePlan {
            hostname: spec.name.clone(),
            rootfs: image.rootfs(),
            layer,
            run_dir,
            devices: spec
                .devices
                .iter()
                .filter_map(|d| self.device_nodes.iter().find(|(have, _)| have == d))
                .map(|(d, source)| DeviceBind { source: source.clone(), target: PathBuf::from(d.path()) })
                .collect(),
            cgroup: join,
            cgroup_mounts: self.cgroups.inner_mounts(),
            tmpfs_bytes: spec.limits.memory_bytes,
            init: spec.init.argv().iter().map(|s| s.to_string()).collect(),
            resolv_conf: if spec.network == crate::spec::Network::Outbound { host_resolvers() } else { String::new() },
            shared_files: self.config.shared_files.clone(),
        };
        clock.mark("server: its run directory and plan");
        let helper = self.helper.idle_one().await;
        clock.mark("server: waiting for a helper");
        let pid = match self.spawn_helper(helper, &plan).await {
            Ok((pid, phases)) => {
                clock.nested("helper: ", "exec, plan and reply", phases);
                pid
            }
            Err(e) => {
                self.teardown_async(&spec.name, None).await;
                return Err(e);
            }
        };
        let adopt = || -> std::io::Result<(OwnedFd, u64, usize)> {
            let pidfd = sys::pidfd_open(pid)?;
            let ticks = enter::start_ticks(pid)?;
            let level = enter::ns_pids(pid).and_then(|p| p.len().checked_sub(1)).unwrap_or(1);
            Ok((pidfd, ticks, level))
        };
        let (pidfd, start_ticks, pid_level) = adopt().map_err(step("adopting its init (it died at once?)"))?;
        let _placing = self.placing.lock().await;
        let net_index = match (&self.outbound, spec.network) {
            (Some(outbound), crate::spec::Network::Outbound) => {
                let used: Vec<u32> =
                    self.sandboxes.lock().unwrap_or_else(|p| p.into_inner()).values().filter_map(|r| r.net_index).collect();
                let index = (0..outbound.slots())
                    .find(|i| !used.contains(i))
                    .ok_or_else(|| Error::create_failed(&name, "no free outbound subnet"))?;
                if let Err(e) = outbound.attach(pid, index) {
                    self.teardown_async(&spec.name, None).await;
                    return Err(step("its outbound network")(e));
                }
                Some(index)
            }
            _ => None,
        };
        if spec.init == crate::Init::Systemd
            && let Err(e) = manager_ready(pid, SYSTEMD_READY).await
        {
            self.teardown_async(&spec.name, None).await;
            return Err(step("systemd's start")(e));
        }
        let info = SandboxInfo {
            name: spec.name.clone(),
            owner: spec.owner.clone(),
            backend: "native".into(),
            started_at: SystemTime::now(),
            spec: spec.clone(),
        };
        let saved = SavedSandbox { info: info.clone(), pid, start_ticks, net_index };
        let state = self.state_file(&spec.name);
        let bytes = serde_json::to_vec(&saved).map_err(|e| Error::create(&name, "its saved state", e))?;
        let tmp = state.with_extension("tmp");
        std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &state)).map_err(step("saving its state"))?;
        self.sandboxes.lock().unwrap_or_else(|p| p.into_inner()).insert(
            spec.name.clone(),
            Arc::new(Running { info: info.clone(), pid, pidfd, pid_level, net_index, agent: Default::default() }),
        );
        clock.mark("server: adopt init, network, save state");
        let phases = clock.phases();
        tracing::debug!(sandbox = %spec.name, ?phases, "where the start's time went");
        *self.last_start.lock().unwrap_or_else(|p| p.into_inner()) = phases;
        tracing::info!(sandbox = %spec.name, pid, took_ms = started.elapsed().as_millis() as u64, "sandbox started");
        Ok(info)
    }

    async fn running(&self) -> Result<Vec<SandboxInfo>> {
        let map = self.sandboxes.lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.values().filter(|r| r.alive()).map(|r| r.info.clone()).collect())
    }

    async fn exec(&self, name: &str, request: ExecRequest) -> Result<ExecOutput> {
        let running = self.get(name)?;
        let started = Instant::now();
        let (rel, entry) = self.cgroups.create_exec(name).map_err(|e| Error::io(format!("a cgroup for a command in {name}"), e))?;
        let mut cmd = enter::command(running.pidfd.as_fd(), Parent::Server, &request.argv, &request.env, entry)
            .map_err(|e| Error::io("preparing the command", e))?;
        let pipes = cmd.pipes().map_err(|e| Error::io("pipes for the command", e))?;
        let mut child = match self.spawn_off_worker(cmd).await {
            Ok(child) => child,
            Err(e) => {
                self.kill_group(&rel).await;
                return Err(Error::io("starting the command in the sandbox", e));
            }
        };
        let limit = request.output_limit;
        let mut out_task = tokio::spawn(read_limited(Some(pipes.stdout), limit));
        let mut err_task = tokio::spawn(read_limited(Some(pipes.stderr), limit));
        let (input, mut stdin) = (request.stdin.clone(), pipes.stdin);
        let feed = tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });

        let run = async {
            let (mut out, mut err, mut status) = (None, None, None);
            // Once the command itself has exited, its background children may hold the pipes
            // open forever: give them a moment, then end them.
            let mut grace = std::pin::pin!(tokio::time::sleep(Duration::MAX));
            let mut grace_armed = false;
            while out.is_none() || err.is_none() || status.is_none() {
                tokio::select! {
                    r = &mut out_task, if out.is_none() => {
                        let (bytes, over) = r.unwrap_or_default();
                        if over {
                            // Killing the group closes the other pipe too.
                            self.kill_group(&rel).await;
                        }
                        out = Some((bytes, over));
                    }
                    r = &mut err_task, if err.is_none() => {
                        let (bytes, over) = r.unwrap_or_default();
                        if over {
                            self.kill_group(&rel).await;
                        }
                        err = Some((bytes, over));
                    }
                    s = child.wait(), if status.is_none() => {
                        status = Some(s);
                        grace.as_mut().reset(tokio::time::Instant::now() + Duration::from_millis(200));
                        grace_armed = true;
                    }
                    () = &mut grace, if grace_armed => {
                        grace_armed = false;
                        if request.leave_running {
                            // Its daemons may keep the pipes: stop reading, keep them.
                            out_task.abort();
                            err_task.abort();
                            out.get_or_insert_default();
                            err.get_or_insert_default();
                        } else {
                            self.kill_group(&rel).await;
                        }
                    }
                }
            }
            (out.unwrap_or_default(), err.unwrap_or_default(), status.expect("loop ends with a status"))
        };
        let outcome = tokio::time::timeout(request.timeout, run).await;
        if outcome.is_err() {
            self.kill_group(&rel).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
        }
        // Whatever the command left behind (background jobs, a fork bomb) dies with its group,
        // unless it was asked to stay and the command ended by itself: then the group stays
        // (see `cgroup`), under the sandbox's limits, and goes with the sandbox.
        if !(request.leave_running && outcome.is_ok()) {
            self.kill_group(&rel).await;
        }
        feed.abort();
        out_task.abort();
        err_task.abort();
        let took = started.elapsed();
        match outcome {
            Err(_elapsed) => Ok(ExecOutput { end: ExecEnd::TimedOut, stdout: Vec::new(), stderr: Vec::new(), took }),
            Ok(((stdout, out_over), (stderr, err_over), status)) => {
                let end = if out_over || err_over {
                    ExecEnd::OutputLimit
                } else {
                    match status {
                        Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                            (Some(code), _) => ExecEnd::Exited(code),
                            (None, Some(sig)) => ExecEnd::Signaled(sig),
                            _ => ExecEnd::Exited(-1),
                        },
                        Err(e) => return Err(Error::io("waiting for the command", e)),
                    }
                };
                Ok(ExecOutput { end, stdout, stderr, took })
            }
        }
    }

    async fn check(&self, name: &str, check: crate::check::CheckRequest) -> Result<ExecOutput> {
        let started = Instant::now();
        let running = self.get(name)?;
        // One check at a time per agent: another meanwhile takes the one-off way.
        let Ok(mut slot) = running.agent.try_lock() else { return self.exec(name, check.as_exec()).await };
        if let agent::Slot::Failed(at) = &*slot
            && at.elapsed() < agent::RETRY_AFTER
        {
            return self.exec(name, check.as_exec()).await;
        }
        let fresh = !matches!(*slot, agent::Slot::Running(_));
        if fresh {
            match self.start_agent(&running, name).await {
                Ok(started) => *slot = agent::Slot::Running(Box::new(started)),
                Err(e) => {
                    tracing::warn!(sandbox = name, "no check agent ({e}): checks start on their own for a while");
                    *slot = agent::Slot::Failed(Instant::now());
                    return self.exec(name, check.as_exec()).await;
                }
            }
        }
        let agent::Slot::Running(agent) = &mut *slot else { unreachable!("running since above") };
        let group = agent.group.clone();
        let asked = tokio::time::timeout(check.timeout, agent.ask(&check)).await;
        match asked {
            Ok(Ok(agent::Answer { mut output, retire })) => {
                if retire || !self.agent_idle(&group).await {
                    tracing::debug!(sandbox = name, "a check left processes running: they end with its agent");
                    self.retire_agent(&mut slot, &group, false).await;
                }
                output.took = started.elapsed();
                Ok(output)
            }
            Ok(Err(e)) => {
                // Ended or garbled: the learner may have killed or replaced it. This check runs
                // the one-off way; a new agent comes at the next (after a while, if this one
                // never answered at all).
                tracing::info!(sandbox = name, "the check agent failed: {e}");
                self.retire_agent(&mut slot, &group, fresh).await;
                drop(slot);
                self.exec(name, check.as_exec()).await
            }
            Err(_elapsed) => {
                self.retire_agent(&mut slot, &group, false).await;
                Ok(ExecOutput { end: ExecEnd::TimedOut, stdout: Vec::new(), stderr: Vec::new(), took: started.elapsed() })
            }
        }
    }

    async fn open_shell(&self, name: &str, request: ShellRequest) -> Result<Shell> {
        let running = self.get(name)?;
        let (master, slave) = enter::open_pty(running.pid).map_err(|e| Error::io("opening a terminal in the sandbox", e))?;
        crate::pty::set_size(&master, request.size).map_err(|e| Error::io("sizing the terminal", e))?;
        let argv = request.argv.clone().unwrap_or_else(|| vec!["/bin/bash".into(), "-l".into()]);
        let mut cmd = enter::command(
            running.pidfd.as_fd(),
            Parent::Init,
            &enter::in_sandbox_tree(&argv),
            &request.env,
            self.cgroups.shell_entry(name),
        )
        .map_err(|e| Error::io("preparing the shell", e))?;
        let (status, ended) = tokio::net::unix::pipe::pipe().map_err(|e| Error::io("a pipe for the shell's end", e))?;
        let status = status.into_blocking_fd().map_err(|e| Error::io("a pipe for the shell's end", e))?;
        enter::attach_terminal(&mut cmd, &slave, status).map_err(|e| Error::io("preparing the terminal", e))?;
        // The process that starts the waiter has ended (and been reaped) when this returns: the
        // sandbox's init adopted the waiter.
        self.spawn_off_worker(cmd).await.map_err(|e| Error::io("starting the shell", e))?;
        drop(slave);
        let master = PtyMaster::new(master).map_err(|e| Error::io("terminal", e))?;
        Ok(Shell {
            output: Box::pin(master.clone()),
            input: Box::pin(master.clone()),
            control: Box::new(NativeShell { master, ended: tokio::sync::Mutex::new(ended), status: std::sync::Mutex::new(None) }),
        })
    }

    async fn stop(&self, name: &str) -> Result<()> {
        let _name = self.lifecycle.lock(name).await;
        let known = self.sandboxes.lock().unwrap_or_else(|p| p.into_inner()).remove(name);
        let exists = known.is_some() || self.cgroups.sandboxes().iter().any(|n| n == name);
        if !exists {
            return Err(Error::NotFound(name.to_string()));
        }
        self.teardown_async(name, known).await;
        tracing::info!(sandbox = name, "sandbox stopped");
        Ok(())
    }

    async fn wipe(&self, owner: &str) -> Result<()> {
        if !valid_name(owner) {
            return Err(Error::InvalidName(owner.to_string()));
        }
        let names: Vec<String> = {
            let map = self.sandboxes.lock().unwrap_or_else(|p| p.into_inner());
            map.values().filter(|r| r.info.owner == owner).map(|r| r.info.name.clone()).collect()
        };
        for name in names {
            self.stop(&name).await?;
        }
        let _owner = self.lifecycle.lock(&owner_key(owner)).await;
        let (layers, who) = (self.layers.clone(), owner.to_string());
        self.blocking(move || layers.wipe(&who)).await.map_err(|e| Error::io(format!("wiping {owner}'s files"), e))?;
        tracing::info!(owner, "learner's files wiped");
        Ok(())
    }

    async fn stats(&self, name: &str) -> Result<Stats> {
        let running = self.get(name)?;
        let usage = self.cgroups.usage(name);
        let pid = running.pid;
        let disk = self
            .blocking(move || -> std::io::Result<nix::sys::statvfs::Statvfs> {
                let root = std::fs::File::open(format!("/proc/{pid}/root"))?;
                Ok(nix::sys::statvfs::fstatvfs(&root)?)
            })
            .await
            .ok();
        let (used, total) = disk
            .map(|s| {
                let block = s.fragment_size();
                ((s.blocks() - s.blocks_free()) * block, s.blocks() * block)
            })
            .unwrap_or((0, 0));
        Ok(Stats {
            memory_bytes: usage.memory_bytes,
            memory_limit_bytes: usage.memory_limit_bytes,
            pids: usage.pids,
            cpu_usage: usage.cpu,
            disk_used_bytes: used,
            disk_total_bytes: total,
        })
    }

    async fn processes(&self, name: &str) -> Result<Vec<Process>> {
        let running = self.get(name)?;
        let pids = self.cgroups.pids(name).map_err(|e| Error::io("listing processes", e))?;
        let mut processes: Vec<Process> = pids
            .into_iter()
            .filter_map(|host| {
                // A process still entering (host side) sits in the cgroup too but not in the pid
                // namespace.
                let inner = *enter::ns_pids(host)?.get(running.pid_level)?;
                let cmdline = std::fs::read(format!("/proc/{host}/cmdline")).ok()?;
                let args: Vec<_> = cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).map(String::from_utf8_lossy).collect();
                // A terminal's waiter and the check agent are the server's, not the learner's
                // (the waiter's shell is listed).
                if enter::is_waiter(&args) || crate::check::is_agent(&args) {
                    return None;
                }
                Some(Process { pid: inner, command: args.join(" ") })
            })
            .collect();
        processes.sort_by_key(|p| p.pid);
        Ok(processes)
    }

    async fn connect(&self, name: &str, port: u16) -> Result<Connection> {
        let running = self.get(name)?;
        let pidfd = running.pidfd.try_clone().map_err(|e| Error::io("a handle on the sandbox's init", e))?;
        let stream = connect::loopback(pidfd, port, CONNECT_WITHIN)
            .await
            .map_err(|e| Error::io(format!("connecting to port {port} in {name}"), e))?;
        Ok(Box::new(stream))
    }

    async fn kill(&self, name: &str, pid: i32, signal: i32) -> Result<()> {
        let running = self.get(name)?;
        let pids = self.cgroups.pids(name).map_err(|e| Error::io("listing processes", e))?;
        let host = pids
            .into_iter()
            .find(|h| enter::ns_pids(*h).and_then(|p| p.get(running.pid_level).copied()) == Some(pid))
            .ok_or_else(|| Error::Backend(format!("no process {pid} in sandbox {name}")))?;
        let pidfd = sys::pidfd_open(host).map_err(|e| Error::io(format!("process {pid}"), e))?;
        sys::pidfd_kill(pidfd.as_fd(), signal).map_err(|e| Error::io(format!("signalling process {pid}"), e))
    }
}

/// Reads up to `limit` bytes; stops early, reporting `true`, when there is more.
async fn read_limited(stream: Option<impl tokio::io::AsyncRead + Unpin>, limit: usize) -> (Vec<u8>, bool) {
    let Some(mut stream) = stream else { return (Vec::new(), false) };
    let mut kept = Vec::new();
    let mut over = false;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    // Stop here: the caller kills the command.
                    over = true;
                    break;
                }
            }
        }
    }
    (kept, over)
}

/// Host pids of the children of `pid`.
fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

struct NativeShell {
    master: PtyMaster,
    /// Where the shell's waiter writes its exit status, then closes (`enter::in_sandbox_tree`).
    ended: tokio::sync::Mutex<tokio::net::unix::pipe::Receiver>,
    status: std::sync::Mutex<Option<i32>>,
}

/// How long a waiter may keep its status pipe open once the terminal has no process left: the
/// learner (root in there) can hold the pipe through the waiter's /proc entry, and must not keep
/// a closed terminal open on the server that way.
const WAITER_GRACE: Duration = Duration::from_secs(5);

#[async_trait]
impl ShellControl for NativeShell {
    fn resize(&self, size: PtySize) -> std::io::Result<()> {
        self.master.resize(size)
    }

    fn input_hidden(&self) -> Option<bool> {
        self.master.hides_input().ok()
    }

    async fn wait(&self) -> i32 {
        let mut ended = self.ended.lock().await;
        if let Some(code) = *self.status.lock().unwrap_or_else(|p| p.into_inner()) {
            return code;
        }
        let mut said = Vec::new();
        {
            let mut limited = (&mut *ended).take(16);
            let mut read = std::pin::pin!(limited.read_to_end(&mut said));
            let mut hung_up_for = Duration::ZERO;
            let step = Duration::from_millis(500);
            loop {
                tokio::select! {
                    _ = &mut read => break,
                    () = tokio::time::sleep(step) => {
                        hung_up_for = if self.master.hung_up() { hung_up_for + step } else { Duration::ZERO };
                        if hung_up_for >= WAITER_GRACE {
                            break;
                        }
                    }
                }
            }
        }
        // Killed before it could say (or held open): as a shell killed by SIGKILL would say.
        let code = enter::parse_status(&said).unwrap_or(128 + libc::SIGKILL);
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = Some(code);
        code
    }

    fn kill(&self) {
        // The waiter leads the terminal's session: kill the shell below it, and the waiter then
        // says so and ends; or the waiter itself if it has no shell (yet, or any more).
        let Some(waiter) = self.master.session() else { return };
        let Ok(pidfd) = sys::pidfd_open(waiter) else { return };
        if self.master.session() != Some(waiter) {
            return; // It ended between, and the pid may be another's now.
        }
        let shells = children_of(waiter);
        if shells.is_empty() {
            let _ = sys::pidfd_kill(pidfd.as_fd(), libc::SIGKILL);
        }
        for pid in shells {
            if let Ok(fd) = sys::pidfd_open(pid) {
                let _ = sys::pidfd_kill(fd.as_fd(), libc::SIGKILL);
            }
        }
    }
}

/// Tries what sandboxes need of the kernel (see `probe`), in a helper process; refuses a host
/// that lacks any of it, saying what and what to do.
fn probe_host(config: &NativeConfig, rootfs: &Path, run: &Path) -> Result<()> {
    let unsupported = |reason: String| Error::Unsupported { backend: "native", reason };
    let scratch = run.join(format!(".probe-{}", std::process::id()));
    let plan =
        serde_json::json!({ "probe": probe::ProbePlan { rootfs: rootfs.to_path_buf(), scratch: scratch.clone(), uid: config.uid_base } });
    let mut child = helper::command(&config.helper)
        .and_then(|mut cmd| {
            cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn()
        })
        .map_err(|e| unsupported(format!("cannot run the helper {:?}: {e}", config.helper.first())))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = std::io::Write::write_all(&mut stdin, plan.to_string().as_bytes());
    }
    let output = child.wait_with_output().map_err(|e| unsupported(format!("waiting for the helper: {e}")))?;
    let _ = std::fs::remove_dir_all(&scratch);
    let report: probe::ProbeReport =
        serde_json::from_slice(output.stdout.split(|&b| b == b'\n').next().unwrap_or_default()).map_err(|_| {
            unsupported(format!("the host probe failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim()))
        })?;
    let release = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    match probe::refusal(&release, &probe::faked(report)) {
        Some(message) => Err(unsupported(message)),
        None => Ok(()),
    }
}

impl NativeBackend {
    /// Starts `cmd` through the spawner on a blocking thread, within a time limit. Starting a
    /// process waits for its `exec`, and what runs before it (joining the sandbox's cgroup) must
    /// never hold one of the server's few async workers: a group frozen at the wrong moment would
    /// stall every request that worker serves. (The server makes the groups itself, out of the
    /// learner's reach; this is the bound if that ever fails, later than the spawner's own.)
    async fn spawn_off_worker(&self, cmd: spawn::Spawn) -> std::io::Result<spawn::Child> {
        let limits = self.spawner.limits();
        let limit = crate::time_scale::scaled(limits.answer + limits.exec + Duration::from_secs(5));
        let spawner = self.spawner.clone();
        match tokio::time::timeout(limit, tokio::task::spawn_blocking(move || cmd.spawn_through(&spawner))).await {
            Ok(Ok(spawned)) => spawned,
            Ok(Err(e)) => Err(std::io::Error::other(format!("the starting thread failed: {e}"))),
            Err(_) => Err(std::io::Error::other(format!("the process did not start within {} s", limit.as_secs()))),
        }
    }
}
