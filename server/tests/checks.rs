//! The check engine end to end: bad checks stay contained, steps turn green by themselves after
//! terminal activity, hint checks reveal their hint, quiz answers are scored and stored.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use labs::load::{Script, Step};
use server::checks::runner;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn step(check: &str, timeout: u32) -> Step {
    Step::checked_by(Script { source: check.into(), file: PathBuf::from("test.md"), line: 1 }, timeout)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn checks_that_hang_flood_fork_bomb_or_kill_themselves_fail_cleanly() {
    if !common::sandboxes_available("bad_checks") {
        return;
    }
    let server = common::TestServer::start("bad_checks", true).await;
    let (learner, _) = server.learner("Ada").await;
    let sandboxes = server.state.sandboxes.clone().unwrap();
    let info = sandboxes.ensure(&learner).await.unwrap();
    let backend = sandboxes.backend().clone();
    let run = |script: &'static str, timeout| {
        let backend = backend.clone();
        let name = info.name.clone();
        async move { runner::run_step(&*backend, &name, &step(script, timeout), &[]).await.outcome }
    };

    let hang = run("sleep 1000", 2).await;
    assert!(!hang.passed);
    assert_eq!(hang.reason, "The check did not finish within 2 s");

    let flood = run("head -c 100000000 /dev/zero | tr '\\0' x", 10).await;
    assert!(!flood.passed);
    assert_eq!(flood.reason, "The check printed more than 64 KiB and was stopped");

    let bomb = run(":(){ :|:& };:; sleep 2; echo still here", 4).await;
    assert!(!bomb.passed || bomb.reason == "still here", "{bomb:?}");

    let suicide = run("kill -9 $$", 10).await;
    assert!(!suicide.passed);
    assert_eq!(suicide.reason, "The check was killed (signal 9)");

    // Reasons are the last line printed; helpers work.
    let fails = run("echo first; fail \"Create demo-ns first\"", 10).await;
    assert_eq!((fails.passed, fails.reason.as_str()), (false, "Create demo-ns first"));
    let passes = run("pass 'All good'", 10).await;
    assert_eq!((passes.passed, passes.reason.as_str()), (true, "All good"));

    // The sandbox and the server are fine: a normal check answers at once.
    let stats = backend.stats(&info.name).await.unwrap();
    assert!(stats.pids < 10, "nothing of the bad checks is left: {stats:?}");
    let ok = run("test \"$(id -u)\" = 0 && pass root", 10).await;
    assert!(ok.passed && ok.took_ms < 5000, "{ok:?}");
}

async fn terminal(
    server: &common::TestServer,
    cookie: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = server.ws_url("/ws/terminal/1?start=1").into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    // Wait for the first prompt.
    let mut seen = String::new();
    while !seen.contains("# ") {
        if let Some(Ok(Message::Binary(b))) = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&b));
        }
    }
    socket
}

async fn progress(server: &common::TestServer, cookie: &str, lab: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(server.url(&format!("/api/labs/{lab}/progress")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn step_done(progress: &serde_json::Value, step: &str) -> bool {
    progress["steps"].as_array().unwrap().iter().any(|s| s["step_id"] == step && s["done"] == true)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_step_turns_green_by_itself_and_hint_checks_fire() {
    if !common::sandboxes_available("auto_check") {
        return;
    }
    let server = common::TestServer::start("auto_check", true).await;
    let (_, cookie) = server.learner("Ada").await;
    let client = reqwest::Client::new();
    let post = |path: String| client.post(server.url(&path)).header("cookie", cookie.clone()).send();

    // Live updates arrive as server-sent events.
    let mut events = client.get(server.url("/api/events")).header("cookie", &cookie).send().await.unwrap().bytes_stream();

    let mut socket = terminal(&server, &cookie).await;
    let state: serde_json::Value =
        post("/api/labs/namespaces-from-scratch/steps/unshare/focus".into()).await.unwrap().json().await.unwrap();
    assert_eq!(state["done"], false);

    // Without --fork: the hint check for that mistake fires.
    socket.send(Message::Binary(b"unshare --pid --uts true\n".to_vec().into())).await.unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen.contains("\"type\":\"hint\"") {
        let chunk = tokio::time::timeout_at(deadline, events.next()).await.expect("a hint event").unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("--fork"), "{seen}");

    // The real thing, typed: the step turns green without anyone pressing Check.
    for line in ["unshare --pid --mount --uts --fork --mount-proc /bin/bash", "hostname container-demo", "exit"] {
        socket.send(Message::Binary(format!("{line}\n").into_bytes().into())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen.contains("\"done\":true") {
        let chunk = tokio::time::timeout_at(deadline, events.next()).await.expect("a done event").unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let p = progress(&server, &cookie, "namespaces-from-scratch").await;
    assert!(step_done(&p, "unshare"), "{p}");
    let unshare = p["steps"].as_array().unwrap().iter().find(|s| s["step_id"] == "unshare").unwrap();
    assert!(unshare["hints"].to_string().contains("--fork"), "the fired hint stays revealed: {p}");

    // Static hints come one at a time, and the solution on request.
    let hint: serde_json::Value = post("/api/labs/netns-veth/steps/veth/hint".into()).await.unwrap().json().await.unwrap();
    assert_eq!(hint["hints"].as_array().unwrap().len(), 1);
    assert!(hint["hints"][0].as_str().unwrap().contains("veth"));
    assert_eq!(hint["hints_left"], 2);
    let solution: serde_json::Value = post("/api/labs/netns-veth/steps/veth/solution".into()).await.unwrap().json().await.unwrap();
    assert!(solution["solution"].as_str().unwrap().contains("ip link add veth-host"));

    // Check now: not done in an untouched place, with the check's reason.
    let state: serde_json::Value = post("/api/labs/netns-veth/steps/netns/check".into()).await.unwrap().json().await.unwrap();
    assert_eq!(state["done"], false);
    assert_eq!(state["last_reason"], "Create the namespace: ip netns add demo-ns");

    // All of it as Prometheus scrapes it, with the instructor's token; and the server is ready.
    let metrics = client.get(server.url("/metrics")).bearer_auth(common::INSTRUCTOR_TOKEN).send().await.unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    let metrics = metrics.text().await.unwrap();
    for expected in [
        "stacklab_checks_total{outcome=\"passed\"}",
        "stacklab_checks_total{outcome=\"failed\"}",
        "stacklab_check_duration_seconds_count",
        "stacklab_sandboxes{state=\"running\"} 1",
        "stacklab_open_streams{kind=\"learner-events\"}",
        "stacklab_open_streams{kind=\"terminal\"}",
        "route=\"/api/labs/{lab}/steps/{step}/check\",status=\"200\"",
    ] {
        assert!(metrics.contains(expected), "{expected} in:\n{metrics}");
    }
    drop((socket, events));
    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!((ready.status().as_u16(), ready.text().await.unwrap()), (200, "ready\n".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn quiz_answers_are_scored_on_the_server_and_the_first_counts() {
    let server = common::TestServer::start("quiz", false).await;
    let (learner, cookie) = server.learner("Ada").await;
    let client = reqwest::Client::new();
    let answer = |choices: Vec<usize>| {
        client
            .post(server.url("/api/quiz/docker-hypervisor/answer"))
            .header("cookie", cookie.clone())
            .json(&serde_json::json!({ "choices": choices }))
            .send()
    };
    let wrong: serde_json::Value = answer(vec![0]).await.unwrap().json().await.unwrap();
    assert_eq!(wrong["feedback"]["correct"], false);
    assert_eq!(wrong["feedback"]["correct_choices"], serde_json::json!([1]));
    assert!(wrong["feedback"]["explanations"][1].as_str().unwrap().contains("shared kernel"));
    let right: serde_json::Value = answer(vec![1]).await.unwrap().json().await.unwrap();
    assert_eq!(
        (right["feedback"]["correct"].clone(), right["graded_points"].clone(), right["attempts"].clone()),
        (true.into(), 0.into(), 2.into())
    );
    let stored = server.store.quiz_answers(&learner).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].choices.clone(), stored[0].points), (vec![0], 0));
    // Nonsense is refused; no cookie is refused.
    let bad = answer(vec![9]).await.unwrap();
    assert_eq!(bad.status(), 400);
    let anonymous =
        client.post(server.url("/api/quiz/docker-hypervisor/answer")).json(&serde_json::json!({"choices":[1]})).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}
