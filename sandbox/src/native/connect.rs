//! Connections from the host into a sandbox's network: the socket is made inside the sandbox's
//! network namespace, by a thread of its own that joins it and ends, so no other work of the
//! server's ever runs there; a socket stays in the namespace it was made in, whichever thread uses
//! it after. Web previews connect to that namespace's loopback only, so nothing of the host's
//! network (its loopback, its addresses, other sandboxes) can be reached that way, whatever port
//! is asked for.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// Connects to `port` on the loopback of the network namespace of the process `pidfd` refers to
/// (the sandbox's init): 127.0.0.1 first, then ::1 for a service that listens there only.
pub async fn loopback(pidfd: OwnedFd, port: u16, within: Duration) -> io::Result<tokio::net::TcpStream> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("sandbox-connect".into()).spawn(move || {
        let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
        let _ = done.send(joined(pidfd.as_fd(), || match TcpStream::connect_timeout(&v4, within) {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => TcpStream::connect_timeout(&v6, within).map_err(|_| e),
            other => other,
        }));
    })?;
    let stream = result.await.map_err(|_| io::Error::other("the connecting thread ended without an answer"))??;
    stream.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(stream)
}

/// Connects to `addr` as seen from inside the namespace (blocking): how the host reaches the
/// cluster tier's API server.
pub fn to(pidfd: BorrowedFd<'_>, addr: SocketAddr) -> io::Result<TcpStream> {
    std::thread::scope(|s| {
        s.spawn(|| joined(pidfd, || TcpStream::connect(addr)))
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the connecting thread panicked")))
    })
}

/// Runs `connect` after moving the calling thread into the network namespace of `pidfd`'s
/// process. Only for a thread that ends right after: it is never moved back.
fn joined(pidfd: BorrowedFd<'_>, connect: impl FnOnce() -> io::Result<TcpStream>) -> io::Result<TcpStream> {
    // SAFETY: setns with a pidfd we hold; it changes this thread's network namespace only.
    if unsafe { libc::setns(pidfd.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        return Err(io::Error::last_os_error());
    }
    connect()
}
