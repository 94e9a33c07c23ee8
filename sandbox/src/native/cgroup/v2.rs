//! cgroup v2: one tree. Processes may only sit in leaves once a group hands controllers to its
//! children, so a sandbox's processes live in leaves below `<name>/learner` and the learner's
//! own cgroups become their siblings (`mkdir /sys/fs/cgroup/demo` inside works as the workshop
//! shows): its pid 1 in `init.scope`, the name systemd gives its own group (so that systemd as
//! the init takes the namespace's root for its tree, not a group below it), the learner's
//! shells in `init`.
//!
//! The server's commands run beside them too, each in a group of the host's below the learner's
//! (`<name>/learner/.check-<random>`): v2 lets a process move a process only if it may write
//! `cgroup.procs` of the two groups' common ancestor (and, with `nsdelegate`, only within its
//! cgroup namespace), and a container runtime a check starts moves its container into a group it
//! made in the sandbox's tree. From a group outside the learner's, that move fails (crun:
//! EACCES/ENOENT writing `cgroup.procs`); from one inside, the ancestor is the learner's own.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;

/// Where a sandbox's pid 1 runs, below the learner's group.
const INIT_SCOPE: &str = "init.scope";
const CONTROLLERS: &str = "+memory +pids +cpu";
/// How the server's command groups start among the learner's: hidden from a plain `ls`, and a
/// learner's group of that name is only ever theirs (ours are made new, under a random name).
pub const CHECK_PREFIX: &str = ".check-";
/// Room above the learner's bound for the server's commands: a learner who has made every
/// group they may still gets their checks run, and the bound is never lifted further.
pub const CHECK_ROOM: u32 = 16;

pub struct V2 {
    mount: PathBuf,
    /// Below the mount: where the server's directory goes ("" for the top).
    parent: PathBuf,
    root: String,
    /// Held while the learner's bound is raised for a command's group or lowered after it, so
    /// that two commands starting at once do not undo each other's room.
    room: Mutex<()>,
}

impl V2 {
    pub fn new(mount: PathBuf, parent: PathBuf, root: String) -> Self {
        Self { mount, parent, root, room: Mutex::new(()) }
    }

    fn base(&self) -> PathBuf {
        self.mount.join(&self.parent).join(&self.root)
    }

    fn dir(&self, rel: &str) -> PathBuf {
        self.base().join(rel)
    }

    /// The controllers of `CONTROLLERS` that `dir`'s parent offers it, as "+name" words.
    fn offered(dir: &std::path::Path) -> Vec<&'static str> {
        let offered = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
        CONTROLLERS.split(' ').filter(|c| offered.split_whitespace().any(|o| o == &c[1..])).collect()
    }

    /// Hands those controllers on to `dir`'s children.
    fn delegate_controllers(dir: &std::path::Path) -> io::Result<()> {
        let wanted = Self::offered(dir);
        if wanted.is_empty() {
            return Ok(());
        }
        write(&dir.join("cgroup.subtree_control"), &wanted.join(" "))
    }
}

impl CgroupDriver for V2 {
    fn version(&self) -> u8 {
        2
    }

    fn create_sandbox(&self, name: &str, limits: &Limits, owner: u32) -> io::Result<JoinPlan> {
        // The controllers, from the level that is ours: the top of the tree, or the parent a
        // systemd unit delegates (systemd enables them on the path down to it, and its own
        // process sits in a leaf of its own there).
        Self::delegate_controllers(&self.mount.join(&self.parent))?;
        let root = self.base();
        ensure_dir(&root)?;
        Self::delegate_controllers(&root)?;
        let dir = self.dir(name);
        ensure_dir(&dir)?;
        write(&dir.join("memory.max"), &limits.memory_bytes.to_string())?;
        if dir.join("memory.swap.max").exists() {
            write(&dir.join("memory.swap.max"), "0")?;
        }
        write(&dir.join("pids.max"), &limits.pids.to_string())?;
        write(&dir.join("cpu.max"), &format!("{} 100000", u64::from(limits.cpu_millis) * 100))?;
        // The sandbox's group holds no process itself (its children do), so it hands the
        // controllers on: the learner's group and the checks' are limited within it.
        Self::delegate_controllers(&dir)?;
        let learner = dir.join(LEARNER);
        let init = learner.join(INIT);
        let scope = learner.join(INIT_SCOPE);
        ensure_dir(&learner)?;
        ensure_dir(&init)?;
        ensure_dir(&scope)?;
        // A bound on what the learner makes below: these files stay the host root's.
        write(&learner.join("cgroup.max.descendants"), &MAX_LEARNER_GROUPS.to_string())?;
        write(&learner.join("cgroup.max.depth"), &MAX_LEARNER_DEPTH.to_string())?;
        // Delegation, as cgroups(7) describes it: the directory and the files that move
        // processes and hand out controllers; never the limit files.
        for group in [&learner, &init, &scope] {
            for path in [group.clone(), group.join("cgroup.procs"), group.join("cgroup.subtree_control"), group.join("cgroup.threads")] {
                chown(&path, owner)?;
            }
        }
        // The builder is born in the learner's group, so the cgroup namespace is rooted there,
        // and init in its leaf; then (the builder gone) the group hands controllers on.
        let wanted = Self::offered(&learner);
        Ok(JoinPlan {
            born_in: Some(learner.clone()),
            tasks: Vec::new(),
            init_in: Some(scope),
            then_write: if wanted.is_empty() { Vec::new() } else { vec![(learner.join("cgroup.subtree_control"), wanted.join(" "))] },
        })
    }

    fn shell_entry(&self, name: &str) -> Entry {
        Entry { born_in: Some(self.dir(name).join(LEARNER).join(INIT)), tasks: Vec::new() }
    }

    fn create_exec(&self, name: &str) -> io::Result<(String, Entry)> {
        let learner = self.dir(name).join(LEARNER);
        let _room = self.room.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..4 {
            let rel = format!("{name}/{LEARNER}/{CHECK_PREFIX}{}", exec_group());
            let dir = self.dir(&rel);
            set_bound(&learner, 1)?;
            match create_new_dir(&dir) {
                Ok(()) => return Ok((rel, Entry { born_in: Some(dir), tasks: Vec::new() })),
                // EAGAIN: the learner made a group in the moment between (they keep it, but
                // gain no room by it: the next bound is computed anew); room once more.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    let _ = set_bound(&learner, 0);
                    return Err(e);
                }
            }
        }
        let _ = set_bound(&learner, 0);
        Err(io::Error::other("the learner's cgroups took the room made for a command, four times over"))
    }

    fn kill(&self, rel: &str) -> io::Result<()> {
        let dir = self.dir(rel);
        if !dir.exists() {
            return Ok(());
        }
        if dir.join("cgroup.kill").exists() {
            // Atomic for the whole subtree, forks included (Linux 5.14+).
            write(&dir.join("cgroup.kill"), "1")?;
        }
        let freeze = |on: bool| -> io::Result<()> {
            write(&dir.join("cgroup.freeze"), if on { "1" } else { "0" })?;
            if on {
                let deadline = Instant::now() + Duration::from_secs(2);
                while !std::fs::read_to_string(dir.join("cgroup.events")).unwrap_or_default().contains("frozen 1")
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            Ok(())
        };
        kill_frozen(&dir, &freeze)
    }

    fn remove(&self, rel: &str) -> io::Result<()> {
        let dir = self.dir(rel);
        let Some(learner) = dir.parent().filter(|_| is_command_group(&dir)) else {
            return remove_tree(&dir);
        };
        let _room = self.room.lock().unwrap_or_else(|p| p.into_inner());
        remove_tree(&dir)?;
        set_bound(learner, 0)
    }

    fn remove_idle_commands(&self, name: &str) {
        let learner = self.dir(name).join(LEARNER);
        let _room = self.room.lock().unwrap_or_else(|p| p.into_inner());
        for group in ours(&learner) {
            // rmdir fails on a group with processes in it (or groups below): those stay.
            let _ = std::fs::remove_dir(group);
        }
        let _ = set_bound(&learner, 0);
    }

    fn pids(&self, rel: &str) -> io::Result<Vec<i32>> {
        tree_pids(&self.dir(rel))
    }

    fn usage(&self, name: &str) -> Usage {
        let dir = self.dir(name);
        let cpu_usec = std::fs::read_to_string(dir.join("cpu.stat"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec ").and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0);
        Usage {
            memory_bytes: read_u64(&dir.join("memory.current")).unwrap_or(0),
            memory_limit_bytes: read_u64(&dir.join("memory.max")).unwrap_or(0),
            pids: read_u64(&dir.join("pids.current")).unwrap_or(0),
            cpu: Duration::from_micros(cpu_usec),
        }
    }

    fn sandboxes(&self) -> Vec<String> {
        let mut names: Vec<String> =
            subdirs(&self.base()).into_iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
        names.sort();
        names
    }

    fn remove_root(&self) -> io::Result<()> {
        let dir = self.base();
        if dir.exists() && subdirs(&dir).is_empty() {
            std::fs::remove_dir(&dir)?;
        }
        Ok(())
    }

    fn inner_mounts(&self) -> Vec<InnerMount> {
        vec![InnerMount { subdir: String::new(), fstype: "cgroup2".into(), options: String::new() }]
    }
}

/// A group the server made for a command (`<learner>/.check-<random>`).
fn is_command_group(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with(CHECK_PREFIX))
        && dir.parent().and_then(Path::file_name).is_some_and(|n| n == LEARNER)
}

/// Groups below `learner` now (dying ones do not count against the bound).
fn descendants(learner: &Path) -> io::Result<u32> {
    let stat = std::fs::read_to_string(learner.join("cgroup.stat"))
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", learner.join("cgroup.stat").display())))?;
    stat.lines()
        .find_map(|l| l.strip_prefix("nr_descendants ")?.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no nr_descendants in {}", learner.join("cgroup.stat").display())))
}

/// The server's command groups in `learner` now: named so and the host root's (a group the
/// learner makes is their uid's, whatever they name it).
fn ours(learner: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    subdirs(learner)
        .into_iter()
        .filter(|d| d.file_name().is_some_and(|n| n.to_string_lossy().starts_with(CHECK_PREFIX)))
        .filter(|d| std::fs::metadata(d).is_ok_and(|m| m.uid() == uid))
        .collect()
}

/// How many of the server's command groups are in `learner` now.
fn commands_in(learner: &Path) -> u32 {
    u32::try_from(ours(learner).len()).unwrap_or(u32::MAX)
}

/// Sets how many groups may be below `learner`: the learner's own `MAX_LEARNER_GROUPS` plus
/// the server's command groups there, and `making` more about to be made. Computed anew each
/// time (never raised or lowered by steps), so a learner gains nothing to keep by making a group
/// while room is made or by removing one of ours. While making one, the learner may hold more
/// than their bound (made in such a moment): room is made past them, but never beyond
/// `MAX_LEARNER_GROUPS + CHECK_ROOM` groups in all.
fn set_bound(learner: &Path, making: u32) -> io::Result<()> {
    let file = learner.join("cgroup.max.descendants");
    if read_u64(&file).is_none() {
        return Ok(()); // No bound to keep ("max", or no such file).
    }
    let mut bound = MAX_LEARNER_GROUPS + commands_in(learner) + making;
    if making > 0 {
        let now = descendants(learner)?;
        if now >= MAX_LEARNER_GROUPS + CHECK_ROOM {
            return Err(io::Error::other(format!(
                "the sandbox holds {now} cgroups, the most it may: the learner has to remove some (rmdir in /sys/fs/cgroup)"
            )));
        }
        bound = bound.max(now + making).min(MAX_LEARNER_GROUPS + CHECK_ROOM);
    }
    write(&file, &bound.to_string())
}
