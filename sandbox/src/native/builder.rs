//! Building one sandbox, in the helper process. The server runs it as a fresh, single-threaded
//! process (`stacklab sandbox-helper`), because entering a user namespace is refused to
//! multi-threaded processes and because code after `fork` in a threaded server must not
//! allocate. It reads a [`CreatePlan`] per line on stdin and prints a [`CreateReply`] line for each.
//!
//! The order matters, and is the design:
//! 1. a builder process is born in the sandbox's cgroup (`CLONE_INTO_CGROUP`; on cgroup v1 it
//!    moves its one thread there first thing), so everything below is charged to it — and never
//!    by moving a whole process, whose global lock costs a quiet host an RCU grace period;
//! 2. it makes the user namespace (root inside = the owner's host uid range);
//! 3. in a private mount namespace, still as the host's root: mount the learner's layer, the
//!    lab image idmapped to that namespace (host-root files look root-owned inside) and
//!    read-only, the overlay of both, a minimal /dev, /etc/hosts. Mounts made here are
//!    *locked* in the sandbox: its root cannot unmount them to look underneath;
//! 4. become the namespace's root and unshare mount, uts, ipc, net and cgroup namespaces, all
//!    owned by it, so the learner can administer them (hostname, veths, mounts);
//! 5. clone the sandbox's pid 1 in a new pid namespace (on v2 born in a leaf group of its own)
//!    and exit; the helper, outside, hands the learner's group's controllers on now that the
//!    builder has left it, and lets init go: it mounts /proc, /sys, cgroups, devpts and
//!    tmpfses, masks dangerous /proc files, pivots into the overlay, drops the host's tree,
//!    sets the hostname, brings loopback up and execs the image's init.

use std::ffi::CString;
use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork, pipe2};

use super::cgroup::InnerMount;
use super::layer::{IDS_PER_SLOT, LayerKind};
use super::loopdev;
use super::plan::{CreatePlan, CreateReply, Stopwatch};
use super::probe::{Missing, ProbePlan, ProbeReport};
use super::sys;

/// Files in /proc that tell too much about the host or let a careless root hurt it; the user
/// namespace already denies most of them, this is depth.
const MASKED_FILES: &[&str] =
    &["kcore", "keys", "key-users", "latency_stats", "timer_list", "sched_debug", "sysrq-trigger", "kallsyms", "kmsg"];
const MASKED_DIRS: &[&str] = &["acpi", "scsi", "asound"];
/// A second mount of the sandbox's sysfs, in /dev where the learner cannot make entries. The
/// kernel lets a user namespace mount sysfs only while a fully visible sysfs exists in the mount
/// namespace, and `ip netns exec` unmounts /sys before mounting the new network namespace's:
/// this copy keeps Demo 2 working.
const SYSFS_SPARE: &str = ".sysfs";
const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"];

struct Failure {
    step: &'static str,
    error: String,
}

trait Step<T> {
    fn step(self, step: &'static str) -> Result<T, Failure>;
}

impl<T, E: std::fmt::Display> Step<T> for Result<T, E> {
    fn step(self, step: &'static str) -> Result<T, Failure> {
        self.map_err(|e| Failure { step, error: e.to_string() })
    }
}

/// What the server sends: a sandbox to build, or the host's features to try.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Request {
    Probe { probe: ProbePlan },
    Create(Box<CreatePlan>),
}

/// Entry point of the helper process; never returns. It takes requests one per line until its
/// input ends, and answers each with one line. A probe changes the process itself (its mount
/// namespace), so it is the last request a helper takes; building a sandbox changes nothing
/// here (the builder is a child), so one helper serves a backend for its life.
pub fn main() -> ! {
    if std::env::args_os().last().is_some_and(|arg| arg == super::spawner::ARG) {
        super::spawner::serve();
    }
    let failed = |step: &str, error: String| CreateReply::Failed { step: step.into(), error };
    let mut input = io::stdin().lock();
    let mut out = io::stdout();
    let mut line = String::new();
    loop {
        line.clear();
        let (reply, last) = match input.read_line(&mut line).map(|n| (n, serde_json::from_str::<Request>(&line))) {
            Ok((0, _)) => std::process::exit(0),
            Ok((_, Ok(Request::Probe { probe: plan }))) => (serde_json::to_string(&probe(&plan)), true),
            Ok((_, Ok(Request::Create(plan)))) => (serde_json::to_string(&create(&plan)), false),
            Ok((_, Err(e))) => (serde_json::to_string(&failed("read plan", e.to_string())), true),
            Err(e) => (serde_json::to_string(&failed("read plan", e.to_string())), true),
        };
        let _ = writeln!(out, "{}", reply.unwrap_or_else(|_| "{}".into()));
        let _ = out.flush();
        if last {
            std::process::exit(0);
        }
    }
}

/// Builds the sandbox: its init's pid and how long each phase took, or the step that failed.
/// A builder process does the work, born in the sandbox's group; this one stays outside for
/// what only a process outside can do: hand the learner's group's controllers on once the
/// builder has left it (cgroup v2), then let init go.
fn create(plan: &CreatePlan) -> CreateReply {
    let failed = |f: Failure| CreateReply::Failed { step: f.step.into(), error: f.error };
    let mut clock = Stopwatch::default();
    let groups = (|| io::Result::Ok((open_group(plan.cgroup.born_in.as_deref())?, open_group(plan.cgroup.init_in.as_deref())?)))();
    let (born_in, init_in) = match groups.step("join cgroup") {
        Ok(groups) => groups,
        Err(f) => return failed(f),
    };
    let pipes = (|| io::Result::Ok((pipe2(OFlag::O_CLOEXEC)?, InitPipes::new()?)))();
    let ((reply_r, reply_w), init) = match pipes.step("start the builder") {
        Ok(pipes) => pipes,
        Err(f) => return failed(f),
    };
    // SAFETY: this process is single-threaded (a fresh helper), so the child may run anything.
    match unsafe { sys::clone_into(born_in.as_ref().map(|g| g.as_fd()), 0) }.step("join cgroup") {
        Err(f) => failed(f),
        Ok(None) => {
            drop(reply_r);
            let (status, go) = init.for_builder();
            let reply = match build(plan, &mut clock, init_in.as_ref().map(|g| g.as_fd()), (status, go), reply_w.as_raw_fd()) {
                Ok(pid) => CreateReply::Ready { pid, phases: clock.phases() },
                Err(f) => failed(f),
            };
            let _ = fs::File::from(reply_w).write_all(serde_json::to_string(&reply).unwrap_or_default().as_bytes());
            // SAFETY: leaving the child without running the parent's exit handlers.
            unsafe { libc::_exit(0) }
        }
        Ok(Some(builder)) => {
            drop(reply_w);
            let (status, go) = init.for_helper();
            let mut text = String::new();
            // EOF once the builder has gone (init closes its copy first thing).
            let _ = fs::File::from(reply_r).read_to_string(&mut text);
            let exit = waitpid(nix::unistd::Pid::from_raw(builder), None);
            match serde_json::from_str::<CreateReply>(&text) {
                Ok(CreateReply::Ready { pid, phases }) => {
                    clock.resume(phases);
                    clock.mark("the builder's reply and exit");
                    match let_init_go(plan, pid, status, go, &mut clock) {
                        Ok(()) => CreateReply::Ready { pid, phases: clock.phases() },
                        Err(f) => failed(f),
                    }
                }
                Ok(failure) => failure,
                Err(_) => CreateReply::Failed { step: "build".into(), error: format!("the builder ended without a reply ({exit:?})") },
            }
        }
    }
}

/// An open cgroup2 group, for `CLONE_INTO_CGROUP`.
pub(super) fn open_group(dir: Option<&Path>) -> io::Result<Option<OwnedFd>> {
    dir.map(|dir| open_dir(dir).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))).transpose()
}

/// The pipes between this helper and the sandbox's init: init's word (an error, or EOF when it
/// execs: close-on-exec) and the helper's go (init waits for it before it does anything).
struct InitPipes {
    status: (OwnedFd, OwnedFd),
    go: (OwnedFd, OwnedFd),
}

impl InitPipes {
    fn new() -> io::Result<Self> {
        Ok(Self { status: pipe2(OFlag::O_CLOEXEC)?, go: pipe2(OFlag::O_CLOEXEC)? })
    }

    /// The ends init gets: status' writing end, go's reading end.
    fn for_builder(self) -> (OwnedFd, OwnedFd) {
        (self.status.1, self.go.0)
    }

    /// The ends the helper keeps: status' reading end, go's writing end.
    fn for_helper(self) -> (OwnedFd, OwnedFd) {
        (self.status.0, self.go.1)
    }
}

/// Once the builder has gone: hands the learner's group's controllers on (v2: a group that held
/// the builder could not), lets init go and waits until it has exec'd.
fn let_init_go(plan: &CreatePlan, pid: i32, status: OwnedFd, go: OwnedFd, clock: &mut Stopwatch) -> Result<(), Failure> {
    // Init waits for the go, so this is it and not a recycled pid.
    let init = sys::pidfd_open(pid).step("start init")?;
    let kill = || {
        let _ = sys::pidfd_kill(init.as_fd(), libc::SIGKILL);
    };
    for (file, value) in &plan.cgroup.then_write {
        if let Err(e) = fs::write(file, value) {
            kill();
            return Err(Failure { step: "delegate cgroup", error: format!("{}: {e}", file.display()) });
        }
    }
    clock.mark("the learner's controllers (cgroup v2)");
    if let Err(e) = fs::File::from(go).write_all(b"1") {
        kill();
        return Err(Failure { step: "start init", error: format!("init did not wait for its go: {e}") });
    }
    let mut message = String::new();
    let _ = fs::File::from(status).read_to_string(&mut message);
    if !message.is_empty() {
        kill();
        return Err(Failure { step: "start init", error: message });
    }
    clock.mark("init: mounts, pivot, exec");
    Ok(())
}

/// In the builder: makes the sandbox up to its init, which waits for the helper's go. The
/// init's pid.
fn build(
    plan: &CreatePlan,
    clock: &mut Stopwatch,
    init_in: Option<BorrowedFd<'_>>,
    init_ends: (OwnedFd, OwnedFd),
    reply: RawFd,
) -> Result<i32, Failure> {
    // Single-threaded, so moving this thread (v1's `tasks`) moves the process.
    for file in &plan.cgroup.tasks {
        fs::write(file, "0").map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.display()))).step("join cgroup")?;
    }
    clock.mark("join its cgroup");
    let userns = make_userns(plan.layer.uid).step("make user namespace")?;
    clock.mark("user namespace (a child maps the ids)");

    unshare(CloneFlags::CLONE_NEWNS).step("private mount namespace")?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>).step("private mount namespace")?;
    clock.mark("private mount namespace");

    let layer = mount_layer(plan).step("mount the learner's layer")?;
    clock.mark("the learner's layer (loop device, ext4)");
    let lower = plan.run_dir.join("lower");
    fs::create_dir_all(&lower).step("mount the lab image")?;
    let image = sys::clone_mount(&plan.rootfs)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", plan.rootfs.display())))
        .step("mount the lab image")?;
    sys::idmap_readonly(image.as_fd(), userns.as_fd()).step("idmap the lab image")?;
    sys::attach_mount(image.as_fd(), &lower).step("mount the lab image")?;
    clock.mark("the lab image, idmapped");

    let root = plan.run_dir.join("root");
    fs::create_dir_all(&root).step("mount the overlay")?;
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        overlay_path(&lower).step("mount the overlay")?,
        overlay_path(&layer.join("upper")).step("mount the overlay")?,
        overlay_path(&layer.join("work")).step("mount the overlay")?,
    );
    mount(Some("overlay"), &root, Some("overlay"), MsFlags::MS_NODEV, Some(options.as_str())).step("mount the overlay")?;
    clock.mark("overlay");

    let root_dir = open_dir(&root).step("open the sandbox's root")?;
    for dir in ["dev", "proc", "sys", "tmp", "run", "etc", "root"] {
        ensure_dir(&root_dir, dir, plan.layer.uid).step("prepare the root filesystem")?;
    }
    mount_dev(plan, &root_dir).step("prepare /dev")?;
    mount_etc(plan, &root_dir).step("prepare /etc/hosts")?;
    mount_shared(plan, &root_dir).step("bind the shared files")?;
    drop(root_dir);
    clock.mark("/dev, /etc, shared files");
    // Into the root filesystem while still the host's root: the sandbox's root, which the
    // namespace makes of an unprivileged host uid, need not be able to walk the data directory's
    // path (an operator may well make it 0700), only what is below the working directory.
    nix::unistd::chdir(&root).step("enter the root filesystem")?;

    // From here on: the sandbox's root, in namespaces it owns.
    setns(userns.as_fd(), CloneFlags::CLONE_NEWUSER).step("enter user namespace")?;
    become_root().step("enter user namespace")?;
    unshare(
        CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWUTS
            | CloneFlags::CLONE_NEWIPC
            | CloneFlags::CLONE_NEWNET
            | CloneFlags::CLONE_NEWCGROUP,
    )
    .step("make namespaces")?;
    clock.mark("the other namespaces");

    let (status, go) = init_ends;
    // SAFETY: this process is single-threaded, so the child may run anything.
    match unsafe { sys::clone_into(init_in, libc::CLONE_NEWPID) }.step("start init")? {
        None => {
            // SAFETY: the builder's reply pipe, which init must not hold open (the helper reads
            // it to its end); this process never returns to the frame that owns it.
            unsafe { libc::close(reply) };
            let mut word = [0u8; 1];
            if !matches!(fs::File::from(go).read(&mut word), Ok(1)) {
                // SAFETY: as below; the helper gave up on this sandbox.
                unsafe { libc::_exit(1) }
            }
            let error = start_init(plan);
            let _ = fs::File::from(status).write_all(error.as_bytes());
            // SAFETY: leaving the child without running the parent's exit handlers.
            unsafe { libc::_exit(1) }
        }
        Some(child) => {
            clock.mark("start init (clone)");
            Ok(child)
        }
    }
}

/// A user namespace mapping root (and the 65535 ids after it) to the owner's host range. A
/// short-lived child makes it (a process cannot map ids for itself), we keep a handle. The child
/// makes it as the range's first host uid, which then owns it: each learner has per-user kernel
/// budgets of their own, and one who uses theirs up leaves the others' and host root's alone.
fn make_userns(uid: u32) -> io::Result<OwnedFd> {
    let (ready_r, ready_w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let (done_r, done_w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: single-threaded process; the child only makes syscalls and exits.
    match unsafe { fork() }? {
        ForkResult::Child => {
            // Our copies of the other ends, or the reads below never see EOF.
            drop(ready_r);
            drop(done_w);
            let ok = sys::become_keeping_capabilities(uid).is_ok() && unshare(CloneFlags::CLONE_NEWUSER).is_ok();
            let _ = nix::unistd::write(&ready_w, if ok { b"1" } else { b"0" });
            let mut byte = [0u8; 1];
            let _ = nix::unistd::read(done_r.as_fd(), &mut byte);
            // SAFETY: leaving the child without running the parent's exit handlers.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(ready_w);
            drop(done_r);
            let result = (|| {
                let mut byte = [0u8; 1];
                nix::unistd::read(ready_r.as_fd(), &mut byte)?;
                if byte[0] != b'1' {
                    return Err(io::Error::other("unshare(CLONE_NEWUSER) failed"));
                }
                let map = format!("0 {uid} {IDS_PER_SLOT}\n");
                fs::write(format!("/proc/{child}/uid_map"), &map)?;
                fs::write(format!("/proc/{child}/gid_map"), &map)?;
                Ok(fs::File::open(format!("/proc/{child}/ns/user"))?.into())
            })();
            drop(done_w);
            let _ = waitpid(child, None);
            result
        }
    }
}

/// Mounts the learner's layer and returns the directory holding `upper` and `work`.
fn mount_layer(plan: &CreatePlan) -> io::Result<PathBuf> {
    let dir = match &plan.layer.kind {
        LayerKind::Dir(dir) => dir.clone(),
        LayerKind::Image(image) => {
            // A sandbox of the same owner stopped a moment ago may still be letting go of it:
            // mounting an ext4 image twice would corrupt it.
            let deadline = Instant::now() + Duration::from_secs(5);
            while loopdev::in_use(image) {
                if Instant::now() > deadline {
                    return Err(io::Error::other(format!("{} is still in use by {:?}", image.display(), loopdev::users_of(image))));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let target = plan.run_dir.join("layer");
            fs::create_dir_all(&target)?;
            let (device, _open) = loopdev::attach(image)?;
            mount(Some(&device), &target, Some("ext4"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, None::<&str>)
                .map_err(|e| io::Error::other(format!("mount {} ({}): {e}", image.display(), device.display())))?;
            target
        }
    };
    if !dir.join("upper").exists() {
        // A new layer: its root, like what is made in it, belongs to the sandbox's root (an
        // image is a copy of a template made by host root, see `layer::Layers::template`).
        std::os::unix::fs::chown(&dir, Some(plan.layer.uid), Some(plan.layer.uid))?;
    }
    for sub in ["upper", "work"] {
        let path = dir.join(sub);
        if !path.exists() {
            fs::create_dir(&path)?;
            std::os::unix::fs::chown(&path, Some(plan.layer.uid), Some(plan.layer.uid))?;
        }
    }
    Ok(dir)
}

/// overlayfs splits its options at ',' and ':'; our own paths never carry them, refuse if so.
fn overlay_path(path: &Path) -> io::Result<String> {
    let s = path.to_str().ok_or_else(|| io::Error::other(format!("{} is not UTF-8", path.display())))?;
    if s.contains([',', ':', '\\']) {
        return Err(io::Error::other(format!("{s} contains ',', ':' or '\\', which overlayfs cannot take")));
    }
    Ok(s.to_string())
}

fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(fs::File::open(path)?.into())
}

const BENEATH: u64 = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;

/// Makes sure `name` directly under the sandbox's root is a real directory (the learner owns
/// the tree and may have left a symlink there; following it as the host's root would write on
/// the host), replacing a file or symlink of that name.
fn ensure_dir(root: &OwnedFd, name: &str, uid: u32) -> io::Result<OwnedFd> {
    let path = Path::new(name);
    match sys::openat2(root.as_fd(), path, libc::O_PATH | libc::O_DIRECTORY, BENEATH) {
        Ok(fd) => return Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::ENOTDIR)) => {
            nix::unistd::unlinkat(root, name, nix::unistd::UnlinkatFlags::NoRemoveDir)?;
        }
        Err(e) => return Err(io::Error::new(e.kind(), format!("/{name}: {e}"))),
    }
    nix::sys::stat::mkdirat(root, name, nix::sys::stat::Mode::from_bits_truncate(0o755))?;
    nix::unistd::fchownat(
        root,
        name,
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(uid)),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    sys::openat2(root.as_fd(), path, libc::O_PATH | libc::O_DIRECTORY, BENEATH)
}

/// /dev: a small tmpfs with the harmless devices and the ones the learner's tiers need, each a
/// bind of the host's node (device nodes made inside a user namespace do not open).
fn mount_dev(plan: &CreatePlan, root: &OwnedFd) -> io::Result<()> {
    let dev = ensure_dir(root, "dev", plan.layer.uid)?;
    let dev_path = sys::fd_path(&dev);
    mount(Some("tmpfs"), &dev_path, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC, Some("mode=755,size=256k"))?;
    // The tmpfs now covers the directory; reach it through the root again.
    let dev = sys::openat2(root.as_fd(), Path::new("dev"), libc::O_PATH | libc::O_DIRECTORY, BENEATH)?;
    let base = sys::fd_path(&dev);
    let harmless = DEVICES.iter().map(|d| (PathBuf::from(d), PathBuf::from(d)));
    let devices = harmless.chain(plan.devices.iter().map(|d| (d.source.clone(), d.target.clone())));
    for (device, at) in devices {
        let relative = at.strip_prefix("/dev").map_err(|_| io::Error::other(format!("{} is not in /dev", at.display())))?;
        let target = base.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::File::create(&target)?;
        mount(Some(&device), &target, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| io::Error::other(format!("bind {}: {e}", device.display())))?;
    }
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        std::os::unix::fs::symlink(to, base.join(link))?;
    }
    for dir in ["pts", "shm", "mqueue", SYSFS_SPARE] {
        fs::create_dir(base.join(dir))?;
    }
    Ok(())
}

/// /etc/hosts and /etc/hostname for the sandbox's name, bound read-only over the image's.
fn mount_etc(plan: &CreatePlan, root: &OwnedFd) -> io::Result<()> {
    let name = &plan.hostname;
    let mut files = vec![
        ("hostname", format!("{name}\n")),
        ("hosts", format!("127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n::1\tlocalhost ip6-localhost ip6-loopback\n")),
    ];
    if !plan.resolv_conf.is_empty() {
        files.push(("resolv.conf", plan.resolv_conf.clone()));
    }
    let etc = ensure_dir(root, "etc", plan.layer.uid)?;
    for (file, content) in files {
        let source = plan.run_dir.join(file);
        fs::write(&source, content)?;
        bind_file(&etc, file, &source)?;
    }
    Ok(())
}

/// The host's files the server shares with every sandbox, bound read-only (and live: the server
/// may rewrite them) at their path below the sandbox's root, directories made if missing.
fn mount_shared(plan: &CreatePlan, root: &OwnedFd) -> io::Result<()> {
    for shared in &plan.shared_files {
        let at = |e: io::Error| io::Error::new(e.kind(), format!("/{}: {e}", shared.target));
        let mut parts: Vec<&str> = shared.target.split('/').collect();
        let file = parts.pop().unwrap_or_default();
        if file.is_empty() || parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..") {
            return Err(io::Error::other(format!("shared file target {:?} is not a plain relative path", shared.target)));
        }
        let mut dir = ensure_dir(root, parts.first().copied().unwrap_or("."), plan.layer.uid).map_err(at)?;
        for part in parts.iter().skip(1) {
            dir = ensure_dir(&dir, part, plan.layer.uid).map_err(at)?;
        }
        bind_file(&dir, file, &shared.source).map_err(at)?;
    }
    Ok(())
}

/// Binds `source` read-only over `dir/file`, making the file if it is missing and replacing a
/// symlink or anything else the learner left there.
fn bind_file(dir: &OwnedFd, file: &str, source: &Path) -> io::Result<()> {
    let path = Path::new(file);
    let existing = sys::openat2(dir.as_fd(), path, libc::O_PATH, BENEATH);
    let target = match existing {
        Ok(fd) if is_regular(&fd) => fd,
        other => {
            let missing = matches!(&other, Err(e) if e.raw_os_error() == Some(libc::ENOENT));
            if !missing {
                nix::unistd::unlinkat(dir, file, nix::unistd::UnlinkatFlags::NoRemoveDir)
                    .map_err(|e| io::Error::other(format!("{file} is in the way: {e}")))?;
            }
            drop(sys::openat2(dir.as_fd(), path, libc::O_CREAT | libc::O_WRONLY | libc::O_EXCL, BENEATH)?);
            sys::openat2(dir.as_fd(), path, libc::O_PATH, BENEATH)?
        }
    };
    mount(Some(source), &sys::fd_path(&target), None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
    // The old fd still names the file under the new mount: open again to reach the mount.
    let bound = sys::openat2(dir.as_fd(), path, libc::O_PATH, BENEATH)?;
    mount(None::<&str>, &sys::fd_path(&bound), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY, None::<&str>)?;
    Ok(())
}

fn is_regular(fd: &OwnedFd) -> bool {
    nix::sys::stat::fstat(fd).map(|s| s.st_mode & libc::S_IFMT == libc::S_IFREG).unwrap_or(false)
}

/// After entering the user namespace the process keeps its host ids, which mean nothing there:
/// take the namespace's root ids (the owner's host range) for every file created from now on.
fn become_root() -> io::Result<()> {
    // SAFETY: plain syscalls with integer arguments.
    unsafe {
        if libc::setresgid(0, 0, 0) != 0 || libc::setgroups(0, std::ptr::null()) != 0 || libc::setresuid(0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs as the sandbox's pid 1 until it execs the init; returns an error message otherwise.
fn start_init(plan: &CreatePlan) -> String {
    match prepare_init(plan) {
        Ok(never) => match never {},
        Err(f) => format!("{}: {}", f.step, f.error),
    }
}

/// Works from the root filesystem as its working directory, with relative paths only (see
/// `create`): permission is then checked from there down, never along the data directory.
fn prepare_init(plan: &CreatePlan) -> Result<std::convert::Infallible, Failure> {
    let root = Path::new(".");
    // Out of the server's session: Ctrl-C at the server's terminal must not reach sandboxes.
    nix::unistd::setsid().step("setsid")?;
    let tmpfs_size = format!("size={}", plan.tmpfs_bytes);
    let nosuid_nodev_noexec = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let mounts: Vec<(&str, PathBuf, &str, MsFlags, String)> = vec![
        ("proc", root.join("proc"), "proc", nosuid_nodev_noexec, String::new()),
        // Read-write: `ip netns exec` mounts a new sysfs only as permissive as a visible one, and
        // the files the host owns refuse the learner anyway (they are not mapped here).
        ("sysfs", root.join("sys"), "sysfs", nosuid_nodev_noexec, String::new()),
        (
            "devpts",
            root.join("dev/pts"),
            "devpts",
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620,gid=5".into(),
        ),
        ("shm", root.join("dev/shm"), "tmpfs", MsFlags::MS_NOSUID | MsFlags::MS_NODEV, format!("mode=1777,{tmpfs_size}")),
        ("mqueue", root.join("dev/mqueue"), "mqueue", nosuid_nodev_noexec, String::new()),
        ("tmpfs", root.join("run"), "tmpfs", MsFlags::MS_NOSUID | MsFlags::MS_NODEV, format!("mode=755,{tmpfs_size}")),
        ("tmpfs", root.join("tmp"), "tmpfs", MsFlags::MS_NOSUID | MsFlags::MS_NODEV, format!("mode=1777,{tmpfs_size}")),
    ];
    for (source, target, fstype, flags, data) in &mounts {
        let data = (!data.is_empty()).then_some(data.as_str());
        mount(Some(*source), target, Some(*fstype), *flags, data)
            .map_err(|e| format!("{} on {}: {e}", fstype, target.display()))
            .step("mount")?;
    }
    mount(Some(&root.join("sys")), &root.join("dev").join(SYSFS_SPARE), None::<&str>, MsFlags::MS_BIND, None::<&str>)
        .step("mount sysfs")?;
    mount_cgroups(&plan.cgroup_mounts, &root.join("sys/fs/cgroup")).step("mount cgroups")?;
    mask_proc(&root.join("proc"), &root.join("dev/null")).step("mask /proc")?;

    // The overlay was mounted outside this user namespace, so here it is locked, and a locked
    // mount cannot become the root: bind it onto itself to get a mount this namespace owns
    // (recursively, so the locked /dev and /etc mounts inside stay locked). The working
    // directory stays on the mount below; the run directory's `root` names the new one.
    mount(Some(root), root, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>).step("pivot_root")?;
    let name = plan.run_dir.join("root");
    let name = name.file_name().ok_or_else(|| io::Error::other("the run directory has no root")).step("pivot_root")?;
    nix::unistd::chdir(&Path::new("..").join(name)).step("pivot_root")?;
    nix::unistd::pivot_root(".", ".").step("pivot_root")?;
    umount2(".", MntFlags::MNT_DETACH).step("detach the host's tree")?;
    nix::unistd::chdir("/").step("pivot_root")?;

    nix::unistd::sethostname(&plan.hostname).step("set hostname")?;
    loopback_up().step("bring loopback up")?;

    let null = fs::OpenOptions::new().read(true).write(true).open("/dev/null").step("open /dev/null")?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard fds, which this process owns.
        if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
            return Err(io::Error::last_os_error()).step("redirect stdio");
        }
    }
    drop(null);
    // SAFETY: close_range only marks fds close-on-exec.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };

    sys::default_signals().step("reset signals")?;
    let argv: Vec<CString> = plan.init.iter().map(|a| CString::new(a.as_str()).unwrap_or_default()).collect();
    let env = [c"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", c"container=stacklab"];
    let program = argv.first().cloned().unwrap_or_default();
    // Last, so that nothing above meets it: from here on, in init and all it starts.
    crate::seccomp::filter().install().step("install the syscall filter")?;
    let err = nix::unistd::execve(&program, &argv, &env).unwrap_err();
    Err(Failure { step: "exec init", error: format!("{}: {err}", plan.init.join(" ")) })
}

fn mount_cgroups(mounts: &[InnerMount], base: &Path) -> io::Result<()> {
    for m in mounts {
        let target = if m.subdir.is_empty() { base.to_path_buf() } else { base.join(&m.subdir) };
        if !m.subdir.is_empty() {
            fs::create_dir_all(&target)?;
        }
        let data = (!m.options.is_empty()).then_some(m.options.as_str());
        mount(Some(m.fstype.as_str()), &target, Some(m.fstype.as_str()), MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC, data)
            .map_err(|e| io::Error::other(format!("{} ({}) on {}: {e}", m.fstype, m.options, target.display())))?;
    }
    Ok(())
}

fn mask_proc(proc: &Path, null: &Path) -> io::Result<()> {
    for file in MASKED_FILES {
        let target = proc.join(file);
        if target.exists() {
            mount(Some(null), &target, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
        }
    }
    for dir in MASKED_DIRS {
        let target = proc.join(dir);
        if target.is_dir() {
            mount(Some("tmpfs"), &target, Some("tmpfs"), MsFlags::MS_RDONLY, Some("size=0"))?;
        }
    }
    Ok(())
}

fn loopback_up() -> io::Result<()> {
    let socket = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we pass.
    unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Tries each of `probe::FEATURES` as a sandbox's start uses it, in this throwaway process (its
/// user namespace and mounts go with it).
fn probe(plan: &ProbePlan) -> ProbeReport {
    let mut missing = Vec::new();
    let mut note = |id: &str, result: io::Result<()>| {
        let ok = result.is_ok();
        if let Err(e) = result {
            missing.push(Missing { id: id.into(), error: e.to_string() });
        }
        ok
    };
    note("pidfd", sys::pidfd_open(std::process::id() as i32).map(drop));
    note("openat2", sys::openat2(nix::fcntl::AT_FDCWD, Path::new("/"), libc::O_PATH, libc::RESOLVE_NO_MAGICLINKS).map(drop));
    // SAFETY: marks no descriptor (the range is empty of open fds) close-on-exec; only the
    // kernel's support for the flag is asked.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, u32::MAX - 1, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    note("close_range", if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) });
    // SAFETY: this process is single-threaded; the child only exits.
    note(
        "clone3",
        unsafe { sys::clone_into(None, 0) }.map(|child| match child {
            // SAFETY: leaving the child without running the parent's exit handlers.
            None => unsafe { libc::_exit(0) },
            Some(pid) => drop(waitpid(nix::unistd::Pid::from_raw(pid), None)),
        }),
    );
    let userns = make_userns(plan.uid);
    let Some(userns) = userns.map_err(|e| note("userns", Err(e))).ok() else {
        return ProbeReport { missing };
    };
    let idmapped = (|| {
        unshare(CloneFlags::CLONE_NEWNS)?;
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)?;
        let image = sys::clone_mount(&plan.rootfs)?;
        sys::idmap_readonly(image.as_fd(), userns.as_fd())?;
        io::Result::Ok(image)
    })();
    let Some(image) = idmapped.map_err(|e| note("idmap", Err(e))).ok() else {
        return ProbeReport { missing };
    };
    let overlay = (|| {
        let (lower, rw, merged) = (plan.scratch.join("lower"), plan.scratch.join("rw"), plan.scratch.join("merged"));
        for dir in [&lower, &rw, &merged] {
            fs::create_dir_all(dir)?;
        }
        sys::attach_mount(image.as_fd(), &lower)?;
        mount(Some("tmpfs"), &rw, Some("tmpfs"), MsFlags::empty(), Some("size=64k"))?;
        fs::create_dir_all(rw.join("upper"))?;
        fs::create_dir_all(rw.join("work"))?;
        let options = format!("lowerdir={},upperdir={},workdir={}", lower.display(), rw.join("upper").display(), rw.join("work").display());
        mount(Some("overlay"), &merged, Some("overlay"), MsFlags::MS_NODEV, Some(options.as_str()))
            .map_err(|e| io::Error::other(format!("mount overlay: {e}")))?;
        io::Result::Ok(())
    })();
    note("overlay-idmap", overlay);
    ProbeReport { missing }
}
