//! The v1 and v2 drivers against a temporary directory laid out like `/sys/fs/cgroup`: what
//! they write where, which files they give the learner, and how they find and end processes.
//! A real cgroupfs makes a group's control files when the group is made; here the test makes
//! the ones a kernel would ([`kernel_group`]) before the driver runs, so the driver's writes
//! land where the kernel's would. Ownership is asserted only as root (a plain user cannot
//! give files away); what the kernel enforces (limits, delegation rules) is the root-only
//! suites' business.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::v1::{Hierarchy, V1};
use super::v2::V2;
use super::*;

/// A learner's host uid in these tests: a foreign one as root, our own otherwise.
fn owner() -> u32 {
    if nix::unistd::geteuid().is_root() { 4_242_000 } else { nix::unistd::geteuid().as_raw() }
}

fn limits() -> Limits {
    Limits { memory_bytes: 512 << 20, cpu_millis: 1500, pids: 256, disk_bytes: 0 }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim().to_string()
}

fn touch(dir: &Path, files: &[&str]) {
    fs::create_dir_all(dir).unwrap();
    for f in files {
        fs::write(dir.join(f), "").unwrap();
    }
}

/// The files a kernel makes in a new group of this kind of hierarchy.
fn kernel_group(dir: &Path, kind: &str) {
    let files: &[&str] = match kind {
        "v2" => {
            &["cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.max.descendants", "cgroup.max.depth", "cgroup.freeze"]
        }
        "unified" => &["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"],
        _ => &["cgroup.procs", "tasks"],
    };
    touch(dir, files);
}

fn owned_by_learner(path: &Path) -> bool {
    fs::metadata(path).unwrap().uid() == owner()
}

// ---- cgroup v1 ----

/// A v1 host's hierarchies (cpuset, cpu+cpuacct, memory, pids, freezer) and the hybrid's
/// unified tree, with sandbox `name`'s groups made as the kernel would.
struct V1Host {
    _dir: tempfile::TempDir,
    top: PathBuf,
    driver: V1,
}

const V1_MOUNTS: [(&str, &str); 5] =
    [("cpuset", "rw,cpuset"), ("cpu,cpuacct", "rw,cpu,cpuacct"), ("memory", "rw,memory"), ("pids", "rw,pids"), ("freezer", "rw,freezer")];

fn v1_host(sandbox: &str, with_tcp: bool) -> V1Host {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().to_path_buf();
    let mut hierarchies = Vec::new();
    for (mount, options) in V1_MOUNTS {
        let at = top.join(mount);
        touch(&at, &["cgroup.procs"]);
        if mount == "cpuset" {
            fs::write(at.join("cpuset.cpus"), "0-1\n").unwrap();
            fs::write(at.join("cpuset.mems"), "0\n").unwrap();
        }
        let group = at.join("stacklab").join(sandbox);
        for g in [group.clone(), group.join(LEARNER), group.join(CHECKS)] {
            kernel_group(&g, "v1");
            if mount == "memory" && with_tcp {
                touch(&g, &["memory.kmem.tcp.limit_in_bytes"]);
            }
        }
        hierarchies.push(Hierarchy::new(at, options.to_string()));
    }
    let unified = top.join("unified");
    for g in [unified.join("stacklab").join(sandbox), unified.join("stacklab").join(sandbox).join(LEARNER)] {
        kernel_group(&g, "unified");
    }
    hierarchies.push(Hierarchy::unified(unified));
    V1Host { driver: V1::new(hierarchies, "stacklab".into()), top, _dir: dir }
}

impl V1Host {
    fn group(&self, mount: &str, rel: &str) -> PathBuf {
        self.top.join(mount).join("stacklab").join(rel)
    }
}

#[test]
fn v1_limits_go_to_the_controller_that_owns_them() {
    let host = v1_host("lab-ada", false);
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    assert_eq!(read(&host.group("memory", "lab-ada/memory.limit_in_bytes")), (512u64 << 20).to_string());
    assert_eq!(read(&host.group("pids", "lab-ada/pids.max")), "256");
    assert_eq!(read(&host.group("cpu,cpuacct", "lab-ada/cpu.cfs_period_us")), "100000");
    assert_eq!(read(&host.group("cpu,cpuacct", "lab-ada/cpu.cfs_quota_us")), "150000", "1.5 cores");
    assert!(!host.group("memory", "lab-ada/memory.memsw.limit_in_bytes").exists(), "no swap accounting here: not made up");
    assert!(!host.group("pids", "lab-ada/memory.limit_in_bytes").exists(), "each limit in its own hierarchy only");
}

#[test]
fn v1_swap_is_capped_where_the_kernel_accounts_it() {
    let host = v1_host("lab-ada", false);
    touch(&host.group("memory", "lab-ada"), &["memory.memsw.limit_in_bytes"]);
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    assert_eq!(read(&host.group("memory", "lab-ada/memory.memsw.limit_in_bytes")), (512u64 << 20).to_string());
}

#[test]
fn v1_tcp_buffers_are_charged_to_the_sandbox_and_its_checks() {
    let host = v1_host("lab-ada", true);
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    let quarter = (128u64 << 20).to_string();
    for rel in ["lab-ada", "lab-ada/learner", "lab-ada/checks"] {
        assert_eq!(read(&host.group("memory", &format!("{rel}/memory.kmem.tcp.limit_in_bytes"))), quarter, "{rel}");
    }
    // A check's own group sits below the charged `checks/`.
    let (rel, _) = host.driver.create_exec("lab-ada").unwrap();
    assert!(host.group("memory", &rel).starts_with(host.group("memory", "lab-ada/checks")));
}

#[test]
fn v1_cpusets_are_copied_from_the_parent_so_groups_accept_tasks() {
    let host = v1_host("lab-ada", false);
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    for rel in ["", "lab-ada", "lab-ada/learner", "lab-ada/checks"] {
        let dir = host.top.join("cpuset/stacklab").join(rel);
        assert_eq!((read(&dir.join("cpuset.cpus")), read(&dir.join("cpuset.mems"))), ("0-1".into(), "0".into()), "{rel:?}");
    }
    let (rel, _) = host.driver.create_exec("lab-ada").unwrap();
    assert_eq!(read(&host.group("cpuset", &format!("{rel}/cpuset.cpus"))), "0-1");
}

#[test]
fn v1_the_learner_gets_their_group_in_every_hierarchy_and_nothing_else() {
    let host = v1_host("lab-ada", false);
    let plan = host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    let expected: Vec<PathBuf> = V1_MOUNTS.iter().map(|(m, _)| host.group(m, "lab-ada/learner/tasks")).collect();
    assert_eq!(plan.tasks, expected, "v1: by moving the builder's one thread, which takes no global lock");
    assert_eq!(plan.born_in, Some(host.group("unified", "lab-ada/learner")), "the unified tree's: born there");
    assert!(plan.init_in.is_none() && plan.then_write.is_empty(), "init stays in the learner's groups");
    let shell = host.driver.shell_entry("lab-ada");
    assert_eq!((shell.born_in, shell.tasks), (plan.born_in, plan.tasks), "shells join the same groups, the same way");
    if nix::unistd::geteuid().is_root() {
        assert!(owned_by_learner(&host.group("memory", "lab-ada/learner")));
        assert!(owned_by_learner(&host.group("memory", "lab-ada/learner/tasks")));
        assert!(owned_by_learner(&host.group("unified", "lab-ada/learner/cgroup.subtree_control")));
        assert!(!owned_by_learner(&host.group("memory", "lab-ada/memory.limit_in_bytes")), "limits stay the host's");
        assert!(!owned_by_learner(&host.group("memory", "lab-ada/checks")), "the checks' groups stay the host's");
    }
}

#[test]
fn v1_inner_mounts_show_each_hierarchy_with_its_controllers() {
    let host = v1_host("lab-ada", false);
    let mounts = host.driver.inner_mounts();
    assert_eq!(mounts[0], InnerMount { subdir: String::new(), fstype: "tmpfs".into(), options: "mode=755".into() });
    assert!(mounts.contains(&InnerMount { subdir: "cpu,cpuacct".into(), fstype: "cgroup".into(), options: "cpu,cpuacct".into() }));
    assert!(mounts.contains(&InnerMount { subdir: "unified".into(), fstype: "cgroup2".into(), options: String::new() }));
    assert_eq!(mounts.len(), 1 + V1_MOUNTS.len() + 1);
}

#[test]
fn v1_usage_reads_each_controllers_counters() {
    let host = v1_host("lab-ada", false);
    fs::write(host.group("memory", "lab-ada/memory.usage_in_bytes"), "1048576\n").unwrap();
    fs::write(host.group("memory", "lab-ada/memory.limit_in_bytes"), "2097152\n").unwrap();
    fs::write(host.group("pids", "lab-ada/pids.current"), "7\n").unwrap();
    fs::write(host.group("cpu,cpuacct", "lab-ada/cpuacct.usage"), "2500000000\n").unwrap();
    let usage = host.driver.usage("lab-ada");
    assert_eq!(usage, Usage { memory_bytes: 1 << 20, memory_limit_bytes: 2 << 20, pids: 7, cpu: Duration::from_millis(2500) });
    assert_eq!(host.driver.usage("lab-nobody"), Usage::default(), "a group that is gone reads as nothing used");
}

#[test]
fn v1_lists_sandboxes_once_across_hierarchies() {
    let host = v1_host("lab-ada", false);
    kernel_group(&host.group("pids", "lab-bob"), "v1");
    assert_eq!(host.driver.sandboxes(), vec!["lab-ada".to_string(), "lab-bob".to_string()]);
}

#[test]
fn v1_pids_come_from_the_pids_hierarchy_and_every_group_below() {
    let host = v1_host("lab-ada", false);
    fs::write(host.group("pids", "lab-ada/learner/cgroup.procs"), "101\n102\n").unwrap();
    kernel_group(&host.group("pids", "lab-ada/learner/demo"), "v1");
    fs::write(host.group("pids", "lab-ada/learner/demo/cgroup.procs"), "103\n").unwrap();
    fs::write(host.group("memory", "lab-ada/learner/cgroup.procs"), "999\n").unwrap();
    let mut pids = host.driver.pids("lab-ada").unwrap();
    pids.sort_unstable();
    assert_eq!(pids, vec![101, 102, 103]);
}

#[test]
fn v1_kill_freezes_and_thaws() {
    let host = v1_host("lab-ada", false);
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    let (rel, entry) = host.driver.create_exec("lab-ada").unwrap();
    assert_eq!(entry.tasks.len(), V1_MOUNTS.len(), "a check joins a group in every hierarchy");
    assert_eq!(entry.born_in, Some(host.group("unified", &rel)), "born in the unified tree's");
    host.driver.kill(&rel).unwrap();
    assert_eq!(read(&host.group("freezer", &format!("{rel}/freezer.state"))), "THAWED", "thawed again after the kill");
    host.driver.kill("lab-ada/checks/gone").unwrap();
}

// ---- cgroup v2 ----

/// A v2 tree at `top` offering `controllers`, with systemd's unit `parent`, and sandbox
/// `name`'s groups made as the kernel would.
struct V2Host {
    _dir: tempfile::TempDir,
    base: PathBuf,
    driver: V2,
}

fn v2_host(parent: &str, controllers: &str, sandbox: &str) -> V2Host {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().to_path_buf();
    let delegated = mount.join(parent);
    kernel_group(&delegated, "v2");
    fs::write(delegated.join("cgroup.controllers"), format!("{controllers}\n")).unwrap();
    let base = delegated.join("stacklab");
    let group = base.join(sandbox);
    let learner = group.join(LEARNER);
    for g in [base.clone(), group.clone(), learner.clone(), learner.join(INIT), learner.join("init.scope")] {
        kernel_group(&g, "v2");
        // What the parent hands down is what a child is offered.
        fs::write(g.join("cgroup.controllers"), format!("{controllers}\n")).unwrap();
    }
    V2Host { driver: V2::new(mount, parent.into(), "stacklab".into()), base, _dir: dir }
}

#[test]
fn v2_limits_are_written_in_v2s_own_files() {
    let host = v2_host("", "cpuset cpu io memory pids", "lab-ada");
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    let group = host.base.join("lab-ada");
    assert_eq!(read(&group.join("memory.max")), (512u64 << 20).to_string());
    assert_eq!(read(&group.join("pids.max")), "256");
    assert_eq!(read(&group.join("cpu.max")), "150000 100000");
    assert!(!group.join("memory.swap.max").exists(), "no swap controller file: not made up");
}

#[test]
fn v2_swap_is_off_where_the_kernel_has_it() {
    let host = v2_host("", "cpu memory pids", "lab-ada");
    touch(&host.base.join("lab-ada"), &["memory.swap.max"]);
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    assert_eq!(read(&host.base.join("lab-ada/memory.swap.max")), "0");
}

#[test]
fn v2_controllers_are_handed_down_as_far_as_the_learner() {
    let host = v2_host("", "cpuset cpu io memory pids", "lab-ada");
    let plan = host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    for dir in [host.base.parent().unwrap().to_path_buf(), host.base.clone(), host.base.join("lab-ada")] {
        assert_eq!(read(&dir.join("cgroup.subtree_control")), "+memory +pids +cpu", "{}", dir.display());
    }
    let learner = host.base.join("lab-ada/learner");
    assert_eq!(plan.born_in, Some(learner.clone()), "the builder is born where the cgroup namespace is rooted");
    assert!(plan.tasks.is_empty());
    assert_eq!(
        plan.init_in,
        Some(learner.join("init.scope")),
        "init in a leaf (where systemd as the init expects itself), so the learner's group may hand on"
    );
    assert_eq!(plan.then_write, vec![(learner.join("cgroup.subtree_control"), "+memory +pids +cpu".to_string())]);
    let shell = Entry { born_in: Some(learner.join("init")), tasks: Vec::new() };
    assert_eq!(host.driver.shell_entry("lab-ada"), shell, "shells born in a leaf of their own");
}

#[test]
fn v2_hands_down_only_what_it_is_offered() {
    // A systemd unit with `Delegate=memory pids` (no cpu).
    let host = v2_host("system.slice/stacklab-sandboxes.service", "memory pids", "lab-ada");
    let plan = host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    let unit = host.base.parent().unwrap();
    assert!(unit.ends_with("system.slice/stacklab-sandboxes.service"), "the server's directory goes below the unit's");
    assert_eq!(read(&unit.join("cgroup.subtree_control")), "+memory +pids");
    assert_eq!(read(&host.base.join("lab-ada/cgroup.subtree_control")), "+memory +pids");
    assert_eq!(plan.then_write[0].1, "+memory +pids");
}

#[test]
fn v2_the_learner_may_make_a_bounded_number_of_groups() {
    let host = v2_host("", "cpu memory pids", "lab-ada");
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    let learner = host.base.join("lab-ada/learner");
    assert_eq!(read(&learner.join("cgroup.max.descendants")), MAX_LEARNER_GROUPS.to_string());
    assert_eq!(read(&learner.join("cgroup.max.depth")), MAX_LEARNER_DEPTH.to_string());
    if nix::unistd::geteuid().is_root() {
        for file in ["", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads", "init", "init/cgroup.procs", "init.scope/cgroup.procs"]
        {
            assert!(owned_by_learner(&learner.join(file)), "{file:?} is delegated");
        }
        for file in ["cgroup.max.descendants", "cgroup.max.depth", "cgroup.freeze", "../memory.max"] {
            assert!(!owned_by_learner(&learner.join(file)), "{file:?} stays the host's");
        }
    }
}

#[test]
fn v2_each_command_gets_a_fresh_unguessable_group_inside_the_learners() {
    let host = v2_host("", "cpu memory pids", "lab-ada");
    let (a, entry) = host.driver.create_exec("lab-ada").unwrap();
    let (b, _) = host.driver.create_exec("lab-ada").unwrap();
    assert_ne!(a, b);
    // Inside the learner's cgroup namespace, so that what it starts may move processes into
    // groups made there (a container runtime does).
    let name = a.strip_prefix("lab-ada/learner/.check-").expect("below the learner's group");
    assert!(name.len() == 16 && name.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    assert_eq!(entry, Entry { born_in: Some(host.base.join(&a)), tasks: Vec::new() });
    // The group is the server's, made now: one that exists already is refused, never reused.
    assert!(create_new_dir(&host.base.join(&a)).is_err());
    if nix::unistd::geteuid().is_root() {
        assert!(!owned_by_learner(&host.base.join(&a)), "the learner can neither write into it nor freeze it");
    }
    host.driver.remove(&a).unwrap();
    assert!(!host.base.join(&a).exists());
}

#[test]
fn v2_the_learner_keeps_their_groups_whatever_the_server_runs_up_to_a_ceiling() {
    let host = v2_host("", "cpu memory pids", "lab-ada");
    host.driver.create_sandbox("lab-ada", &limits(), owner()).unwrap();
    let learner = host.base.join("lab-ada/learner");
    let bound = || read(&learner.join("cgroup.max.descendants"));
    let groups = |n: u32| fs::write(learner.join("cgroup.stat"), format!("nr_descendants {n}\nnr_dying_descendants 7\n")).unwrap();

    // A learner with every group they may have: their checks still run, each with room of its
    // own, and the learner gets none of it to keep.
    groups(MAX_LEARNER_GROUPS);
    let (a, _) = host.driver.create_exec("lab-ada").unwrap();
    assert_eq!(bound(), (MAX_LEARNER_GROUPS + 1).to_string());
    groups(MAX_LEARNER_GROUPS + 1);
    let (b, _) = host.driver.create_exec("lab-ada").unwrap();
    assert_eq!(bound(), (MAX_LEARNER_GROUPS + 2).to_string());
    host.driver.remove(&a).unwrap();
    host.driver.remove(&b).unwrap();
    assert_eq!(bound(), MAX_LEARNER_GROUPS.to_string());
    host.driver.remove(&a).unwrap_or_default();
    assert_eq!(bound(), MAX_LEARNER_GROUPS.to_string(), "never below the learner's own");

    // At the ceiling the server makes no more room: the learner is told to remove some.
    groups(MAX_LEARNER_GROUPS + v2::CHECK_ROOM);
    let err = host.driver.create_exec("lab-ada").unwrap_err().to_string();
    assert!(err.contains("remove some"), "{err}");
    assert_eq!(bound(), MAX_LEARNER_GROUPS.to_string());

    // A group of the learner's named like ours is removed as theirs: the bound stays.
    groups(1);
    fs::create_dir_all(learner.join("init/.check-0")).unwrap();
    host.driver.remove("lab-ada/learner/init/.check-0").unwrap();
    assert_eq!(bound(), MAX_LEARNER_GROUPS.to_string());
}

#[test]
fn v2_kill_uses_cgroup_kill_and_the_freezer() {
    let host = v2_host("", "cpu memory pids", "lab-ada");
    let (rel, _) = host.driver.create_exec("lab-ada").unwrap();
    let group = host.base.join(&rel);
    touch(&group, &["cgroup.kill"]);
    fs::write(group.join("cgroup.events"), "populated 0\nfrozen 1\n").unwrap();
    host.driver.kill(&rel).unwrap();
    assert_eq!(read(&group.join("cgroup.kill")), "1", "atomic for the whole subtree");
    assert_eq!(read(&group.join("cgroup.freeze")), "0", "frozen while killing, thawed after");
}

#[test]
fn v2_usage_lists_and_the_root_goes_only_when_empty() {
    let host = v2_host("", "cpu memory pids", "lab-ada");
    let group = host.base.join("lab-ada");
    fs::write(group.join("memory.current"), "4096\n").unwrap();
    fs::write(group.join("memory.max"), "8192\n").unwrap();
    fs::write(group.join("pids.current"), "3\n").unwrap();
    fs::write(group.join("cpu.stat"), "usage_usec 1500000\nuser_usec 1000000\n").unwrap();
    assert_eq!(
        host.driver.usage("lab-ada"),
        Usage { memory_bytes: 4096, memory_limit_bytes: 8192, pids: 3, cpu: Duration::from_millis(1500) }
    );
    assert_eq!(host.driver.sandboxes(), vec!["lab-ada".to_string()]);
    host.driver.remove_root().unwrap();
    assert!(host.base.exists(), "a sandbox is left in it");
    assert_eq!(host.driver.inner_mounts(), vec![InnerMount { subdir: String::new(), fstype: "cgroup2".into(), options: String::new() }]);
}

// ---- choosing a driver ----

#[test]
fn a_root_or_parent_that_could_leave_the_servers_directory_is_refused() {
    for root in ["", "a/b", ".hidden", ".."] {
        let err = detect("", root).err().unwrap_or_else(|| panic!("{root:?} accepted"));
        assert!(err.to_string().contains("invalid cgroup root"), "{err}");
    }
    for parent in ["a/../b", "a//b", "./a"] {
        let err = detect(parent, "stacklab").err().unwrap_or_else(|| panic!("{parent:?} accepted"));
        assert!(err.to_string().contains("invalid cgroup parent"), "{err}");
    }
}
