//! Connections from the server to a service the learner runs in their sandbox (a web preview).
//! The socket is made inside the sandbox's network namespace, by a thread of its own that joins
//! it and ends, so no other work of the server's ever runs there; a socket stays in the
//! namespace it was made in, whichever thread uses it after. It connects to that namespace's
//! loopback only: nothing of the host's network (its loopback, its addresses, other sandboxes)
//! can be reached this way, whatever port is asked for.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// Connects to `port` on the loopback of the network namespace of the process `pidfd` refers to
/// (the sandbox's init): 127.0.0.1 first, then ::1 for a service that listens there only.
pub async fn loopback(pidfd: OwnedFd, port: u16, within: Duration) -> io::Result<tokio::net::TcpStream> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("sandbox-connect".into()).spawn(move || {
        let _ = done.send(connect_inside(&pidfd, port, within));
    })?;
    let stream = result.await.map_err(|_| io::Error::other("the connecting thread ended without an answer"))??;
    stream.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(stream)
}

/// Runs on a thread of its own, which it leaves in the sandbox's network namespace: the thread
/// ends when this returns.
fn connect_inside(pidfd: &OwnedFd, port: u16, within: Duration) -> io::Result<TcpStream> {
    // SAFETY: setns with a pidfd we own; it changes this thread's network namespace only.
    if unsafe { libc::setns(pidfd.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        return Err(io::Error::last_os_error());
    }
    match TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), within) {
        Err(v4) if v4.kind() == io::ErrorKind::ConnectionRefused => {
            TcpStream::connect_timeout(&SocketAddr::from((Ipv6Addr::LOCALHOST, port)), within).map_err(|_| v4)
        }
        other => other,
    }
}
