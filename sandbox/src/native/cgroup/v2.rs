//! cgroup v2: one tree. Processes may only sit in leaves once a group hands controllers to its
//! children, so a sandbox's processes live in `<name>/learner/init` and the learner's own
//! cgroups become its siblings (`mkdir /sys/fs/cgroup/demo` inside works as the workshop shows).

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;

const CONTROLLERS: &str = "+memory +pids +cpu";

pub struct V2 {
    mount: PathBuf,
    /// Below the mount: where the server's directory goes ("" for the top).
    parent: PathBuf,
    root: String,
}

impl V2 {
    pub fn new(mount: PathBuf, parent: PathBuf, root: String) -> Self {
        Self { mount, parent, root }
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
        ensure_dir(&learner)?;
        ensure_dir(&init)?;
        ensure_dir(&dir.join(CHECKS))?;
        // A bound on what the learner makes below: these files stay the host root's.
        write(&learner.join("cgroup.max.descendants"), &MAX_LEARNER_GROUPS.to_string())?;
        write(&learner.join("cgroup.max.depth"), &MAX_LEARNER_DEPTH.to_string())?;
        // Delegation, as cgroups(7) describes it: the directory and the files that move
        // processes and hand out controllers; never the limit files.
        for group in [&learner, &init] {
            for path in [group.clone(), group.join("cgroup.procs"), group.join("cgroup.subtree_control"), group.join("cgroup.threads")] {
                chown(&path, owner)?;
            }
        }
        // Join the learner's group so the cgroup namespace is rooted there, then move to the
        // leaf, then (the group now empty) hand controllers to its children.
        let wanted = Self::offered(&learner);
        Ok(JoinPlan {
            before_ns: vec![learner.join("cgroup.procs")],
            after_ns: vec![init.join("cgroup.procs")],
            then_write: if wanted.is_empty() { Vec::new() } else { vec![(learner.join("cgroup.subtree_control"), wanted.join(" "))] },
        })
    }

    fn shell_files(&self, name: &str) -> Vec<PathBuf> {
        vec![self.dir(name).join(LEARNER).join(INIT).join("cgroup.procs")]
    }

    fn create_exec(&self, name: &str) -> io::Result<(String, Vec<PathBuf>)> {
        let rel = format!("{name}/{CHECKS}/{}", exec_group());
        let dir = self.dir(&rel);
        create_new_dir(&dir)?;
        Ok((rel, vec![dir.join("cgroup.procs")]))
    }

    fn kill(&self, rel: &str, spare: Option<i32>) -> io::Result<()> {
        let dir = self.dir(rel);
        if !dir.exists() {
            return Ok(());
        }
        if spare.is_none() && dir.join("cgroup.kill").exists() {
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
        kill_frozen(&dir, spare, &freeze)
    }

    fn remove(&self, rel: &str) -> io::Result<()> {
        remove_tree(&self.dir(rel))
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
