//! The content self-test over every workshop lab this host's tiers allow, on the native backend
//! (CI: the shell, vm and cluster tiers), and over the shell-tier labs on the Docker backend.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use server::checks::selftest::{self, LabReport};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn every_lab_this_host_can_run_passes_its_self_test() {
    if !common::sandboxes_available("selftest") {
        return;
    }
    let server = common::TestServer::start("selftest", true).await;
    let course = common::workshop();
    let image = PathBuf::from(std::env::var_os("STACKLAB_IMAGE").unwrap());
    let tiers = server::tiers::detect(&image);
    let backend: Arc<dyn sandbox::Backend> = server.backend.clone().unwrap();
    // As `stacklab labs test`: room for the Dockerfile lab's own images (the base images are shared).
    let limits = sandbox::Limits { memory_bytes: 1 << 30, cpu_millis: 2000, pids: 512, disk_bytes: 512 << 20 };
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
    // cluster tier (the image has Kubernetes: scripts/test builds it), the containers tier (Podman).
    let must = ["is-this-a-vm", "namespaces-from-scratch", "netns-veth", "cgroup-oom", "tcg-vs-kvm", "linux-is-the-hypervisor"];
    for must in must.into_iter().chain(["crictl-basics", "kubectl-run", "dockerfile"]) {
        assert!(tested.contains(&must), "{must} was self-tested");
    }
}

/// The shell tier's labs on the Docker backend, on the engine scripts/test starts
/// (`STACKLAB_DOCKER_TEST_SOCKET`, the lab image imported as `STACKLAB_DOCKER_IMAGE`).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine with the lab image: run with --include-ignored (scripts/test starts one)"]
async fn the_shell_labs_pass_on_the_docker_backend() {
    let (Ok(socket), Ok(image)) = (std::env::var("STACKLAB_DOCKER_TEST_SOCKET"), std::env::var("STACKLAB_DOCKER_IMAGE")) else {
        assert!(std::env::var("STACKLAB_REQUIRE_DOCKER").is_err(), "STACKLAB_DOCKER_TEST_SOCKET and STACKLAB_DOCKER_IMAGE are not set");
        eprintln!("skipped: no Docker engine for tests (scripts/test starts one)");
        return;
    };
    let config = sandbox::docker::DockerConfig { socket: Some(socket), image, prefix: "stacklab-selftest".into(), runtime: None };
    let docker = Arc::new(sandbox::docker::DockerBackend::open(config).await.unwrap());
    let course = common::workshop();
    let tiers = common::shell_tier_only("not on the Docker backend's test engine");
    let limits = sandbox::Limits { memory_bytes: 1 << 30, cpu_millis: 2000, pids: 512, disk_bytes: 0 };
    let backend: Arc<dyn sandbox::Backend> = docker.clone();
    // Not netns-veth: Docker mounts a container's sysfs read-only, and the kernel then refuses
    // the read-write sysfs `ip netns exec` mounts for the new namespace (its steps fail with
    // "mount of /sys failed"). The native backend keeps a spare read-write sysfs for it; on
    // Docker only Sysbox gives one. docs/src/backends.md: the Docker backend.
    let only: Vec<String> = course.labs().filter(|l| l.id != "netns-veth").map(|l| l.id.clone()).collect();
    let reports = selftest::run(&course, backend, &tiers, &limits, &only, |line| eprintln!("docker: {line}")).await;
    docker.remove_all().await.unwrap();
    common::assert_self_tested("docker", &reports, &["is-this-a-vm", "namespaces-from-scratch", "cgroup-oom"]);
}

/// Killercoda scenarios as their authors write them (labs/killercoda-corpus: steps without
/// verify, foreground scripts that set PROMPT_COMMAND and create users, checks that grep
/// ~/.bash_history, assets, a service run with systemctl): their `{{exec}}` commands typed,
/// every verify passes.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn the_killercoda_corpus_passes_as_written() {
    if !common::sandboxes_available("selftest_killercoda") {
        return;
    }
    let server = common::TestServer::start("selftest_killercoda", true).await;
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")).join("../labs/killercoda-corpus");
    let course = labs::load::load_course(&root).unwrap_or_else(|p| panic!("{p}"));
    let image = std::env::var_os("STACKLAB_IMAGE").map(PathBuf::from).expect("STACKLAB_IMAGE");
    let tiers = server::tiers::detect(&image);
    assert!(tiers.check(&[labs::Tier::Systemd]).is_ok(), "the lab image has systemd: {:?}", tiers.0);
    let limits = sandbox::Limits { memory_bytes: 1 << 30, cpu_millis: 2000, pids: 512, disk_bytes: 512 << 20 };
    let backend: Arc<dyn sandbox::Backend> = server.backend.clone().unwrap();
    let reports = selftest::run(&course, backend, &tiers, &limits, &[], |line| eprintln!("killercoda: {line}")).await;
    let mut counts = (0, 0);
    for (lab, report) in &reports {
        let LabReport::Tested(steps) = report else { panic!("{lab}: {report:?}") };
        for s in steps {
            assert!(s.problem.is_none(), "{lab}/{}: {}", s.step, s.problem.as_deref().unwrap_or_default());
            if s.untestable.is_none() {
                assert!(s.after.as_ref().is_some_and(|a| a.passed), "{lab}/{} fails after its commands", s.step);
            }
        }
        let (tested, untestable) = report.counts();
        counts = (counts.0 + tested, counts.1 + untestable);
    }
    assert_eq!(reports.len(), 3);
    assert_eq!(counts, (7, 1), "every step with a verify tested; the one without is untestable");
}
