//! Check latency: a trivial check run in a sandbox by its kept agent (what the server does) and
//! its result back, next to the same check as a command of its own (entering the sandbox and a fresh bash)
//! and `docker exec` of the same script in the same run; then 30 learners' checks at once, each
//! way, with the CPU a check costs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use labs::load::{Script, Step};
use sandbox::native::NativeBackend;
use sandbox::{Backend, CheckRequest, Limits, SandboxSpec};
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

/// Which way a check runs: the sandbox's kept agent (what the server does), or a command of its
/// own per check (entering the sandbox and a fresh bash: every backend's way, and the native one's before).
#[derive(Clone, Copy)]
enum Way {
    Agent,
    OneOff,
}

async fn run_check(backend: &NativeBackend, name: &str, way: Way) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let request = CheckRequest { script: SCRIPT.into(), commands: Vec::new(), timeout: Duration::from_secs(10) };
    let output = match way {
        Way::Agent => backend.check(name, request).await?,
        Way::OneOff => backend.exec(name, request.as_exec()).await?,
    };
    anyhow::ensure!(output.success(), "the bench check failed: {output:?}");
    Ok(started.elapsed())
}

async fn measure(backend: Arc<NativeBackend>, table: &mut Table) -> anyhow::Result<()> {
    let step = step();
    backend.start(&spec(0)).await?;
    // The server's own path once (the runner, the step's outcome), then each way alone.
    let run = runner::run_step(&*backend, "chk-0", &step, &[]).await;
    anyhow::ensure!(run.outcome.passed, "the bench check failed: {}", run.outcome.reason);
    let mut alone = Vec::new();
    for way in [Way::Agent, Way::OneOff] {
        let mut samples = Vec::new();
        for _ in 0..RUNS {
            samples.push(run_check(&backend, "chk-0", way).await?);
        }
        alone.push(Samples::new(samples));
    }
    let docker = match std::env::var("STACKLAB_DOCKER_IMAGE") {
        Ok(image) => Some(docker_exec_samples(&image).await?),
        Err(_) => None,
    };
    let (agent, one_off) = (&alone[0], &alone[1]);
    for p in [50.0, 95.0] {
        let what = format!("check latency p{p} ({RUNS} runs)");
        table.add(&what, ms(agent.pct(p)), "each check its own process + bash", ms(one_off.pct(p)), ratio(agent.pct(p), one_off.pct(p)));
        match &docker {
            Some(d) => table.add(&what, ms(agent.pct(p)), "docker exec, same script", ms(d.pct(p)), ratio(agent.pct(p), d.pct(p))),
            None => table.add(&what, ms(agent.pct(p)), "no dockerd: docker exec not measured", "-".into(), f64::NAN),
        }
    }

    lab_check(&backend, table).await?;

    // 30 learners checking as fast as they can, for 10 s, each way.
    for i in 1..LEARNERS {
        backend.start(&spec(i)).await?;
    }
    let mut loads = Vec::new();
    for way in [Way::Agent, Way::OneOff] {
        loads.push(load(&backend, way).await?);
    }
    let ((agent, count, cores), (one_off, one_off_count, one_off_cores)) = (&loads[0], &loads[1]);
    for p in [50.0, 95.0, 99.0] {
        table.add(
            &format!("check latency p{p}, {LEARNERS} learners checking at once"),
            ms(agent.pct(p)),
            "each check its own process + bash",
            ms(one_off.pct(p)),
            ratio(agent.pct(p), one_off.pct(p)),
        );
    }
    table.add(
        &format!("checks done in {} s by {LEARNERS} learners checking at once", LOAD_FOR.as_secs()),
        count.to_string(),
        "each check its own process + bash",
        one_off_count.to_string(),
        *count as f64 / *one_off_count as f64,
    );
    table.add(
        &format!("CPU per check, {LEARNERS} learners checking at once (the whole machine's busy time)"),
        format!("{:.2} ms", cores * LOAD_FOR.as_secs_f64() * 1000.0 / *count as f64),
        "each check its own process + bash",
        format!("{:.2} ms", one_off_cores * LOAD_FOR.as_secs_f64() * 1000.0 / *one_off_count as f64),
        (cores / *count as f64) / (one_off_cores / *one_off_count as f64),
    );
    Ok(())
}

/// The netns-veth lab's veth check as it was first written: `ip netns exec` (two processes and a
/// fresh mount of /sys) and a grep for every condition.
const VETH_CHECK_BEFORE: &str = r#"ip addr show veth-host 2>/dev/null | grep -q 'inet 10.0.0.1/24' || fail "veth-host needs the address 10.0.0.1/24"
ip link show veth-host | grep -q ',UP' || fail "Bring veth-host up"
ip netns exec demo-ns ip addr show veth-ns 2>/dev/null | grep -q 'inet 10.0.0.2/24' || fail "veth-ns (inside demo-ns) needs 10.0.0.2/24"
ip netns exec demo-ns ip link show veth-ns | grep -q ',UP' || fail "Bring veth-ns up inside demo-ns"
pass "Both ends are addressed and up"
"#;

/// A real lab's check, passing, by the agent: the workshop's veth check next to the same check
/// as it was first written, in the same sandbox, with the CPU each costs.
async fn lab_check(backend: &NativeBackend, table: &mut Table) -> anyhow::Result<()> {
    let course = crate::workshop::course()?;
    let lab = crate::workshop::lab(&course, "netns-veth")?;
    let script = |id: &str, solution: bool| -> anyhow::Result<String> {
        let step = lab.steps.iter().find(|s| s.id == id).with_context(|| format!("the netns-veth lab has no step {id}"))?;
        let script = if solution { step.solution.as_ref() } else { step.checks.first() };
        Ok(script.with_context(|| format!("step {id} has no such script"))?.source.clone())
    };
    for id in ["netns", "veth"] {
        let request = CheckRequest { script: script(id, true)?, commands: Vec::new(), timeout: Duration::from_secs(10) };
        let output = backend.exec("chk-0", request.as_exec()).await?;
        anyhow::ensure!(output.success(), "the netns-veth solution of {id} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let mut ways = Vec::new();
    for source in [script("veth", false)?, VETH_CHECK_BEFORE.to_string()] {
        let cpu = crate::stats::MachineCpu::now();
        let started = Instant::now();
        let mut samples = Vec::new();
        for _ in 0..RUNS {
            let began = Instant::now();
            let request = CheckRequest { script: source.clone(), commands: Vec::new(), timeout: Duration::from_secs(10) };
            let output = backend.check("chk-0", request).await?;
            anyhow::ensure!(output.success(), "the veth check failed: {output:?}");
            samples.push(began.elapsed());
        }
        let cpu_ms = cpu.cores_since() * started.elapsed().as_secs_f64() * 1000.0 / RUNS as f64;
        ways.push((Samples::new(samples), cpu_ms));
    }
    let ((now, now_cpu), (before, before_cpu)) = (&ways[0], &ways[1]);
    let peer = "the same check as first written (`ip netns exec`, a grep a condition)";
    for p in [50.0, 95.0] {
        let what = format!("the netns-veth lab's veth check p{p} ({RUNS} runs, passing, the agent)");
        table.add(&what, ms(now.pct(p)), peer, ms(before.pct(p)), ratio(now.pct(p), before.pct(p)));
    }
    table.add(
        "CPU per veth check (the whole machine's busy time over the runs)",
        format!("{now_cpu:.2} ms"),
        peer,
        format!("{before_cpu:.2} ms"),
        now_cpu / before_cpu,
    );
    Ok(())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Every learner checking back to back for `LOAD_FOR`: the latencies, how many checks, and the
/// cores the whole machine was busy meanwhile.
async fn load(backend: &Arc<NativeBackend>, way: Way) -> anyhow::Result<(Samples, usize, f64)> {
    let before = crate::stats::MachineCpu::now();
    let started = Instant::now();
    let loops = (0..LEARNERS).map(|i| {
        let backend = backend.clone();
        async move {
            let mut samples = Vec::new();
            while started.elapsed() < LOAD_FOR {
                samples.push(run_check(&backend, &format!("chk-{i}"), way).await?);
            }
            anyhow::Ok(samples)
        }
    });
    let all: Vec<Duration> = futures::future::try_join_all(loops).await?.into_iter().flatten().collect();
    let cores = before.cores_since();
    let count = all.len();
    Ok((Samples::new(all), count, cores))
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
