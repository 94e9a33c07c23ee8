//! cgroup v2: one tree. Processes may only sit in leaves once a group hands controllers to its
//! children, so a sandbox's processes live in `<name>/init` and the learner's own cgroups become
//! its siblings (`mkdir /sys/fs/cgroup/demo` inside works as the workshop shows).

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;

const CONTROLLERS: &str = "+memory +pids +cpu";

pub struct V2 {
    mount: PathBuf,
    root: String,
}

impl V2 {
    pub fn new(mount: PathBuf, root: String) -> Self {
        Self { mount, root }
    }

    fn dir(&self, rel: &str) -> PathBuf {
        self.mount.join(&self.root).join(rel)
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
        Self::delegate_controllers(&self.mount)?;
        let root = self.mount.join(&self.root);
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
        let init = dir.join("init");
        ensure_dir(&init)?;
        // Delegation, as cgroups(7) describes it: the directory and the files that move
        // processes and hand out controllers; never the limit files.
        for path in [&dir, &dir.join("cgroup.procs"), &dir.join("cgroup.subtree_control"), &dir.join("cgroup.threads")] {
            chown(path, owner)?;
        }
        for path in [&init, &init.join("cgroup.procs"), &init.join("cgroup.subtree_control"), &init.join("cgroup.threads")] {
            chown(path, owner)?;
        }
        // Join the sandbox's group so the cgroup namespace is rooted there, then move to the
        // leaf, then (the group now empty) hand controllers to its children.
        let wanted = Self::offered(&dir);
        Ok(JoinPlan {
            before_ns: vec![dir.join("cgroup.procs")],
            after_ns: vec![init.join("cgroup.procs")],
            then_write: if wanted.is_empty() { Vec::new() } else { vec![(dir.join("cgroup.subtree_control"), wanted.join(" "))] },
        })
    }

    fn shell_files(&self, name: &str) -> Vec<PathBuf> {
        vec![self.dir(name).join("init").join("cgroup.procs")]
    }

    fn create_exec(&self, name: &str, exec: &str) -> io::Result<Vec<PathBuf>> {
        let dir = self.dir(name).join(exec);
        ensure_dir(&dir)?;
        Ok(vec![dir.join("cgroup.procs")])
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
        let mut names: Vec<String> = subdirs(&self.mount.join(&self.root))
            .into_iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names
    }

    fn remove_root(&self) -> io::Result<()> {
        let dir = self.mount.join(&self.root);
        if dir.exists() && subdirs(&dir).is_empty() {
            std::fs::remove_dir(&dir)?;
        }
        Ok(())
    }

    fn inner_mounts(&self) -> Vec<InnerMount> {
        vec![InnerMount { subdir: String::new(), fstype: "cgroup2".into(), options: String::new() }]
    }
}
