//! Running programs inside a sandbox from the server: `nsenter` (util-linux) into the init's
//! namespaces, with the process first moved into the sandbox's cgroup so its memory, pids and
//! CPU count against the sandbox from the first instruction.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use super::sys;

const NSENTER: &str = "/usr/bin/nsenter";

/// The program that enters a sandbox: a sealed in-memory copy of nsenter, made once. Its process
/// is briefly inside the sandbox's namespaces before it execs, and there `/proc/<pid>/exe` would
/// be the host's /usr/bin/nsenter (runc's CVE-2019-5736 was a write through that link); a sealed
/// memfd is no host file and cannot be written. Where no copy can be made, the host's binary.
fn entering_program() -> &'static str {
    static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PROGRAM.get_or_init(|| match sealed_copy(Path::new(NSENTER)) {
        // Kept open for the server's life; exec by path works with close-on-exec set (the path is
        // resolved before descriptors close), and the child keeps no copy.
        Ok(fd) => format!("/proc/self/fd/{}", std::os::fd::IntoRawFd::into_raw_fd(fd)),
        Err(e) => {
            tracing::warn!("no sealed copy of {NSENTER} ({e}): the host's binary enters sandboxes");
            NSENTER.to_string()
        }
    })
}

/// `path`'s content in a sealed memfd (no write, no resize, no unsealing).
fn sealed_copy(path: &Path) -> io::Result<OwnedFd> {
    // SAFETY: a C string literal and flags.
    let fd = unsafe { libc::memfd_create(c"stacklab-nsenter".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor just made, owned from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(fd);
    std::io::copy(&mut std::fs::File::open(path)?, &mut file)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on our own descriptor with integer arguments.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file.into())
}
const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

/// The environment every program in a sandbox starts with; the server's own never leaks in.
pub fn base_env() -> Vec<(String, String)> {
    [
        ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ("HOME", "/root"),
        ("USER", "root"),
        ("LOGNAME", "root"),
        ("SHELL", "/bin/bash"),
        ("LANG", "C.UTF-8"),
        ("TERM", "xterm-256color"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A command that runs `argv` as root inside the sandbox whose init is host pid `init`, in the
/// cgroups whose `cgroup.procs` files are `cgroups`, from /root.
pub fn command(init: i32, argv: &[String], env: &[(String, String)], cgroups: &[PathBuf], new_session: bool) -> io::Result<Command> {
    let mut cmd = Command::new(entering_program());
    cmd.arg(format!("--target={init}"))
        .args(["--user", "--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--"])
        // nsenter's own --wd would open the directory on the host: change it inside instead.
        .args(["/usr/bin/env", "--chdir=/root"])
        .args(argv)
        .env_clear()
        .envs(base_env())
        .envs(env.iter().cloned())
        .kill_on_drop(true);
    let files: Vec<CString> =
        cgroups.iter().map(|p| CString::new(p.as_os_str().as_bytes())).collect::<Result<_, _>>().map_err(io::Error::other)?;
    let filter = crate::seccomp::filter();
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe syscalls
    // (sigaction, sigprocmask, open, write, close, setsid, prctl) on memory prepared before the
    // fork.
    unsafe {
        cmd.pre_exec(move || {
            sys::default_signals()?;
            if new_session && libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            for file in &files {
                let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                let ok = libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
                libc::close(fd);
                if !ok {
                    return Err(io::Error::last_os_error());
                }
            }
            // The sandbox's filter, as its init has it (nsenter itself only needs setns).
            filter.install()
        });
    }
    Ok(cmd)
}

/// A new terminal inside the sandbox's own devpts (so `tty` there says /dev/pts/N): the master
/// for the server, the slave for the shell.
pub fn open_pty(init: i32) -> io::Result<(OwnedFd, OwnedFd)> {
    let root: OwnedFd = std::fs::File::open(format!("/proc/{init}/root"))?.into();
    // The learner controls every path in there: resolve inside their root only, never block on
    // a FIFO they put in its place, and make sure it really is a devpts multiplexer.
    let master = sys::open_in_root(root.as_fd(), Path::new("dev/pts/ptmx"), libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK)?;
    let fs = nix::sys::statfs::fstatfs(&master)?;
    if fs.filesystem_type().0 as i64 != DEVPTS_SUPER_MAGIC {
        return Err(io::Error::other("the sandbox's /dev/pts/ptmx is not a devpts terminal multiplexer"));
    }
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int; TIOCGPTPEER returns a new fd for the slave.
    let slave = unsafe {
        if libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        OwnedFd::from_raw_fd(fd)
    };
    Ok((master, slave))
}

/// Gives the command the terminal `slave` as stdin/out/err and as its controlling terminal.
pub fn attach_terminal(cmd: &mut Command, slave: &OwnedFd) -> io::Result<()> {
    cmd.stdin(Stdio::from(slave.try_clone()?)).stdout(Stdio::from(slave.try_clone()?)).stderr(Stdio::from(slave.try_clone()?));
    // SAFETY: runs after the cgroup closure from `command` (pre_exec closures run in order),
    // which made this process a session leader; TIOCSCTTY only takes an int.
    unsafe {
        cmd.pre_exec(|| {
            if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}

/// The start time of host process `pid` in clock ticks since boot (field 22 of /proc/PID/stat):
/// with the pid, it names a process uniquely across pid reuse.
pub fn start_ticks(pid: i32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    after
        .split_whitespace()
        .nth(19)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other(format!("cannot read the start time of pid {pid}")))
}

/// How the process with host pid `pid` is known inside nested pid namespaces (NSpid line of
/// /proc/PID/status: host pid first, innermost last).
pub fn ns_pids(pid: i32) -> Option<Vec<i32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    Some(line.split_whitespace().filter_map(|p| p.parse().ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_readable() {
        let me = std::process::id() as i32;
        assert!(start_ticks(me).unwrap() > 0);
        assert_eq!(ns_pids(me).unwrap().first(), Some(&me));
    }
}
