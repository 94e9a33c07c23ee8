//! Running programs inside a sandbox from the server: in the init's namespaces (see `spawn`), the
//! process born in (or on v1 first moved into) the sandbox's cgroups so its memory, pids and CPU
//! count against the sandbox from the first instruction.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::cgroup::Entry;
use super::spawn::{Parent, Spawn};
use super::sys;

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

/// The environment every program in a sandbox starts with; the server's own never leaks in.
pub fn base_env() -> Vec<(String, String)> {
    [
        ("PATH", super::spawn::PATH),
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

/// A process that runs `argv` as root inside the sandbox whose init `init` is a pidfd of,
/// entering its cgroups as `entry` says, from /root, in a session of its own, a child of `parent`.
pub fn command(init: BorrowedFd<'_>, parent: Parent, argv: &[String], env: &[(String, String)], entry: Entry) -> io::Result<Spawn> {
    let program = argv.first().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no program to run"))?;
    let mut cmd = Spawn::new(program, &argv[1..])?;
    // The request's own over the base (as `Command::envs` did: each name once, the last wins).
    let mut vars = base_env();
    for (key, value) in env {
        vars.retain(|(k, _)| k != key);
        vars.push((key.clone(), value.clone()));
    }
    for (key, value) in &vars {
        cmd.env(key, value)?;
    }
    cmd.entry(entry).new_session().sandbox_filter().inside(init.try_clone_to_owned()?, parent);
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

/// What the shell's waiter runs (`sh -c`): the shell, then its exit status to fd 3 (the
/// server's pipe, closed for the shell itself). It catches, never ignores, the signals a
/// terminal sends (an ignored signal would stay ignored in the shell and all it starts), so it
/// outlives a Ctrl-C or hangup meant for the shell and still says how the shell ended.
const WAITER: &str = r#"trap : HUP INT QUIT TERM; "$@" 3>&-; echo $? >&3"#;

/// `argv` as a terminal's program in the sandbox: started by a waiter that reports its exit
/// status (see `WAITER`). The waiter is the process the server starts with `Parent::Init`, so
/// the sandbox's init adopts it and the shell sits in the sandbox's own process tree (`pstree`
/// shows it below init, not parentless), and it leads the terminal's session.
pub fn in_sandbox_tree(argv: &[String]) -> Vec<String> {
    let mut wrapped: Vec<String> = ["/bin/sh", "-c", WAITER, "stacklab-shell"].map(String::from).into();
    wrapped.extend(argv.iter().cloned());
    wrapped
}

/// Whether a process's arguments are a terminal's waiter's (see `in_sandbox_tree`).
pub fn is_waiter(args: &[impl AsRef<str>]) -> bool {
    args.len() > 2 && args[1].as_ref() == "-c" && args[2].as_ref() == WAITER
}

/// Gives the command the terminal `slave` as stdin/out/err and controlling terminal, and
/// `status` (the write end of the pipe the waiter reports on, see `in_sandbox_tree`) as fd 3.
pub fn attach_terminal(cmd: &mut Spawn, slave: &OwnedFd, status: OwnedFd) -> io::Result<()> {
    cmd.give(slave.try_clone()?, 0).give(slave.try_clone()?, 1).give(slave.try_clone()?, 2).give(status, 3).controlling_terminal();
    Ok(())
}

/// The exit status a waiter wrote (`WAITER`): its number, or none if the waiter was killed
/// before it could say.
pub fn parse_status(said: &[u8]) -> Option<i32> {
    std::str::from_utf8(said).ok()?.trim().parse().ok()
}

/// The start time of host process `pid` in clock ticks since boot (field 22 of /proc/PID/stat):
/// with the pid, it names a process uniquely across pid reuse.
pub fn start_ticks(pid: i32) -> io::Result<u64> {
    sys::stat_field(pid, 22)?.parse().map_err(|_| io::Error::other(format!("cannot read the start time of pid {pid}")))
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
    fn a_terminal_program_is_started_by_a_waiter_that_reports_its_status() {
        let argv = in_sandbox_tree(&["/bin/bash".into(), "-l".into()]);
        assert_eq!(argv[0], "/bin/sh");
        assert_eq!(&argv[argv.len() - 2..], ["/bin/bash", "-l"]);
        assert!(is_waiter(&argv), "listed as the server's: {argv:?}");
        assert!(!is_waiter(&["/bin/sh", "-c", "echo hi"]));
        // What a waiter says, as the server reads it.
        assert_eq!(parse_status(b"0\n"), Some(0));
        assert_eq!(parse_status(b"137\n"), Some(137));
        assert_eq!(parse_status(b""), None, "killed before it could say");
    }

    /// The waiter as the sandbox's /bin/sh runs it: the program's exit status on fd 3, and the
    /// program itself with the default signal dispositions and without fd 3.
    #[test]
    fn the_waiter_reports_the_status_and_leaves_the_program_its_signals() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("program");
        std::fs::write(&program, "#!/bin/sh\ngrep SigIgn /proc/self/status\n[ -e /proc/self/fd/3 ] && echo has-fd-3\nexit 7\n").unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Whatever this test runs under ignores (nohup, say), the waiter adds nothing to it.
        let script = format!("grep SigIgn /proc/self/status; /bin/sh -c '{WAITER}' waiter {} 3>&1", program.display());
        let out = std::process::Command::new("/bin/sh").args(["-c", &script]).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = said.lines().collect();
        assert_eq!(lines.len(), 3, "{said}");
        assert_eq!(lines[0], lines[1], "the program ignores signals its waiter's caller does not");
        assert_eq!(lines[2], "7");
    }

    #[test]
    fn own_start_time_is_readable() {
        let me = std::process::id() as i32;
        assert!(start_ticks(me).unwrap() > 0);
        assert_eq!(ns_pids(me).unwrap().first(), Some(&me));
    }
}
