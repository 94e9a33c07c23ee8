//! Terminal sizes, and a PTY master as tokio reader and writer halves.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use serde::{Deserialize, Serialize};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtySize {
    pub cols: u16,
    pub rows: u16,
}

/// Sets the window size of the terminal behind `fd` (master or slave).
pub(crate) fn set_size(fd: impl AsFd, size: PtySize) -> io::Result<()> {
    let ws = libc::winsize { ws_row: size.rows, ws_col: size.cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which lives across the call.
    let rc = unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// The master side of a PTY, non-blocking, shared by a reader and a writer half.
#[derive(Clone)]
pub(crate) struct PtyMaster(Arc<AsyncFd<OwnedFd>>);

impl PtyMaster {
    pub(crate) fn new(fd: OwnedFd) -> io::Result<Self> {
        let flags = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_GETFL).map_err(io::Error::from)?;
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
        // SAFETY: an OwnedFd is a valid open fd, owned by the AsyncFd for its whole life.
        let registered = unsafe { AsyncFd::register(fd) }.map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self(Arc::new(registered)))
    }

    pub(crate) fn resize(&self, size: PtySize) -> io::Result<()> {
        set_size(self.0.get_ref(), size)
    }

    /// The pid (in the server's pid namespace) of the process that leads the terminal's session,
    /// once one has taken it as its controlling terminal.
    pub(crate) fn session(&self) -> Option<i32> {
        let mut sid: libc::pid_t = 0;
        // SAFETY: TIOCGSID writes one pid_t; on a master it answers for the slave.
        let ok = unsafe { libc::ioctl(self.0.get_ref().as_raw_fd(), libc::TIOCGSID, &mut sid) } == 0;
        (ok && sid > 0).then_some(sid)
    }

    /// Whether the terminal is in line mode with echo off (a password prompt); on a master,
    /// tcgetattr answers for the slave.
    pub(crate) fn hides_input(&self) -> io::Result<bool> {
        use nix::sys::termios::LocalFlags;
        let termios = nix::sys::termios::tcgetattr(self.0.get_ref()).map_err(io::Error::from)?;
        let local = termios.local_flags;
        Ok(local.contains(LocalFlags::ICANON) && !local.contains(LocalFlags::ECHO))
    }

    /// True once no process has the terminal's other end open (the master reports a hangup).
    pub(crate) fn hung_up(&self) -> bool {
        let mut poll = libc::pollfd { fd: self.0.get_ref().as_raw_fd(), events: 0, revents: 0 };
        // SAFETY: one pollfd, no waiting.
        let ready = unsafe { libc::poll(&mut poll, 1, 0) };
        ready == 1 && poll.revents & libc::POLLHUP != 0
    }
}

impl AsyncRead for PtyMaster {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.0.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard.try_io(|fd| nix::unistd::read(fd.get_ref(), unfilled).map_err(io::Error::from)) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // EIO: every slave fd is closed (the shell ended): the end of the stream.
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Poll::Ready(Ok(())),
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for PtyMaster {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.0.poll_write_ready(cx))?;
            match guard.try_io(|fd| nix::unistd::write(fd.get_ref(), data).map_err(io::Error::from)) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
