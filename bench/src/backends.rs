//! The Docker and Kubernetes backends next to the native one, in the same run: a learner's
//! sandbox from start to the shell's prompt, and a check (the real runner's trivial case) from
//! request to answer. And the native backend with systemd as the sandbox's init (the systemd
//! tier) next to the minimal init: its start and what it holds at rest.
//!
//! The Kubernetes backend's cluster is the cluster tier's own Kubernetes, started in a native
//! sandbox as its first test does; its pods run the cluster's busybox image (a small node: the
//! lab image needs a 10 GiB one there), so the figure is the cluster's own cost of a pod and an
//! exec, without an image pull on either side.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sandbox::native::NativeBackend;
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec, ShellRequest};
use tokio::io::AsyncReadExt;

use crate::report::Table;
use crate::stats::{Samples, ms};

const PROMPTS: usize = 10;
const CHECKS: usize = 50;
/// The Kubernetes backend's one-node cluster, in a native sandbox.
const NODE: &str = "bench-kube-node";

fn spec() -> SandboxSpec {
    SandboxSpec {
        name: "bench-backend".into(),
        owner: "bench-backend".into(),
        limits: Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 256, disk_bytes: 256 << 20 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

/// Start to the login shell's prompt on a terminal, `runs` times (stopped in between).
pub async fn start_to_prompt(backend: &dyn Backend, spec: &SandboxSpec, shell: &ShellRequest, runs: usize) -> anyhow::Result<Samples> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        backend.start(spec).await?;
        let shell = at_prompt(backend, &spec.name, shell.clone()).await?;
        samples.push(started.elapsed());
        shell.control.kill();
        backend.stop(&spec.name).await?;
    }
    Ok(Samples::new(samples))
}

/// A terminal opened in running sandbox `name`, read until its prompt.
pub async fn at_prompt(backend: &dyn Backend, name: &str, request: ShellRequest) -> anyhow::Result<sandbox::Shell> {
    let mut shell = backend.open_shell(name, request).await?;
    until_prompt(&mut shell).await?;
    Ok(shell)
}

/// Reads the terminal until a root prompt ends what it printed.
async fn until_prompt(shell: &mut sandbox::Shell) -> anyhow::Result<()> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    // busybox's sh asks the terminal where its cursor is (ESC [6n) right after the prompt.
    while !(seen.ends_with(b"# ") || seen.ends_with(b"# \x1b[6n")) {
        let n = tokio::time::timeout(Duration::from_secs(10), shell.output.read(&mut buf)).await??;
        anyhow::ensure!(n > 0, "shell closed before its prompt");
        seen.extend_from_slice(&buf[..n]);
    }
    Ok(())
}

/// A trivial check (`bash -c`, or the `shell` given), `runs` times, in a running sandbox.
async fn checks(backend: &dyn Backend, name: &str, shell: Option<&str>, runs: usize) -> anyhow::Result<Samples> {
    let mut request = ExecRequest::script("test -d /root && echo done");
    if let Some(shell) = shell {
        request.argv[0] = shell.into();
    }
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let out = backend.exec(name, request.clone()).await?;
        anyhow::ensure!(out.success(), "the check failed: {out:?}");
        samples.push(started.elapsed());
    }
    Ok(Samples::new(samples))
}

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let data = tempfile::Builder::new().prefix("stacklab-bench-backends-").tempdir()?;
    // With the cluster tier's shared files: the Kubernetes backend's cluster runs in one.
    let native =
        Arc::new(crate::native::open(stacklab, data.path(), "stacklab-bench-backends", 1_850_000_000, server::cluster::shared_files())?);
    let result = async {
        let spec = spec();
        let prompt = start_to_prompt(&*native, &spec, &ShellRequest::default(), PROMPTS).await?;
        native.start(&spec).await?;
        let check = checks(&*native, &spec.name, None, CHECKS).await?;
        native.stop(&spec.name).await?;
        docker(&prompt, &check, table).await?;
        kubernetes(&native, &prompt, &check, table).await
    }
    .await;
    native.shutdown_all_blocking();
    result
}

/// A sandbox with systemd as its init next to one with the minimal init: start to the prompt
/// (systemd listening for `systemctl`), and the memory its cgroup holds once booted.
pub async fn systemd(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let data = tempfile::Builder::new().prefix("stacklab-bench-systemd-").tempdir()?;
    let native = Arc::new(crate::native::open(stacklab, data.path(), "stacklab-bench-systemd", 1_860_000_000, Vec::new())?);
    let result = systemd_rows(&native, table).await;
    native.shutdown_all_blocking();
    result
}

async fn systemd_rows(native: &Arc<NativeBackend>, table: &mut Table) -> anyhow::Result<()> {
    let minimal = spec();
    let systemd = SandboxSpec { init: sandbox::Init::Systemd, ..spec() };
    let minimal_prompt = start_to_prompt(&**native, &minimal, &ShellRequest::default(), PROMPTS).await?;
    let prompt = start_to_prompt(&**native, &systemd, &ShellRequest::default(), PROMPTS).await?;
    table.add(
        &format!("native backend, systemd as init: start → shell prompt, p50 of {PROMPTS}"),
        ms(prompt.p50()),
        "the minimal init (catatonit), same",
        ms(minimal_prompt.p50()),
        prompt.p50().as_secs_f64() / minimal_prompt.p50().as_secs_f64(),
    );
    let mut at_rest = Vec::new();
    for spec in [&systemd, &minimal] {
        native.start(spec).await?;
        if spec.init == sandbox::Init::Systemd {
            let booted = native.exec(&spec.name, ExecRequest::script("timeout 60 systemctl is-system-running --wait")).await?;
            anyhow::ensure!(booted.stdout_text().trim() == "running", "systemd did not boot: {booted:?}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        at_rest.push(native.stats(&spec.name).await?.memory_bytes);
        native.stop(&spec.name).await?;
    }
    let mib = |bytes: u64| format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20));
    table.add(
        "native backend, systemd as init: memory at rest",
        mib(at_rest[0]),
        "the minimal init",
        mib(at_rest[1]),
        at_rest[0] as f64 / at_rest[1].max(1) as f64,
    );
    Ok(())
}

/// The rows of one backend next to the native one's figures.
fn rows(table: &mut Table, backend: &str, (prompt, native_prompt): (&Samples, &Samples), (check, native_check): (&Samples, &Samples)) {
    table.add(
        &format!("{backend} backend: start → shell prompt, p50 of {PROMPTS}"),
        ms(prompt.p50()),
        "native backend, same",
        ms(native_prompt.p50()),
        prompt.p50().as_secs_f64() / native_prompt.p50().as_secs_f64(),
    );
    for p in [50.0, 95.0] {
        table.add(
            &format!("{backend} backend: check latency p{p} ({CHECKS} checks)"),
            ms(check.pct(p)),
            &format!("native backend p{p}"),
            ms(native_check.pct(p)),
            check.pct(p).as_secs_f64() / native_check.pct(p).as_secs_f64(),
        );
    }
}

async fn docker(native_prompt: &Samples, native_check: &Samples, table: &mut Table) -> anyhow::Result<()> {
    let (Ok(socket), Ok(image)) = (std::env::var("STACKLAB_DOCKER_TEST_SOCKET"), std::env::var("STACKLAB_DOCKER_IMAGE")) else {
        table.add("docker backend", "not measured".into(), "no engine (scripts/bench starts one)", "-".into(), f64::NAN);
        return Ok(());
    };
    let config = sandbox::docker::DockerConfig { socket: Some(socket), image, prefix: "stacklab-bench-docker".into(), runtime: None };
    let docker = sandbox::docker::DockerBackend::open(config).await?;
    let result = async {
        let spec = spec();
        let prompt = start_to_prompt(&docker, &spec, &ShellRequest::default(), PROMPTS).await?;
        docker.start(&spec).await?;
        let check = checks(&docker, &spec.name, None, CHECKS).await?;
        rows(table, "docker", (&prompt, native_prompt), (&check, native_check));
        anyhow::Ok(())
    }
    .await;
    docker.remove_all().await?;
    result
}

async fn kubernetes(native: &Arc<NativeBackend>, native_prompt: &Samples, native_check: &Samples, table: &mut Table) -> anyhow::Result<()> {
    let image = std::env::var_os("STACKLAB_IMAGE").unwrap_or_default();
    if let Err(why) = server::tiers::detect(Path::new(&image)).check(&[labs::Tier::Cluster]) {
        table.add("kubernetes backend", "not measured".into(), &why, "-".into(), f64::NAN);
        return Ok(());
    }
    let api = server::cluster::from_host::start_node(native.clone(), NODE).await?;
    let kube = sandbox::kubernetes::KubeBackend::open(api.config("stacklab-bench-kube")).await?;
    let result = async {
        // Sized for the node's 2 cores.
        let spec = SandboxSpec { limits: Limits { cpu_millis: 200, memory_bytes: 64 << 20, ..spec().limits }, ..spec() };
        let sh = ShellRequest { argv: Some(vec!["sh".into()]), ..ShellRequest::default() };
        let prompt = start_to_prompt(&kube, &spec, &sh, PROMPTS).await?;
        kube.start(&spec).await?;
        let check = checks(&kube, &spec.name, Some("/bin/sh"), CHECKS).await?;
        rows(table, "kubernetes", (&prompt, native_prompt), (&check, native_check));
        anyhow::Ok(())
    }
    .await;
    kube.remove_all().await?;
    native.stop(NODE).await?;
    result
}
