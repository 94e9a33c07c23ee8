//! cgroup v1: one directory per hierarchy. Limits go to the controller that owns them; the
//! freezer makes "kill everything" race-free against a fork bomb.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;

pub struct Hierarchy {
    mount: PathBuf,
    /// Controllers (and `name=...`) from the mount's super options.
    controllers: Vec<String>,
}

impl Hierarchy {
    pub fn new(mount: PathBuf, super_options: String) -> Self {
        let controllers = super_options
            .split(',')
            .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("release_agent") && !o.starts_with("clone_children"))
            .map(str::to_string)
            .collect();
        Self { mount, controllers }
    }

    fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    fn dir(&self, root: &str, rel: &str) -> PathBuf {
        self.mount.join(root).join(rel)
    }
}

pub struct V1 {
    hierarchies: Vec<Hierarchy>,
    root: String,
}

impl V1 {
    pub fn new(hierarchies: Vec<Hierarchy>, root: String) -> Self {
        Self { hierarchies, root }
    }

    fn find(&self, controller: &str) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| h.has(controller))
    }

    /// cpuset starts empty in a new v1 cgroup, which refuses tasks: copy the parent's.
    fn init_cpuset(dir: &Path) -> io::Result<()> {
        let parent = dir.parent().unwrap_or(dir);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let current = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            if current.trim().is_empty() {
                let value = std::fs::read_to_string(parent.join(file))?;
                write(&dir.join(file), value.trim())?;
            }
        }
        Ok(())
    }

    fn make(&self, h: &Hierarchy, dir: &Path) -> io::Result<()> {
        ensure_dir(dir)?;
        if h.has("cpuset") {
            Self::init_cpuset(dir)?;
        }
        Ok(())
    }
}

impl CgroupDriver for V1 {
    fn version(&self) -> u8 {
        1
    }

    fn create_sandbox(&self, name: &str, limits: &Limits, owner: u32) -> io::Result<JoinPlan> {
        let mut plan = JoinPlan::default();
        for h in &self.hierarchies {
            self.make(h, &h.mount.join(&self.root))?;
            let dir = h.dir(&self.root, name);
            self.make(h, &dir)?;
            if h.has("memory") {
                write(&dir.join("memory.limit_in_bytes"), &limits.memory_bytes.to_string())?;
                // No swap beyond the limit, where swap accounting exists.
                let memsw = dir.join("memory.memsw.limit_in_bytes");
                if memsw.exists() {
                    write(&memsw, &limits.memory_bytes.to_string())?;
                }
            }
            if h.has("pids") {
                write(&dir.join("pids.max"), &limits.pids.to_string())?;
            }
            if h.has("cpu") {
                write(&dir.join("cpu.cfs_period_us"), "100000")?;
                write(&dir.join("cpu.cfs_quota_us"), &(u64::from(limits.cpu_millis) * 100).to_string())?;
            }
            // Delegation: the sandbox's root may add cgroups below and move its processes
            // between them; the limit files above stay the host root's.
            chown(&dir, owner)?;
            for file in ["cgroup.procs", "tasks"] {
                chown(&dir.join(file), owner)?;
            }
            plan.before_ns.push(dir.join("cgroup.procs"));
        }
        Ok(plan)
    }

    fn shell_files(&self, name: &str) -> Vec<PathBuf> {
        self.hierarchies.iter().map(|h| h.dir(&self.root, name).join("cgroup.procs")).collect()
    }

    fn create_exec(&self, name: &str, exec: &str) -> io::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for h in &self.hierarchies {
            let dir = h.dir(&self.root, name).join(exec);
            self.make(h, &dir)?;
            files.push(dir.join("cgroup.procs"));
        }
        Ok(files)
    }

    fn kill(&self, rel: &str, spare: Option<i32>) -> io::Result<()> {
        let Some(any) = self.find("pids").or(self.find("freezer")).or(self.hierarchies.first()) else {
            return Ok(());
        };
        let dir = any.dir(&self.root, rel);
        if !dir.exists() {
            return Ok(());
        }
        let freezer = self.find("freezer").map(|h| h.dir(&self.root, rel)).filter(|d| d.exists());
        let freeze = |on: bool| -> io::Result<()> {
            let Some(f) = &freezer else { return Err(io::Error::other("no freezer")) };
            write(&f.join("freezer.state"), if on { "FROZEN" } else { "THAWED" })?;
            if on {
                let deadline = Instant::now() + Duration::from_secs(2);
                while std::fs::read_to_string(f.join("freezer.state")).unwrap_or_default().trim() != "FROZEN" && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            Ok(())
        };
        kill_frozen(&dir, spare, &freeze)
    }

    fn remove(&self, rel: &str) -> io::Result<()> {
        for h in &self.hierarchies {
            remove_tree(&h.dir(&self.root, rel))?;
        }
        Ok(())
    }

    fn pids(&self, rel: &str) -> io::Result<Vec<i32>> {
        match self.find("pids").or(self.hierarchies.first()) {
            Some(h) => tree_pids(&h.dir(&self.root, rel)),
            None => Ok(Vec::new()),
        }
    }

    fn usage(&self, name: &str) -> Usage {
        let mut usage = Usage::default();
        if let Some(h) = self.find("memory") {
            usage.memory_bytes = read_u64(&h.dir(&self.root, name).join("memory.usage_in_bytes")).unwrap_or(0);
            usage.memory_limit_bytes = read_u64(&h.dir(&self.root, name).join("memory.limit_in_bytes")).unwrap_or(0);
        }
        if let Some(h) = self.find("pids") {
            usage.pids = read_u64(&h.dir(&self.root, name).join("pids.current")).unwrap_or(0);
        }
        if let Some(h) = self.find("cpuacct") {
            usage.cpu = Duration::from_nanos(read_u64(&h.dir(&self.root, name).join("cpuacct.usage")).unwrap_or(0));
        }
        usage
    }

    fn sandboxes(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .hierarchies
            .iter()
            .flat_map(|h| subdirs(&h.mount.join(&self.root)))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn remove_root(&self) -> io::Result<()> {
        for h in &self.hierarchies {
            let dir = h.mount.join(&self.root);
            if dir.exists() && subdirs(&dir).is_empty() {
                std::fs::remove_dir(&dir)?;
            }
        }
        Ok(())
    }

    fn inner_mounts(&self) -> Vec<InnerMount> {
        let mut mounts = vec![InnerMount { subdir: String::new(), fstype: "tmpfs".into(), options: "mode=755".into() }];
        for h in &self.hierarchies {
            let Some(subdir) = h.mount.file_name() else { continue };
            mounts.push(InnerMount {
                subdir: subdir.to_string_lossy().into_owned(),
                fstype: "cgroup".into(),
                options: h.controllers.join(","),
            });
        }
        mounts
    }
}
