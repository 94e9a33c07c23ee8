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
    /// The sandbox's init, as a host pid, and how long each phase of building it took.
    Ready {
        pid: i32,
        #[serde(default)]
        phases: Vec<Phase>,
    },
    Failed {
        step: String,
        error: String,
    },
}

/// How long one phase of a sandbox's start took: where the start's time goes, for the bench.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub step: String,
    pub micros: u64,
}

/// Marks the end of each phase of a start.
pub struct Stopwatch {
    last: std::time::Instant,
    phases: Vec<Phase>,
}

impl Default for Stopwatch {
    fn default() -> Self {
        Self { last: std::time::Instant::now(), phases: Vec::new() }
    }
}

impl Stopwatch {
    /// The phase `step` ends now (it began when the last one ended).
    pub fn mark(&mut self, step: &str) {
        let now = std::time::Instant::now();
        self.phases.push(Phase { step: step.to_string(), micros: now.duration_since(self.last).as_micros() as u64 });
        self.last = now;
    }

    /// The phase that ends now was timed inside, as `inner` (the helper's): those, each named
    /// with `prefix`, and `rest` for what they leave out (starting the helper, its reply).
    pub fn nested(&mut self, prefix: &str, rest: &str, inner: Vec<Phase>) {
        let now = std::time::Instant::now();
        let whole = now.duration_since(self.last).as_micros() as u64;
        let timed: u64 = inner.iter().map(|p| p.micros).sum();
        self.phases.push(Phase { step: format!("{prefix}{rest}"), micros: whole.saturating_sub(timed) });
        self.phases.extend(inner.into_iter().map(|p| Phase { step: format!("{prefix}{}", p.step), ..p }));
        self.last = now;
    }

    /// Takes over `phases`, timed by a copy of this stopwatch in a child process (`fork` copies
    /// it): the next phase begins where they end.
    pub fn resume(&mut self, phases: Vec<Phase>) {
        self.last += std::time::Duration::from_micros(phases.iter().map(|p| p.micros).sum());
        self.phases.extend(phases);
    }

    pub fn phases(self) -> Vec<Phase> {
        self.phases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_phase_is_split_into_the_inner_ones_and_the_rest() {
        let mut clock = Stopwatch::default();
        clock.mark("first");
        std::thread::sleep(std::time::Duration::from_millis(5));
        clock.nested("helper: ", "exec", vec![Phase { step: "mount".into(), micros: 1000 }]);
        let phases = clock.phases();
        let steps: Vec<&str> = phases.iter().map(|p| p.step.as_str()).collect();
        assert_eq!(steps, ["first", "helper: exec", "helper: mount"]);
        assert!(phases[1].micros >= 3_000, "5 ms in all, 1 ms of it timed inside: {phases:?}");
        assert_eq!(phases[2].micros, 1000);
    }

    #[test]
    fn phases_timed_by_a_copy_are_taken_over_and_the_next_begins_where_they_end() {
        let mut clock = Stopwatch::default();
        let start = clock.last;
        clock.resume(vec![Phase { step: "builder".into(), micros: 2_000 }]);
        assert_eq!(clock.last, start + std::time::Duration::from_millis(2));
        clock.mark("after");
        let phases = clock.phases();
        assert_eq!(phases.iter().map(|p| p.step.as_str()).collect::<Vec<_>>(), ["builder", "after"]);
    }
}
