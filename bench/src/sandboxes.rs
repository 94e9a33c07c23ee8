//! Native sandboxes against `docker run` of the same image on the same machine: start to first
//! command answered (and stopped again), start to a shell prompt, 30 at once, memory per idle
//! sandbox. The Docker peer needs a dockerd (scripts/bench starts one) and the image imported
//! as `STACKLAB_DOCKER_IMAGE`; without them those rows say why they are missing.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use sandbox::native::NativeBackend;
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec};

use crate::report::Table;
use crate::stats::{Samples, ms};

const RUNS: usize = 50;
const AT_ONCE: usize = 30;

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let data = tempfile::Builder::new().prefix("stacklab-bench-").tempdir()?;
    let backend = crate::native::open(stacklab, data.path(), "stacklab-bench", 1_800_000_000, Vec::new())?;
    let docker = std::env::var("STACKLAB_DOCKER_IMAGE").ok();
    let result = measure(&backend, docker.as_deref(), table).await;
    backend.shutdown_all_blocking();
    result
}

fn spec(i: usize) -> SandboxSpec {
    SandboxSpec {
        name: format!("bench-{i}"),
        owner: format!("bench-{i}"),
        limits: Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 256, disk_bytes: 256 << 20 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

async fn measure(backend: &NativeBackend, docker: Option<&str>, table: &mut Table) -> anyhow::Result<()> {
    // Each learner's layer is made once (mkfs); measure sandboxes, not first-time set-up.
    for i in 0..AT_ONCE {
        backend.start(&spec(i)).await?;
        backend.stop(&spec(i).name).await?;
    }

    // 1. start -> `echo ready` answered -> stopped, next to `docker run --rm ... echo ready`.
    let mut native = Vec::new();
    let mut peer = Vec::new();
    let mut starts = Vec::new();
    let mut phases: Vec<Vec<sandbox::native::Phase>> = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let s = spec(0);
        backend.start(&s).await?;
        starts.push(started.elapsed());
        phases.push(backend.last_start_phases());
        let out = backend.exec(&s.name, ExecRequest::script("echo ready")).await?;
        anyhow::ensure!(out.stdout_text() == "ready\n", "unexpected output {:?}", out.stdout_text());
        backend.stop(&s.name).await?;
        native.push(started.elapsed());
        if let Some(image) = docker {
            let started = Instant::now();
            docker_run(image, &["bash", "-c", "echo ready"]).await?;
            peer.push(started.elapsed());
        }
    }
    let (native, peer) = (Samples::new(native), Samples::new(peer));
    for p in [50.0, 95.0] {
        row(
            table,
            &format!("sandbox start → command answered → stopped, p{p} ({RUNS} runs)"),
            native.pct(p),
            docker.map(|_| peer.pct(p)),
            "docker run --rm (same image)",
        );
    }

    start_phases(table, Samples::new(starts), &phases).await?;

    // 2. start -> login shell prompt on a terminal (the learner's first view).
    let prompt = crate::backends::start_to_prompt(backend, &spec(1), &sandbox::ShellRequest::default(), RUNS).await?;
    let peer_prompt = if let Some(image) = docker {
        let mut v = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            docker_run(image, &["bash", "-lic", "true"]).await?;
            v.push(started.elapsed());
        }
        Some(Samples::new(v).p50())
    } else {
        None
    };
    row(
        table,
        &format!("sandbox start → shell prompt on a terminal, p50 ({RUNS} runs)"),
        prompt.p50(),
        peer_prompt,
        "docker run --rm bash -li (p50 of 10)",
    );
    row(table, &format!("sandbox start → shell prompt on a terminal, p95 ({RUNS} runs)"), prompt.pct(95.0), None, "-");

    // 3. 30 at once: until every one has answered; then memory per idle sandbox, as charged
    // to each one's memory cgroup (page cache included), after a moment of rest.
    let started = Instant::now();
    let starts = (0..AT_ONCE).map(|i| async move {
        let s = spec(i);
        backend.start(&s).await?;
        backend.exec(&s.name, ExecRequest::script("true")).await?;
        anyhow::Ok(())
    });
    for r in futures::future::join_all(starts).await {
        r?;
    }
    let all_native = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut native_mem = 0;
    for i in 0..AT_ONCE {
        native_mem += backend.stats(&spec(i).name).await?.memory_bytes;
    }
    let native_mem = native_mem / AT_ONCE as u64;
    for i in 0..AT_ONCE {
        backend.stop(&spec(i).name).await?;
    }
    let (all_docker, docker_mem) = match docker {
        Some(image) => {
            let started = Instant::now();
            let runs = (0..AT_ONCE).map(|i| async move {
                docker_cli(&["run", "-d", "--network", "none", "--name", &format!("stacklab-bench-{i}"), image, "sleep", "infinity"])
                    .await?;
                docker_cli(&["exec", &format!("stacklab-bench-{i}"), "true"]).await
            });
            let results = futures::future::join_all(runs).await;
            let took = started.elapsed();
            tokio::time::sleep(Duration::from_secs(2)).await;
            let mut mem = 0;
            for i in 0..AT_ONCE {
                mem += docker_memory(&format!("stacklab-bench-{i}")).await.unwrap_or(0);
            }
            for i in 0..AT_ONCE {
                let _ = docker_cli(&["rm", "-f", &format!("stacklab-bench-{i}")]).await;
            }
            for r in results {
                r?;
            }
            (Some(took), Some(mem / AT_ONCE as u64))
        }
        None => (None, None),
    };
    row(table, &format!("{AT_ONCE} sandboxes started at once, until all answer"), all_native, all_docker, "30 × docker run -d + exec");
    let peer_mem = docker_mem.map(mib).unwrap_or_else(|| "-".into());
    let ratio = docker_mem.map(|d| native_mem as f64 / d as f64).unwrap_or(f64::NAN);
    table.add("memory per idle sandbox (its cgroup)", mib(native_mem), "idle docker container (its cgroup)", peer_mem, ratio);
    Ok(())
}

/// Memory charged to a container's cgroup (v1 or v2, cgroupfs driver).
async fn docker_memory(name: &str) -> anyhow::Result<u64> {
    let out = tokio::process::Command::new("docker").args(["inspect", "-f", "{{.Id}}", name]).output().await?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    for path in [
        format!("/sys/fs/cgroup/memory/docker/{id}/memory.usage_in_bytes"),
        format!("/sys/fs/cgroup/docker/{id}/memory.current"),
        format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.current"),
    ] {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(text.trim().parse()?);
        }
    }
    anyhow::bail!("no memory cgroup found for container {name}")
}

/// Where a start's time goes: the whole `start` next to the floor (the same namespaces made by
/// `unshare` around a process exec'd in them, no filesystem), then each phase's p50 next to the
/// whole start's, as its share.
async fn start_phases(table: &mut Table, starts: Samples, phases: &[Vec<sandbox::native::Phase>]) -> anyhow::Result<()> {
    let mut floor = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = tokio::process::Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "--uts", "--ipc", "--net", "--cgroup", "--pid", "--fork", "/bin/true"])
            .stdin(Stdio::null())
            .output()
            .await
            .context("running unshare")?;
        anyhow::ensure!(out.status.success(), "unshare: {}", String::from_utf8_lossy(&out.stderr).trim());
        floor.push(started.elapsed());
    }
    let whole = starts.p50();
    row(
        table,
        &format!("sandbox start (the backend's start), p50 ({RUNS} runs)"),
        whole,
        Some(Samples::new(floor).p50()),
        "bare unshare of the same namespaces + exec, p50",
    );
    let Some(first) = phases.first() else { return Ok(()) };
    for (i, phase) in first.iter().enumerate() {
        let samples: Vec<Duration> =
            phases.iter().filter_map(|run| run.get(i).filter(|p| p.step == phase.step)).map(|p| Duration::from_micros(p.micros)).collect();
        let p50 = Samples::new(samples).p50();
        table.add(
            &format!("  start phase: {}, p50", phase.step),
            ms(p50),
            "the whole start, p50",
            ms(whole),
            p50.as_secs_f64() / whole.as_secs_f64(),
        );
    }
    Ok(())
}

fn row(table: &mut Table, what: &str, value: Duration, peer: Option<Duration>, peer_name: &str) {
    match peer {
        Some(p) => table.add(what, ms(value), peer_name, ms(p), value.as_secs_f64() / p.as_secs_f64()),
        None => table.add(what, ms(value), if peer_name == "-" { "-" } else { "no dockerd: peer not measured" }, "-".into(), f64::NAN),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

async fn docker_run(image: &str, cmd: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["run", "--rm", "--network", "none", image];
    args.extend_from_slice(cmd);
    docker_cli(&args).await
}

async fn docker_cli(args: &[&str]) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("docker").args(args).stdin(Stdio::null()).output().await.context("running docker")?;
    anyhow::ensure!(out.status.success(), "docker {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    Ok(())
}
