//! The Docker backend: the same sandboxes as Docker containers, through bollard, for operators
//! who run Docker and want to see their learners with `docker ps`.
//!
//! A sandbox is a container named `<prefix>-<sandbox>` from the lab image (imported with
//! `docker import`), labelled with its sandbox, owner and spec so a restarted server finds it
//! again; the learner's files are a volume `<prefix>-home-<owner>` at /root, which outlives every
//! container until a reset. Stopping removes the container (its processes and writable layer);
//! the volume stays.
//!
//! Isolation depends on the engine, and is decided once at open ([`Isolation`]): the demos need
//! `CAP_SYS_ADMIN` (unshare, mount, ip netns), which is only safe to hand out where the
//! container's root is not the host's — an engine with user-namespace remapping or the Sysbox
//! runtime. On a plain engine sandboxes get Docker's default capabilities only.

mod exec;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, DeviceMapping, HostConfig, HostConfigCgroupnsModeEnum, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    StartContainerOptions,
};

use crate::backend::{Backend, Connection, Error, ExecOutput, ExecRequest, Process, Result, SandboxInfo, Shell, ShellRequest, Stats};
use crate::spec::{Network, SandboxSpec, valid_name};

const LABEL_SERVER: &str = "dev.stacklab.server";
const LABEL_SANDBOX: &str = "dev.stacklab.sandbox";
const LABEL_OWNER: &str = "dev.stacklab.owner";
const LABEL_SPEC: &str = "dev.stacklab.spec";
const LABEL_STARTED: &str = "dev.stacklab.started-at";

#[derive(Clone, Debug)]
pub struct DockerConfig {
    /// The engine's socket; `None`: `DOCKER_HOST` or /var/run/docker.sock.
    pub socket: Option<String>,
    /// The lab image as Docker knows it (`stacklab/lab:<recipe hash>`).
    pub image: String,
    /// Names and labels of this server's containers and volumes start with it.
    pub prefix: String,
    /// A runtime to use (`sysbox-runc`); `None`: Sysbox where the engine has it, else its default.
    pub runtime: Option<String>,
}

/// What keeps a sandbox's root from being the host's root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// The Sysbox runtime: a system container, root mapped to an unprivileged range.
    Sysbox,
    /// The engine remaps users (`dockerd --userns-remap`): root inside is an unprivileged
    /// host uid, as in the native backend.
    UsernsRemap,
    /// Neither: root inside is the host's root, held back by capabilities, seccomp and
    /// AppArmor only. The demos that need CAP_SYS_ADMIN do not work.
    Plain,
}

impl Isolation {
    /// Capabilities beyond Docker's defaults that the demos need (unshare, mount, ip netns,
    /// nsenter, strace), given only where root is not the host's.
    fn extra_caps(self) -> Vec<String> {
        match self {
            Isolation::Sysbox => Vec::new(),
            Isolation::UsernsRemap => ["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE"].map(String::from).to_vec(),
            Isolation::Plain => vec!["NET_ADMIN".into()],
        }
    }

    /// Docker's default masks over /proc, without its masks in /sys: with a mask there sysfs is
    /// not "fully visible", and the kernel then refuses the new sysfs `ip netns exec` mounts
    /// (Demo 2). Under a remapped root the files behind are the host root's and refuse it anyway.
    fn masked_paths(self) -> Option<Vec<String>> {
        match self {
            Isolation::UsernsRemap => Some(
                [
                    "/proc/asound",
                    "/proc/acpi",
                    "/proc/kcore",
                    "/proc/keys",
                    "/proc/latency_stats",
                    "/proc/timer_list",
                    "/proc/timer_stats",
                    "/proc/sched_debug",
                    "/proc/scsi",
                    "/proc/sysrq-trigger",
                ]
                .map(String::from)
                .to_vec(),
            ),
            Isolation::Sysbox | Isolation::Plain => None,
        }
    }

    fn security_opt(self) -> Vec<String> {
        match self {
            // unshare(2), mount(2) and setns(2) are outside Docker's default seccomp profile.
            // So the engine's profile gives way to ours, which allows those and refuses the
            // rest of what no lab needs (crate::seccomp).
            Isolation::UsernsRemap => vec![format!("seccomp={}", crate::seccomp::docker_profile()), "apparmor=unconfined".into()],
            Isolation::Sysbox | Isolation::Plain => Vec::new(),
        }
    }
}

pub struct DockerBackend {
    docker: Docker,
    config: DockerConfig,
    isolation: Isolation,
    runtime: Option<String>,
}

fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

impl DockerBackend {
    /// Connects, and checks that the engine answers and has the lab image; each failure says
    /// what to do about it.
    pub async fn open(config: DockerConfig) -> Result<Self> {
        let socket =
            config.socket.clone().or_else(|| std::env::var("DOCKER_HOST").ok()).unwrap_or_else(|| "unix:///var/run/docker.sock".into());
        let path = socket.trim_start_matches("unix://").to_string();
        if !std::path::Path::new(&path).exists() {
            return Err(Error::Backend(format!("there is no Docker socket at {path}: is dockerd running? (--docker-socket)")));
        }
        let docker = Docker::connect_with_unix(&path, 120, bollard::API_DEFAULT_VERSION)
            .map_err(|e| Error::docker(format!("connecting to Docker at {path}"), e))?;
        let docker = docker.negotiate_version().await.map_err(|e| match &e {
            bollard::errors::Error::IOError { err } if err.kind() == std::io::ErrorKind::PermissionDenied => {
                Error::Backend(format!("{path} refuses this user: run the server as root or in the docker group"))
            }
            _ => Error::docker(format!("Docker at {path} does not answer (is dockerd running?)"), e),
        })?;
        match docker.inspect_image(&config.image).await {
            Ok(_) => {}
            Err(e) if not_found(&e) => {
                return Err(Error::Image(format!(
                    "Docker has no image {}: import the lab image with `tar -C <image>/rootfs -c . | docker import - {}`",
                    config.image, config.image
                )));
            }
            Err(e) => return Err(Error::docker(format!("looking up {}", config.image), e)),
        }
        let info = docker.info().await.map_err(|e| Error::docker("asking Docker about itself", e))?;
        let has_sysbox = info.runtimes.as_ref().is_some_and(|r| r.contains_key("sysbox-runc"));
        let runtime = config.runtime.clone().or_else(|| has_sysbox.then(|| "sysbox-runc".to_string()));
        let remapped = info.security_options.as_ref().is_some_and(|o| o.iter().any(|s| s.contains("name=userns")));
        let isolation = match (&runtime, remapped) {
            (Some(r), _) if r.contains("sysbox") => Isolation::Sysbox,
            (_, true) => Isolation::UsernsRemap,
            _ => Isolation::Plain,
        };
        if isolation == Isolation::Plain {
            tracing::warn!(
                "Docker remaps no users and has no Sysbox runtime: sandboxes get Docker's default capabilities only, so the \
                 namespace and mount demos will not work (docs: Sandboxes and backends, the Docker backend)"
            );
        }
        Ok(Self { docker, config, isolation, runtime })
    }

    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Removes every container and volume of this server (its prefix): for tests and for
    /// `stacklab stop-sandboxes`.
    pub async fn remove_all(&self) -> Result<()> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_SERVER}={}", self.config.prefix)])]);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        let containers = self.docker.list_containers(Some(options)).await.map_err(|e| Error::docker("listing containers", e))?;
        for c in containers {
            if let Some(name) = c.labels.as_ref().and_then(|l| l.get(LABEL_SANDBOX)) {
                self.remove(name).await?;
            }
        }
        let options = bollard::query_parameters::ListVolumesOptionsBuilder::default().filters(&filters).build();
        let volumes = self.docker.list_volumes(Some(options)).await.map_err(|e| Error::docker("listing volumes", e))?;
        for v in volumes.volumes.unwrap_or_default() {
            let _ = self.docker.remove_volume(&v.name, None::<bollard::query_parameters::RemoveVolumeOptions>).await;
        }
        Ok(())
    }

    fn container(&self, name: &str) -> String {
        format!("{}-{name}", self.config.prefix)
    }

    fn volume(&self, owner: &str) -> String {
        format!("{}-home-{owner}", self.config.prefix)
    }

    /// The info of this server's container for `name`, running or not.
    async fn find(&self, name: &str) -> Result<Option<(SandboxInfo, bool)>> {
        match self.docker.inspect_container(&self.container(name), None::<InspectContainerOptions>).await {
            Ok(c) => {
                let labels = c.config.and_then(|c| c.labels).unwrap_or_default();
                if labels.get(LABEL_SERVER) != Some(&self.config.prefix) {
                    return Err(Error::Backend(format!("container {} is not this server's", self.container(name))));
                }
                let running = c.state.and_then(|s| s.running).unwrap_or(false);
                Ok(info_from(&labels).map(|i| (i, running)))
            }
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(Error::docker(format!("inspecting {}", self.container(name)), e)),
        }
    }

    async fn remove(&self, name: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match self.docker.remove_container(&self.container(name), Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(Error::docker(format!("removing {}", self.container(name)), e)),
        }
    }

    fn create_body(&self, spec: &SandboxSpec, started_at: SystemTime) -> Result<ContainerCreateBody> {
        let labels = HashMap::from([
            (LABEL_SERVER.to_string(), self.config.prefix.clone()),
            (LABEL_SANDBOX.to_string(), spec.name.clone()),
            (LABEL_OWNER.to_string(), spec.owner.clone()),
            (LABEL_SPEC.to_string(), serde_json::to_string(spec).map_err(|e| Error::Backend(e.to_string()))?),
            (LABEL_STARTED.to_string(), humantime::format_rfc3339_seconds(started_at).to_string()),
        ]);
        let devices = spec
            .devices
            .iter()
            .filter(|d| std::path::Path::new(d.path()).exists())
            .map(|d| DeviceMapping {
                path_on_host: Some(d.path().into()),
                path_in_container: Some(d.path().into()),
                cgroup_permissions: Some("rwm".into()),
            })
            .collect();
        let memory = spec.limits.memory_bytes as i64;
        let host_config = HostConfig {
            memory: Some(memory),
            memory_swap: Some(memory),
            nano_cpus: Some(i64::from(spec.limits.cpu_millis) * 1_000_000),
            pids_limit: Some(i64::from(spec.limits.pids)),
            network_mode: Some(match spec.network {
                // Loopback only, as in the native backend.
                Network::Isolated => "none".into(),
                Network::Outbound => "bridge".into(),
            }),
            cap_add: Some(self.isolation.extra_caps()),
            security_opt: Some(self.isolation.security_opt()),
            cgroupns_mode: Some(HostConfigCgroupnsModeEnum::PRIVATE),
            binds: Some(vec![format!("{}:/root", self.volume(&spec.owner))]),
            devices: Some(devices),
            tmpfs: Some(HashMap::from([("/tmp".to_string(), "mode=1777".to_string()), ("/run".to_string(), "mode=755".to_string())])),
            runtime: self.runtime.clone(),
            masked_paths: self.isolation.masked_paths(),
            ..Default::default()
        };
        Ok(ContainerCreateBody {
            image: Some(self.config.image.clone()),
            hostname: Some(spec.name.clone()),
            cmd: Some(crate::Init::Minimal.argv().iter().map(|s| s.to_string()).collect()),
            env: Some(vec!["container=stacklab".into()]),
            labels: Some(labels),
            host_config: Some(host_config),
            ..Default::default()
        })
    }
}

impl DockerBackend {
    /// Hands the container's own cgroups to its (remapped) root, as the native backend does:
    /// it may make cgroups below and move its processes (Demo 3), while the limit files of its
    /// own cgroup stay the host root's. Docker does not delegate on cgroup v1; the server, on the
    /// engine's host, does it.
    async fn delegate_cgroups(&self, name: &str) -> Result<()> {
        let container = self.container(name);
        let pid = self.init_pid(name).await?;
        tokio::task::spawn_blocking(move || delegate(pid))
            .await
            .map_err(|e| Error::Backend(e.to_string()))?
            .map_err(|e| Error::io(format!("delegating {container}'s cgroups"), e))
    }

    /// The host pid of the container's init (the engine runs on this host, as the cgroup
    /// delegation above needs too).
    async fn init_pid(&self, name: &str) -> Result<i64> {
        let container = self.container(name);
        let inspect = self
            .docker
            .inspect_container(&container, None::<InspectContainerOptions>)
            .await
            .map_err(|e| Error::docker(format!("inspecting {container}"), e))?;
        inspect.state.and_then(|s| s.pid).filter(|p| *p > 0).ok_or_else(|| Error::NotFound(name.to_string()))
    }
}

/// Chowns the cgroup directories of host process `pid` (and the files that move processes) to
/// the host uid its root runs as.
fn delegate(pid: i64) -> std::io::Result<()> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| std::io::Error::other("no Uid in /proc/PID/status"))?;
    let gid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Gid:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(uid);
    for line in std::fs::read_to_string(format!("/proc/{pid}/cgroup"))?.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = path.trim_start_matches('/');
        let mounts: Vec<String> = if controllers.is_empty() {
            vec!["unified".into(), String::new()]
        } else {
            vec![controllers.trim_start_matches("name=").to_string()]
        };
        for mount in mounts {
            let dir = std::path::Path::new("/sys/fs/cgroup").join(&mount).join(path);
            if path.is_empty() || !dir.is_dir() {
                continue;
            }
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
            for file in ["cgroup.procs", "tasks", "cgroup.threads", "cgroup.subtree_control"] {
                let f = dir.join(file);
                if f.exists() {
                    std::os::unix::fs::chown(&f, Some(uid), Some(gid))?;
                }
            }
        }
    }
    Ok(())
}

/// A sandbox's info from its container's labels.
fn info_from(labels: &HashMap<String, String>) -> Option<SandboxInfo> {
    let spec: SandboxSpec = serde_json::from_str(labels.get(LABEL_SPEC)?).ok()?;
    let started_at = labels.get(LABEL_STARTED).and_then(|t| humantime::parse_rfc3339(t).ok()).unwrap_or(SystemTime::UNIX_EPOCH);
    Some(SandboxInfo { name: spec.name.clone(), owner: spec.owner.clone(), backend: "docker".into(), started_at, spec })
}

#[async_trait]
impl Backend for DockerBackend {
    fn kind(&self) -> &'static str {
        "docker"
    }

    async fn start(&self, spec: &SandboxSpec) -> Result<SandboxInfo> {
        if !valid_name(&spec.name) {
            return Err(Error::InvalidName(spec.name.clone()));
        }
        if !valid_name(&spec.owner) {
            return Err(Error::InvalidName(spec.owner.clone()));
        }
        if spec.init != crate::Init::Minimal {
            return Err(Error::Unsupported {
                backend: "docker",
                reason: format!("a sandbox with {} as its init needs the native backend", spec.init),
            });
        }
        match self.find(&spec.name).await? {
            Some((info, true)) => return Ok(info),
            // A container left stopped (the engine restarted): start afresh, files are in the volume.
            Some((_, false)) => self.remove(&spec.name).await?,
            None => {}
        }
        let volume = VolumeCreateRequest {
            name: Some(self.volume(&spec.owner)),
            labels: Some(HashMap::from([
                (LABEL_SERVER.to_string(), self.config.prefix.clone()),
                (LABEL_OWNER.to_string(), spec.owner.clone()),
            ])),
            ..Default::default()
        };
        self.docker.create_volume(volume).await.map_err(|e| Error::docker(format!("creating {}'s volume", spec.owner), e))?;
        let started_at = SystemTime::now();
        let body = self.create_body(spec, started_at)?;
        let options = CreateContainerOptionsBuilder::default().name(&self.container(&spec.name)).build();
        self.docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| Error::docker(format!("creating {}", self.container(&spec.name)), e))?;
        if let Err(e) = self.docker.start_container(&self.container(&spec.name), None::<StartContainerOptions>).await {
            let _ = self.remove(&spec.name).await;
            return Err(Error::docker(format!("starting {}", self.container(&spec.name)), e));
        }
        if self.isolation == Isolation::UsernsRemap {
            self.delegate_cgroups(&spec.name).await?;
        }
        tracing::info!(sandbox = %spec.name, isolation = ?self.isolation, "docker sandbox started");
        Ok(SandboxInfo { name: spec.name.clone(), owner: spec.owner.clone(), backend: "docker".into(), started_at, spec: spec.clone() })
    }

    async fn running(&self) -> Result<Vec<SandboxInfo>> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_SERVER}={}", self.config.prefix)])]);
        let options = ListContainersOptionsBuilder::default().filters(&filters).build();
        let containers = self.docker.list_containers(Some(options)).await.map_err(|e| Error::docker("listing containers", e))?;
        Ok(containers.iter().filter_map(|c| c.labels.as_ref().and_then(info_from)).collect())
    }

    async fn exec(&self, name: &str, request: ExecRequest) -> Result<ExecOutput> {
        // No look-up first: a missing or stopped container is NotFound from the exec itself.
        exec::run(&self.docker, &self.container(name), name, request).await
    }

    async fn open_shell(&self, name: &str, request: ShellRequest) -> Result<Shell> {
        exec::shell(&self.docker, &self.container(name), name, request).await
    }

    async fn stop(&self, name: &str) -> Result<()> {
        if self.find(name).await?.is_none() {
            return Err(Error::NotFound(name.to_string()));
        }
        self.remove(name).await?;
        tracing::info!(sandbox = name, "docker sandbox stopped");
        Ok(())
    }

    async fn wipe(&self, owner: &str) -> Result<()> {
        if !valid_name(owner) {
            return Err(Error::InvalidName(owner.to_string()));
        }
        for info in self.running().await? {
            if info.owner == owner {
                self.remove(&info.name).await?;
            }
        }
        match self.docker.remove_volume(&self.volume(owner), None::<bollard::query_parameters::RemoveVolumeOptions>).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(Error::docker(format!("removing {owner}'s volume"), e)),
        }
    }

    async fn stats(&self, name: &str) -> Result<Stats> {
        exec::stats(&self.docker, &self.container(name), name).await
    }

    async fn connect(&self, name: &str, port: u16) -> Result<Connection> {
        let pid = self.init_pid(name).await?;
        let what = || format!("connecting to port {port} in {name}");
        let pidfd = crate::native::sys::pidfd_open(i32::try_from(pid).map_err(|_| Error::NotFound(name.into()))?)
            .map_err(|e| Error::io(what(), e))?;
        // The pid was the container's when the engine answered; asked again now that the pidfd
        // holds it, the same answer means the pidfd is the container's init, not a reused pid.
        if self.init_pid(name).await? != pid {
            return Err(Error::NotFound(name.to_string()));
        }
        let stream =
            crate::native::connect::loopback(pidfd, port, crate::native::CONNECT_WITHIN).await.map_err(|e| Error::io(what(), e))?;
        Ok(Box::new(stream))
    }

    async fn processes(&self, name: &str) -> Result<Vec<Process>> {
        let out = self.exec(name, ExecRequest::script("ps -eo pid=,args=").timeout(Duration::from_secs(10))).await?;
        Ok(crate::backend::processes_from_ps(&out, ""))
    }

    async fn kill(&self, name: &str, pid: i32, signal: i32) -> Result<()> {
        let out = self.exec(name, ExecRequest::script(&format!("kill -{signal} {pid}")).timeout(Duration::from_secs(10))).await?;
        crate::backend::kill_outcome(pid, &out)
    }
}
