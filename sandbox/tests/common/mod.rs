//! Shared set-up for the sandbox integration tests. They create real namespaces, cgroups and
//! mounts, so they need root and a built lab image (`STACKLAB_IMAGE`); scripts/test provides both
//! and sets `STACKLAB_REQUIRE_SANDBOX=1`, which turns a missing prerequisite into a failure
//! instead of a skip.
//!
//! Tests written against [`Harness::any`] (the escape suite) run on the backend
//! `STACKLAB_TEST_BACKEND` names: `native` (the default) or `docker`, on the engine at
//! `STACKLAB_DOCKER_TEST_SOCKET` with the lab image `STACKLAB_DOCKER_IMAGE` (scripts/test starts
//! that dockerd and runs the suite a second time with it).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sandbox::native::{NativeBackend, NativeConfig};
use sandbox::{Backend, ExecOutput, ExecRequest, Limits, SandboxSpec};
use tokio::io::AsyncReadExt;

pub struct Harness {
    pub backend: Arc<NativeBackend>,
    pub data: tempfile::TempDir,
    pub config: NativeConfig,
    /// The backend under test: the native one, or Docker (see the module's comment).
    pub any: Arc<dyn Backend>,
    docker: Option<Arc<sandbox::docker::DockerBackend>>,
}

/// Which backend `Harness::any` is.
pub fn testing_docker() -> bool {
    std::env::var("STACKLAB_TEST_BACKEND").is_ok_and(|b| b == "docker")
}

/// The Docker backend for test `test`, its containers and volumes named after it.
fn docker_backend(test: &str, n: u64) -> Arc<sandbox::docker::DockerBackend> {
    let socket = std::env::var("STACKLAB_DOCKER_TEST_SOCKET").unwrap_or_else(|_| panic!("{test}: STACKLAB_DOCKER_TEST_SOCKET is not set"));
    let image = std::env::var("STACKLAB_DOCKER_IMAGE").unwrap_or_else(|_| panic!("{test}: STACKLAB_DOCKER_IMAGE is not set"));
    let config = sandbox::docker::DockerConfig { socket: Some(socket), image, prefix: format!("stacklab-test-{n}"), runtime: None };
    // Opening is async; the harness is made before the test's first await.
    let backend = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(sandbox::docker::DockerBackend::open(config))
    })
    .join()
    .unwrap()
    .unwrap_or_else(|e| panic!("{test}: {e}"));
    Arc::new(backend)
}

/// `None` (the test returns early, saying why) when this machine cannot run sandboxes and the
/// run does not require them.
pub fn harness(test: &str) -> Option<Harness> {
    harness_with(test, None)
}

/// On an emulated host, the scale as the server shares it (/etc/stacklab/time-scale), for the
/// tools in the sandbox (lab-vm, lab-cluster).
fn time_scale_file(data: &std::path::Path) -> Vec<sandbox::native::SharedFile> {
    if time_scale() == 1 {
        return Vec::new();
    }
    let source = data.join("time-scale");
    std::fs::write(&source, format!("{}\n", time_scale())).expect("writing the time scale");
    vec![sandbox::native::SharedFile { source, target: "etc/stacklab/time-scale".into() }]
}

/// A harness whose sandboxes may have outbound networking in `outbound` (a CIDR).
pub fn harness_with(test: &str, outbound: Option<&str>) -> Option<Harness> {
    let data = tempfile::Builder::new().prefix("stacklab-test-").tempdir().expect("temp dir");
    harness_in(test, outbound, data)
}

/// A harness whose processes' starts have `limits` (tests of those limits: waiting out the
/// server's own, scaled six times on an emulated host, would take minutes).
pub fn harness_limited(test: &str, limits: sandbox::native::StartLimits) -> Option<Harness> {
    let data = tempfile::Builder::new().prefix("stacklab-test-").tempdir().expect("temp dir");
    harness_configured(test, data, |config| config.start_limits = limits)
}

/// A harness with its data directory at `data` (removed with the harness).
pub fn harness_in(test: &str, outbound: Option<&str>, data: tempfile::TempDir) -> Option<Harness> {
    harness_configured(test, data, |config| config.outbound = outbound.map(str::to_string))
}

/// A harness with its data directory at `data`, its backend's configuration changed by `adjust`.
fn harness_configured(test: &str, data: tempfile::TempDir, adjust: impl FnOnce(&mut NativeConfig)) -> Option<Harness> {
    // Warnings go with the test's output (shown when it fails): a stalled start logs where the
    // process waits, which is all there is to go on when it happens on an emulated host.
    let _ = tracing_subscriber::fmt().with_max_level(tracing::Level::WARN).with_test_writer().try_init();
    let required = std::env::var("STACKLAB_REQUIRE_SANDBOX").is_ok_and(|v| v == "1");
    let skip = |why: &str| {
        assert!(!required, "{test}: {why}");
        eprintln!("skipped {test}: {why} (scripts/test runs it)");
        None
    };
    if !nix::unistd::Uid::effective().is_root() {
        return skip("needs root");
    }
    let Some(image) = std::env::var_os("STACKLAB_IMAGE").map(PathBuf::from) else {
        return skip("STACKLAB_IMAGE is not set");
    };
    // Every test its own uid ranges and cgroup root, so tests running side by side never
    // touch each other's sandboxes (and never a real server's).
    let n = sandbox::hash::fnv(test) % 4000;
    let mut config = NativeConfig {
        data_dir: data.path().to_path_buf(),
        image,
        // The test's name as an argument the helper ignores: `ps` tells whose helper and
        // spawner each is (and a test can find its own).
        helper: vec![env!("CARGO_BIN_EXE_stacklab-sandbox-helper").into(), format!("for-{test}").into()],
        uid_base: 1_500_000_000 + (n as u32) * 16 * sandbox::native::IDS_PER_SLOT / 16 * 4,
        cgroup_root: format!("stacklab-test-{}-{n}", std::process::id()),
        cgroup_parent: String::new(),
        outbound: None,
        shared_files: time_scale_file(data.path()),
        start_limits: Default::default(),
    };
    adjust(&mut config);
    let backend = Arc::new(NativeBackend::open(config.clone()).unwrap_or_else(|e| panic!("{test}: {e}")));
    let docker = testing_docker().then(|| docker_backend(test, n));
    let any: Arc<dyn Backend> = match &docker {
        Some(d) => d.clone(),
        None => backend.clone(),
    };
    Some(Harness { backend, data, config, any, docker })
}

/// How many times slower than a real host this one is (`STACKLAB_TIME_SCALE`, set on emulated
/// test hosts only): the tests' time limits grow by it.
pub fn time_scale() -> u32 {
    sandbox::time_scale::time_scale()
}

/// `limit` scaled for this host.
pub fn scaled(limit: Duration) -> Duration {
    limit * time_scale()
}

impl Harness {
    pub fn spec(&self, name: &str, owner: &str) -> SandboxSpec {
        SandboxSpec {
            name: name.into(),
            owner: owner.into(),
            limits: Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 256, disk_bytes: 256 << 20 },
            devices: Vec::new(),
            network: Default::default(),
            init: sandbox::Init::Minimal,
        }
    }

    pub async fn start(&self, name: &str) -> SandboxSpec {
        let spec = self.spec(name, &format!("{name}-owner"));
        self.any.start(&spec).await.unwrap_or_else(|e| panic!("starting {name}: {e}"));
        spec
    }

    /// Runs `script` in bash inside sandbox `name`.
    pub async fn sh(&self, name: &str, script: &str) -> ExecOutput {
        self.any
            .exec(name, ExecRequest::script(script).timeout(scaled(Duration::from_secs(30))))
            .await
            .unwrap_or_else(|e| panic!("exec in {name}: {e}"))
    }

    /// Runs `script` and asserts it exits 0; returns its stdout.
    pub async fn ok(&self, name: &str, script: &str) -> String {
        let out = self.sh(name, script).await;
        assert!(
            out.success(),
            "script failed ({:?}):\n{script}\nstdout:\n{}\nstderr:\n{}",
            out.end,
            out.stdout_text(),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout_text()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Also on a failed assertion: no test may leave processes, cgroups or containers behind.
        self.backend.shutdown_all_blocking();
        if let Some(docker) = self.docker.clone() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(docker.remove_all())
            })
            .join();
        }
    }
}

/// Whether `marker` shows within `wait`.
pub async fn read_for(shell: &mut sandbox::Shell, marker: &str, wait: std::time::Duration) -> bool {
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while !text.contains(marker) {
        match tokio::time::timeout_at(deadline, shell.output.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            _ => return false,
        }
    }
    true
}

/// Reads the terminal until `marker` shows (10 s at most); what was read.
pub async fn read_until(shell: &mut sandbox::Shell, marker: &str) -> String {
    read_until_within(shell, marker, Duration::from_secs(10)).await
}

/// Reads the terminal until `marker` shows, panicking after `wait`; what was read.
pub async fn read_until_within(shell: &mut sandbox::Shell, marker: &str, wait: Duration) -> String {
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + scaled(wait);
    while !text.contains(marker) {
        let n = tokio::time::timeout_at(deadline, shell.output.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {marker:?} in: {text}"))
            .unwrap();
        assert!(n > 0, "terminal closed before {marker:?}: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text
}

/// This test process's children, of every thread: each one's pid and `/proc/PID/stat`.
pub fn own_children() -> Vec<(i32, String)> {
    let mut children = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        for child in std::fs::read_to_string(task.path().join("children")).unwrap_or_default().split_whitespace() {
            let Ok(pid) = child.parse() else { continue };
            children.push((pid, std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default()));
        }
    }
    children
}

/// Whether a `/proc/PID/stat` is a zombie's.
pub fn is_zombie(stat: &str) -> bool {
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) == Some("Z")
}

/// The pids of this process's children, zombies aside, whose command line has `part` in it.
pub fn own_children_running(part: &[u8]) -> Vec<i32> {
    own_children()
        .into_iter()
        .filter(|(pid, stat)| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            !is_zombie(stat) && cmdline.windows(part.len()).any(|w| w == part)
        })
        .map(|(pid, _)| pid)
        .collect()
}
