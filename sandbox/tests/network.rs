//! Outbound networking (an operator's option): a sandbox reaches the outside world through the
//! host's NAT, and still never the host itself or another sandbox. "The outside world" here is a
//! network namespace this test makes (198.18.77.0/24, a benchmarking range): no traffic leaves
//! the machine.

mod common;

use std::process::{Command, Stdio};

use sandbox::{Backend, Network};

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
async fn outbound_reaches_the_world_but_not_the_host_or_other_sandboxes() {
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
