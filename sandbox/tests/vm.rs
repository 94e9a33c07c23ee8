//! The vm tier inside a real sandbox: `lab-vm` boots a Debian kernel with TCG (these machines'
//! KVM cannot boot a guest), refuses KVM when the probe has not said it works, runs commands in
//! the guest through its agent, serves the serial console in the learner's terminal, powers off
//! cleanly — and the VM is a process of the sandbox: in its cgroup, counted in its memory,
//! killed with it.

mod common;

use std::time::Duration;

use sandbox::{Backend, Device, ShellRequest};
use tokio::io::AsyncWriteExt;

/// Host pids of the QEMU processes in this test's cgroups.
fn qemus_in(cgroup_root: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let cgroup = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if cgroup.contains(cgroup_root) && String::from_utf8_lossy(&cmdline).starts_with("qemu-system") {
            found.push(pid);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_vm_boots_in_the_sandbox_answers_and_dies_with_it() {
    let Some(h) = common::harness("vm") else { return };
    let mut spec = h.spec("lab-vm", "lab-vm-owner");
    spec.devices = vec![Device::Kvm];
    h.backend.start(&spec).await.unwrap();
    let before = h.backend.stats("lab-vm").await.unwrap().memory_bytes;

    // No probe has said KVM works (this harness shares no /etc/lab-vm/kvm): forcing it is refused
    // with the reason, whatever /dev/kvm says.
    let forced = h.sh("lab-vm", "lab-vm start --accel kvm").await;
    assert!(!forced.success() && String::from_utf8_lossy(&forced.stderr).contains("KVM refused"), "{forced:?}");

    // Started from the learner's terminal: a check's exec ends what it leaves running.
    let mut shell = h.backend.open_shell("lab-vm", ShellRequest::default()).await.unwrap();
    shell.input.write_all(b"lab-vm start --accel tcg; echo started-$?\n").await.unwrap();
    let started = common::read_until_within(&mut shell, "started-0", Duration::from_secs(120)).await;
    assert!(started.contains("Booted with TCG"), "{started}");
    let status = h.ok("lab-vm", "lab-vm status").await;
    assert!(status.starts_with("state=running accel=tcg pid="), "{status}");
    let log = h.ok("lab-vm", "tail -1 /var/lib/lab-vm/boots.log").await;
    assert!(log.contains("accel=tcg result=booted boot_ms="), "{log}");

    // The agent: a file made in the guest is there, not in the sandbox; statuses come back.
    let hello = h.ok("lab-vm", "lab-vm exec 'echo hello > /root/hello' && lab-vm exec cat /root/hello").await;
    assert_eq!(hello, "hello\n");
    assert_eq!(h.ok("lab-vm", "test -e /root/hello && echo sandbox || echo guest-only").await, "guest-only\n");
    assert_eq!(h.ok("lab-vm", "lab-vm exec uname -n").await, "lab-vm\n");
    let failing = h.sh("lab-vm", "lab-vm exec 'exit 3'").await;
    assert!(matches!(failing.end, sandbox::ExecEnd::Exited(3)), "{failing:?}");

    // A process of the sandbox: in its cgroup, its memory counted against the sandbox's limit.
    let qemus = qemus_in(&h.config.cgroup_root);
    assert_eq!(qemus.len(), 1, "one QEMU in the sandbox's cgroup: {qemus:?}");
    let during = h.backend.stats("lab-vm").await.unwrap().memory_bytes;
    assert!(during > before + (32 << 20), "the VM's memory counts: {before} -> {during} bytes");

    // The serial console in the learner's terminal, and poweroff from inside returns cleanly.
    shell.input.write_all(b"lab-vm console\n").await.unwrap();
    common::read_until(&mut shell, "Connected to the guest's serial console").await;
    shell.input.write_all(b"\r").await.unwrap();
    common::read_until(&mut shell, "guest:").await;
    shell.input.write_all(b"echo in-the-guest-$((6*7))\r").await.unwrap();
    common::read_until(&mut shell, "in-the-guest-42").await;
    shell.input.write_all(b"poweroff\r").await.unwrap();
    common::read_until_within(&mut shell, "The VM powered off.", Duration::from_secs(30)).await;
    assert_eq!(h.ok("lab-vm", "lab-vm status").await, "state=stopped\n");
    assert!(qemus_in(&h.config.cgroup_root).is_empty(), "QEMU exited with the guest");

    // Killed with its sandbox.
    shell.input.write_all(b"lab-vm start --accel tcg; echo again-$?\n").await.unwrap();
    common::read_until_within(&mut shell, "again-0", Duration::from_secs(120)).await;
    let qemu = qemus_in(&h.config.cgroup_root);
    assert_eq!(qemu.len(), 1, "{qemu:?}");
    h.backend.stop("lab-vm").await.unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{}", qemu[0])).exists(), "QEMU outlived its sandbox");
}
