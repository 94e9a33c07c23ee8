//! Starting a process that enters a running sandbox (a shell, a command, the check agent) born
//! in the sandbox's cgroup2 group. `std`'s and tokio's `Command` fork, and the child could only
//! join the group by writing `cgroup.procs`, which takes the kernel's global threadgroup lock as a
//! writer and on a quiet host first waits out an RCU grace period: 5–15 ms of every terminal's
//! start, more than the whole rest of it. `clone3(CLONE_INTO_CGROUP)` takes that lock as a reader.
//! Otherwise this is what `Command` does: descriptors given at fixed numbers, the set-up between
//! fork and exec, and an error from there reported through a close-on-exec pipe.
//!
//! Entering the sandbox's namespaces is done here too, not by exec'ing `nsenter` (and `setsid`
//! for a terminal): two execs and their dynamic loading less for every shell, check agent and
//! command. The child (a copy of the spawner, `spawner.rs`, which the backend keeps so that it
//! is not a copy of the server) closes every descriptor it was not given, joins the namespaces
//! of the sandbox's init with one `setns` on its pidfd, becomes the sandbox's root, and starts
//! the program with `clone(CLONE_VM)`, so that the pid namespace applies and no second copy of
//! the page tables is made. Until that exec a process inside the sandbox has the spawner's
//! memory: it is made non-dumpable first, which keeps a learner (root in their user namespace,
//! not in the host's) from reading it, its `/proc/<pid>/exe` or its descriptors through `/proc`
//! or ptrace (the kernel also refuses because that process holds capabilities the learner's
//! processes lack).

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

/// What to start, prepared before the fork: the child only makes system calls on it, none that
/// takes a lock (async-signal-safe is not enough: glibc's `fork` resets its locks in the child,
/// a raw `clone3` does not, so a lock another thread held at the copy stays held).
pub struct Spawn {
    /// Where the program may be: its path, or for a bare name each directory of `PATH` in turn.
    pub(super) program: Vec<CString>,
    pub(super) argv: Vec<CString>,
    pub(super) env: Vec<CString>,
    pub(super) entry: Entry,
    pub(super) new_session: bool,
    /// Descriptors the child gets, at the numbers given.
    pub(super) fds: Vec<(OwnedFd, RawFd)>,
    /// Whether the sandbox's seccomp filter is installed before exec.
    pub(super) filter: bool,
    pub(super) inside: Option<Inside>,
    pub(super) terminal: bool,
}

/// Whose child a process started inside a sandbox is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// The server's: it waits for the process and has its exit status (a command, the check
    /// agent). In the sandbox it has no parent, as a process `nsenter` starts.
    Server,
    /// The sandbox init's, which adopts it at once (a terminal's waiter: `pstree` in the
    /// sandbox shows the shell below init). The server is told it started, nothing more.
    Init,
}

/// The sandbox a process starts in: a pidfd of its init.
pub(super) struct Inside {
    pub(super) init: OwnedFd,
    pub(super) parent: Parent,
}

/// Where a program named without a path is looked for (in the sandbox, as `execvp` would).
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The namespaces a process entering a sandbox joins: all its init's but time.
const NAMESPACES: libc::c_int = libc::CLONE_NEWUSER
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWCGROUP;

/// The stack the program's process runs its few calls on before exec (it shares the memory of
/// the process that started it, so it cannot use that one's stack).
const STACK: usize = 64 * 1024;

/// The word (in place of a step) a child entering a sandbox for the server sends with the host
/// pid of the process it started.
const STARTED: u32 = u32::MAX;

/// How long the server waits for a child's exec before it says where the child waits (scaled
/// on emulated test hosts, `crate::time_scale`).
const SLOW_EXEC: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a start into a sandbox may take before it fails, each scaled on emulated test hosts
/// (`crate::time_scale`). A learner can stop the process before its exec (it is theirs once
/// inside) and a spawner can hang: these bound what either holds of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartLimits {
    /// The spawner's answer (it only clones: microseconds). One that does not answer in time is
    /// killed and replaced.
    pub answer: std::time::Duration,
    /// From the clone to the program's exec.
    pub exec: std::time::Duration,
}

impl Default for StartLimits {
    fn default() -> Self {
        Self { answer: std::time::Duration::from_secs(10), exec: std::time::Duration::from_secs(15) }
    }
}

/// The server's ends of a child's standard input, output and error.
pub struct Pipes {
    pub stdin: pipe::Sender,
    pub stdout: pipe::Receiver,
    pub stderr: pipe::Receiver,
}

/// Descriptors a child may be given (the child counts them on its stack).
pub(super) const MAX_FDS: usize = 8;

/// The step of the child's set-up that failed (told through the error pipe with the errno).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(u32)]
enum Step {
    Signals,
    Session,
    Descriptors,
    Cgroups,
    Filter,
    Exec,
    Undumpable,
    Namespaces,
    Root,
    Clone,
    Terminal,
}

impl Step {
    /// Every step, at its number.
    const ALL: [Step; 11] = [
        Step::Signals,
        Step::Session,
        Step::Descriptors,
        Step::Cgroups,
        Step::Filter,
        Step::Exec,
        Step::Undumpable,
        Step::Namespaces,
        Step::Root,
        Step::Clone,
        Step::Terminal,
    ];

    /// What the process was doing, for the error.
    fn describe(self) -> &'static str {
        match self {
            Step::Signals => "resetting signals",
            Step::Session => "a session of its own",
            Step::Descriptors => "its descriptors",
            Step::Cgroups => "joining the sandbox's cgroups",
            Step::Filter => "the seccomp filter",
            Step::Exec => "exec",
            Step::Undumpable => "keeping its memory private",
            Step::Namespaces => "entering the sandbox's namespaces",
            Step::Root => "becoming the sandbox's root",
            Step::Clone => "starting the process inside",
            Step::Terminal => "taking its terminal",
        }
    }
}

/// The 8 bytes a child says on the error pipe: a tag (a step's number, or `STARTED`) and a
/// number (an errno, or a pid). Built on the child's stack: async-signal-safe.
fn word(tag: u32, value: i32) -> [u8; 8] {
    let mut word = [0u8; 8];
    word[..4].copy_from_slice(&tag.to_ne_bytes());
    word[4..].copy_from_slice(&value.to_ne_bytes());
    word
}

/// The tag and number of a `word`.
fn unword(word: [u8; 8]) -> (u32, i32) {
    let [a, b, c, d, e, f, g, h] = word;
    (u32::from_ne_bytes([a, b, c, d]), i32::from_ne_bytes([e, f, g, h]))
}

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
        let program = if program.contains('/') {
            vec![c(program)?]
        } else {
            PATH.split(':').map(|dir| c(format!("{dir}/{program}"))).collect::<io::Result<_>>()?
        };
        Ok(Self {
            program,
            argv,
            env: Vec::new(),
            entry: Entry::default(),
            new_session: false,
            fds: Vec::new(),
            filter: false,
            inside: None,
            terminal: false,
        })
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

    /// Started inside the sandbox whose init `init` is a pidfd of: in all its namespaces, as its
    /// root, in `/root` (or `/` if the learner removed that), a child of `parent`.
    pub fn inside(&mut self, init: OwnedFd, parent: Parent) -> &mut Self {
        self.inside = Some(Inside { init, parent });
        self
    }

    /// Takes the descriptor given at 0 (a terminal) as its controlling terminal, in a session of
    /// its own.
    pub fn controlling_terminal(&mut self) -> &mut Self {
        self.terminal = true;
        self.new_session()
    }

    /// The sandbox's seccomp filter (`crate::seccomp::filter`) installed last before exec.
    pub fn sandbox_filter(&mut self) -> &mut Self {
        self.filter = true;
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

    /// Starts the child here and waits until it has exec'd (or says why it could not).
    /// Blocking. The child is a copy of this process: the backend starts through its `Spawner`
    /// instead; this tests the child's side without one.
    #[cfg(test)]
    pub fn spawn(self) -> io::Result<Child> {
        self.start(crate::time_scale::scaled(StartLimits::default().exec), |spawn| {
            // Held until this process's copy of the error pipe's writing end is closed: a child
            // that another thread clones meanwhile would inherit that end, and this child's exec
            // would be seen (EOF) only once that one had exec'd too.
            let _cloning = CLONING.lock().unwrap_or_else(|p| p.into_inner());
            let (said, says) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
            Ok((spawn.clone_child(says.as_raw_fd(), 0)?, said))
        })
    }

    /// Starts the child through `spawner` (a copy of that small process, not of the server) and
    /// waits until it has exec'd. Blocking. The child is this process's all the same.
    pub fn spawn_through(self, spawner: &super::spawner::Spawner) -> io::Result<Child> {
        self.start(crate::time_scale::scaled(spawner.limits().exec), |spawn| {
            let (said, says) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
            Ok((spawner.clone_child(spawn, says)?, said))
        })
    }

    /// Has `clone` start the child (its pid back, and the reading end of the error pipe it
    /// gave the child), then waits for the child's exec or its word. Inside a sandbox the child
    /// is the program's process for `Parent::Server`; for `Parent::Init` it is the one that
    /// started it, ended (and reaped) when this returns. Past `give_up` from the clone the
    /// start fails (and the child is killed).
    fn start(self, give_up: std::time::Duration, clone: impl FnOnce(&Spawn) -> io::Result<(i32, OwnedFd)>) -> io::Result<Child> {
        if self.fds.len() > MAX_FDS {
            return Err(io::Error::other(format!("{} descriptors for a child, at most {MAX_FDS}", self.fds.len())));
        }
        let (pid, said) = clone(&self)?;
        // The child's ends are the child's now.
        drop(self.fds);
        let child = Child::own(pid);
        let deadline = Deadline { at: std::time::Instant::now() + give_up, limit: give_up };
        let word = wait_word(said.as_fd(), pid, "the child", deadline);
        let mut child = child?;
        let parent = self.inside.map(|i| i.parent);
        let word = match word {
            Ok(word) => word,
            Err(e) => {
                child.kill();
                let _ = child.reap();
                return Err(e);
            }
        };
        match (word, parent) {
            (None, None) => Ok(child),
            (None, Some(Parent::Server)) => {
                let status = child.reap()?;
                Err(io::Error::other(format!("the process starting it ended ({status:?}) before it said what it started")))
            }
            (None, Some(Parent::Init)) => match child.reap()? {
                Some(status) if status.success() => Ok(child),
                status => Err(io::Error::other(format!("the process starting it ended with {status:?}"))),
            },
            (Some((STARTED, started)), Some(Parent::Server)) => {
                let _ = child.reap();
                // The server's own child too (CLONE_PARENT).
                let mut program = Child::own(started)?;
                match wait_word(said.as_fd(), started, "the program's process", deadline) {
                    Ok(None) => Ok(program),
                    Ok(Some(word)) => {
                        let _ = program.reap();
                        Err(said_error(word))
                    }
                    Err(e) => {
                        program.kill();
                        let _ = program.reap();
                        Err(e)
                    }
                }
            }
            (Some(word), _) => {
                let _ = child.reap();
                Err(said_error(word))
            }
        }
    }
}

impl Spawn {
    /// Clones this process into the child, which tells on `says` (its exec closes it) and
    /// ends in exec or exit: the clone's pid. `flags` are added to the clone's (`CLONE_PARENT`
    /// makes the child this process's parent's).
    pub(super) fn clone_child(&self, says: RawFd, flags: libc::c_int) -> io::Result<i32> {
        let group = super::builder::open_group(self.entry.born_in.as_deref())?;
        let tasks: Vec<CString> = self.entry.tasks.iter().map(c).collect::<io::Result<_>>()?;
        let argv = pointers(&self.argv);
        let env = pointers(&self.env);
        // Above every number the child is given: the error pipe goes there (and the pidfd of the
        // sandbox's init one higher), and the copies made on the way above both, so that moving
        // one never overwrites another that is still to be moved.
        let high = self.fds.iter().map(|(_, at)| *at).max().unwrap_or(2).max(2) + 1;
        let mut stack = vec![0u8; if self.inside.is_some() { STACK } else { 0 }];
        let fds: Vec<(RawFd, RawFd)> = self.fds.iter().map(|(fd, at)| (fd.as_raw_fd(), *at)).collect();
        let setup = Setup {
            program: &self.program,
            argv: &argv,
            env: &env,
            tasks: &tasks,
            fds: &fds,
            high,
            new_session: self.new_session,
            terminal: self.terminal,
            filter: self.filter.then(crate::seccomp::filter),
            inside: self.inside.as_ref().map(|i| (i.init.as_raw_fd(), i.parent)),
            stack: stack.as_mut_ptr_range(),
        };
        // SAFETY: the child runs `Setup::run` only, which makes lock-free system calls on memory
        // prepared above, and ends in exec or _exit.
        match unsafe { sys::clone_into(group.as_ref().map(|g| g.as_fd()), flags) }? {
            None => setup.run(says),
            Some(pid) => Ok(pid),
        }
    }
}

/// The error a child told (`tell`): the step that failed, with its errno.
fn said_error((step, errno): (u32, i32)) -> io::Error {
    let error = io::Error::from_raw_os_error(errno);
    match Step::ALL.get(step as usize) {
        Some(step) => io::Error::new(error.kind(), format!("{}: {error}", step.describe())),
        None => io::Error::other(format!("the starting child said {step} {errno} unasked")),
    }
}

/// When a start gives up (`at`), and the limit that set it, for the error to name.
#[derive(Clone, Copy)]
struct Deadline {
    at: std::time::Instant,
    limit: std::time::Duration,
}

/// See `Spawn::spawn`.
#[cfg(test)]
static CLONING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for the child's word: none if it exec'd (the pipe closed with nothing said), the step
/// that failed and its errno, or `STARTED` and a pid. Past `SLOW_EXEC` it logs where process
/// `pid` (`who`) waits (`stalled`), for whoever reads the log to tell a stalled group from a
/// slow host; past `deadline` it is an error (the caller kills the child). A learner
/// can stop the program's process before its exec (it is theirs once in the sandbox): that
/// fails their own start, and holds no server thread for longer.
fn wait_word(said: std::os::fd::BorrowedFd<'_>, pid: i32, who: &str, deadline: Deadline) -> io::Result<Option<(u32, i32)>> {
    let give_up = || io::Error::new(io::ErrorKind::TimedOut, format!("the process did not start within {} s", deadline.limit.as_secs()));
    let left = || deadline.at.saturating_duration_since(std::time::Instant::now());
    if !readable(said, crate::time_scale::scaled(SLOW_EXEC).min(left()))? {
        if left().is_zero() {
            return Err(give_up());
        }
        tracing::warn!(
            pid,
            who,
            place = super::stalled::describe(pid),
            "a process entering a sandbox has not exec'd after {} s",
            crate::time_scale::scaled(SLOW_EXEC).as_secs()
        );
        if !readable(said, left())? {
            return Err(give_up());
        }
    }
    let mut word = [0u8; 8];
    match read_all(said, &mut word)? {
        0 => Ok(None),
        8 => Ok(Some(unword(word))),
        n => Err(io::Error::other(format!("the starting child said {n} bytes"))),
    }
}

/// Whether `fd` turns readable within `within`.
pub(super) fn readable(fd: std::os::fd::BorrowedFd<'_>, within: std::time::Duration) -> io::Result<bool> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::try_from(left).unwrap_or(nix::poll::PollTimeout::MAX)) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
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
    program: &'a [CString],
    argv: &'a [*const libc::c_char],
    env: &'a [*const libc::c_char],
    tasks: &'a [CString],
    fds: &'a [(RawFd, RawFd)],
    high: RawFd,
    new_session: bool,
    terminal: bool,
    filter: Option<&'static crate::seccomp::Filter>,
    /// The pidfd of the sandbox's init and whose child the program's process is.
    inside: Option<(RawFd, Parent)>,
    /// Memory for the stacks of the processes started inside (see `Started`).
    stack: std::ops::Range<*mut u8>,
}

/// Tells the server through `says` which step failed with `errno`, and exits. Async-signal-safe.
fn tell(says: RawFd, step: Step, errno: i32) -> ! {
    let word = word(step as u32, errno);
    // SAFETY: write and _exit are async-signal-safe; `word` is on this stack.
    unsafe {
        libc::write(says, word.as_ptr().cast(), word.len());
        libc::_exit(127)
    }
}

/// errno now (reading it is async-signal-safe).
fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

impl Setup<'_> {
    /// Never returns: exec, or the failed step and errno on `says` and exit 127.
    fn run(&self, says: RawFd) -> ! {
        let failed = |step: Step| -> ! { tell(says, step, errno()) };
        if sys::default_signals().is_err() {
            failed(Step::Signals);
        }
        let Some((init, parent)) = self.inside else {
            // SAFETY: each call is a plain async-signal-safe syscall on integers or on strings
            // and arrays prepared before the clone.
            unsafe {
                if self.new_session && libc::setsid() < 0 {
                    failed(Step::Session);
                }
                if let Err(step) = self.give_descriptors(says, None) {
                    failed(step);
                }
                if let Err(step) = self.join_cgroups() {
                    failed(step);
                }
                if let Err(step) = self.last_steps() {
                    failed(step);
                }
            }
            failed(Step::Exec)
        };
        // SAFETY: as above; `clone` runs `program_process` on a stack of its own in this
        // process's memory, which outlives this process.
        unsafe {
            // Before anything of the sandbox's can see this process (see the module's doc).
            if libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 {
                failed(Step::Undumpable);
            }
            let Ok((says, init)) = self.give_descriptors(says, Some(init)) else { failed(Step::Descriptors) };
            let failed = |step: Step| -> ! { tell(says, step, errno()) };
            if let Err(step) = self.join_cgroups() {
                failed(step);
            }
            if libc::setns(init, NAMESPACES) < 0 {
                failed(Step::Namespaces);
            }
            libc::close(init);
            // The sandbox's root, as `nsenter` makes it: the server's host ids mean nothing in
            // there. (Raw syscalls: the C library's would signal threads this copy lacks.)
            let no_groups = libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) == 0 || errno() == libc::EPERM;
            if !no_groups || libc::syscall(libc::SYS_setresgid, 0, 0, 0) < 0 || libc::syscall(libc::SYS_setresuid, 0, 0, 0) < 0 {
                failed(Step::Root);
            }
            if libc::chdir(c"/root".as_ptr()) < 0 {
                libc::chdir(c"/".as_ptr());
            }
            // The pid namespace applies to this process's children only. For init to adopt the
            // program's process, its parent must be in the sandbox too and end: one more start.
            // Neither start waits for the next one's exec (a learner could stop that process):
            // each process tells its own failure, and the server sees the exec as the error
            // pipe's end. The memory is shared (CLONE_VM: no copy of the page tables) and
            // outlives this process while the others use it.
            let started = Started { setup: self, says, leave: parent == Parent::Init };
            let flags = libc::CLONE_VM | libc::SIGCHLD | if parent == Parent::Server { libc::CLONE_PARENT } else { 0 };
            let pid = libc::clone(program_process, started.stack_top(0), flags, (&started as *const Started).cast_mut().cast());
            if pid < 0 {
                failed(Step::Clone);
            }
            if parent == Parent::Server {
                let word = word(STARTED, pid);
                libc::write(says, word.as_ptr().cast(), word.len());
            }
            libc::_exit(0)
        }
    }

    /// Gives the child its descriptors at their numbers. Inside a sandbox (`init` given) also
    /// the error pipe at `high` and the pidfd of the sandbox's init at `high + 1` (both
    /// close-on-exec), and closes every other: none of the server's is taken in there. Returns
    /// where those two are now.
    ///
    /// # Safety
    /// Between clone and exec only (it closes descriptors the process does not own).
    unsafe fn give_descriptors(&self, says: RawFd, init: Option<RawFd>) -> Result<(RawFd, RawFd), Step> {
        let above = if init.is_some() { self.high + 2 } else { self.high };
        // SAFETY: fcntl, dup2, dup3 and close on integers.
        unsafe {
            // First every descriptor above the numbers given (close-on-exec), then each to its
            // number (dup2 clears close-on-exec there).
            let mut moved = [0 as RawFd; MAX_FDS];
            for (i, (fd, _)) in self.fds.iter().enumerate() {
                moved[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, above);
                if moved[i] < 0 {
                    return Err(Step::Descriptors);
                }
            }
            let Some(init) = init else {
                for (i, (_, at)) in self.fds.iter().enumerate() {
                    if libc::dup2(moved[i], *at) < 0 {
                        return Err(Step::Descriptors);
                    }
                }
                return Ok((says, -1));
            };
            let (says_moved, init_moved) =
                (libc::fcntl(says, libc::F_DUPFD_CLOEXEC, above), libc::fcntl(init, libc::F_DUPFD_CLOEXEC, above));
            if says_moved < 0 || init_moved < 0 {
                return Err(Step::Descriptors);
            }
            for (i, (_, at)) in self.fds.iter().enumerate() {
                if libc::dup2(moved[i], *at) < 0 {
                    return Err(Step::Descriptors);
                }
            }
            if libc::dup3(says_moved, self.high, libc::O_CLOEXEC) < 0 || libc::dup3(init_moved, self.high + 1, libc::O_CLOEXEC) < 0 {
                return Err(Step::Descriptors);
            }
            if libc::syscall(libc::SYS_close_range, above as libc::c_uint, libc::c_uint::MAX, 0) < 0 {
                return Err(Step::Descriptors);
            }
            for fd in 0..self.high {
                if !self.fds.iter().any(|(_, at)| *at == fd) {
                    libc::close(fd);
                }
            }
            Ok((self.high, self.high + 1))
        }
    }

    /// Joins the cgroup v1 hierarchies' groups (cgroup2's was joined at birth).
    ///
    /// # Safety
    /// Between clone and exec only.
    unsafe fn join_cgroups(&self) -> Result<(), Step> {
        // SAFETY: open, write and close on a path prepared before the clone.
        unsafe {
            for file in self.tasks {
                let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(Step::Cgroups);
                }
                let ok = libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
                if !ok {
                    return Err(Step::Cgroups);
                }
                libc::close(fd);
            }
        }
        Ok(())
    }

    /// The terminal, the filter, and exec (which returns only on failure).
    ///
    /// # Safety
    /// Between clone and exec only.
    unsafe fn last_steps(&self) -> Result<(), Step> {
        // SAFETY: ioctl on descriptor 0, one prctl on a prepared program, exec of prepared
        // strings.
        unsafe {
            if self.terminal && libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(Step::Terminal);
            }
            if let Some(filter) = self.filter
                && filter.install().is_err()
            {
                return Err(Step::Filter);
            }
            // As execvp: past a place where it is not, on to the next; the first other error is
            // the one told.
            let mut error = 0;
            for path in self.program {
                libc::execve(path.as_ptr(), self.argv.as_ptr(), self.env.as_ptr());
                if error == 0 && !matches!(errno(), libc::ENOENT | libc::ENOTDIR) {
                    error = errno();
                }
            }
            if error != 0 {
                *libc::__errno_location() = error;
            }
        }
        Err(Step::Exec)
    }
}

/// What a process started inside a sandbox is given by the one that started it (CLONE_VM: in the
/// memory they share, which neither changes after the start).
struct Started<'a> {
    setup: &'a Setup<'a>,
    /// The error pipe's writing end.
    says: RawFd,
    /// Whether this process starts one more and ends, for the sandbox's init to adopt that one.
    leave: bool,
}

impl Started<'_> {
    /// The top of the `n`th half of the stack memory (16-byte aligned, as the ABIs want).
    fn stack_top(&self, n: usize) -> *mut libc::c_void {
        let (start, end) = (self.setup.stack.start as usize, self.setup.stack.end as usize);
        let top = end - n * (end - start) / 2;
        (top & !15) as *mut libc::c_void
    }
}

/// A process started inside the sandbox: a session of its own, its terminal, the filter and
/// exec; or, to leave a process for the sandbox's init, one more start and the end.
extern "C" fn program_process(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Started` of the process that cloned this one, in memory they share
    // that nothing changes or frees while this one runs.
    let started = unsafe { &*(arg as *const Started) };
    let (setup, says) = (started.setup, started.says);
    if started.leave {
        let next = Started { setup, says, leave: false };
        // SAFETY: as for the first start, on the other half of the stack memory; `next` stays
        // in this memory after this process has ended.
        let pid = unsafe {
            libc::clone(program_process, next.stack_top(1), libc::CLONE_VM | libc::SIGCHLD, (&next as *const Started).cast_mut().cast())
        };
        if pid < 0 {
            tell(says, Step::Clone, errno());
        }
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: async-signal-safe calls on memory prepared before the first clone.
    unsafe {
        if setup.new_session && libc::setsid() < 0 {
            tell(says, Step::Session, errno());
        }
        match setup.last_steps() {
            Ok(()) => tell(says, Step::Exec, errno()),
            Err(step) => tell(says, step, errno()),
        }
    }
}

/// A started child: waited for through its pidfd. Killed if dropped before it ended (what
/// `kill_on_drop` did), and reaped either way.
pub struct Child {
    pidfd: OwnedFd,
    done: Option<ExitStatus>,
}

impl Child {
    /// This process's own child `pid` (no other process can reap it, so the pid is still its).
    pub(super) fn own(pid: i32) -> io::Result<Self> {
        Ok(Child { pidfd: sys::pidfd_open(pid)?, done: None })
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

    #[test]
    fn steps_and_words_read_back_as_told() {
        for (number, step) in Step::ALL.iter().enumerate() {
            assert_eq!(*step as usize, number, "Step::ALL out of order at {step:?}");
        }
        assert_eq!(unword(word(Step::Root as u32, libc::EPERM)), (Step::Root as u32, libc::EPERM));
        assert_eq!(unword(word(STARTED, 4242)), (STARTED, 4242));
        let error = said_error((Step::Namespaces as u32, libc::EPERM)).to_string();
        assert!(error.starts_with("entering the sandbox's namespaces: "), "{error}");
        assert!(said_error((99, 1)).to_string().contains("unasked"));
    }

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

    /// Signals the server ignores (SIGPIPE, as every Rust program) or a thread of it blocks are
    /// not passed on: the child resets them with the kernel's calls, not the C library's.
    #[test]
    fn a_child_starts_with_every_signal_default_and_unblocked() {
        let out = std::thread::spawn(|| {
            // SAFETY: blocks SIGUSR1 in this thread only, which ends after the start.
            unsafe {
                let mut usr1: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut usr1);
                libc::sigaddset(&mut usr1, libc::SIGUSR1);
                libc::pthread_sigmask(libc::SIG_BLOCK, &usr1, std::ptr::null_mut());
            }
            let mut spawn = Spawn::new("/bin/sh", ["-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"]).unwrap();
            let (out, said) = std::io::pipe().unwrap();
            spawn.give(said.into(), 1);
            let mut child = spawn.spawn().unwrap();
            let _ = child.reap();
            std::io::read_to_string(out).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    }

    #[tokio::test]
    async fn a_child_that_cannot_start_says_which_step_failed() {
        let spawn = Spawn::new("/nonexistent/program", ["x"]).unwrap();
        let err = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().err().expect("no such program");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().starts_with("exec: "), "{err}");

        // A bare name is looked for along PATH, as execvp would.
        let spawn = Spawn::new("no-such-program-here", ["x"]).unwrap();
        let err = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().err().expect("no such program");
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        let mut spawn = Spawn::new("sh", ["-c", "exit 3"]).unwrap();
        spawn.pipes().unwrap();
        let mut child = tokio::task::spawn_blocking(move || spawn.spawn()).await.unwrap().unwrap();
        assert_eq!(child.wait().await.unwrap().code(), Some(3), "found along PATH");

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
