//! The interface between the server and a kind of sandbox.

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::pty::PtySize;
use crate::spec::SandboxSpec;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A kind of sandbox (native namespaces, Docker, Kubernetes). Every method is keyed by the
/// sandbox's name; the backend keeps whatever it needs to find a sandbox again after the server
/// restarts (see [`Backend::running`]).
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Short name for logs and the dashboard (`native`, `docker`, ...).
    fn kind(&self) -> &'static str;

    /// Starts the sandbox, with the owner's files from before if there are any. Starting a
    /// sandbox that is already running returns it as it is.
    async fn start(&self, spec: &SandboxSpec) -> Result<SandboxInfo>;

    /// Sandboxes running now, including those started before this server process: the server
    /// adopts them on start.
    async fn running(&self) -> Result<Vec<SandboxInfo>>;

    /// Runs a command as root inside the sandbox, without a terminal, within a time limit.
    async fn exec(&self, name: &str, request: ExecRequest) -> Result<ExecOutput>;

    /// Runs a step's check inside the sandbox (see [`crate::check`]). By default it is a
    /// command of its own; a backend may keep something in the sandbox that runs checks for less.
    async fn check(&self, name: &str, check: crate::check::CheckRequest) -> Result<ExecOutput> {
        self.exec(name, check.as_exec()).await
    }

    /// Starts a login shell on a terminal inside the sandbox.
    async fn open_shell(&self, name: &str, request: ShellRequest) -> Result<Shell>;

    /// Ends every process of the sandbox and frees what it held. The owner's files stay.
    async fn stop(&self, name: &str) -> Result<()>;

    /// Deletes the owner's files (after stopping any sandbox that uses them): the next start
    /// begins from the lab image again.
    async fn wipe(&self, owner: &str) -> Result<()>;

    /// Resource use, for the dashboard and the bench.
    async fn stats(&self, name: &str) -> Result<Stats>;

    /// The sandbox's processes as the learner sees them.
    async fn processes(&self, name: &str) -> Result<Vec<Process>>;

    /// Sends `signal` to the process the learner knows as `pid`.
    async fn kill(&self, name: &str, pid: i32, signal: i32) -> Result<()>;

    /// A TCP connection to `port` on the sandbox's own loopback, for a web preview of a service
    /// the learner runs there. Only the sandbox's network is reachable this way, never the host's.
    async fn connect(&self, name: &str, port: u16) -> Result<Connection> {
        let _ = (name, port);
        Err(Error::Unsupported { backend: self.kind(), reason: "web previews are not built for this backend yet".into() })
    }

    /// How many more sandboxes with these limits it has room for now, when it can tell (a
    /// cluster counts its nodes). `None`: it cannot, and the operator sizes the host
    /// (`--max-sandboxes`).
    async fn room(&self, _limits: &crate::spec::Limits) -> Result<Option<u64>> {
        Ok(None)
    }
}

/// Bytes both ways to a service in a sandbox: a TCP connection made in its network namespace,
/// or a stream the cluster's API carries to a pod's port.
pub trait Duplex: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Duplex for T {}

/// What [`Backend::connect`] gives.
pub type Connection = Box<dyn Duplex>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxInfo {
    pub name: String,
    pub owner: String,
    pub backend: String,
    pub started_at: SystemTime,
    /// The spec it was started with.
    pub spec: SandboxSpec,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecRequest {
    pub argv: Vec<String>,
    pub stdin: Vec<u8>,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// Bytes kept of stdout and of stderr each; a command printing more is stopped.
    pub output_limit: usize,
    /// Whether what the command starts in the background (in its own session, its output
    /// elsewhere) keeps running after it: a tier's daemons. By default it is ended with the
    /// command, as a check's leftovers must be.
    pub leave_running: bool,
}

impl ExecRequest {
    /// `bash -c script` with the defaults checks use.
    pub fn script(script: &str) -> Self {
        Self {
            argv: vec!["/bin/bash".into(), "-c".into(), script.into()],
            stdin: Vec::new(),
            env: Vec::new(),
            timeout: Duration::from_secs(10),
            output_limit: 64 * 1024,
            leave_running: false,
        }
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// See [`ExecRequest::leave_running`].
    pub fn leave_running(mut self) -> Self {
        self.leave_running = true;
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecEnd {
    /// The command exited with this code.
    Exited(i32),
    /// The command was killed by this signal (not by us).
    Signaled(i32),
    /// The time limit passed; everything the command started was killed.
    TimedOut,
    /// It printed more than the output limit; everything it started was killed.
    OutputLimit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutput {
    pub end: ExecEnd,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub took: Duration,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.end == ExecEnd::Exited(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellRequest {
    pub size: PtySize,
    /// Defaults to a login bash.
    pub argv: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
}

impl Default for ShellRequest {
    fn default() -> Self {
        Self { size: PtySize { cols: 80, rows: 24 }, argv: None, env: Vec::new() }
    }
}

/// A shell on a terminal. Reading gives what the terminal shows; writing types into it.
pub struct Shell {
    pub output: Pin<Box<dyn AsyncRead + Send + Sync>>,
    pub input: Pin<Box<dyn AsyncWrite + Send + Sync>>,
    pub control: Box<dyn ShellControl>,
}

#[async_trait]
pub trait ShellControl: Send + Sync {
    fn resize(&self, size: PtySize) -> std::io::Result<()>;
    /// Waits for the shell to end; its exit code (128 + signal when killed). May be called
    /// while other calls are made.
    async fn wait(&self) -> i32;
    /// Ends the shell (and what runs in its terminal).
    fn kill(&self);
    /// Whether what is typed now is hidden: the terminal is in line mode with echo off, as for
    /// a password (a shell's line editor turns echo off too, but also line mode, and echoes
    /// itself). `None` when the backend cannot tell.
    fn input_hidden(&self) -> Option<bool> {
        None
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    pub pids: u64,
    pub cpu_usage: Duration,
    pub disk_used_bytes: u64,
    pub disk_total_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// As the learner sees it inside the sandbox.
    pub pid: i32,
    pub command: String,
}

/// The processes in `ps -eo pid=,args=` output, less `ps` itself and the lines of `hidden`
/// (the backend's own wrapper): for backends that list processes by running `ps` inside.
pub(crate) fn processes_from_ps(out: &ExecOutput, hidden: &str) -> Vec<Process> {
    out.stdout_text()
        .lines()
        .filter_map(|l| {
            let (pid, command) = l.trim().split_once(' ')?;
            Some(Process { pid: pid.parse().ok()?, command: command.trim().to_string() })
        })
        .filter(|p| !p.command.starts_with("ps -eo") && (hidden.is_empty() || !p.command.contains(hidden)))
        .collect()
}

/// The outcome of `kill -SIGNAL PID` run inside a sandbox.
pub(crate) fn kill_outcome(pid: i32, out: &ExecOutput) -> Result<()> {
    if out.success() { Ok(()) } else { Err(Error::Backend(format!("kill {pid}: {}", String::from_utf8_lossy(&out.stderr).trim()))) }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no sandbox named {0:?}")]
    NotFound(String),
    #[error("invalid sandbox name {0:?}: use 1-63 of a-z, 0-9 and '-'")]
    InvalidName(String),
    #[error("the lab image is not usable: {0}")]
    Image(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A step of starting sandbox `name` failed: `step` says which in the log's words, `source`
    /// (where there is one) why.
    #[error("creating sandbox {name}: {step}{}", with_cause(.source))]
    Create {
        name: String,
        step: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("this host cannot run {backend} sandboxes: {reason}")]
    Unsupported { backend: &'static str, reason: String },
    /// A call to the Docker engine failed (the Docker backend).
    #[error("{what}: {source}")]
    Docker {
        what: String,
        #[source]
        source: Box<bollard::errors::Error>,
    },
    /// A call to the cluster's API failed (the Kubernetes backend).
    #[error("{what}: {source}")]
    Kubernetes {
        what: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{0}")]
    Backend(String),
}

/// Why a step failed, whatever the library that said so; kept whole for the log's chain.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

fn with_cause(source: &Option<Cause>) -> String {
    source.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
}

impl Error {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { what: what.into(), source }
    }

    /// Step `step` of creating sandbox `name` failed because of `source`.
    pub fn create(name: &str, step: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Create { name: name.to_string(), step: step.into(), source: Some(source.into()) }
    }

    /// Step `step` of creating sandbox `name` failed, with no error below it to keep.
    pub fn create_failed(name: &str, step: impl Into<String>) -> Self {
        Error::Create { name: name.to_string(), step: step.into(), source: None }
    }

    pub fn docker(what: impl Into<String>, source: bollard::errors::Error) -> Self {
        Error::Docker { what: what.into(), source: Box::new(source) }
    }

    pub fn kubernetes(what: impl Into<String>, source: kube::Error) -> Self {
        Error::Kubernetes { what: what.into(), source: Box::new(source) }
    }

    /// The error and its causes, for the server's log.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            // Some messages say their cause already ("{what}: {source}").
            let cause_text = cause.to_string();
            if !text.ends_with(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        text
    }

    /// What the learner may be told: a plain sentence. The error itself names host paths,
    /// cgroups and commands, which are for the server's log and the instructor, never for a
    /// learner's page (they map the host for whoever means it harm).
    pub fn for_learner(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "Your sandbox is not running. Open your terminal to start it again.",
            Error::Create { .. } => {
                "Your sandbox could not be started. Try again in a moment; if it keeps failing, tell your instructor (the server's log says why)."
            }
            Error::Image(_) | Error::Unsupported { .. } => {
                "This server cannot run sandboxes right now. Tell your instructor: the server's log says why."
            }
            Error::InvalidName(_) | Error::Io { .. } | Error::Docker { .. } | Error::Kubernetes { .. } | Error::Backend(_) => {
                "Something went wrong with your sandbox. Try again in a moment; if it keeps happening, tell your instructor (the server's log says why)."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learner_is_told_what_happened_without_the_hosts_details() {
        let errors = [
            Error::io("mount proc on /var/lib/stacklab/native/run/lab-x/root/proc", std::io::Error::from_raw_os_error(libc::EACCES)),
            Error::create("lab-x", "cgroup", "writing 512 to /sys/fs/cgroup/stacklab/lab-x/pids.max"),
            Error::docker(
                "starting container stacklab-lab-x",
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 500,
                    message: "mount /var/lib/docker/overlay2/abc: EPERM".into(),
                },
            ),
            Error::Image("/var/lib/stacklab/images/lab/rootfs: no such directory".into()),
            Error::Unsupported { backend: "native", reason: "no idmapped mounts on /dev/vda1".into() },
            Error::Backend("nsenter --target 4242: exit 1".into()),
            Error::NotFound("lab-x".into()),
        ];
        for e in errors {
            let said = e.for_learner();
            assert!(!said.contains('/') && !said.contains("lab-x") && !said.contains("4242"), "{said}");
            assert!(said.ends_with('.') || said.ends_with(')'), "a sentence: {said}");
        }
    }

    #[test]
    fn the_log_gets_the_whole_error_once() {
        let e = Error::io("mount proc on /x", std::io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(e.report(), "mount proc on /x: Permission denied (os error 13)");
    }

    #[test]
    fn a_failed_step_keeps_its_cause_for_the_log() {
        let cause = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let e = Error::create("lab-x", "preparing the learner's layer", cause);
        assert_eq!(e.report(), "creating sandbox lab-x: preparing the learner's layer: No space left on device (os error 28)");
        let kept = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<std::io::Error>());
        assert_eq!(kept.and_then(|c| c.raw_os_error()), Some(libc::ENOSPC), "the cause is the io::Error itself");
        assert_eq!(Error::create_failed("lab-x", "no free outbound subnet").report(), "creating sandbox lab-x: no free outbound subnet");
    }
}
