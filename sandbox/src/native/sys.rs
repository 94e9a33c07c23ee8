//! Thin wrappers over the Linux syscalls that neither `nix` nor `std` offer: the new mount API
//! (idmapped mounts), `openat2` (resolving paths inside a sandbox's root from the host),
//! `pidfd_open` and `clone3`. Each is one syscall; callers give them meaning.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

fn fd_result(rc: libc::c_long) -> io::Result<OwnedFd> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        // SAFETY: the kernel just returned this new fd to us; nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(rc as i32) })
    }
}

fn unit_result(rc: libc::c_long) -> io::Result<()> {
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// A detached copy of the mount at `path` (`open_tree(OPEN_TREE_CLONE)`).
pub fn clone_mount(path: &Path) -> io::Result<OwnedFd> {
    let c = cstring(path)?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    fd_result(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC) })
}

/// Makes the detached mount `mount` idmapped through `userns` (files owned by host uid 0 look
/// owned by the namespace's root) and read-only.
pub fn idmap_readonly(mount: BorrowedFd<'_>, userns: BorrowedFd<'_>) -> io::Result<()> {
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_IDMAP | libc::MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    // SAFETY: `attr` is a valid mount_attr whose size we pass; the empty path with AT_EMPTY_PATH
    // makes the call act on `mount` itself.
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            mount.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    })
}

/// Attaches the detached mount `mount` at `target`.
pub fn attach_mount(mount: BorrowedFd<'_>, target: &Path) -> io::Result<()> {
    let c = cstring(target)?;
    // SAFETY: both strings are valid for the call; MOVE_MOUNT_F_EMPTY_PATH makes the empty
    // source path refer to `mount`.
    unit_result(unsafe {
        libc::syscall(libc::SYS_move_mount, mount.as_raw_fd(), c"".as_ptr(), libc::AT_FDCWD, c.as_ptr(), libc::MOVE_MOUNT_F_EMPTY_PATH)
    })
}

/// `openat2(2)`: opens `path` relative to `dir` under the `resolve` restrictions.
pub fn openat2(dir: BorrowedFd<'_>, path: &Path, flags: libc::c_int, resolve: u64) -> io::Result<OwnedFd> {
    let c = cstring(path)?;
    let mode = if flags & libc::O_CREAT != 0 { 0o644 } else { 0 };
    // SAFETY: open_how is plain data; all-zero is its documented default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = mode;
    how.resolve = resolve;
    // SAFETY: `c` and `how` are valid for the call and we pass `how`'s true size.
    fd_result(unsafe {
        libc::syscall(libc::SYS_openat2, dir.as_raw_fd(), c.as_ptr(), &how as *const libc::open_how, std::mem::size_of::<libc::open_how>())
    })
}

/// Opens `path` relative to `root` as if `root` were `/`: symlinks and `..` cannot leave it, and
/// magic links (`/proc/*/fd/*`) are refused. The only safe way for the host to open a file a
/// learner controls.
pub fn open_in_root(root: BorrowedFd<'_>, path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    openat2(root, path, flags, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS)
}

/// The path through which the kernel resolves `fd` itself (to mount onto an opened directory).
pub fn fd_path(fd: &impl AsRawFd) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Field `n` of /proc/PID/stat, numbered as proc(5) numbers them (3 is the state, 22 the start
/// time). The command name (field 2) is in parentheses and may hold spaces and parentheses of
/// its own: fields are counted after the last ')'.
pub fn stat_field(pid: i32, n: usize) -> io::Result<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    n.checked_sub(3)
        .and_then(|i| after.split_whitespace().nth(i))
        .map(str::to_string)
        .ok_or_else(|| io::Error::other(format!("no field {n} in /proc/{pid}/stat")))
}

/// A pidfd for `pid`: survives pid reuse, and becomes readable when the process exits.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    fd_result(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })
}

/// Sends `signal` through a pidfd (never to a recycled pid).
pub fn pidfd_kill(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: plain syscall; a null siginfo means "as kill(2) would".
    unit_result(unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), signal, std::ptr::null::<libc::siginfo_t>(), 0) })
}

/// `struct clone_args` of `clone3(2)`, up to `cgroup` (Linux 5.7); the C library has no wrapper.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// A child as `fork` makes it (no new stack: a copy of this process), with the namespaces of
/// `flags` (`CLONE_NEW*`) new, and born in the cgroup2 group open as `group` rather than in
/// ours (`CLONE_INTO_CGROUP`). Being born there, it is never *moved* there: moving a process
/// takes the kernel's global cgroup threadgroup lock as a writer, which on a quiet host waits
/// out an RCU grace period (6–15 ms, half a sandbox's start); a birth takes it as a reader.
/// `None` in the child, the child's pid in the parent.
///
/// # Safety
/// As `fork`: in a multi-threaded process the child may only make async-signal-safe calls.
pub unsafe fn clone_into(group: Option<BorrowedFd<'_>>, flags: libc::c_int) -> io::Result<Option<i32>> {
    // With CLONE_PARENT the child's exit signal is its parent's own, and clone3 refuses another.
    let exit_signal = if flags & libc::CLONE_PARENT != 0 { 0 } else { libc::SIGCHLD as u64 };
    let mut args = CloneArgs { flags: flags as u64, exit_signal, ..CloneArgs::default() };
    if let Some(group) = group {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = group.as_raw_fd() as u64;
    }
    // SAFETY: `args` is a valid clone_args of the size given; without CLONE_VM the child runs
    // on its own copy of this stack, as after fork.
    let rc = unsafe { libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>()) };
    match rc {
        rc if rc < 0 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some(pid as i32)),
    }
}

/// Every signal back to its default action and unblocked. Ignored signals survive `exec`: a
/// server started with SIGINT ignored (from `nohup`, or in the background of a script) would
/// otherwise pass that on to every learner's shell, and Ctrl-C would stop nothing there.
///
/// For use between a copy of the server (`clone3`) and exec, so the kernel's calls, not the C
/// library's: the copy has one thread, and a lock another thread of the server held at the copy
/// stays held in it forever. glibc 2.41's `sigaction(SIGABRT)` takes such a lock (the one `abort`
/// and `posix_spawn` take): starts that went through it stalled now and then in the Debian 13
/// guest (`tests/lifecycle.rs` attacks it).
pub fn default_signals() -> io::Result<()> {
    /// The kernel's `struct sigaction` (not the C library's, which orders it otherwise).
    #[repr(C)]
    struct KernelAction {
        handler: libc::sighandler_t,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    const SIGNALS: libc::c_int = 64;
    let default = KernelAction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };
    let none: u64 = 0;
    let size = std::mem::size_of::<u64>();
    // SAFETY: rt_sigaction and rt_sigprocmask read the structs above, sized as the kernel's.
    unsafe {
        for signal in 1..=SIGNALS {
            // SIGKILL and SIGSTOP refuse: nothing to reset.
            libc::syscall(libc::SYS_rt_sigaction, signal, &default as *const KernelAction, std::ptr::null_mut::<KernelAction>(), size);
        }
        if libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &none as *const u64, std::ptr::null_mut::<u64>(), size) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Takes host uid and gid `id` for this process while keeping its capabilities effective
/// (`PR_SET_KEEPCAPS`, then `capset`): a user namespace it makes next is *owned* by `id`, so the
/// kernel's per-user budgets (inotify, namespaces, mqueue bytes) for everything in it count
/// against `id` rather than host root, and the capabilities mean the making is not an
/// "unprivileged" one that a distribution's policy may refuse.
pub fn become_keeping_capabilities(id: u32) -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header { version: VERSION_3, pid: 0 };
    let mut data = [Data::default(); 2];
    // SAFETY: integer arguments; capget/capset read and write the two structs above, sized as
    // version 3 of the interface wants.
    unsafe {
        if libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0
            || libc::setgroups(0, std::ptr::null()) != 0
            || libc::setresgid(id, id, id) != 0
            || libc::setresuid(id, id, id) != 0
            || libc::syscall(libc::SYS_capget, &mut header as *mut Header, data.as_mut_ptr()) != 0
        {
            return Err(io::Error::last_os_error());
        }
        for d in &mut data {
            d.effective = d.permitted;
        }
        if libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_numbered_as_proc_numbers_them() {
        let me = std::process::id() as i32;
        // The state of its main thread: running, or waiting for this test's thread.
        let state = stat_field(me, 3).unwrap();
        assert!(state == "R" || state == "S", "{state}");
        assert_eq!(stat_field(me, 4).unwrap().parse::<i32>().unwrap(), nix::unistd::getppid().as_raw());
        assert!(stat_field(me, 22).unwrap().parse::<u64>().is_ok());
        assert!(stat_field(me, 2).is_err(), "the command name is not a field it gives");
        assert!(stat_field(me, 400).is_err());
    }
}
