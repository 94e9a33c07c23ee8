//! A full class: with room for one sandbox (`--max-sandboxes 1`), the next learners wait in
//! line, told their place and an estimate, through their real terminal sockets; a check asked
//! meanwhile says so; leaving gives the place up; the next in line gets the sandbox that frees.

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use common::{Socket, read_until};

/// The next text frame's JSON.
async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(15), socket.next()).await.expect("a message").expect("open").unwrap();
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_full_class_waits_in_line() {
    if !common::sandboxes_available("queue") {
        return;
    }
    let server = common::TestServer::start_with("queue", true, Some(1)).await;
    let sandboxes = server.state.sandboxes.clone().unwrap();
    let (ada, ada_cookie) = server.learner("Ada").await;
    let (bob, bob_cookie) = server.learner("Bob").await;
    let (cy, cy_cookie) = server.learner("Cy").await;

    // Ada takes the only place. What she types before her terminal is there (her sandbox
    // starting) waits for the shell: nothing typed early is lost.
    let mut ada_term = common::ws(&server, &ada_cookie, "/ws/terminal/1?start=1").await;
    ada_term.send(Message::Binary(b"echo early-$((6*7))\r".to_vec().into())).await.unwrap();
    let seen = read_until(&mut ada_term, "early-42").await;
    assert!(seen.starts_with("<<{\"type\":\"attached\""), "{seen}");

    // Bob waits, first in line. Nothing ends before Ada's idle time-out (10 min in the test
    // policy), so that plus a start is his estimate.
    let mut bob_term = common::ws(&server, &bob_cookie, "/ws/terminal/1?start=1").await;
    let queued = next_json(&mut bob_term).await;
    assert_eq!((queued["type"].as_str(), queued["position"].as_u64()), (Some("queued"), Some(1)), "{queued}");
    let eta = queued["eta_secs"].as_u64().expect("an estimate");
    assert!((600..700).contains(&eta), "{queued}");

    // Cy is second; his place goes when his browser leaves.
    let mut cy_term = common::ws(&server, &cy_cookie, "/ws/terminal/1?start=1").await;
    let queued = next_json(&mut cy_term).await;
    assert_eq!(queued["position"], 2, "{queued}");
    assert_eq!(sandboxes.queued(), 2);

    // The instructor sees who waits; a check Bob asks for says where he is instead of hanging.
    let view = sandboxes.view(&bob).await;
    assert_eq!((view.state, view.queue_position), (app::class::SandboxState::Queued, Some(1)));
    let check = server.client(&bob_cookie).post(server.url("/api/labs/netns-veth/steps/netns/check")).send().await.unwrap();
    assert_eq!(check.status(), 503);
    let said = check.text().await.unwrap();
    assert!(said.contains("number 1 in line"), "{said}");

    // Pre-warming never takes a place from those in line.
    let report = sandboxes.prewarm(Vec::new(), 1, &Default::default()).await;
    assert_eq!((report.spares, report.no_room), (0, 1), "{report:?}");

    cy_term.close(None).await.unwrap();
    drop(cy_term);
    for _ in 0..50 {
        if sandboxes.queued() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sandboxes.queue_spot(&cy), None, "Cy left the line");
    assert_eq!(sandboxes.queued(), 1);

    // Ada's sandbox stops: Bob's terminal opens by itself, on a sandbox of his own.
    sandboxes.stop(&ada).await.unwrap();
    let seen = read_until(&mut bob_term, "\"type\":\"attached\"").await;
    assert!(!seen.contains("error"), "{seen}");
    bob_term.send(Message::Binary(b"echo in-line-$((6*7))\r".to_vec().into())).await.unwrap();
    read_until(&mut bob_term, "in-line-42").await;
    assert_eq!(sandboxes.queued(), 0);
    assert_eq!(sandboxes.counts().0, 1, "one sandbox, Bob's, within the limit");
}
