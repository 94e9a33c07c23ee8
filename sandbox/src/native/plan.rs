//! What the server asks the helper process to build: every path and value resolved, so the
//! helper decides nothing and needs no configuration of its own.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::cgroup::{InnerMount, JoinPlan};
use super::layer::Layer;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatePlan {
    pub hostname: String,
    /// The lab image's root filesystem (read-only lower layer).
    pub rootfs: PathBuf,
    pub layer: Layer,
    /// Empty directories on the host for this sandbox's mount points (only ever mounted in
    /// the helper's private mount namespace, never on the host).
    pub run_dir: PathBuf,
    /// Device nodes to bind into the sandbox's /dev.
    pub devices: Vec<DeviceBind>,
    pub cgroup: JoinPlan,
    pub cgroup_mounts: Vec<InnerMount>,
    /// Size of the sandbox's /tmp and /run (tmpfs; charged to its memory limit anyway).
    pub tmpfs_bytes: u64,
    /// The init the sandbox runs as its pid 1, inside the image.
    pub init: Vec<String>,
    /// /etc/resolv.conf for sandboxes with outbound networking ("" keeps the image's).
    #[serde(default)]
    pub resolv_conf: String,
    /// Host files every sandbox sees, read-only and live (the server may rewrite them).
    #[serde(default)]
    pub shared_files: Vec<SharedFile>,
}

/// A device node (`source`, on the host) seen at `target` (under /dev) in the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceBind {
    pub source: PathBuf,
    pub target: PathBuf,
}

/// A host file bound read-only at `/<target>` in every sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFile {
    pub source: PathBuf,
    /// Relative to the sandbox's root: `etc/lab-vm/kvm`, `usr/local/bin/crictl`.
    pub target: String,
}

/// The helper's one line of output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreateReply {
    /// The sandbox's init, as a host pid.
    Ready {
        pid: i32,
    },
    Failed {
        step: String,
        error: String,
    },
}
