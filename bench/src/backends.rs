//! The Docker backend next to the native one, in the same run: a learner's sandbox from start
//! to the shell's prompt, and a check (the real runner's trivial case) from request to answer.

use std::path::Path;
use std::time::{Duration, Instant};

use sandbox::{Backend, ExecRequest, Limits, SandboxSpec, ShellRequest};
use tokio::io::AsyncReadExt;

use crate::report::Table;
use crate::stats::{Samples, ms};

const PROMPTS: usize = 10;
const CHECKS: usize = 50;

fn spec() -> SandboxSpec {
    SandboxSpec {
        name: "bench-backend".into(),
        owner: "bench-backend".into(),
        limits: Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 256, disk_bytes: 256 << 20 },
        devices: Vec::new(),
        network: Default::default(),
    }
}

/// Start to the login shell's prompt on a terminal, `runs` times (stopped in between).
pub async fn start_to_prompt(backend: &dyn Backend, spec: &SandboxSpec, runs: usize) -> anyhow::Result<Samples> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        backend.start(spec).await?;
        let mut shell = backend.open_shell(&spec.name, ShellRequest::default()).await?;
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.ends_with(b"# ") {
            let n = tokio::time::timeout(Duration::from_secs(10), shell.output.read(&mut buf)).await??;
            anyhow::ensure!(n > 0, "shell closed before its prompt");
            seen.extend_from_slice(&buf[..n]);
        }
        samples.push(started.elapsed());
        shell.control.kill();
        backend.stop(&spec.name).await?;
    }
    Ok(Samples::new(samples))
}

/// A trivial check, `runs` times, in a running sandbox.
async fn checks(backend: &dyn Backend, name: &str, runs: usize) -> anyhow::Result<Samples> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let out = backend.exec(name, ExecRequest::script("test -d /root && echo done")).await?;
        anyhow::ensure!(out.success(), "the check failed: {out:?}");
        samples.push(started.elapsed());
    }
    Ok(Samples::new(samples))
}

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let (Ok(socket), Ok(image)) = (std::env::var("STACKLAB_DOCKER_TEST_SOCKET"), std::env::var("STACKLAB_DOCKER_IMAGE")) else {
        table.add("docker backend", "not measured".into(), "no engine (scripts/bench starts one)", "-".into(), f64::NAN);
        return Ok(());
    };
    let config = sandbox::docker::DockerConfig { socket: Some(socket), image, prefix: "stacklab-bench-docker".into(), runtime: None };
    let docker = sandbox::docker::DockerBackend::open(config).await?;
    let data = tempfile::Builder::new().prefix("stacklab-bench-backends-").tempdir()?;
    let native = crate::native::open(stacklab, data.path(), "stacklab-bench-backends", 1_850_000_000, Vec::new())?;
    let result = async {
        let spec = spec();
        let (n, d) = (start_to_prompt(&native, &spec, PROMPTS).await?, start_to_prompt(&docker, &spec, PROMPTS).await?);
        table.add(
            &format!("docker backend: start → shell prompt, p50 of {PROMPTS}"),
            ms(d.p50()),
            "native backend, same",
            ms(n.p50()),
            d.p50().as_secs_f64() / n.p50().as_secs_f64(),
        );
        native.start(&spec).await?;
        docker.start(&spec).await?;
        let (n, d) = (checks(&native, &spec.name, CHECKS).await?, checks(&docker, &spec.name, CHECKS).await?);
        for p in [50.0, 95.0] {
            table.add(
                &format!("docker backend: check latency p{p} ({CHECKS} checks)"),
                ms(d.pct(p)),
                &format!("native backend p{p}"),
                ms(n.pct(p)),
                d.pct(p).as_secs_f64() / n.pct(p).as_secs_f64(),
            );
        }
        anyhow::Ok(())
    }
    .await;
    native.shutdown_all_blocking();
    docker.remove_all().await?;
    result
}
