//! Cgroups for sandboxes, v1 (these build machines) and v2 (most real hosts) behind one trait.
//!
//! Every sandbox gets `stacklab/<name>` (the root name is configurable) under each hierarchy,
//! the host root's, with its limits there. Below it:
//! - `learner/`, delegated to the sandbox's root and the root of its cgroup namespace: its
//!   processes live there (on v2 in leaves below it, see `v2.rs`), and the learner makes their
//!   own cgroups beside them (Demo 3) but never reaches the sandbox's limits;
//! - each command the server runs inside (a check, a setup) gets a group of its own, made
//!   exclusively under a random name, so a timeout can kill all it started and the learner can
//!   neither pre-create nor freeze it (a frozen group would hold the server's process start until
//!   the learner let go). On v1 these sit in `checks/`, the host root's and out of the learner's
//!   sight; on v2 below `learner/` (see `v2.rs` for why), with files the learner cannot write.

#[cfg(test)]
mod driver_tests;
mod v1;
mod v2;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::spec::Limits;

/// Where the server's sandboxes live in every hierarchy, unless configured otherwise.
pub const DEFAULT_ROOT: &str = "stacklab";
/// A sandbox's group delegated to its root (its cgroup namespace's root).
pub const LEARNER: &str = "learner";
/// Where the learner's shells run, below `LEARNER` (v2).
pub const INIT: &str = "init";
/// The server's groups for commands it runs in the sandbox on cgroup v1 (never delegated).
pub const CHECKS: &str = "checks";
/// Groups a learner may make below theirs (the host has 65535 of some kinds in all), and how
/// deep (cgroup v2's own bounds; v1 has none).
pub const MAX_LEARNER_GROUPS: u32 = 64;
pub const MAX_LEARNER_DEPTH: u32 = 4;

/// A fresh name for a command's group: unguessable, and made with `create_new_dir` so that an
/// existing group of that name is an error, never reused.
fn exec_group() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// `mkdir` that fails if the directory exists (it must be ours, made now).
fn create_new_dir(path: &Path) -> io::Result<()> {
    fs::create_dir(path).map_err(|e| io::Error::new(e.kind(), format!("mkdir {}: {e}", path.display())))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|e| io::Error::new(e.kind(), format!("chmod {}: {e}", path.display())))
}

/// How a sandbox's processes get into its groups, in the order the helper needs. Nothing is
/// *moved* by writing `cgroup.procs`: that takes the kernel's global threadgroup lock as a
/// writer, which on a quiet host first waits out an RCU grace period (6–15 ms each start).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinPlan {
    /// cgroup2 (v2, or a hybrid host's unified tree): the group the builder is born in
    /// (`CLONE_INTO_CGROUP`), where the sandbox's cgroup namespace is then rooted.
    pub born_in: Option<PathBuf>,
    /// v1 `tasks` files the builder writes `0` to before anything else: that moves only the
    /// calling thread, without the global lock, and the builder is single-threaded.
    pub tasks: Vec<PathBuf>,
    /// v2: the group below `born_in` init is born in (the learner's group may then hand on
    /// controllers, which a group holding a process itself cannot).
    pub init_in: Option<PathBuf>,
    /// Written once the builder has gone and before init runs, as (path, value).
    pub then_write: Vec<(PathBuf, String)>,
}

/// How a process the server starts in a running sandbox (a shell, a command, the check agent)
/// gets into its groups, as the builder does (`JoinPlan`): never moved with `cgroup.procs`,
/// which would cost each terminal a learner opens an RCU grace period (5–15 ms) on a quiet host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// cgroup2 (v2, or a hybrid host's unified tree): the group it is born in
    /// (`CLONE_INTO_CGROUP`).
    pub born_in: Option<PathBuf>,
    /// v1 `tasks` files it writes `0` to between fork and exec (it is single-threaded there).
    pub tasks: Vec<PathBuf>,
}

/// A cgroup filesystem to mount inside the sandbox, relative to its /sys/fs/cgroup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerMount {
    /// "" for /sys/fs/cgroup itself.
    pub subdir: String,
    pub fstype: String,
    pub options: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    pub pids: u64,
    pub cpu: Duration,
}

pub trait CgroupDriver: Send + Sync {
    fn version(&self) -> u8;

    /// Makes `<root>/<name>` with `limits`, delegated to host uid `owner`.
    fn create_sandbox(&self, name: &str, limits: &Limits, owner: u32) -> io::Result<JoinPlan>;

    /// How a shell enters the sandbox's groups (the learner's, where their own processes are).
    fn shell_entry(&self, name: &str) -> Entry;

    /// Makes a new group for one command in sandbox `name`; its path below the root (for
    /// `kill` and `remove`) and how a process enters it (as `shell_entry`).
    fn create_exec(&self, name: &str) -> io::Result<(String, Entry)>;

    /// SIGKILLs every process in `<root>/<rel>` and below, and waits until they are gone.
    fn kill(&self, rel: &str) -> io::Result<()>;

    /// Removes `<root>/<rel>` and everything below it (kill first).
    fn remove(&self, rel: &str) -> io::Result<()>;

    /// Removes the empty command groups of sandbox `name`: what an earlier server process's
    /// commands and check agent left (a command told to leave its daemons running keeps its
    /// group, and its processes, as they were).
    fn remove_idle_commands(&self, name: &str);

    /// Host pids of every process in `<root>/<rel>` and below.
    fn pids(&self, rel: &str) -> io::Result<Vec<i32>>;

    fn usage(&self, name: &str) -> Usage;

    /// Names of the sandbox groups that exist (left from an earlier run or current).
    fn sandboxes(&self) -> Vec<String>;

    /// The cgroup filesystems to mount inside a sandbox.
    fn inner_mounts(&self) -> Vec<InnerMount>;

    /// Removes `<root>` itself if no sandbox is left in it (tests use their own roots).
    fn remove_root(&self) -> io::Result<()>;
}

/// The host's cgroup setup, read from /proc/self/mountinfo; sandboxes go under `root` (one
/// directory name) in every hierarchy, below `parent` (a relative path, "" for the top; cgroup
/// v2 only, where systemd delegates a unit's cgroup).
pub fn detect(parent: &str, root: &str) -> io::Result<Box<dyn CgroupDriver>> {
    if root.is_empty() || root.contains('/') || root.starts_with('.') {
        return Err(io::Error::other(format!("invalid cgroup root {root:?}")));
    }
    let parent = parent.trim_matches('/');
    if !parent.is_empty() && parent.split('/').any(|part| part.is_empty() || part.starts_with('.')) {
        return Err(io::Error::other(format!("invalid cgroup parent {parent:?}: a path below the hierarchy's top, without '.' or '..'")));
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
    let mounts = parse_mountinfo(&mountinfo);
    let mut v1: Vec<v1::Hierarchy> =
        visible_v1(&mounts).map(|m| v1::Hierarchy::new(m.mount_point.clone(), m.super_options.clone())).collect();
    if !v1.is_empty() {
        // Hybrid: the unified tree beside them.
        if let Some(m) = mounts.iter().rev().find(|m| m.fstype == "cgroup2") {
            v1.push(v1::Hierarchy::unified(m.mount_point.clone()));
        }
        if !parent.is_empty() {
            return Err(io::Error::other(format!(
                "--sandbox-cgroup-parent {parent:?} is for cgroup v2 hosts (a unit systemd delegates); this host has cgroup v1: leave it empty"
            )));
        }
        return Ok(Box::new(v1::V1::new(v1, root.to_string())));
    }
    if let Some(m) = mounts.iter().find(|m| m.fstype == "cgroup2") {
        let base = m.mount_point.join(parent);
        // The parent is someone else's (systemd's unit): never made here, only used.
        if !base.is_dir() {
            return Err(io::Error::other(format!(
                "the cgroup parent {} does not exist: is the unit that delegates it (stacklab-sandboxes.service) running?",
                base.display()
            )));
        }
        return Ok(Box::new(v2::V2::new(m.mount_point.clone(), parent.into(), root.to_string())));
    }
    Err(io::Error::new(io::ErrorKind::NotFound, "no cgroup filesystem is mounted"))
}

/// The cgroup v1 hierarchies as seen here, each once. In a container whose `/sys/fs/cgroup` is
/// the host's bound over the runtime's own (`docker run --cgroupns=host -v
/// /sys/fs/cgroup:/sys/fs/cgroup`), mountinfo lists both, the hidden ones first: a later mount at
/// the same place, or of the same hierarchy, replaces an earlier one.
fn visible_v1(mounts: &[MountEntry]) -> impl Iterator<Item = &MountEntry> {
    let mut visible: Vec<&MountEntry> = Vec::new();
    for m in mounts.iter().filter(|m| m.fstype == "cgroup") {
        visible.retain(|v| v.mount_point != m.mount_point && v.super_options != m.super_options);
        visible.push(m);
    }
    visible.into_iter()
}

#[derive(Debug, PartialEq)]
struct MountEntry {
    mount_point: PathBuf,
    fstype: String,
    super_options: String,
}

fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?;
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let _source = right.next()?;
            let super_options = right.next().unwrap_or("");
            Some(MountEntry {
                mount_point: PathBuf::from(unescape_octal(mount_point)),
                fstype: fstype.to_string(),
                super_options: super_options.to_string(),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\NNN`.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8)
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    fs::write(path, value).map_err(|e| io::Error::new(e.kind(), format!("writing {value:?} to {}: {e}", path.display())))
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn chown(path: &Path, uid: u32) -> io::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).map_err(|e| io::Error::new(e.kind(), format!("chown {}: {e}", path.display())))
}

/// mkdir that tolerates an existing directory.
/// Makes a cgroup directory searchable by everyone (0755) whatever the server's umask: a
/// sandbox's root, an unprivileged host uid, must walk through the server's directory to the
/// group delegated to it.
fn ensure_dir(path: &Path) -> io::Result<()> {
    match fs::create_dir(path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(io::Error::new(e.kind(), format!("mkdir {}: {e}", path.display()))),
        Err(_) => Ok(()),
        Ok(()) => {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(path, fs::Permissions::from_mode(0o755))
                .map_err(|e| io::Error::new(e.kind(), format!("chmod {}: {e}", path.display())))
        }
    }
}

/// Kills what is in `dir` with the group frozen, so nothing forks in between: `freeze` and
/// `thaw` write the freezer's files. Returns once nothing is left.
fn kill_frozen(dir: &Path, freeze: &dyn Fn(bool) -> io::Result<()>) -> io::Result<()> {
    // The last process of a sandbox unmounts its file systems as it exits: with a cluster's
    // container layers in them, seconds of writes on a busy disk (seen: over 10 s in CI, the
    // sandbox's init still running its exit). The sandbox is not gone before that.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let frozen = freeze(true).is_ok();
        let pids = tree_pids(dir)?;
        kill_pids(&pids);
        if frozen {
            // SIGKILL is delivered once the tasks thaw.
            let _ = freeze(false);
        }
        if pids.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(io::Error::other(format!("processes in {} survive SIGKILL", dir.display())));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every pid listed in `cgroup.procs` of `dir` and its descendants.
fn tree_pids(dir: &Path) -> io::Result<Vec<i32>> {
    let mut pids = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        match fs::read_to_string(d.join("cgroup.procs")) {
            Ok(text) => pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
        stack.extend(subdirs(&d));
    }
    Ok(pids)
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect()
}

/// Removes `dir` and its sub-cgroups, deepest first. A cgroup whose last process is still being
/// torn down answers EBUSY for a moment, so retry briefly.
fn remove_tree(dir: &Path) -> io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for child in subdirs(dir) {
        remove_tree(&child)?;
    }
    let mut delay = Duration::from_millis(1);
    for _ in 0..50 {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Err(io::Error::new(e.kind(), format!("rmdir {}: {e}", dir.display()))),
        }
    }
    Err(io::Error::other(format!("rmdir {}: still busy", dir.display())))
}

fn kill_pids(pids: &[i32]) {
    for &pid in pids {
        // SAFETY: plain kill(2); a pid that has gone away in the meantime gives ESRCH.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mountinfo() {
        let text = "\
30 24 0:26 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
32 30 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
33 24 0:29 / /mnt/with\\040space rw - ext4 /dev/sda rw";
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 4);
        assert_eq!(m[1].mount_point, PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(m[1].fstype, "cgroup");
        assert_eq!(m[1].super_options, "rw,memory");
        assert_eq!(m[3].mount_point, PathBuf::from("/mnt/with space"));
    }

    #[test]
    fn a_container_sees_each_hierarchy_once() {
        // `docker run --cgroupns=host -v /sys:/sys` on a cgroup v1 host: the runtime's read-only
        // mounts of the container's own cgroups, then the host's, bound over them.
        let text = "\
85 81 0:45 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755
86 85 0:29 /docker/f023 /sys/fs/cgroup/cpu ro,nosuid - cgroup cgroup rw,cpu
89 85 0:32 /docker/f023 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
98 97 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
99 98 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
102 98 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
103 24 0:32 / /mnt/memory-again rw - cgroup cgroup rw,memory
108 98 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";
        let mounts = parse_mountinfo(text);
        let seen: Vec<(String, &str)> =
            visible_v1(&mounts).map(|m| (m.mount_point.display().to_string(), m.super_options.as_str())).collect();
        assert_eq!(seen, [("/sys/fs/cgroup/cpu".to_string(), "rw,cpu"), ("/mnt/memory-again".to_string(), "rw,memory")]);
    }
}
