//! Outbound network access for sandboxes, for hosts that have it (an operator's option; off by
//! default). Each sandbox gets a veth pair: `eth0` inside with a /30 of its own, the other end
//! on the host, and a default route through it. The host NATs their traffic out and, with
//! iptables chains of our own, drops everything a sandbox sends *to the host itself* (the
//! server's port and every other host service), to another sandbox, or to link-local addresses
//! (cloud metadata services).
//!
//! Only IPv4 goes out. The host end of each pair has IPv6 switched off before it comes up (no
//! address, no router advertisements taken, every IPv6 packet from the sandbox dropped as it
//! arrives), so a sandbox can neither reach a host service over IPv6 nor announce itself as the
//! host's router; ip6tables chains drop the same traffic again should a host end ever get IPv6
//! back. Strict reverse-path filtering on the host end drops packets whose source is not the
//! sandbox's own subnet.
//!
//! The host end dies with the sandbox's network namespace, so nothing is left per sandbox; the
//! chains are installed once and removed by [`Outbound::uninstall`].

use std::io;
use std::net::Ipv4Addr;
use std::process::Command;

/// Host ends of the pairs are named with this prefix (iptables matches `sl+`).
const IF_PREFIX: &str = "sl";

#[derive(Debug)]
pub struct Outbound {
    base: u32,
    /// Number of /30 subnets in the range.
    slots: u32,
    /// Prefix of our chain names (several servers, or tests, on one host each have their own).
    tag: String,
    /// `net.ipv4.ip_forward` before we set it, restored on uninstall.
    previous_forward: String,
}

fn run(program: &str, args: &[&str]) -> io::Result<()> {
    let output = Command::new(program).args(args).output().map_err(|e| io::Error::new(e.kind(), format!("{program}: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim())))
    }
}

fn iptables(args: &[&str]) -> io::Result<()> {
    run("iptables", &[&["-w"], args].concat())
}

fn ip6tables(args: &[&str]) -> io::Result<()> {
    run("ip6tables", &[&["-w"], args].concat())
}

/// Whether this kernel has IPv6 at all (`ipv6.disable=1` removes it).
fn host_has_ipv6() -> bool {
    std::path::Path::new("/proc/sys/net/ipv6/conf/default").exists()
}

/// The settings of a host end, made before it comes up: no IPv6 on it at all, no redirects, and
/// only packets from the subnet routed through it.
fn host_end_settings(name: &str) -> Vec<(String, &'static str)> {
    let mut settings = Vec::new();
    if host_has_ipv6() {
        for (key, value) in [("accept_ra", "0"), ("autoconf", "0"), ("accept_redirects", "0"), ("disable_ipv6", "1")] {
            settings.push((format!("/proc/sys/net/ipv6/conf/{name}/{key}"), value));
        }
    }
    for (key, value) in [("rp_filter", "1"), ("accept_redirects", "0"), ("send_redirects", "0"), ("accept_source_route", "0")] {
        settings.push((format!("/proc/sys/net/ipv4/conf/{name}/{key}"), value));
    }
    settings
}

/// Parses "10.213.0.0/16".
fn parse_cidr(cidr: &str) -> io::Result<(u32, u32)> {
    let bad = || io::Error::other(format!("{cidr:?} is not an IPv4 range like 10.213.0.0/16"));
    let (addr, prefix) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let prefix: u32 = prefix.parse().map_err(|_| bad())?;
    if !(8..=28).contains(&prefix) {
        return Err(io::Error::other(format!("{cidr}: use a prefix from /8 to /28")));
    }
    let mask = u32::MAX << (32 - prefix);
    Ok((u32::from(addr) & mask, 1 << (32 - prefix - 2)))
}

impl Outbound {
    /// Installs the NAT and filter rules for `cidr`, under chains named after `tag`.
    pub fn install(cidr: &str, tag: &str) -> io::Result<Self> {
        let (base, slots) = parse_cidr(cidr)?;
        let previous_forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_else(|_| "0".into());
        let this = Self { base, slots, tag: tag.to_string(), previous_forward: previous_forward.trim().to_string() };
        this.uninstall_rules();
        let (input, forward, nat) = this.chains();
        let network = format!("{}/{}", Ipv4Addr::from(base), 32 - (slots * 4).trailing_zeros());
        let ifaces = format!("{IF_PREFIX}+");
        if host_has_ipv6() {
            // Host ends have no IPv6; should one get it back, nothing of it passes either.
            let chain6 = this.chain6();
            ip6tables(&["-N", &chain6])?;
            ip6tables(&["-A", &chain6, "-j", "DROP"])?;
            ip6tables(&["-I", "INPUT", "-i", &ifaces, "-j", &chain6])?;
            ip6tables(&["-I", "FORWARD", "-i", &ifaces, "-j", &chain6])?;
            ip6tables(&["-I", "FORWARD", "-o", &ifaces, "-j", &chain6])?;
        }
        for (table, chain) in [("filter", &input), ("filter", &forward), ("nat", &nat)] {
            iptables(&["-t", table, "-N", chain])?;
        }
        // Nothing from a sandbox reaches a host service (the server's port included).
        iptables(&["-A", &input, "-j", "DROP"])?;
        iptables(&["-I", "INPUT", "-i", &ifaces, "-j", &input])?;
        // Out to the world, yes; to another sandbox or to link-local (metadata), no; and nobody
        // starts a connection into a sandbox.
        iptables(&["-A", &forward, "-i", &ifaces, "-o", &ifaces, "-j", "DROP"])?;
        iptables(&["-A", &forward, "-i", &ifaces, "!", "-s", &network, "-j", "DROP"])?;
        iptables(&["-A", &forward, "-i", &ifaces, "-d", "169.254.0.0/16", "-j", "DROP"])?;
        iptables(&["-A", &forward, "-i", &ifaces, "-j", "ACCEPT"])?;
        iptables(&["-A", &forward, "-o", &ifaces, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"])?;
        iptables(&["-A", &forward, "-o", &ifaces, "-j", "DROP"])?;
        iptables(&["-I", "FORWARD", "-j", &forward])?;
        iptables(&["-t", "nat", "-A", &nat, "-s", &network, "!", "-o", &ifaces, "-j", "MASQUERADE"])?;
        iptables(&["-t", "nat", "-I", "POSTROUTING", "-j", &nat])?;
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")?;
        Ok(this)
    }

    fn chains(&self) -> (String, String, String) {
        (format!("{}-IN", self.tag), format!("{}-FWD", self.tag), format!("{}-NAT", self.tag))
    }

    fn chain6(&self) -> String {
        format!("{}-V6", self.tag)
    }

    fn uninstall_rules(&self) {
        let (input, forward, nat) = self.chains();
        let ifaces = format!("{IF_PREFIX}+");
        // Each may be absent: ignore those errors.
        let _ = iptables(&["-D", "INPUT", "-i", &ifaces, "-j", &input]);
        let _ = iptables(&["-D", "FORWARD", "-j", &forward]);
        let _ = iptables(&["-t", "nat", "-D", "POSTROUTING", "-j", &nat]);
        for (table, chain) in [("filter", &input), ("filter", &forward), ("nat", &nat)] {
            let _ = iptables(&["-t", table, "-F", chain]);
            let _ = iptables(&["-t", table, "-X", chain]);
        }
        if host_has_ipv6() {
            let chain6 = self.chain6();
            let _ = ip6tables(&["-D", "INPUT", "-i", &ifaces, "-j", &chain6]);
            let _ = ip6tables(&["-D", "FORWARD", "-i", &ifaces, "-j", &chain6]);
            let _ = ip6tables(&["-D", "FORWARD", "-o", &ifaces, "-j", &chain6]);
            let _ = ip6tables(&["-F", &chain6]);
            let _ = ip6tables(&["-X", &chain6]);
        }
    }

    /// Removes the rules a server with `tag` installed (when taking Stacklab off a host; the
    /// original `ip_forward` is not known here and stays as it is).
    pub fn remove_rules(tag: &str) {
        Self { base: 0, slots: 1, tag: tag.to_string(), previous_forward: String::new() }.uninstall_rules();
    }

    /// Removes our rules and puts `ip_forward` back as it was.
    pub fn uninstall(&self) {
        self.uninstall_rules();
        let _ = std::fs::write("/proc/sys/net/ipv4/ip_forward", &self.previous_forward);
    }

    pub fn slots(&self) -> u32 {
        self.slots
    }

    /// The host's and the sandbox's address in subnet `index`.
    pub fn addresses(&self, index: u32) -> (Ipv4Addr, Ipv4Addr) {
        let net = self.base + 4 * (index % self.slots);
        (Ipv4Addr::from(net + 1), Ipv4Addr::from(net + 2))
    }

    /// The host end's name for subnet `index`: from a hash of the whole tag, so two servers on
    /// one host whose cgroup roots start alike never take (and delete) each other's.
    pub fn host_interface(&self, index: u32) -> String {
        let tag = crate::hash::fnv(&self.tag) & 0xff_ffff;
        format!("{IF_PREFIX}{tag:06x}{index:x}")
    }

    /// Plugs the sandbox whose init is host pid `pid` into subnet `index`.
    pub fn attach(&self, pid: i32, index: u32) -> io::Result<()> {
        let (host, sandbox) = self.addresses(index);
        let name = self.host_interface(index);
        let pid = pid.to_string();
        let _ = run("ip", &["link", "del", &name]);
        run("ip", &["link", "add", &name, "type", "veth", "peer", "name", "eth0", "netns", &pid])?;
        // Down until these hold: an IPv6 address or a router advertisement never gets a moment.
        for (path, value) in host_end_settings(&name) {
            std::fs::write(&path, value).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
        }
        run("ip", &["addr", "add", &format!("{host}/30"), "dev", &name])?;
        run("ip", &["link", "set", &name, "up"])?;
        let inside = |args: &[&str]| run("nsenter", &[&["--target", pid.as_str(), "--net", "--", "ip"], args].concat());
        inside(&["addr", "add", &format!("{sandbox}/30"), "dev", "eth0"])?;
        inside(&["link", "set", "eth0", "up"])?;
        inside(&["route", "add", "default", "via", &host.to_string()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let (base, slots) = parse_cidr("10.213.0.0/16").unwrap();
        assert_eq!((Ipv4Addr::from(base), slots), (Ipv4Addr::new(10, 213, 0, 0), 16384));
        let o = Outbound { base, slots, tag: "STACKLAB".into(), previous_forward: "0".into() };
        assert_eq!(o.addresses(0), (Ipv4Addr::new(10, 213, 0, 1), Ipv4Addr::new(10, 213, 0, 2)));
        assert_eq!(o.addresses(3), (Ipv4Addr::new(10, 213, 0, 13), Ipv4Addr::new(10, 213, 0, 14)));
        assert!(o.host_interface(16383).len() <= 15, "interface names fit IFNAMSIZ");
        let other = Outbound { tag: "STACKLAB-2".into(), ..o };
        assert_ne!(
            other.host_interface(0)[..8],
            Outbound { base, slots, tag: "STACKLAB-1".into(), previous_forward: "0".into() }.host_interface(0)[..8]
        );
        assert!(parse_cidr("10.213.0.0").is_err());
        assert!(parse_cidr("10.213.0.0/30").is_err());
    }
}
