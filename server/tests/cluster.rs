//! The cluster tier in real, unprivileged sandboxes: two learners' clusters side by side see
//! only their own node, pods and containers; a sandbox that stops and starts again gets its
//! cluster back; and stopping a sandbox leaves nothing of its cluster on the host — no process,
//! mount, cgroup, network link or runtime state.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use sandbox::{Backend, ExecRequest, Limits, SandboxSpec};

fn spec(name: &str) -> SandboxSpec {
    SandboxSpec {
        name: name.into(),
        owner: format!("{name}-owner"),
        limits: Limits { memory_bytes: 1 << 30, cpu_millis: 2000, pids: 512, disk_bytes: 256 << 20 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

async fn sh(backend: &dyn Backend, name: &str, script: &str) -> String {
    let out = backend.exec(name, ExecRequest::script(script).timeout(Duration::from_secs(150))).await.unwrap();
    assert!(out.success(), "{name}: {script}\n{}\n{}", out.stdout_text(), String::from_utf8_lossy(&out.stderr));
    out.stdout_text()
}

/// Host processes whose cgroup path contains `root`.
fn host_links() -> BTreeSet<String> {
    let out = std::process::Command::new("ip").args(["-o", "link", "show"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

/// Cgroup directories of `root` in every v1 hierarchy (or the v2 tree).
fn cgroup_dirs(root: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = entry.path().join(root);
        if dir.exists() {
            found.push(dir.display().to_string());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn two_learners_clusters_are_their_own_and_leave_nothing_behind() {
    if !common::sandboxes_available("cluster") {
        return;
    }
    if !common::cluster_tier_available() {
        return;
    }
    let server = common::TestServer::start("cluster", true).await;
    let backend = server.backend.clone().unwrap();
    let cgroup_root = common::cgroup_root("cluster");
    let links_before = host_links();

    for name in ["ada-node", "bob-node"] {
        backend.start(&spec(name)).await.unwrap();
    }
    let (a, b) = tokio::join!(server::cluster::start(&*backend, "ada-node"), server::cluster::start(&*backend, "bob-node"));
    a.unwrap();
    b.unwrap();
    let run = |owner: &str| {
        format!("kubectl run only-{owner} --image=localhost/web:1.0 && kubectl wait --for=condition=Ready pod/only-{owner} --timeout=120s")
    };
    let (run_a, run_b) = (run("ada"), run("bob"));
    let (ra, rb) = tokio::join!(sh(&*backend, "ada-node", &run_a), sh(&*backend, "bob-node", &run_b));
    assert!(ra.contains("condition met") && rb.contains("condition met"), "{ra}\n{rb}");

    // Each sees its own node, its own pod, its own containers, and nothing of the other's.
    for (name, me, other) in [("ada-node", "ada", "bob"), ("bob-node", "bob", "ada")] {
        assert_eq!(sh(&*backend, name, "kubectl get nodes -o name").await.trim(), format!("node/{name}"));
        assert_eq!(sh(&*backend, name, "kubectl get pods -A -o name").await.trim(), format!("pod/only-{me}"));
        let pods = sh(&*backend, name, "crictl pods").await;
        assert!(pods.contains(&format!("only-{me}")) && !pods.contains(&format!("only-{other}")), "{name}: {pods}");
        let containers = sh(&*backend, name, "crictl ps -q | wc -l").await;
        assert_eq!(containers.trim(), "1", "{name}: one container, its own");
        // The other sandbox's processes are not there to see either.
        let ps = sh(&*backend, name, "ps -eo args").await;
        assert!(!ps.contains(&format!("hostname-override {other}-node")), "{name} sees {other}'s kubelet:\n{ps}");
    }
    // A sandbox that stops (expiry, a server restart) keeps its cluster: etcd's data and the
    // certificates are the learner's files, so the next start brings the same cluster back and
    // kubelet runs its pod again.
    backend.stop("ada-node").await.unwrap();
    backend.start(&spec("ada-node")).await.unwrap();
    server::cluster::start(&*backend, "ada-node").await.unwrap();
    // The runtime's own word (the API server may still hold the old pod status for a while).
    let wait = "for i in $(seq 120); do [ -n \"$(crictl ps --name only-ada -q)\" ] && break; sleep 1; done; crictl ps --name only-ada";
    let again = sh(&*backend, "ada-node", wait).await;
    assert!(again.contains("Running") && again.contains("only-ada"), "the pod did not run again:\n{again}");

    // The clusters' links live in the sandboxes' network namespaces, not on the host.
    assert_eq!(host_links(), links_before, "a cluster changed the host's network links");
    assert!(!common::processes_in(&cgroup_root).is_empty(), "the clusters run inside the sandboxes' cgroups");

    for name in ["ada-node", "bob-node"] {
        backend.stop(name).await.unwrap();
        backend.wipe(&format!("{name}-owner")).await.unwrap();
    }
    // Nothing left: processes (the control plane, containerd, shims, pods), cgroups (the
    // pods' ones included), mounts (the tmpfs state and the pods' volumes), links.
    let left: Vec<String> =
        common::processes_in(&cgroup_root).iter().map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default()).collect();
    assert!(left.is_empty(), "processes outlived their sandbox: {left:#?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let data = server.data.path().display().to_string();
    assert!(!mounts.contains(&data), "mounts of the sandboxes remain:\n{mounts}");
    for dir in cgroup_dirs(&cgroup_root) {
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().filter(|e| e.path().is_dir()).map(|e| e.path()).collect();
        assert!(leftovers.is_empty(), "cgroups remain in {dir}: {leftovers:?}");
    }
    assert_eq!(host_links(), links_before);
    assert!(
        !std::path::Path::new("/run/containerd/io.containerd.runtime.v2.task/k8s.io").exists(),
        "runtime state leaked to the host's /run"
    );
}
