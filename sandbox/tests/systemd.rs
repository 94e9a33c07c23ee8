//! systemd as a sandbox's init (the systemd tier): it boots in the sandbox's user namespace with
//! the cgroup delegated to it, and the learner runs services with `systemctl` as on a host,
//! while the sandbox's bounds hold. Needs root and the lab image (see `common`).

mod common;

use std::time::Duration;

use common::{Harness, harness, scaled};
use sandbox::{Backend, Init, ShellRequest};
use tokio::io::AsyncWriteExt;

/// Starts `name` with systemd as its init and waits until systemd has finished booting.
async fn start_systemd(h: &Harness, name: &str) {
    let spec = sandbox::SandboxSpec { init: Init::Systemd, ..h.spec(name, &format!("{name}-owner")) };
    h.backend.start(&spec).await.unwrap_or_else(|e| panic!("starting {name} with systemd: {e}"));
    // The backend returns once systemctl can connect; `is-system-running --wait` once the boot
    // is over: "running", or "degraded" if a unit failed (which the test then shows).
    let state = h.sh(name, &format!("timeout {} systemctl is-system-running --wait", scaled(Duration::from_secs(60)).as_secs())).await;
    if state.stdout_text().trim() != "running" {
        let failed = h.sh(name, "ps -ef; systemctl --failed --no-pager; journalctl -b --no-pager -p warning | tail -40").await;
        panic!("systemd did not come up: {:?}\n{}", state.stdout_text(), failed.stdout_text());
    }
}

/// A unit file the learner writes, running `command`.
fn unit(name: &str, command: &str) -> String {
    format!(
        "cat > /etc/systemd/system/{name}.service <<'EOF'\n[Unit]\nDescription={name}, the learner's\n[Service]\nExecStart={command}\n\
         [Install]\nWantedBy=multi-user.target\nEOF\nsystemctl daemon-reload\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn systemd_boots_as_pid_1_and_runs_a_learners_service() {
    let Some(h) = harness("systemd_boots") else { return };
    start_systemd(&h, "sd-boot").await;
    assert_eq!(h.ok("sd-boot", "cat /proc/1/comm").await.trim(), "systemd");
    // Started, enabled, inspected, stopped: what a lab has the learner do.
    let script = unit("hello", "/usr/bin/python3 -m http.server --bind 127.0.0.1 8080")
        + r#"systemctl enable --now hello.service
for i in $(seq 100); do curl -sf http://127.0.0.1:8080/ >/dev/null && break; sleep 0.1; done
systemctl is-active hello.service
systemctl is-enabled hello.service
curl -sf http://127.0.0.1:8080/ >/dev/null
systemctl status hello.service --no-pager | grep -q 'Active: active (running)'
journalctl -u hello.service --no-pager | grep -q 'Started hello.service'
systemctl stop hello.service
! systemctl is-active hello.service"#;
    h.ok("sd-boot", &script).await;
    // Nothing starts by itself: the image's packages enable no daemon (containerd, etcd, Podman).
    let running = h.ok("sd-boot", "systemctl list-units --type=service --state=running --no-legend --plain | awk '{print $1}'").await;
    let mut running: Vec<&str> = running.lines().collect();
    running.sort();
    assert_eq!(running, ["systemd-journald.service"], "services running at boot");
}

/// A service systemd starts is the learner's process like any other: inside the sandbox's
/// cgroup (so its limits bind it), listed as the sandbox's, and ended with the sandbox.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_service_is_bound_by_the_sandbox_and_ends_with_it() {
    let Some(h) = harness("systemd_bound") else { return };
    start_systemd(&h, "sd-bound").await;
    h.ok("sd-bound", &(unit("sleeper", "/bin/sleep 8765431") + "systemctl start sleeper.service")).await;
    // A simple service counts as started once forked: its exec of sleep may come a moment later.
    let mut listed = Vec::new();
    for _ in 0..50 {
        listed = h.backend.processes("sd-bound").await.unwrap();
        if listed.iter().any(|p| p.command == "/bin/sleep 8765431") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(listed.iter().any(|p| p.command == "/bin/sleep 8765431"), "the service is in the sandbox's cgroup: {listed:?}");
    // A fork bomb as a service meets the sandbox's pids limit, and the sandbox survives it.
    let bomb =
        unit("bomb", "/bin/sh -c 'while :; do sleep 1000 & done'") + "systemctl start bomb.service; sleep 2; systemctl stop bomb.service";
    h.sh("sd-bound", &bomb).await;
    assert_eq!(h.ok("sd-bound", "systemctl is-active sleeper.service").await.trim(), "active");
    h.backend.stop("sd-bound").await.unwrap();
    assert!(!on_host("8765431"), "the service outlived its sandbox");
}

/// Whether a process on the host has `word` in its command line.
fn on_host(word: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .any(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(word)))
}

/// The learner's terminal and the server's checks work as with the minimal init; the shell
/// sits below systemd in the sandbox's process tree.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_shell_and_a_check_under_systemd() {
    let Some(h) = harness("systemd_shell") else { return };
    start_systemd(&h, "sd-shell").await;
    let mut shell = h.backend.open_shell("sd-shell", ShellRequest::default()).await.unwrap();
    shell
        .input
        .write_all(b"echo grandparent-$(cut -d' ' -f4 /proc/$PPID/stat); systemctl is-system-running; echo done-$((6*7))\n")
        .await
        .unwrap();
    let text = common::read_until(&mut shell, "done-42").await;
    assert!(text.contains("grandparent-1"), "the shell's waiter is systemd's child:\n{text}");
    assert!(text.contains("\nrunning"), "systemctl works in the learner's shell:\n{text}");
    shell.input.write_all(b"exit 3\n").await.unwrap();
    assert_eq!(shell.control.wait().await, 3);
    assert_eq!(h.ok("sd-shell", "systemctl is-system-running").await.trim(), "running", "a check's systemctl");
}
