//! The spawner: a small process the backend keeps (the helper's program, run as `spawner`) that
//! makes every process entering a sandbox as a copy of itself, not of the server. A copy of the
//! server costs the copy of its page tables (some 80 MiB of heap in a class), their teardown
//! when the copy execs or ends, a copy-on-write fault in the server for every page it touches
//! after, and a reference to each of its thousands of open descriptors taken and dropped again;
//! the spawner's own few pages and descriptors cost next to nothing. And the process that waits
//! inside a sandbox for its exec holds nothing of the server's memory at all.
//!
//! The server sends each start (`Spawn`: strings and flags here, descriptors beside them as
//! `SCM_RIGHTS`) on a socket pair and gets the child's pid back. The spawner clones with
//! `CLONE_PARENT`, so the child is the server's own: the server waits for its exec on the
//! error pipe it made, reaps it and has its status, as when it cloned it itself. The spawner only
//! clones: it never waits for a child, so a learner who stops a process before its exec holds
//! nothing up here (the server's time limit ends that start, `StartLimits::exec`).

use std::ffi::{CString, OsString};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::Mutex;

use nix::sys::socket::{self, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType};

use super::cgroup::Entry;
use super::spawn::{Child, Inside, MAX_FDS, Parent, Spawn, StartLimits};

/// The helper's argument that makes it the spawner.
pub const ARG: &str = "spawner";

/// A request's size limit. Argv and environment are a few kilobytes (the check agent's library
/// the most); a message on the socket must fit its send buffer, which this sets to the limit
/// (the kernel allows that much of a root process by default).
const MAX_REQUEST: usize = 256 * 1024;

/// Descriptors beside a request: the child's, the init's pidfd and the error pipe's end.
const MAX_RIGHTS: usize = MAX_FDS + 2;

/// The server's side: the spawner process, started at the first start that needs it and again
/// after it has gone.
pub struct Spawner {
    program: Vec<OsString>,
    limits: StartLimits,
    running: Mutex<Option<Running>>,
}

struct Running {
    child: std::process::Child,
    socket: OwnedFd,
}

impl Drop for Running {
    fn drop(&mut self) {
        // The spawner ends when its socket does; reaped here so it leaves no zombie.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Answers it gave after the server stopped waiting: those children are the server's,
        // started for a start that has already failed. They go (killed, and reaped).
        let mut reply = [0u8; 4];
        while let Ok(4) = socket::recv(self.socket.as_raw_fd(), &mut reply, MsgFlags::MSG_DONTWAIT) {
            let pid = i32::from_ne_bytes(reply);
            if pid > 0 {
                drop(Child::own(pid));
            }
        }
    }
}

impl Spawner {
    /// A spawner run as `helper` (the helper's program and arguments) with `ARG` added.
    pub fn new(helper: &[OsString], limits: StartLimits) -> Self {
        let mut program = helper.to_vec();
        program.push(ARG.into());
        Self { program, limits, running: Mutex::new(None) }
    }

    /// How long its answer and each child's exec may take.
    pub fn limits(&self) -> StartLimits {
        self.limits
    }

    /// Has the spawner clone `spawn`'s child, which is given `says` for its error pipe: the
    /// child's pid (a child of this process). Blocking, for a moment: one start at a time.
    pub fn clone_child(&self, spawn: &Spawn, says: OwnedFd) -> io::Result<i32> {
        let (request, fds) = encode(spawn, says.as_fd());
        if request.len() > MAX_REQUEST {
            let kib = |n: usize| n.div_ceil(1024);
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the program's arguments and environment come to {} KiB, more than a start carries ({} KiB)",
                    kib(request.len()),
                    kib(MAX_REQUEST)
                ),
            ));
        }
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        for fresh in [false, true] {
            let spawner = match &mut *running {
                Some(spawner) => spawner,
                None => running.insert(self.start()?),
            };
            match ask(spawner.socket.as_fd(), &request, &fds, crate::time_scale::scaled(self.limits.answer)) {
                Ok(pid) => return Ok(pid),
                Err(Asked::Refused(e)) => return Err(io::Error::new(e.kind(), format!("the spawner could not start it: {e}"))),
                // A spawner that has gone (killed, say) never read the request: a new one takes
                // it, once.
                Err(Asked::Unsent(_)) if !fresh => *running = None,
                // Gone after it read the request, it may have cloned: asking again could start
                // the program twice. The start fails; the next one gets a new spawner.
                Err(Asked::Unsent(e) | Asked::Unanswered(e)) => {
                    *running = None;
                    return Err(io::Error::new(e.kind(), format!("the spawner: {e}")));
                }
            }
        }
        unreachable!("the second round returns")
    }

    fn start(&self) -> io::Result<Running> {
        let (ours, theirs) = socket::socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)?;
        socket::setsockopt(&ours, socket::sockopt::SndBuf, &MAX_REQUEST)?;
        let mut cmd = super::helper::command(&self.program)?;
        // Its stderr is the server's: a panic in there lands in the server's log.
        let child = cmd
            .stdin(std::process::Stdio::from(theirs))
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("running the spawner {}: {e}", self.program[0].to_string_lossy())))?;
        Ok(Running { child, socket: ours })
    }
}

/// Why a request got no pid.
enum Asked {
    /// The spawner could not clone (or could not read the request): its errno.
    Refused(io::Error),
    /// The request could not be sent: the spawner has gone.
    Unsent(io::Error),
    /// The request was sent and the spawner went without answering.
    Unanswered(io::Error),
}

/// Sends `request` with `fds` and waits for the answer, at most `within`. (A signal to the
/// waiting thread, SIGCHLD above all, interrupts neither: both are retried, the wait within its
/// time limit.)
fn ask(socket: BorrowedFd<'_>, request: &[u8], fds: &[RawFd], within: std::time::Duration) -> Result<i32, Asked> {
    let sent = loop {
        let msg = [IoSlice::new(request)];
        match socket::sendmsg::<()>(socket.as_raw_fd(), &msg, &[ControlMessage::ScmRights(fds)], MsgFlags::MSG_NOSIGNAL, None) {
            Err(nix::Error::EINTR) => continue,
            sent => break sent,
        }
    };
    sent.map_err(|e| match e {
        nix::Error::EPIPE | nix::Error::ECONNRESET | nix::Error::ENOTCONN => Asked::Unsent(e.into()),
        e => Asked::Refused(e.into()),
    })?;
    match super::spawn::readable(socket, within) {
        Ok(true) => {}
        Ok(false) => {
            return Err(Asked::Unanswered(io::Error::new(io::ErrorKind::TimedOut, format!("no answer within {} s", within.as_secs()))));
        }
        Err(e) => return Err(Asked::Unanswered(e)),
    }
    let mut reply = [0u8; 4];
    let n = socket::recv(socket.as_raw_fd(), &mut reply, MsgFlags::MSG_DONTWAIT).map_err(|e| Asked::Unanswered(e.into()))?;
    if n != reply.len() {
        return Err(Asked::Unanswered(io::Error::new(io::ErrorKind::UnexpectedEof, "ended without an answer")));
    }
    match i32::from_ne_bytes(reply) {
        pid if pid > 0 => Ok(pid),
        errno => Err(Asked::Refused(io::Error::from_raw_os_error(-errno))),
    }
}

/// The spawner process's loop over its socket (descriptor 0); never returns. Each request is
/// answered with the child's pid or a negated errno; the spawner ends when the server does.
pub fn serve() -> ! {
    // SAFETY: descriptor 0 is the socket the server gave this process, owned from here on.
    let given = unsafe { OwnedFd::from_raw_fd(0) };
    // Moved off 0 and close-on-exec: nothing of the spawner's is left to a child by accident.
    let Ok(socket) = given.try_clone() else { std::process::exit(1) };
    drop(given);
    let mut buf = vec![0u8; MAX_REQUEST];
    loop {
        let (n, fds) = match receive(socket.as_fd(), &mut buf) {
            Ok(Some(got)) => got,
            Ok(None) => std::process::exit(0),
            Err(Received::Bad(fds, e)) => {
                drop(fds);
                answer(socket.as_fd(), -e.raw_os_error().unwrap_or(libc::EINVAL));
                continue;
            }
            Err(Received::Broken) => std::process::exit(1),
        };
        let said = match decode(&buf[..n], fds) {
            Ok((spawn, says)) => spawn.clone_child(says.as_raw_fd(), libc::CLONE_PARENT).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)),
            Err(e) => Err(e.raw_os_error().unwrap_or(libc::EINVAL)),
        };
        // The request's descriptors (the spawn's and `says`) were dropped with it: the child
        // has its own.
        answer(socket.as_fd(), said.unwrap_or_else(|errno| -errno));
    }
}

fn answer(socket: BorrowedFd<'_>, word: i32) {
    if socket::send(socket.as_raw_fd(), &word.to_ne_bytes(), MsgFlags::MSG_NOSIGNAL).is_err() {
        std::process::exit(1);
    }
}

enum Received {
    /// A request that cannot be right: its descriptors (to close) and why.
    Bad(Vec<OwnedFd>, io::Error),
    /// The socket itself failed.
    Broken,
}

/// The next request: its length in `buf` and its descriptors; `None` when the server has gone.
fn receive(socket: BorrowedFd<'_>, buf: &mut [u8]) -> Result<Option<(usize, Vec<OwnedFd>)>, Received> {
    let mut space = nix::cmsg_space!([RawFd; MAX_RIGHTS]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match socket::recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC) {
            Ok(msg) => break msg,
            // Nothing read yet: no answer is owed (one per request keeps the two in step).
            Err(nix::Error::EINTR) => continue,
            Err(_) => return Err(Received::Broken),
        }
    };
    let mut fds = Vec::new();
    for cmsg in msg.cmsgs().map_err(|_| Received::Broken)? {
        if let ControlMessageOwned::ScmRights(rights) = cmsg {
            // SAFETY: the kernel just installed these descriptors in this process for us.
            fds.extend(rights.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    if msg.flags.intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC) {
        return Err(Received::Bad(fds, io::Error::from_raw_os_error(libc::EMSGSIZE)));
    }
    if msg.bytes == 0 && fds.is_empty() {
        return Ok(None);
    }
    Ok(Some((msg.bytes, fds)))
}

/// A request's bytes: flags, then the lists (each a count and length-prefixed items): the
/// program's paths, argv, environment, the group born in (none or one), the v1 `tasks` files,
/// and the numbers the descriptors go to. The descriptors travel in this order: the child's,
/// the init's pidfd (inside a sandbox), `says`.
fn encode(spawn: &Spawn, says: BorrowedFd<'_>) -> (Vec<u8>, Vec<RawFd>) {
    let parent = match spawn.inside.as_ref().map(|i| i.parent) {
        None => 0,
        Some(Parent::Server) => 1,
        Some(Parent::Init) => 2,
    };
    let flags = u8::from(spawn.new_session) | u8::from(spawn.terminal) << 1 | u8::from(spawn.filter) << 2 | parent << 3;
    let mut out = vec![flags];
    let bytes = |items: &mut dyn Iterator<Item = &[u8]>, out: &mut Vec<u8>| {
        let items: Vec<&[u8]> = items.collect();
        out.extend((items.len() as u32).to_ne_bytes());
        for item in items {
            out.extend((item.len() as u32).to_ne_bytes());
            out.extend(item);
        }
    };
    use std::os::unix::ffi::OsStrExt;
    bytes(&mut spawn.program.iter().map(|s| s.as_bytes()), &mut out);
    bytes(&mut spawn.argv.iter().map(|s| s.as_bytes()), &mut out);
    bytes(&mut spawn.env.iter().map(|s| s.as_bytes()), &mut out);
    bytes(&mut spawn.entry.born_in.iter().map(|p| p.as_os_str().as_bytes()), &mut out);
    bytes(&mut spawn.entry.tasks.iter().map(|p| p.as_os_str().as_bytes()), &mut out);
    let targets: Vec<[u8; 4]> = spawn.fds.iter().map(|(_, at)| at.to_ne_bytes()).collect();
    bytes(&mut targets.iter().map(|t| t.as_slice()), &mut out);
    let mut fds: Vec<RawFd> = spawn.fds.iter().map(|(fd, _)| fd.as_raw_fd()).collect();
    fds.extend(spawn.inside.as_ref().map(|i| i.init.as_raw_fd()));
    fds.push(says.as_raw_fd());
    (out, fds)
}

/// The `Spawn` and `says` of a request (see `encode`).
fn decode(bytes: &[u8], fds: Vec<OwnedFd>) -> io::Result<(Spawn, OwnedFd)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("a spawn request's {what}"));
    let mut at = 1;
    let flags = *bytes.first().ok_or_else(|| bad("flags"))?;
    let mut list = |what: &str| -> io::Result<Vec<Vec<u8>>> {
        let mut take = |n: usize| -> io::Result<&[u8]> {
            let got = bytes.get(at..at + n).ok_or_else(|| bad(what))?;
            at += n;
            Ok(got)
        };
        let count = u32::from_ne_bytes(take(4)?.try_into().expect("4 bytes"));
        (0..count)
            .map(|_| {
                let len = u32::from_ne_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
                Ok(take(len)?.to_vec())
            })
            .collect()
    };
    let strings = |items: Vec<Vec<u8>>| -> io::Result<Vec<CString>> {
        items.into_iter().map(|s| CString::new(s).map_err(|_| bad("strings"))).collect()
    };
    let paths = |items: Vec<Vec<u8>>| -> Vec<PathBuf> {
        use std::os::unix::ffi::OsStringExt;
        items.into_iter().map(|p| PathBuf::from(OsString::from_vec(p))).collect()
    };
    let program = strings(list("program")?)?;
    let argv = strings(list("argv")?)?;
    let env = strings(list("environment")?)?;
    let born_in = paths(list("group")?).pop();
    let tasks = paths(list("tasks")?);
    let targets: Vec<RawFd> = list("descriptors")?
        .into_iter()
        .map(|t| t.try_into().map(RawFd::from_ne_bytes).map_err(|_| bad("descriptors")))
        .collect::<io::Result<_>>()?;
    if at != bytes.len() {
        return Err(bad("length"));
    }
    let parent = match flags >> 3 {
        0 => None,
        1 => Some(Parent::Server),
        2 => Some(Parent::Init),
        _ => return Err(bad("flags")),
    };
    let wanted = targets.len() + usize::from(parent.is_some()) + 1;
    if fds.len() != wanted || targets.len() > MAX_FDS {
        return Err(bad("descriptor count"));
    }
    let mut fds = fds.into_iter();
    let given: Vec<(OwnedFd, RawFd)> = targets.into_iter().map(|at| (fds.next().expect("counted"), at)).collect();
    let inside = parent.map(|parent| Inside { init: fds.next().expect("counted"), parent });
    let says = fds.next().expect("counted");
    let spawn = Spawn {
        program,
        argv,
        env,
        entry: Entry { born_in, tasks },
        new_session: flags & 1 != 0,
        fds: given,
        filter: flags & 4 != 0,
        inside,
        terminal: flags & 2 != 0,
    };
    Ok((spawn, says))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request read back is the spawn that was sent, descriptors in their places.
    #[test]
    fn a_request_reads_back_as_sent() {
        let mut spawn = Spawn::new("bash", ["-l", "-c", "echo hi"]).unwrap();
        spawn.env("TERM", "xterm").unwrap();
        spawn.entry(Entry { born_in: Some("/sys/fs/cgroup/a".into()), tasks: vec!["/t1".into(), "/t2".into()] });
        spawn.controlling_terminal().sandbox_filter();
        let (a, b) = nix::unistd::pipe().unwrap();
        spawn.give(a, 0).give(b, 5);
        spawn.inside(std::fs::File::open("/").unwrap().into(), Parent::Init);
        let says: OwnedFd = std::fs::File::open("/").unwrap().into();
        let (bytes, fds) = encode(&spawn, says.as_fd());
        assert_eq!(fds.len(), 4);
        // As the kernel would pass them: new numbers for the same files.
        let copies = || {
            // SAFETY: each is a descriptor of `spawn` or `says`, both alive to the test's end.
            fds.iter().map(|fd| unsafe { BorrowedFd::borrow_raw(*fd) }.try_clone_to_owned().unwrap()).collect::<Vec<_>>()
        };
        let (back, _) = decode(&bytes, copies()).unwrap();
        assert_eq!((back.program, back.argv, back.env), (spawn.program.clone(), spawn.argv.clone(), spawn.env.clone()));
        assert_eq!(back.entry.born_in, spawn.entry.born_in);
        assert_eq!(back.entry.tasks, spawn.entry.tasks);
        assert_eq!((back.new_session, back.terminal, back.filter), (true, true, true));
        assert_eq!(back.fds.iter().map(|(_, at)| *at).collect::<Vec<_>>(), [0, 5]);
        assert_eq!(back.inside.map(|i| i.parent), Some(Parent::Init));

        // Cut short, or with a descriptor missing, it is refused, not guessed at.
        assert!(decode(&bytes[..bytes.len() - 1], copies()).is_err());
        let mut fewer = copies();
        fewer.pop();
        assert!(decode(&bytes, fewer).is_err());
    }

    /// A start too big for the socket is refused with a clear error before any spawner runs.
    #[test]
    fn a_start_too_big_to_carry_says_so() {
        let spawner = Spawner::new(&["/nonexistent/helper".into()], StartLimits::default());
        let spawn = Spawn::new("/bin/true", ["x".repeat(MAX_REQUEST)]).unwrap();
        let says: OwnedFd = std::fs::File::open("/").unwrap().into();
        let error = spawner.clone_child(&spawn, says).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("more than a start carries (256 KiB)"), "{error}");
        assert!(spawner.running.lock().unwrap().is_none(), "no spawner was started for it");
    }

    /// The server's thread waiting for an answer is hit by signals (SIGCHLD comes often in a
    /// class): neither the send nor the wait fails for it. (A handler without SA_RESTART, as
    /// the Debian 13 guest showed with the runtime's own.)
    #[test]
    fn a_signal_to_the_waiting_thread_interrupts_nothing() {
        extern "C" fn nothing(_: libc::c_int) {}
        // SAFETY: a handler that does nothing, for a signal this test alone sends.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = nothing as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigaction(libc::SIGUSR2, &act, std::ptr::null_mut());
        }
        let (ours, theirs) = socket::socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).unwrap();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let waiting = std::thread::spawn(move || {
            // SAFETY: pthread_self has no preconditions.
            tid_tx.send(unsafe { libc::pthread_self() }).unwrap();
            let null: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
            ask(ours.as_fd(), b"request", &[null.as_raw_fd()], StartLimits::default().answer).map_err(|_| "no answer")
        });
        let tid = tid_rx.recv().unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(socket::recv(theirs.as_raw_fd(), &mut buf, MsgFlags::empty()).unwrap(), 7);
        for _ in 0..20 {
            // SAFETY: the waiting thread is alive until it has its answer, sent below.
            unsafe { libc::pthread_kill(tid, libc::SIGUSR2) };
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        socket::send(theirs.as_raw_fd(), &4242i32.to_ne_bytes(), MsgFlags::empty()).unwrap();
        assert_eq!(waiting.join().unwrap(), Ok(4242));
    }
}
