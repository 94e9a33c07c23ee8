//! The containers tier's cost, on the Dockerfile lab's own example (its project from the first
//! step's setup, its commands from the layer-cache step's solution): the multi-stage build cold,
//! next to the same build after a source change with the cache; and the disk a learner's own
//! image store takes after it, next to the shared base images every learner reads instead of
//! holding a copy.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use sandbox::native::NativeBackend;
use sandbox::{Backend, Device, ExecRequest, Limits, SandboxSpec};

use crate::report::Table;
use crate::stats::ms;

/// The line of the layer-cache solution that starts its second, cached build.
const CHANGE: &str = "echo '// changed'";

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let image = std::env::var_os("STACKLAB_IMAGE").context("STACKLAB_IMAGE is not set (scripts/bench sets it)")?;
    let tiers = server::tiers::detect(Path::new(&image));
    if let Err(why) = tiers.check(&[labs::Tier::Containers]) {
        table.add("containers tier", "not measured".into(), &why, "-".into(), f64::NAN);
        return Ok(());
    }
    let course = crate::workshop::course()?;
    let lab = crate::workshop::lab(&course, "dockerfile")?;
    let script = |step: &str, setup: bool| -> anyhow::Result<String> {
        let step = lab.steps.iter().find(|s| s.id == step).with_context(|| format!("the dockerfile lab has no step {step}"))?;
        let script = if setup { &step.setup } else { &step.solution };
        Ok(script.as_ref().with_context(|| format!("step {} has no such script", step.id))?.source.clone())
    };
    let project = script("single-stage", true)?;
    let solution = script("layer-cache", false)?;
    let at = solution.find(CHANGE).with_context(|| format!("the layer-cache solution has no `{CHANGE}` line"))?;
    let (cold, cached) = solution.split_at(at);

    let data = tempfile::Builder::new().prefix("stacklab-bench-containers-").tempdir()?;
    let backend = crate::native::open(stacklab, data.path(), "stacklab-bench-containers", 1_960_000_000, Vec::new())?;
    let result = measure(&backend, &image, &project, cold, cached, table).await;
    backend.shutdown_all_blocking();
    result
}

async fn sh(backend: &NativeBackend, script: &str) -> anyhow::Result<String> {
    let out = backend.exec("bench-podman", ExecRequest::script(script).timeout(Duration::from_secs(300))).await?;
    anyhow::ensure!(out.success(), "{script}\nfailed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(out.stdout_text())
}

async fn measure(
    backend: &NativeBackend,
    image: &std::ffi::OsStr,
    project: &str,
    cold: &str,
    cached: &str,
    table: &mut Table,
) -> anyhow::Result<()> {
    let spec = SandboxSpec {
        name: "bench-podman".into(),
        owner: "bench-podman".into(),
        limits: Limits { memory_bytes: 2 << 30, cpu_millis: 2000, pids: 1024, disk_bytes: 0 },
        devices: vec![Device::Fuse],
        network: Default::default(),
        init: sandbox::Init::Minimal,
    };
    backend.start(&spec).await?;
    sh(backend, project).await?;
    let started = Instant::now();
    sh(backend, cold).await?;
    let cold_took = started.elapsed();
    let started = Instant::now();
    sh(backend, &format!("cd /root/myapp\n{cached}")).await?;
    let cached_took = started.elapsed();
    table.add(
        "the Dockerfile lab's multi-stage build, cold (podman in the sandbox)",
        ms(cold_took),
        "the same after a source change, with the cache",
        ms(cached_took),
        cold_took.as_secs_f64() / cached_took.as_secs_f64(),
    );

    let kib = |s: String| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    let own = kib(sh(backend, "du -sk /var/lib/containers/storage").await?);
    let shared = Path::new(image).join("rootfs/usr/lib/containers/storage");
    let shared = kib(String::from_utf8_lossy(&std::process::Command::new("du").arg("-sk").arg(&shared).output()?.stdout).into_owned());
    let mib = |k: u64| format!("{:.0} MiB", k as f64 / 1024.0);
    table.add(
        "one learner's image store after the lab's builds (their disk)",
        mib(own),
        "the shared base images (one copy per host)",
        mib(shared),
        own as f64 / shared.max(1) as f64,
    );
    table.add(
        "30 learners' container disk: shared base + 30 own stores",
        mib(shared + 30 * own),
        "30 private copies of the base images and builds",
        mib(30 * (shared + own)),
        (shared + 30 * own) as f64 / (30 * (shared + own)).max(1) as f64,
    );
    Ok(())
}
