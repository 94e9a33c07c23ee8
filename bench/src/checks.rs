//! Check latency: a trivial check (the real runner: helpers, command log on stdin) started in a
//! sandbox and its result back, next to `docker exec` of the same script in the same run; then
//! 30 learners' checks at once, with the CPU it costs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use labs::load::{Script, Step};
use sandbox::native::NativeBackend;
use sandbox::{Backend, Limits, SandboxSpec};
use server::checks::runner;

use crate::report::Table;
use crate::stats::{Samples, ms};

const RUNS: usize = 100;
const LEARNERS: usize = 30;
const LOAD_FOR: Duration = Duration::from_secs(10);
const SCRIPT: &str = "test -d /root && pass 'ok'";

fn step() -> Step {
    Step::checked_by(Script { source: SCRIPT.into(), file: PathBuf::from("bench"), line: 1 }, 10)
}

fn spec(i: usize) -> SandboxSpec {
    SandboxSpec {
        name: format!("chk-{i}"),
        owner: format!("chk-{i}"),
        limits: Limits { memory_bytes: 256 << 20, cpu_millis: 1000, pids: 128, disk_bytes: 0 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let data = tempfile::Builder::new().prefix("stacklab-bench-checks-").tempdir()?;
    let backend = Arc::new(crate::native::open(stacklab, data.path(), "stacklab-bench-checks", 1_200_000_000, Vec::new())?);
    let result = measure(backend.clone(), table).await;
    backend.shutdown_all_blocking();
    result
}

async fn measure(backend: Arc<NativeBackend>, table: &mut Table) -> anyhow::Result<()> {
    let step = step();
    backend.start(&spec(0)).await?;
    let mut native = Vec::new();
    for _ in 0..RUNS {
        let run = runner::run_step(&*backend, "chk-0", &step, &[]).await;
        anyhow::ensure!(run.outcome.passed, "the bench check failed: {}", run.outcome.reason);
        native.push(Duration::from_millis(run.outcome.took_ms as u64));
    }
    let docker = match std::env::var("STACKLAB_DOCKER_IMAGE") {
        Ok(image) => Some(docker_exec_samples(&image).await?),
        Err(_) => None,
    };
    let native = Samples::new(native);
    for p in [50.0, 95.0] {
        let (peer, peer_value, ratio) = match &docker {
            Some(d) => ("docker exec, same script", ms(d.pct(p)), native.pct(p).as_secs_f64() / d.pct(p).as_secs_f64()),
            None => ("no dockerd: peer not measured", "-".into(), f64::NAN),
        };
        table.add(&format!("check latency p{p} ({RUNS} runs)"), ms(native.pct(p)), peer, peer_value, ratio);
    }

    // 30 learners checking as fast as they can, for 10 s.
    for i in 1..LEARNERS {
        backend.start(&spec(i)).await?;
    }
    let before = cpu_time();
    let started = Instant::now();
    let loops = (0..LEARNERS).map(|i| {
        let backend = backend.clone();
        let step = step.clone();
        async move {
            let mut samples = Vec::new();
            while started.elapsed() < LOAD_FOR {
                let run = runner::run_step(&*backend, &format!("chk-{i}"), &step, &[]).await;
                samples.push(Duration::from_millis(run.outcome.took_ms as u64));
            }
            samples
        }
    });
    let all: Vec<Duration> = futures::future::join_all(loops).await.into_iter().flatten().collect();
    let cores = (cpu_time() - before).as_secs_f64() / started.elapsed().as_secs_f64();
    let count = all.len();
    let loaded = Samples::new(all);
    for p in [50.0, 95.0] {
        table.add(
            &format!("check latency p{p}, {LEARNERS} learners checking at once"),
            ms(loaded.pct(p)),
            "one learner alone (above)",
            ms(native.pct(p)),
            loaded.pct(p).as_secs_f64() / native.pct(p).as_secs_f64(),
        );
    }
    table.add(
        &format!("server CPU while {LEARNERS} learners check ({count} checks in {}s)", LOAD_FOR.as_secs()),
        format!("{cores:.2} cores"),
        "-",
        "-".into(),
        f64::NAN,
    );
    Ok(())
}

async fn docker_exec_samples(image: &str) -> anyhow::Result<Samples> {
    let name = "stacklab-bench-exec";
    let _ = tokio::process::Command::new("docker").args(["rm", "-f", name]).output().await;
    let out = tokio::process::Command::new("docker")
        .args(["run", "-d", "--network", "none", "--name", name, image, "sleep", "infinity"])
        .output()
        .await?;
    anyhow::ensure!(out.status.success(), "docker run: {}", String::from_utf8_lossy(&out.stderr));
    let script = format!("pass() {{ echo \"$*\"; exit 0; }}; {SCRIPT}");
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = tokio::process::Command::new("docker").args(["exec", "-i", name, "/bin/bash", "-c", &script]).output().await?;
        anyhow::ensure!(out.status.success(), "docker exec failed");
        samples.push(started.elapsed());
    }
    let _ = tokio::process::Command::new("docker").args(["rm", "-f", name]).output().await;
    Ok(Samples::new(samples))
}

/// CPU time of this process and its waited-for children (nsenter and what runs under it).
fn cpu_time() -> Duration {
    let usage = |who| {
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut r: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage only writes the struct we pass, which lives for the call.
        unsafe { libc::getrusage(who, &mut r) };
        Duration::from_secs(r.ru_utime.tv_sec as u64 + r.ru_stime.tv_sec as u64)
            + Duration::from_micros(r.ru_utime.tv_usec as u64 + r.ru_stime.tv_usec as u64)
    };
    usage(libc::RUSAGE_SELF) + usage(libc::RUSAGE_CHILDREN)
}
