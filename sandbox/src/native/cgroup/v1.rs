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
    /// The cgroup2 tree a hybrid host mounts beside the v1 ones (no controllers of its own):
    /// a sandbox is put in a group of its own there too, so that its cgroup namespace is
    /// rooted there and a cgroup2 mount inside shows the sandbox's groups, not the host's.
    unified: bool,
}

impl Hierarchy {
    pub fn new(mount: PathBuf, super_options: String) -> Self {
        let controllers = super_options
            .split(',')
            .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("release_agent") && !o.starts_with("clone_children"))
            .map(str::to_string)
            .collect();
        Self { mount, controllers, unified: false }
    }

    pub fn unified(mount: PathBuf) -> Self {
        Self { mount, controllers: Vec::new(), unified: true }
    }

    /// The files of a group that move processes, which the learner's root gets with it.
    fn delegated_files(&self) -> &'static [&'static str] {
        if self.unified { &["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"] } else { &["cgroup.procs", "tasks"] }
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

    /// How a process enters group `rel` in every hierarchy: born in the unified tree's, and
    /// its one thread written into each v1 hierarchy's `tasks`, which unlike `cgroup.procs` moves
    /// a thread without the kernel's global lock (the callers are single-threaded: the builder,
    /// or a child between fork and exec).
    fn entry(&self, rel: &str) -> Entry {
        let mut entry = Entry::default();
        for h in &self.hierarchies {
            if h.unified {
                entry.born_in = Some(h.dir(&self.root, rel));
            } else {
                entry.tasks.push(h.dir(&self.root, rel).join("tasks"));
            }
        }
        entry
    }

    fn make(&self, h: &Hierarchy, dir: &Path) -> io::Result<()> {
        ensure_dir(dir)?;
        if h.has("cpuset") {
            Self::init_cpuset(dir)?;
        }
        Ok(())
    }
}

/// A v1 memory group's limit on TCP buffers (writing it turns their accounting on).
const TCP_LIMIT: &str = "memory.kmem.tcp.limit_in_bytes";
/// A sandbox's TCP buffers may take this fraction (1/n) of its memory limit.
const TCP_SHARE: u64 = 4;

/// Writes `value` to `path` if the kernel has that file.
fn write_if_present(path: &Path, value: &str) -> io::Result<()> {
    if path.exists() { write(path, value) } else { Ok(()) }
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
            // Delegation: the sandbox's root may add cgroups below its own group and move its
            // processes between them; the limits above, and the checks' groups, stay the host
            // root's.
            let learner = dir.join(LEARNER);
            self.make(h, &learner)?;
            self.make(h, &dir.join(CHECKS))?;
            if h.has("memory") {
                // v1 charges TCP buffers to a group only once its own TCP limit is written
                // (v2 charges them with the rest of memory): the group, and the learner's and
                // the checks' groups where the processes are.
                let tcp = (limits.memory_bytes / TCP_SHARE).to_string();
                for group in [&dir, &learner, &dir.join(CHECKS)] {
                    write_if_present(&group.join(TCP_LIMIT), &tcp)?;
                }
            }
            chown(&learner, owner)?;
            for file in h.delegated_files() {
                chown(&learner.join(file), owner)?;
            }
        }
        let entry = self.entry(&format!("{name}/{LEARNER}"));
        (plan.born_in, plan.tasks) = (entry.born_in, entry.tasks);
        Ok(plan)
    }

    fn shell_entry(&self, name: &str) -> Entry {
        self.entry(&format!("{name}/{LEARNER}"))
    }

    fn create_exec(&self, name: &str) -> io::Result<(String, Entry)> {
        let rel = format!("{name}/{CHECKS}/{}", exec_group());
        for h in &self.hierarchies {
            let dir = h.dir(&self.root, &rel);
            create_new_dir(&dir)?;
            if h.has("cpuset") {
                Self::init_cpuset(&dir)?;
            }
            if h.has("memory")
                && let Ok(tcp) = std::fs::read_to_string(h.dir(&self.root, name).join(TCP_LIMIT))
            {
                write_if_present(&dir.join(TCP_LIMIT), tcp.trim())?;
            }
        }
        Ok((rel.clone(), self.entry(&rel)))
    }

    fn kill(&self, rel: &str) -> io::Result<()> {
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
        kill_frozen(&dir, &freeze)
    }

    fn remove(&self, rel: &str) -> io::Result<()> {
        for h in &self.hierarchies {
            remove_tree(&h.dir(&self.root, rel))?;
        }
        Ok(())
    }

    fn remove_idle_commands(&self, name: &str) {
        for h in &self.hierarchies {
            for group in subdirs(&h.dir(&self.root, &format!("{name}/{CHECKS}"))) {
                // rmdir fails on a group with processes in it (or groups below): those stay.
                let _ = std::fs::remove_dir(group);
            }
        }
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
            let (fstype, options) = if h.unified { ("cgroup2", String::new()) } else { ("cgroup", h.controllers.join(",")) };
            mounts.push(InnerMount { subdir: subdir.to_string_lossy().into_owned(), fstype: fstype.into(), options });
        }
        mounts
    }
}
