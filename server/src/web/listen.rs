//! Serving the router on a TCP listener: axum::serve's accept loop (hyper-util's auto
//! HTTP/1+2 builder, upgrades for WebSockets, graceful shutdown), plus what axum 0.8 leaves out:
//! hyper's timer. Without it hyper's header timeout is inert, and a client that sends half a
//! request and then nothing (slowloris) holds its connection for ever; with it a client has
//! [`HEADER_READ`] to finish its request line and headers. Bodies, responses and the long-lived
//! streams (terminals, events) are not affected.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Time a client has to send its request line and headers.
pub const HEADER_READ: Duration = Duration::from_secs(30);

/// Serves `app` until `shutdown` completes, then waits for open connections to finish (the
/// caller bounds that wait). Handlers see the peer as `ConnectInfo<SocketAddr>`, as with
/// `into_make_service_with_connect_info`.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, usually: wait instead of spinning.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            request
        });
        let service = TowerToHyperService::new(service.map_err(|e: Infallible| match e {}));
        let mut builder = Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ);
        // HTTP/2 WebSockets need the CONNECT protocol (as axum::serve sets it).
        builder.http2().enable_connect_protocol();
        let connection = graceful.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%remote, "connection ended: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A client that sends half a request and then nothing loses its connection once
    /// `HEADER_READ` has passed, not before. On tokio's paused clock: the half minute passes as
    /// soon as nothing else is left to do (server/tests/bad_input.rs has others served meanwhile).
    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_finishes_its_headers_is_let_go_after_the_header_limit() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(serve(listener, app, std::future::pending()));
        let started = tokio::time::Instant::now();
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        silent.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n").await.unwrap();
        // Whatever hyper says as it goes (a 408, or nothing), then the end of the connection
        // (or a reset: either lets it go).
        let ended = tokio::time::timeout(HEADER_READ * 2, silent.read_to_end(&mut Vec::new())).await;
        let waited = started.elapsed();
        assert!(ended.is_ok(), "still connected after {waited:?}");
        assert!(waited >= HEADER_READ, "let go after {waited:?}, before the limit");
        assert!(waited < HEADER_READ + Duration::from_secs(1), "held for {waited:?}");
    }
}
