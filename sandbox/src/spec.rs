//! What a sandbox should be: the backend-independent request.

use serde::{Deserialize, Serialize};

/// A request for one learner's sandbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxSpec {
    /// The sandbox's id and hostname: 1-63 of `[a-z0-9-]`, not starting or ending with `-`.
    pub name: String,
    /// Whose files the sandbox carries: sandboxes with the same owner share one writable layer,
    /// which outlives every sandbox until a reset.
    pub owner: String,
    pub limits: Limits,
    /// Host devices the learner's tiers need; nothing else from the host's /dev is visible.
    pub devices: Vec<Device>,
    pub network: Network,
    /// What runs as the sandbox's pid 1.
    #[serde(default)]
    pub init: Init,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub memory_bytes: u64,
    /// CPU time as thousandths of a core (1500 = one and a half cores).
    pub cpu_millis: u32,
    pub pids: u32,
    /// Size of the learner's writable layer.
    pub disk_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { memory_bytes: 1 << 30, cpu_millis: 1000, pids: 512, disk_bytes: 4 << 30 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// `/dev/kvm`, for the VM tier.
    Kvm,
    /// `/dev/net/tun`, for VM networking.
    Tun,
    /// `/dev/fuse`, for rootless container storage.
    Fuse,
}

impl Device {
    pub fn path(self) -> &'static str {
        match self {
            Device::Kvm => "/dev/kvm",
            Device::Tun => "/dev/net/tun",
            Device::Fuse => "/dev/fuse",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Loopback only: the learner builds their own namespaces and veths inside.
    #[default]
    Isolated,
    /// Also `eth0`, NATed out through the host; the host itself and other sandboxes stay out of
    /// reach. Only where the backend was set up for it.
    Outbound,
}

/// The sandbox's pid 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// A minimal init that reaps orphans and holds the namespaces (catatonit): nothing runs
    /// that the learner did not start, and a sandbox starts in milliseconds.
    #[default]
    Minimal,
    /// systemd, as on a real host: `systemctl` starts, enables and reports services. It costs
    /// a few MB and a few hundred ms per sandbox, so only labs that ask for it get it.
    Systemd,
}

impl std::fmt::Display for Init {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Init::Minimal => "minimal",
            Init::Systemd => "systemd",
        })
    }
}

impl Init {
    /// Its command line in the lab image.
    pub const fn argv(self) -> &'static [&'static str] {
        match self {
            Init::Minimal => &["/usr/bin/catatonit", "-P"],
            Init::Systemd => &["/usr/lib/systemd/systemd"],
        }
    }
}

/// Checks a sandbox name: it becomes a hostname, a cgroup and a directory name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("lab-ada-3f9c"));
        assert!(!valid_name(""));
        assert!(!valid_name("-x"));
        assert!(!valid_name("x-"));
        assert!(!valid_name("Ada"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("../x"));
        assert!(!valid_name(&"a".repeat(64)));
    }
}
