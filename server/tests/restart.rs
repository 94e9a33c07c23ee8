//! The real `stacklab serve` binary killed with SIGKILL mid-session and started again: the
//! learner's session, sandbox and files are all still there.

mod common;

use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Server {
    child: tokio::process::Child,
    port: u16,
}

async fn start(data: &std::path::Path, cgroup_root: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_stacklab"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--class-code", "RESTART"])
        .arg("--data-dir")
        .arg(data)
        .args(["--sandbox-cgroup-root", cgroup_root, "--sandbox-uid-base", "1600000000", "--sandbox-disk", "256M"])
        .env("STACKLAB_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_ok() {
            return Server { child, port };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("stacklab serve did not come up");
}

async fn terminal(port: u16, cookie: &str) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://127.0.0.1:{port}/ws/terminal/1?start=1").into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn until(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    marker: &str,
) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !text.contains(marker) {
        match tokio::time::timeout_at(deadline, socket.next()).await.unwrap_or_else(|_| panic!("no {marker}: {text}")) {
            Some(Ok(Message::Binary(b))) => text.push_str(&String::from_utf8_lossy(&b)),
            Some(Ok(Message::Text(t))) => text.push_str(&t),
            Some(Ok(_)) => {}
            other => panic!("socket ended ({other:?}) before {marker}: {text}"),
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn sigkill_and_restart_keep_session_sandbox_and_files() {
    if !common::sandboxes_available("restart") {
        return;
    }
    let data = tempfile::Builder::new().prefix("stacklab-restart-").tempdir().unwrap();
    let cgroup_root = format!("stacklab-restart-{}", std::process::id());
    let mut first = start(data.path(), &cgroup_root).await;

    let client = reqwest::Client::new();
    let joined = client
        .post(format!("http://127.0.0.1:{}/api/join", first.port))
        .json(&serde_json::json!({ "code": "restart", "name": "Grace" }))
        .send()
        .await
        .unwrap();
    assert!(joined.status().is_success(), "{:?}", joined.text().await);
    let cookie = joined.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();

    let mut socket = terminal(first.port, &cookie).await;
    until(&mut socket, "attached").await;
    socket.send(Message::Binary(b"echo persisted > /root/keep; echo written-$((1+1))\n".to_vec().into())).await.unwrap();
    until(&mut socket, "written-2").await;

    // Progress made before the crash: a step done, a quiz answered.
    socket
        .send(Message::Binary(b"ip netns add demo-ns; ip netns exec demo-ns ip link set lo up; echo netns-$((1+1))\n".to_vec().into()))
        .await
        .unwrap();
    until(&mut socket, "netns-2").await;
    let url = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");
    let checked: serde_json::Value = client
        .post(url(first.port, "/api/labs/netns-veth/steps/netns/check"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(checked["done"], true, "{checked}");
    let answered = client
        .post(url(first.port, "/api/quiz/wsl2/answer"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({ "choices": [1] }))
        .send()
        .await
        .unwrap();
    assert!(answered.status().is_success());

    // SIGKILL: no shutdown code runs at all.
    first.child.start_kill().unwrap();
    first.child.wait().await.unwrap();

    let second = start(data.path(), &cgroup_root).await;
    let me = client.get(format!("http://127.0.0.1:{}/api/me", second.port)).header("cookie", &cookie).send().await.unwrap();
    assert!(me.status().is_success(), "the session survived the restart");
    let progress: serde_json::Value =
        client.get(url(second.port, "/api/labs/netns-veth/progress")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert!(
        progress["steps"].as_array().unwrap().iter().any(|s| s["step_id"] == "netns" && s["done"] == true),
        "the done step survived: {progress}"
    );
    // The database itself is sound after the SIGKILL, and holds the answer.
    let store = server::store::SqlStore::open(&data.path().join("stacklab.db")).await.unwrap();
    let learner = me.json::<serde_json::Value>().await.unwrap()["learner_id"].as_str().unwrap().to_string();
    let answers = server::store::Store::quiz_answers(&store, &learner).await.unwrap();
    assert_eq!(answers.len(), 1);
    assert!(answers[0].correct);
    let mut socket = terminal(second.port, &cookie).await;
    until(&mut socket, "attached").await;
    socket.send(Message::Binary(b"cat /root/keep; echo read-$((1+1))\n".to_vec().into())).await.unwrap();
    let out = until(&mut socket, "read-2").await;
    assert!(out.contains("persisted"), "{out}");
    drop(second);

    let stop = std::process::Command::new(env!("CARGO_BIN_EXE_stacklab"))
        .args(["stop-sandboxes", "--sandbox-cgroup-root", &cgroup_root])
        .arg("--data-dir")
        .arg(data.path())
        .env("STACKLAB_LOG", "warn")
        .status()
        .unwrap();
    assert!(stop.success());
}

/// A host whose kernel lacks what sandboxes need is refused at start, with the feature, the
/// release that has it and the way out (the probe's answer faked: this host has them all).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_kernel_lacking_a_feature_is_refused_at_start_with_what_to_do() {
    if !common::sandboxes_available("probe-refusal") {
        return;
    }
    let data = tempfile::Builder::new().prefix("stacklab-probe-").tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_stacklab"))
        .args(["serve", "--addr", "127.0.0.1:0", "--sandbox-cgroup-root", "stacklab-probe-test"])
        .arg("--data-dir")
        .arg(data.path())
        .env("STACKLAB_PROBE_MISSING", "overlay-idmap")
        .env("STACKLAB_LOG", "error")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "the server started on a host said to lack overlayfs over idmapped layers");
    let said = String::from_utf8_lossy(&out.stderr);
    for part in [
        "cannot run native sandboxes: its kernel (Linux",
        "lacks overlayfs over an idmapped lower layer",
        "Linux 5.19 or newer has it",
        "--sandbox-backend docker",
    ] {
        assert!(said.contains(part), "{part:?} missing from: {said}");
    }
}
