//! What the native backend needs of the host's kernel, tried once when the backend opens, so a
//! host that cannot run sandboxes is refused at start with the reason (the feature, the first
//! Linux release that has it, the alternative) instead of failing at a learner's first
//! sandbox. The helper process does the trying (`builder::probe`): a user namespace and mounts
//! need a fresh single-threaded process, and its mounts vanish with it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One kernel feature, by the first mainline release that has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feature {
    pub id: &'static str,
    pub what: &'static str,
    pub since: &'static str,
}

/// In the order the helper tries them (a later one may need an earlier one).
pub const FEATURES: &[Feature] = &[
    Feature { id: "pidfd", what: "pidfds (pidfd_open)", since: "5.3" },
    Feature { id: "openat2", what: "openat2 path resolution", since: "5.6" },
    Feature { id: "close_range", what: "close_range with CLOSE_RANGE_CLOEXEC", since: "5.11" },
    // clone3 itself is 5.3; starting a child in a cgroup of its choosing, 5.7. A seccomp profile
    // that answers ENOSYS to clone3 (Docker's default: run the container --privileged) lands here.
    Feature { id: "clone3", what: "clone3 with CLONE_INTO_CGROUP", since: "5.7" },
    Feature { id: "userns", what: "user namespaces (unshare CLONE_NEWUSER as root)", since: "3.8" },
    Feature { id: "idmap", what: "idmapped mounts of the lab image's filesystem (ext4 or xfs)", since: "5.12" },
    Feature { id: "overlay-idmap", what: "overlayfs over an idmapped lower layer", since: "5.19" },
];

/// What the server asks the helper to try.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbePlan {
    /// The lab image's root filesystem (its filesystem must take idmapped mounts).
    pub rootfs: PathBuf,
    /// An empty directory for the probe's mount points (in its own mount namespace only).
    pub scratch: PathBuf,
    /// A host uid the probe's user namespace maps root to (unused by any sandbox).
    pub uid: u32,
}

/// The helper's answer: the features that did not work, each with the kernel's error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub missing: Vec<Missing>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    pub id: String,
    pub error: String,
}

pub fn feature(id: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.id == id)
}

/// Why this host is refused, when the kernel (`release`, as `uname -r` says it) lacks
/// something (it follows "this host cannot run native sandboxes: "); `None` when nothing is.
pub fn refusal(release: &str, report: &ProbeReport) -> Option<String> {
    let first = report.missing.first()?;
    let (what, since) = feature(&first.id).map_or((first.id.as_str(), "?"), |f| (f.what, f.since));
    let others: Vec<&str> = report.missing.iter().skip(1).filter_map(|m| feature(&m.id).map(|f| f.what)).collect();
    let mut message = format!("its kernel (Linux {release}) lacks {what} ({}); Linux {since} or newer has it", first.error);
    if !others.is_empty() {
        message.push_str(&format!(", and also lacks: {}", others.join("; ")));
    }
    message.push_str(
        ". Boot a newer kernel (Debian 12's 6.1 and Debian 13's 6.12 are tested), or run the sandboxes in containers with \
         --sandbox-backend docker",
    );
    Some(message)
}

/// A test's stand-in for the kernel's answer: `STACKLAB_PROBE_MISSING=<feature id>` reports that
/// feature missing whatever the host has (the refusal is tested this way on hosts that have it).
pub fn faked(mut report: ProbeReport) -> ProbeReport {
    if let Ok(id) = std::env::var("STACKLAB_PROBE_MISSING")
        && feature(&id).is_some()
        && !report.missing.iter().any(|m| m.id == id)
    {
        report.missing.insert(0, Missing { id, error: "faked for a test by STACKLAB_PROBE_MISSING".into() });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_feature_the_release_and_the_way_out() {
        assert_eq!(refusal("6.1.0-28-amd64", &ProbeReport::default()), None);
        let report = ProbeReport {
            missing: vec![
                Missing { id: "overlay-idmap".into(), error: "mount overlay: EINVAL".into() },
                Missing { id: "close_range".into(), error: "ENOSYS".into() },
            ],
        };
        let message = refusal("5.15.0-91-generic", &report).unwrap();
        assert!(
            message.contains("its kernel (Linux 5.15.0-91-generic) lacks overlayfs over an idmapped lower layer (mount overlay: EINVAL)"),
            "{message}"
        );
        assert!(message.contains("Linux 5.19 or newer has it"), "{message}");
        assert!(message.contains("also lacks: close_range with CLOSE_RANGE_CLOEXEC"), "{message}");
        assert!(message.contains("--sandbox-backend docker"), "{message}");
    }

    #[test]
    fn every_feature_has_a_release() {
        for f in FEATURES {
            let (major, minor) = f.since.split_once('.').unwrap();
            assert!(major.parse::<u32>().is_ok() && minor.parse::<u32>().is_ok(), "{f:?}");
        }
    }
}
