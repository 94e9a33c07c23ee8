//! Connections into a sandbox for web previews (`Backend::connect`): they reach a service the
//! learner runs on the sandbox's loopback, in either address family, and nothing else: not the
//! host's loopback, not another sandbox's services. Needs root and the lab image (see `common`);
//! runs on the native and the Docker backends.

mod common;

use std::time::Duration;

use sandbox::ExecRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts a web server in sandbox `name` on `address`:`port`, left running.
async fn serve(h: &common::Harness, name: &str, address: &str, port: u16) {
    let script = format!("cd /tmp && setsid python3 -m http.server {port} --bind {address} </dev/null >/dev/null 2>&1 &");
    let out = h.any.exec(name, ExecRequest::script(&script).leave_running()).await.unwrap();
    assert!(out.success(), "{out:?}");
}

/// `GET /` through a preview connection, once the service listens (it takes a moment to start).
async fn get(h: &common::Harness, name: &str, port: u16) -> String {
    let deadline = std::time::Instant::now() + common::scaled(Duration::from_secs(20));
    let mut stream = loop {
        match h.any.connect(name, port).await {
            Ok(stream) => break stream,
            Err(e) if std::time::Instant::now() > deadline => panic!("no connection to port {port} in {name}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_preview_reaches_the_learners_service_in_either_family() {
    let Some(h) = common::harness("preview_reach") else { return };
    h.start("pv-reach").await;
    serve(&h, "pv-reach", "127.0.0.1", 8080).await;
    let mut ports = vec![8080];
    // Docker turns IPv6 off in its containers: their loopback has no ::1 to listen on.
    if h.sh("pv-reach", "ip -6 addr show dev lo | grep -q ::1").await.success() {
        serve(&h, "pv-reach", "::1", 8081).await;
        ports.push(8081);
    } else {
        assert!(common::testing_docker(), "a native sandbox's loopback has ::1");
    }
    for port in ports {
        let answer = get(&h, "pv-reach", port).await;
        assert!(answer.starts_with("HTTP/1.0 200"), "port {port}: {answer}");
    }
    let nothing = h.any.connect("pv-reach", 8082).await;
    assert!(nothing.is_err(), "a port nothing listens on answered");
}

/// A learner asking for a preview of a port only the host (or another sandbox) listens on gets
/// nothing: the connection is made in their sandbox's network, where those ports are closed.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_preview_never_reaches_the_host_or_another_sandbox() {
    let Some(h) = common::harness("preview_host") else { return };
    let listeners: Vec<std::net::TcpListener> =
        ["127.0.0.1:0", "[::1]:0", "0.0.0.0:0", "[::]:0"].iter().filter_map(|a| std::net::TcpListener::bind(a).ok()).collect();
    assert!(listeners.len() >= 2, "the host listens on both families' loopbacks");
    h.start("pv-host").await;
    h.start("pv-other").await;
    serve(&h, "pv-other", "0.0.0.0", 8090).await;
    let answer = get(&h, "pv-other", 8090).await;
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    for listener in &listeners {
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(h.any.connect("pv-host", port).await.is_err(), "the host's port {port} was reached");
        assert!(listener.accept().is_err(), "a connection reached the host's {}", listener.local_addr().unwrap());
    }
    assert!(h.any.connect("pv-host", 8090).await.is_err(), "another sandbox's service was reached");
}
