//! Starting a process that enters a running sandbox (a shell, a command, the check agent) born
//! in the sandbox's cgroup2 group. `std`'s and tokio's `Command` fork, and the child could only
//! join the group by writing `cgroup.procs`, which takes the kernel's global threadgroup lock as a
//! writer and on a quiet host first waits out an RCU grace period: 5–15 ms of every terminal's
//! start, more than the whole rest of it. `clone3(CLONE_INTO_CGROUP)` takes that lock as a reader.
//! Otherwise this is what `Command` does: descriptors given at fixed numbers, the set-up between
//! fork and exec, and an error from there reported through a close-on-exec pipe.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::fcntl::OFlag;
use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe;

use super::cgroup::Entry;
use super::sys;

/// What to start, prepared before the fork: the child only makes async-signal-safe calls on it.
pub struct Spawn {
    program: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
    entry: Entry,
    new_session: bool,
    /// Descriptors the child gets, at the numbers given.
    fds: Vec<(OwnedFd, RawFd)>,
    filter: Option<&'static crate::seccomp::Filter>,
}

/// The server's ends of a child's standard input, output and error.
pub struct Pipes {
    pub stdin: pipe::Sender,
    pub stdout: pipe::Receiver,
    pub stderr: pipe::Receiver,
}

/// Descriptors a child may be given (the child counts them on its stack).
const MAX_FDS: usize = 8;

/// The step of the child's set-up that failed (told through the error pipe with the errno).
const STEPS: [&str; 6] =
    ["resetting signals", "a session of its own", "its descriptors", "joining the sandbox's cgroups", "the seccomp filter", "exec"];

fn c(s: impl AsRef<OsStr>) -> io::Result<CString> {
    CString::new(s.as_ref().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in an argument"))
}

impl Spawn {
    /// `program` with `args` (its `argv[0]` is `program`), an empty environment, no
    /// descriptors but the error pipe, in this process's cgroups.
    pub fn new(program: &str, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> io::Result<Self> {
        let mut argv = vec![c(program)?];
        for arg in args {
            argv.push(c(arg)?);
        }
        Ok(Self { program: c(program)?, argv, env: Vec::new(), entry: Entry::default(), new_session: false, fds: Vec::new(), filter: None })
    }

    pub fn env(&mut self, key: &str, value: &str) -> io::Result<&mut Self> {
        self.env.push(c(format!("{key}={value}"))?);
        Ok(self)
    }

    /// Born in `entry`'s cgroup2 group, its v1 `tasks` joined before exec.
    pub fn entry(&mut self, entry: Entry) -> &mut Self {
        self.entry = entry;
        self
    }

    /// A session of its own (it leads no terminal: a program it starts takes one).
    pub fn new_session(&mut self) -> &mut Self {
        self.new_session = true;
        self
    }

    /// The seccomp filter installed last before exec.
    pub fn filter(&mut self, filter: &'static crate::seccomp::Filter) -> &mut Self {
        self.filter = Some(filter);
        self
    }

    /// Gives the child `fd` as its descriptor number `at`.
    pub fn give(&mut self, fd: OwnedFd, at: RawFd) -> &mut Self {
        self.fds.push((fd, at));
        self
    }

    /// Pipes for standard input, output and error; the server's ends (in the runtime's reactor:
    /// call from within it).
    pub fn pipes(&mut self) -> io::Result<Pipes> {
        let (stdin_r, stdin_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let (stdout_r, stdout_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let (stderr_r, stderr_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        self.give(stdin_r, 0).give(stdout_w, 1).give(stderr_w, 2);
        Ok(Pipes {
            stdin: pipe::Sender::from_owned_fd(stdin_w)?,
            stdout: pipe::Receiver::from_owned_fd(stdout_r)?,
            stderr: pipe::Receiver::from_owned_fd(stderr_r)?,
        })
    }

    /// Starts the child and waits until it has exec'd (or says why it could not). Blocking.
    pub fn spawn(self) -> io::Result<Child> {
        if self.fds.len() > MAX_FDS {
            return Err(io::Error::other(format!("{} descriptors for a child, at most {MAX_FDS}", self.fds.len())));
        }
        let group = super::builder::open_group(self.entry.born_in.as_deref())?;
        let tasks: Vec<CString> = self.entry.tasks.iter().map(c).collect::<io::Result<_>>()?;
        let argv = pointers(&self.argv);
        let env = pointers(&self.env);
        // Above every number the child is given, so that moving one there never overwrites
        // another that is still to be moved.
        let high = self.fds.iter().map(|(_, at)| *at).max().unwrap_or(2).max(2) + 1;
        // Held until this process's copy of the error pipe's writing end is closed: a child that
        // another thread clones meanwhile would inherit that end, and this child's exec would be
        // seen (EOF) only once that one had exec'd too.
        let cloning = CLONING.lock().unwrap_or_else(|p| p.into_inner());
        let (said, says) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let fds: Vec<(RawFd, RawFd)> = self.fds.iter().map(|(fd, at)| (fd.as_raw_fd(), *at)).collect();
        let setup = Setup {
            program: &self.program,
            argv: &argv,
            env: &env,
            tasks: &tasks,
            fds: &fds,
            high,
            new_session: self.new_session,
            filter: self.filter,
        };
        // SAFETY: the child runs `Setup::run` only, which makes async-signal-safe calls on memory
        // prepared above, and ends in exec or _exit.
        let pid = match unsafe { sys::clone_into(group.as_ref().map(|g| g.as_fd()), 0) }? {
            None => setup.run(says.as_raw_fd()),
            Some(pid) => pid,
        };
        drop(says);
        drop(cloning);
        // The child's ends, and the group, are the child's now.
        drop(self.fds);
        drop(group);
        let pidfd = sys::pidfd_open(pid);
        warn_if_slow(said.as_fd(), pid);
        let mut word = [0u8; 8];
        let n = read_all(said.as_fd(), &mut word);
        let child = Child { pid, pidfd: pidfd?, done: None };
        match n? {
            0 => Ok(child),
            8 => {
                let step = u32::from_ne_bytes(word[..4].try_into().expect("4 bytes")) as usize;
                let errno = i32::from_ne_bytes(word[4..].try_into().expect("4 bytes"));
                let mut child = child;
                let _ = child.reap();
                let error = io::Error::from_raw_os_error(errno);
                Err(io::Error::new(error.kind(), format!("{}: {error}", STEPS.get(step).copied().unwrap_or("starting"))))
            }
            n => Err(io::Error::other(format!("the starting child said {n} bytes"))),
        }
    }
}

/// See `Spawn::spawn`.
static CLONING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// How long a child may take to exec before the server says where it waits.
const SLOW_EXEC: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits up to `SLOW_EXEC` for the child's word (or its exec); past that, logs the child's
/// state and where in the kernel it waits, for whoever reads the log to tell a stalled group
/// from a slow host. The caller goes on waiting.
fn warn_if_slow(said: std::os::fd::BorrowedFd<'_>, pid: i32) {
    let mut fds = [nix::poll::PollFd::new(said, nix::poll::PollFlags::POLLIN)];
    let limit = nix::poll::PollTimeout::try_from(SLOW_EXEC).unwrap_or(nix::poll::PollTimeout::MAX);
    if matches!(nix::poll::poll(&mut fds, limit), Ok(0)) {
        let read = |file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
        let stat = read("stat");
        let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).unwrap_or("?").to_string();
        tracing::warn!(
            pid,
            state,
            wchan = read("wchan"),
            stack = read("stack"),
            "a process entering a sandbox has not exec'd after {} s",
            SLOW_EXEC.as_secs()
        );
    }
}

/// A C array of pointers to `strings`, NULL-terminated (what exec takes).
fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// Reads until `buf` is full or the writer is gone; how many bytes came.
fn read_all(fd: std::os::fd::BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

/// The child's side, between clone and exec.
struct Setup<'a> {
    program: &'a CString,
    argv: &'a [*const libc::c_char],
    env: &'a [*const libc::c_char],
    tasks: &'a [CString],
    fds: &'a [(RawFd, RawFd)],
    high: RawFd,
    new_session: bool,
    filter: Option<&'static crate::seccomp::Filter>,
}

impl Setup<'_> {
    /// Never returns: exec, or the failed step and errno on `says` and exit 127.
    fn run(&self, says: RawFd) -> ! {
        let failed = |step: usize| -> ! {
            let errno = io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
            let mut word = [0u8; 8];
            word[..4].copy_from_slice(&(step as u32).to_ne_bytes());
            word[4..].copy_from_slice(&errno.to_ne_bytes());
            // SAFETY: write and _exit are async-signal-safe; `word` is on this stack.
            unsafe {
                libc::write(says, word.as_ptr().cast(), word.len());
                libc::_exit(127)
            }
        };
        if sys::default_signals().is_err() {
            failed(0);
        }
        // SAFETY: each call below is a plain async-signal-safe syscall on integers or on strings
        // and arrays prepared before the clone.
        unsafe {
            if self.new_session && libc::setsid() < 0 {
                failed(1);
            }
            // First every descriptor above the numbers given (close-on-exec), then each to its
            // number (dup2 clears close-on-exec there).
            let mut moved = [0 as RawFd; MAX_FDS];
            for (i, (fd, _)) in self.fds.iter().enumerate() {
                moved[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, self.high);
                if moved[i] < 0 {
                    failed(2);
                }
            }
            for (i, (_, at)) in self.fds.iter().enumerate() {
                if libc::dup2(moved[i], *at) < 0 {
                    failed(2);
                }
            }
            for file in self.tasks {
                let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    failed(3);
                }
                let ok = libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
                if !ok {
                    failed(3);
                }
                libc::close(fd);
            }
            if let Some(filter) = self.filter
                && filter.install().is_err()
            {
                failed(4);
            }
            libc::execve(self.program.as_ptr(), self.argv.as_ptr(), self.env.as_ptr());
        }
        failed(5)
    }
}

/// A started child: waited for through its pidfd. Killed if dropped before it ended (what
/// `kill_on_drop` did), and reaped either way.
pub struct Child {
    pid: i32,
    pidfd: OwnedFd,
    done: Option<ExitStatus>,
}

impl Child {
    pub fn id(&self) -> i32 {
        self.pid
    }

    /// Waits until the child has ended; its status.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.done {
            return Ok(status);
        }
        let ready = watch(self.pidfd.try_clone()?)?;
        loop {
            if let Some(status) = self.try_reap()? {
                return Ok(status);
            }
            ready.readable().await?.clear_ready();
        }
    }

    pub fn kill(&self) {
        if self.done.is_none() {
            let _ = sys::pidfd_kill(self.pidfd.as_fd(), libc::SIGKILL);
        }
    }

    /// Its status if it has ended (and reaps it), without waiting.
    fn try_reap(&mut self) -> io::Result<Option<ExitStatus>> {
        let status = waitid(self.pidfd.as_fd(), libc::WEXITED | libc::WNOHANG)?;
        self.done = self.done.or(status);
        Ok(status)
    }

    /// Waits for it, blocking.
    fn reap(&mut self) -> io::Result<Option<ExitStatus>> {
        let status = waitid(self.pidfd.as_fd(), libc::WEXITED)?;
        self.done = self.done.or(status);
        Ok(status)
    }
}

/// `waitid` on a child's pidfd: its status once it has ended (and reaped), `None` before.
fn waitid(pidfd: std::os::fd::BorrowedFd<'_>, options: libc::c_int) -> io::Result<Option<ExitStatus>> {
    const P_PIDFD: libc::idtype_t = 3;
    // SAFETY: a zeroed siginfo_t is valid for waitid to fill.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid on a pidfd of our own child, writing into `info`.
    if unsafe { libc::waitid(P_PIDFD, pidfd.as_raw_fd() as libc::id_t, &mut info, options) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: after a successful waitid the pid and status fields are set (pid 0: not yet).
    let (pid, code, status) = unsafe { (info.si_pid(), info.si_code, info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    // As wait(2) would have said it: an exit code in the second byte, or the signal.
    let raw = match code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_DUMPED => status | 0x80,
        _ => status,
    };
    Ok(Some(ExitStatus::from_raw(raw)))
}

/// A pidfd in the runtime's reactor: readable once the process has ended.
fn watch(pidfd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an OwnedFd is a valid open fd, owned by the AsyncFd for its whole life.
    unsafe { AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) }.map_err(|e| io::Error::other(e.to_string()))
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.done.is_some() {
            return;
        }
        self.kill();
        let Ok(pidfd) = self.pidfd.try_clone() else { return };
        // Killed, so it ends at once; reaped off this thread all the same. (A runtime shutting
        // down drops the task unrun: then this process is ending, and its zombie with it.)
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Ok(ended) = watch(pidfd) {
                        let _ = ended.readable().await;
                        let _ = waitid(ended.get_ref().as_fd(), libc::WEXITED | libc::WNOHANG);
                    }
                });
            }
            Err(_) => {
                std::thread::spawn(move || waitid(pidfd.as_fd(), libc::WEXITED));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use std::path::PathBuf;

    use super::*;

    #[tokio::test]
    async fn a_child_gets_its_pipes_descriptors_and_environment_and_says_how_it_ended() {
        let (says, mut said) = tokio::net::unix::pipe::pipe().unwrap();
        let mut spawn = Spawn::new("/bin/sh", ["-c", "read line; echo \"$line $GREETING\"; echo oops >&2; echo fd >&5; exit 7"]).unwrap();
        spawn.env("GREETING", "hello").unwrap();
        let mut pipes = spawn.pipes().unwrap();
        spawn.give(says.into_blocking_fd().unwrap(), 5);
        let mut child = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().unwrap();
        pipes.stdin.write_all(b"well\n").await.unwrap();
        let (mut out, mut err, mut fd) = (String::new(), String::new(), String::new());
        pipes.stdout.read_to_string(&mut out).await.unwrap();
        pipes.stderr.read_to_string(&mut err).await.unwrap();
        said.read_to_string(&mut fd).await.unwrap();
        assert_eq!((out.as_str(), err.as_str(), fd.as_str()), ("well hello\n", "oops\n", "fd\n"));
        assert_eq!(child.wait().await.unwrap().code(), Some(7));
        assert_eq!(child.wait().await.unwrap().code(), Some(7), "asked again, the same");
    }

    #[tokio::test]
    async fn a_child_that_cannot_start_says_which_step_failed() {
        let spawn = Spawn::new("/nonexistent/program", ["x"]).unwrap();
        let err = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().err().expect("no such program");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().starts_with("exec: "), "{err}");

        let mut spawn = Spawn::new("/bin/true", Vec::<String>::new()).unwrap();
        spawn.entry(Entry { born_in: None, tasks: vec![PathBuf::from("/nonexistent/tasks")] });
        let err = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().err().expect("no such group");
        assert!(err.to_string().starts_with("joining the sandbox's cgroups: "), "{err}");
    }

    #[tokio::test]
    async fn a_child_killed_or_dropped_ends() {
        let spawn = Spawn::new("/bin/sleep", ["60"]).unwrap();
        let mut child = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().unwrap();
        child.kill();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));

        let spawn = Spawn::new("/bin/sleep", ["60"]).unwrap();
        let child = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().unwrap();
        let pidfd = child.pidfd.try_clone().unwrap();
        drop(child);
        let ended = watch(pidfd).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), ended.readable()).await.expect("killed on drop").unwrap().retain_ready();
    }
}
