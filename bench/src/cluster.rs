//! The cluster tier's cost: how long one learner's single-node Kubernetes takes to come up
//! (next to a sandbox starting), and how much memory it holds once up with one pod running
//! (next to an idle sandbox) — from which, how many learners' clusters fit on a 24 GiB host.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use sandbox::native::NativeBackend;
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec};

use crate::report::Table;
use crate::stats::ms;

const HOST_MEMORY: u64 = 24 << 30;

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let image = std::env::var_os("STACKLAB_IMAGE").context("STACKLAB_IMAGE is not set (scripts/bench sets it)")?;
    let tiers = server::tiers::detect(Path::new(&image));
    if let Err(why) = tiers.check(&[labs::Tier::Cluster]) {
        table.add("cluster tier", "not measured".into(), &why, "-".into(), f64::NAN);
        return Ok(());
    }
    let data = tempfile::Builder::new().prefix("stacklab-bench-cluster-").tempdir()?;
    let backend = crate::native::open(stacklab, data.path(), "stacklab-bench-cluster", 1_950_000_000, server::cluster::shared_files())?;
    let result = measure(&backend, table).await;
    backend.shutdown_all_blocking();
    result
}

fn spec(name: &str) -> SandboxSpec {
    SandboxSpec {
        name: name.into(),
        owner: name.into(),
        limits: Limits { memory_bytes: 2 << 30, cpu_millis: 2000, pids: 1024, disk_bytes: 512 << 20 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

async fn measure(backend: &NativeBackend, table: &mut Table) -> anyhow::Result<()> {
    // The peer: a sandbox starting and answering, idle.
    let started = Instant::now();
    backend.start(&spec("bench-idle")).await?;
    anyhow::ensure!(backend.exec("bench-idle", ExecRequest::script("true")).await?.success(), "the sandbox did not answer");
    let sandbox_start = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = backend.stats("bench-idle").await?.memory_bytes;

    backend.start(&spec("bench-cluster")).await?;
    let started = Instant::now();
    server::cluster::start(backend, "bench-cluster").await.map_err(anyhow::Error::msg)?;
    let cluster_start = started.elapsed();
    let pod =
        "kubectl run web --image=localhost/web:1.0 >/dev/null && kubectl wait --for=condition=Ready pod/web --timeout=120s >/dev/null";
    let out = backend.exec("bench-cluster", ExecRequest::script(pod).timeout(Duration::from_secs(150))).await?;
    anyhow::ensure!(out.success(), "the pod did not run: {}", String::from_utf8_lossy(&out.stderr));
    // Settled: the control plane's caches filled, the first garbage collections done.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let cluster = backend.stats("bench-cluster").await?.memory_bytes;

    table.add(
        "one learner's cluster: start to node Ready (lab-cluster start)",
        ms(cluster_start),
        "sandbox start to a command answered",
        ms(sandbox_start),
        cluster_start.as_secs_f64() / sandbox_start.as_secs_f64(),
    );
    let mib = |b: u64| format!("{:.0} MiB", b as f64 / (1 << 20) as f64);
    table.add(
        "memory of one learner's cluster, one pod running (its cgroup)",
        mib(cluster),
        "idle sandbox (its cgroup)",
        mib(idle),
        cluster as f64 / idle.max(1) as f64,
    );
    // Sandboxes held to the server's default memory limit (--sandbox-memory 1G) are the peer.
    let limit: u64 = 1 << 30;
    table.add(
        "learners' clusters that fit in 24 GiB (memory alone)",
        format!("{}", HOST_MEMORY / cluster.max(1)),
        "sandboxes using all of the default 1 GiB limit",
        format!("{}", HOST_MEMORY / limit),
        (HOST_MEMORY / cluster.max(1)) as f64 / (HOST_MEMORY / limit) as f64,
    );
    Ok(())
}
