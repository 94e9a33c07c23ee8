//! The workshop's live demos (session 2, Demo 1-3) run for real inside a sandbox.

mod common;

use std::time::Duration;

use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn demo1_pid_mount_uts_namespaces() {
    let Some(h) = common::harness("demo1") else { return };
    h.start("lab-demo1").await;
    let out = h
        .ok(
            "lab-demo1",
            r#"
            lsns | grep -c . > /dev/null
            unshare --pid --mount --uts --fork --mount-proc bash -c '
                hostname container-demo
                hostname
                ps -e --no-headers | wc -l
                echo "pid1=$(ps -p 1 -o comm=)"
            '
            hostname
            "#,
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "container-demo", "{out}");
    // Inside: bash (pid 1) and ps/wc only.
    let count: u32 = lines[1].trim().parse().unwrap();
    assert!(count <= 4, "new pid namespace should show only its own processes: {out}");
    assert_eq!(lines[2], "pid1=bash");
    // And the sandbox's own hostname is unchanged afterwards.
    assert_eq!(lines[3], "lab-demo1");

    // nsenter into a namespace the learner made (needs lsns/nsenter to see it).
    let out = h
        .ok(
            "lab-demo1",
            r#"
            unshare --uts --fork bash -c 'hostname inner; exec sleep 30' > /dev/null &
            sleep 0.3
            pid=$(pgrep -x sleep)
            lsns -t uts -n -o NS,PID | grep -c .
            nsenter -t "$pid" -u hostname
            kill "$pid"
            "#,
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].trim().parse::<u32>().unwrap() >= 2, "lsns lists both uts namespaces: {out}");
    assert_eq!(lines[1], "inner");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn demo2_network_namespace_veth_and_ping() {
    let Some(h) = common::harness("demo2") else { return };
    h.start("lab-demo2").await;
    // The seed's script, as root (no sudo needed but it works too).
    let out = h
        .ok(
            "lab-demo2",
            r#"
            set -e
            sudo ip netns add demo-ns
            ip netns exec demo-ns ip addr | grep -c "state DOWN"
            ip netns exec demo-ns ip link set lo up
            ip link add veth-host type veth peer name veth-ns
            ip link set veth-ns netns demo-ns
            ip addr add 10.0.0.1/24 dev veth-host
            ip link set veth-host up
            ip netns exec demo-ns ip addr add 10.0.0.2/24 dev veth-ns
            ip netns exec demo-ns ip link set veth-ns up
            ping -c 2 -W 2 10.0.0.2 | grep -o "2 received"
            ip netns del demo-ns
            ip link show veth-host 2>&1 | grep -c "does not exist" || true
            "#,
        )
        .await;
    assert!(out.contains("2 received"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn demo3_cgroup_memory_limit_and_oom_kill() {
    let Some(h) = common::harness("demo3") else { return };
    h.start("lab-demo3").await;
    // Typed in the learner's terminal, as the workshop does it: on cgroup v2 a process may only
    // move between groups below a common ancestor it may write, and the server's own commands
    // (checks) sit outside the learner's tree on purpose, so only the learner's shell can.
    // One script for both cgroup versions, as the lab text explains them.
    let mut shell = h.any.open_shell("lab-demo3", sandbox::ShellRequest::default()).await.unwrap();
    let script = r#"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir /sys/fs/cgroup/demo
    echo 52428800 > /sys/fs/cgroup/demo/memory.max
    procs=/sys/fs/cgroup/demo/cgroup.procs
else
    mkdir /sys/fs/cgroup/memory/demo
    echo 52428800 > /sys/fs/cgroup/memory/demo/memory.limit_in_bytes
    procs=/sys/fs/cgroup/memory/demo/cgroup.procs
fi
bash -c "echo \$\$ > $procs; exec python3 -c \"x = ' ' * 60_000_000; print('sur' + 'vived')\""
echo "exit=$?-done"
"#;
    shell.input.write_all(script.as_bytes()).await.unwrap();
    let text = common::read_until_within(&mut shell, "-done\r", Duration::from_secs(30)).await;
    assert!(!text.contains("survived"), "the 60 MB allocation must be killed: {text}");
    assert!(text.contains("exit=137-done"), "killed by SIGKILL (the OOM killer): {text}");
    // The sandbox itself is fine afterwards.
    assert_eq!(h.ok("lab-demo3", "echo alive").await, "alive\n");
}
