//! The content self-test over every workshop lab this host's tiers allow (CI: the shell tier).

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use server::progress::selftest::{self, LabReport};

#[tokio::test(flavor = "multi_thread")]
async fn every_lab_this_host_can_run_passes_its_self_test() {
    if !common::sandboxes_available("selftest") {
        return;
    }
    let server = common::TestServer::start("selftest", true).await;
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")).join("../labs/workshop");
    let course = labs::load::load_course(&root).unwrap();
    let image = PathBuf::from(std::env::var_os("STACKLAB_IMAGE").unwrap());
    let tiers = server::tiers::detect(&image);
    let backend: Arc<dyn sandbox::Backend> = server.backend.clone().unwrap();
    let limits = sandbox::Limits { memory_bytes: 1 << 30, cpu_millis: 2000, pids: 512, disk_bytes: 256 << 20 };
    let reports = selftest::run(&course, backend, &tiers, &limits, &[], |line| eprintln!("{line}")).await;

    let mut tested = Vec::new();
    for (lab, report) in &reports {
        match report {
            LabReport::Tested(steps) => {
                for s in steps {
                    assert!(s.problem.is_none(), "{lab}/{}: {}", s.step, s.problem.as_deref().unwrap_or_default());
                    assert!(!s.before.passed, "{lab}/{} passed before its solution", s.step);
                    assert!(s.after.as_ref().is_some_and(|a| a.passed), "{lab}/{} fails after its solution", s.step);
                }
                tested.push(lab.as_str());
            }
            LabReport::Skipped(why) => assert!(why.starts_with("needs the "), "{lab} skipped for a reason: {why}"),
            LabReport::Broken(why) => panic!("{lab}: {why}"),
        }
    }
    // The shell tier, the vm tier with TCG (the image has QEMU; KVM is refused here) and the
    // cluster tier (the image has Kubernetes: scripts/test builds it).
    let must = ["is-this-a-vm", "namespaces-from-scratch", "netns-veth", "cgroup-oom", "tcg-vs-kvm", "linux-is-the-hypervisor"];
    for must in must.into_iter().chain(["crictl-basics", "kubectl-run"]) {
        assert!(tested.contains(&must), "{must} was self-tested");
    }
}
