//! Outbound networking (an operator's option): a sandbox reaches the outside world through the
//! host's NAT, and still never the host itself or another sandbox. "The outside world" here is a
//! network namespace this test makes (198.18.77.0/24, a benchmarking range): no traffic leaves
//! the machine.

mod common;

use std::process::{Command, Stdio};

use sandbox::{Backend, Network};

/// The tests here take turns: each server's outbound set-up turns `ip_forward` on and puts back
/// what it found when it goes, so one ending while the other runs would cut the other off.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn sh(args: &[&str]) {
    let status = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(status.success(), "{args:?}");
}

struct World {
    netns: String,
    server: std::process::Child,
}

impl World {
    fn new() -> Self {
        let id = std::process::id() % 100_000;
        let netns = format!("stacklab-test-inet-{id}");
        let (host_if, inner_if) = (format!("stw{id}"), format!("sti{id}"));
        let _ = Command::new("ip").args(["netns", "del", &netns]).status();
        sh(&["ip", "netns", "add", &netns]);
        sh(&["ip", "link", "add", &host_if, "type", "veth", "peer", "name", &inner_if, "netns", &netns]);
        sh(&["ip", "addr", "add", "198.18.77.1/24", "dev", &host_if]);
        sh(&["ip", "link", "set", &host_if, "up"]);
        sh(&["ip", "netns", "exec", &netns, "ip", "addr", "add", "198.18.77.2/24", "dev", &inner_if]);
        sh(&["ip", "netns", "exec", &netns, "ip", "link", "set", &inner_if, "up"]);
        sh(&["ip", "netns", "exec", &netns, "ip", "link", "set", "lo", "up"]);
        let server = Command::new("ip")
            .args(["netns", "exec", &netns, "python3", "-m", "http.server", "8099", "--bind", "198.18.77.2"])
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Ready when the port listens; a fixed sleep loses the race on a loaded machine.
        for _ in 0..400 {
            let listening = Command::new("ip").args(["netns", "exec", &netns, "ss", "-Hltn", "sport = :8099"]).output().unwrap();
            if !listening.stdout.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        Self { netns, server }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        // The veth pair goes with the namespace.
        let _ = Command::new("ip").args(["netns", "del", &self.netns]).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn outbound_reaches_the_world_but_not_the_host_or_other_sandboxes() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let forward_before = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    {
        let Some(h) = common::harness_with("outbound", Some("10.214.0.0/24")) else { return };
        let world = World::new();
        for name in ["net-a", "net-b"] {
            let mut spec = h.spec(name, &format!("{name}-owner"));
            spec.network = Network::Outbound;
            h.backend.start(&spec).await.unwrap();
        }
        let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();

        let a = h.ok("net-a", "ip -4 -o addr show eth0 | awk '{print $4}'; ip route | grep default").await;
        assert!(a.starts_with("10.214.0."), "{a}");
        let gateway = a.lines().nth(1).unwrap().split_whitespace().nth(2).unwrap().to_string();
        let b_ip = h.ok("net-b", "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1").await.trim().to_string();

        // The world answers.
        let page = h.ok("net-a", "curl -s -m 5 http://198.18.77.2:8099/ | head -c 200").await;
        assert!(page.contains("Directory listing"), "{page}");

        // The host does not: not on the sandbox's gateway, nor on its address toward the world.
        let out = h
            .sh(
                "net-a",
                &format!(
                    "timeout 3 bash -c 'echo > /dev/tcp/{gateway}/{port}' 2>/dev/null && echo REACHED-GATEWAY\n\
                     timeout 3 bash -c 'echo > /dev/tcp/198.18.77.1/{port}' 2>/dev/null && echo REACHED-HOST\n\
                     echo done"
                ),
            )
            .await;
        assert_eq!(out.stdout_text(), "done\n");
        assert!(listener.accept().is_err(), "a connection reached the host");

        // Nor does another sandbox.
        let out = h.sh("net-a", &format!("timeout 3 bash -c 'echo > /dev/tcp/{b_ip}/22' 2>&1 | grep -c refused; true")).await;
        assert_eq!(out.stdout_text().trim(), "0", "a connection attempt got as far as net-b: {}", out.stdout_text());
        drop(world);
    }
    let forward_after = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    assert_eq!(forward_before, forward_after, "ip_forward is back as it was");
    let rules = String::from_utf8(Command::new("iptables").args(["-S"]).output().unwrap().stdout).unwrap();
    assert!(!rules.contains("STACKLAB-TEST"), "our rules are gone:\n{rules}");
}

/// The host's name of the host end of `sandbox`'s `eth0`.
async fn host_end(h: &common::Harness, sandbox: &str) -> String {
    let index = h.ok(sandbox, "cat /sys/class/net/eth0/iflink").await.trim().to_string();
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| std::fs::read_to_string(e.path().join("ifindex")).is_ok_and(|i| i.trim() == index))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("the host end exists")
}

/// From inside: router advertisements for a documentation prefix on the link, then every IPv6
/// neighbour that answers an all-nodes ping, and every address given, tried on `port`.
const IPV6_PROBE: &str = r#"
import socket, struct, subprocess, sys, time
port, targets = int(sys.argv[1]), sys.argv[2:]
for _ in range(100):
    if "tentative" not in subprocess.run(["ip", "-6", "addr", "show", "dev", "eth0"], capture_output=True, text=True).stdout:
        break
    time.sleep(0.1)
index = socket.if_nametoindex("eth0")
ra = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
ra.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
ra.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
advert = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
prefix = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, "2001:db8:5a::")
for _ in range(3):
    try:
        ra.sendto(advert + prefix, ("ff02::1", 0, 0, index))
    except OSError as e:
        print("advert not sent:", e)
    time.sleep(0.2)
ping = subprocess.run(["ping", "-6", "-c", "2", "-W", "1", "ff02::1%eth0"], capture_output=True, text=True).stdout
own = subprocess.run(["ip", "-6", "-o", "addr", "show", "dev", "eth0"], capture_output=True, text=True).stdout
neighbours = {w.split("%")[0].rstrip(":") for line in ping.splitlines() if "bytes from" in line for w in line.split() if w.startswith("fe80")}
neighbours = {n for n in neighbours if n not in own}
subprocess.run(["ip", "-6", "route", "add", "default", "dev", "eth0"], capture_output=True)
for n in sorted(neighbours):
    print("neighbour", n)
    subprocess.run(["ip", "-6", "route", "replace", "default", "via", n, "dev", "eth0"], capture_output=True)
for target in [n + "%eth0" for n in sorted(neighbours)] + targets:
    try:
        socket.create_connection((target, port), timeout=2).close()
        print("REACHED", target)
    except OSError as e:
        print("refused or silent", target, e)
print("done")
"#;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn outbound_gives_no_ipv6_path_to_the_host() {
    let _turn = ONE_AT_A_TIME.lock().await;
    if !std::path::Path::new("/proc/sys/net/ipv6/conf/default").exists() {
        eprintln!("SKIP: this kernel has no IPv6");
        return;
    }
    let Some(h) = common::harness_with("outbound6", Some("10.215.0.0/24")) else { return };
    let mut spec = h.spec("net-six", "net-six-owner");
    spec.network = Network::Outbound;
    h.backend.start(&spec).await.unwrap();
    let host_if = host_end(&h, "net-six").await;
    let sysctl = |key: &str| std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{host_if}/{key}")).unwrap().trim().to_string();
    assert_eq!((sysctl("disable_ipv6").as_str(), sysctl("accept_ra").as_str()), ("1", "0"), "the host end of {host_if}");

    // A host service on every IPv6 address (and the host's own global ones as targets).
    let listener = std::net::TcpListener::bind("[::]:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let globals =
        String::from_utf8(Command::new("ip").args(["-6", "-o", "addr", "show", "scope", "global"]).output().unwrap().stdout).unwrap();
    let globals: Vec<String> =
        globals.lines().filter_map(|l| l.split_whitespace().nth(3)).map(|a| a.split('/').next().unwrap().to_string()).collect();
    let probe = format!("python3 -c '{}' {port} {}", IPV6_PROBE.replace('\'', "'\\''"), globals.join(" "));
    let out = h.ok("net-six", &probe).await;
    assert!(out.ends_with("done\n"), "{out}");
    assert!(!out.contains("REACHED"), "a host service answered over IPv6:\n{out}");
    assert!(!out.contains("neighbour"), "the host end answered an IPv6 ping:\n{out}");
    assert!(listener.accept().is_err(), "a connection reached the host");
    // The advertisements changed nothing on the host.
    let on_host = |what: &str| String::from_utf8(Command::new("ip").args(["-6", what, "show"]).output().unwrap().stdout).unwrap();
    for what in ["addr", "route"] {
        let text = on_host(what);
        assert!(!text.contains("2001:db8:5a:"), "the sandbox's advertisement reached the host's {what}s:\n{text}");
    }
}
