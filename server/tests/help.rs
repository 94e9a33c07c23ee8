//! The live classroom over HTTP: a learner raises and lowers their hand and writes to staff;
//! staff claim, return and resolve hands and cover the class's pages ("eyes on me"). A learner
//! writing as fast as a script can gets a clear 429 and leaves bounded rows; a learner cannot
//! act as staff; the class's live streams carry each change.

mod common;

use common::{TestServer, sse_until};

#[tokio::test]
async fn hands_threads_and_eyes_on_me() {
    let server = TestServer::start("help_routes", false).await;
    let class = server.class_id().await;
    let (ada, ada_cookie) = server.learner("Ada").await;
    let (_, bob_cookie) = server.learner("Bob").await;
    let learner = server.client(&ada_cookie);
    let staff = server.client(&server.instructor().await);
    let mut dashboard = staff.get(server.url(&format!("/api/instructor/classes/{class}/events"))).send().await.unwrap().bytes_stream();
    let mut page = learner.get(server.url("/api/events")).send().await.unwrap().bytes_stream();
    // The learner's stream opens with whether the pages are covered: not now.
    assert_eq!(sse_until(&mut page, "attention", "null").await, "null");

    let raised: serde_json::Value =
        learner.post(server.url("/api/help")).json(&serde_json::json!({ "note": "veth?" })).send().await.unwrap().json().await.unwrap();
    let id = raised["id"].as_i64().unwrap();
    sse_until(&mut dashboard, "dashboard", "veth?").await;
    sse_until(&mut page, "help", "veth?").await;

    // A learner cannot take hands nor cover pages: those are staff's.
    let other = server.client(&bob_cookie);
    for action in [
        serde_json::json!({ "action": "resolve", "request": id }),
        serde_json::json!({ "action": "attention", "class": class, "message": "x" }),
    ] {
        assert_eq!(other.post(server.url("/api/instructor/help")).json(&action).send().await.unwrap().status().as_u16(), 403);
    }

    let act = |action: serde_json::Value| {
        let (staff, url) = (staff.clone(), server.url("/api/instructor/help"));
        async move {
            let response = staff.post(url).json(&action).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(act(serde_json::json!({ "action": "claim", "request": id })).await.0, 200);
    sse_until(&mut page, "help", "the instructor").await;
    assert_eq!(act(serde_json::json!({ "action": "message", "class": class, "learner": ada, "body": "Look at ip link" })).await.0, 200);
    sse_until(&mut dashboard, "dashboard", "Look at ip link").await;
    let written =
        learner.post(server.url("/api/help/messages")).json(&serde_json::json!({ "body": "<b>thanks</b>" })).send().await.unwrap();
    assert_eq!(written.status().as_u16(), 200);
    sse_until(&mut dashboard, "dashboard", "thanks").await;
    let mine: serde_json::Value = learner.get(server.url("/api/help")).send().await.unwrap().json().await.unwrap();
    let bodies: Vec<&str> = mine["thread"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Look at ip link", "<b>thanks</b>"]);
    assert_eq!(mine["hand"]["claimed_by"], "the instructor");

    assert_eq!(act(serde_json::json!({ "action": "resolve", "request": id })).await.0, 200);
    sse_until(&mut page, "help", "null").await;
    let (status, said) = act(serde_json::json!({ "action": "resolve", "request": id })).await;
    assert_eq!(status, 400, "a closed hand cannot be resolved again: {said}");

    // Eyes on me: every page of the class, and a page that connects meanwhile; then released.
    assert_eq!(act(serde_json::json!({ "action": "attention", "class": class, "message": "Eyes up here" })).await.0, 200);
    sse_until(&mut page, "attention", "Eyes up here").await;
    sse_until(&mut dashboard, "dashboard", "Eyes up here").await;
    let mut later = other.get(server.url("/api/events")).send().await.unwrap().bytes_stream();
    sse_until(&mut later, "attention", "Eyes up here").await;
    let (status, said) = act(serde_json::json!({ "action": "attention", "class": class, "message": "x".repeat(201) })).await;
    assert_eq!(status, 400, "{said}");
    assert_eq!(act(serde_json::json!({ "action": "attention", "class": class, "message": null })).await.0, 200);
    sse_until(&mut page, "attention", "null").await;
}

#[tokio::test]
async fn a_learner_writing_as_fast_as_a_script_is_slowed_down() {
    let server = TestServer::start("help_flood", false).await;
    let (ada, cookie) = server.learner("Ada").await;
    let learner = server.client(&cookie);
    let mut statuses = Vec::new();
    for i in 0..40 {
        let response =
            learner.post(server.url("/api/help/messages")).json(&serde_json::json!({ "body": format!("{i}") })).send().await.unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            assert!(response.text().await.unwrap().contains("wait a few seconds"));
        }
        statuses.push(status);
    }
    assert!(statuses[..10].iter().all(|&s| s == 200), "{statuses:?}");
    assert!(statuses[10..].iter().all(|&s| s == 429), "{statuses:?}");
    for _ in 0..5 {
        let _ = learner.post(server.url("/api/help")).json(&serde_json::json!({ "note": "again" })).send().await.unwrap();
        let _ = learner.delete(server.url("/api/help")).send().await.unwrap();
    }
    assert_eq!(server.store.thread(&ada, 1000).await.unwrap().len(), 10, "only what was accepted is stored");
    // Too long a message or note is refused with what the limit is.
    let (_, cookie) = server.learner("Bob").await;
    let bob = server.client(&cookie);
    let long = bob.post(server.url("/api/help/messages")).json(&serde_json::json!({ "body": "x".repeat(2001) })).send().await.unwrap();
    assert_eq!(long.status().as_u16(), 400);
    assert!(long.text().await.unwrap().contains("2000 characters"));
    let long = bob.post(server.url("/api/help")).json(&serde_json::json!({ "note": "x".repeat(501) })).send().await.unwrap();
    assert_eq!(long.status().as_u16(), 400);
    assert!(long.text().await.unwrap().contains("500 characters"));
}

#[tokio::test]
async fn a_spotlight_waits_for_the_learners_consent() {
    let server = TestServer::start("help_spotlight", false).await;
    let class = server.class_id().await;
    let (ada, ada_cookie) = server.learner("Ada").await;
    let (_, bob_cookie) = server.learner("Bob").await;
    let (ada_client, bob_client) = (server.client(&ada_cookie), server.client(&bob_cookie));
    let staff = server.client(&server.instructor().await);
    let mut ada_page = ada_client.get(server.url("/api/events")).send().await.unwrap().bytes_stream();
    let mut bob_page = bob_client.get(server.url("/api/events")).send().await.unwrap().bytes_stream();
    let act = |action: serde_json::Value| {
        let (staff, url) = (staff.clone(), server.url("/api/instructor/help"));
        async move { staff.post(url).json(&action).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(act(serde_json::json!({ "action": "spotlight", "learner": ada, "tab": 1, "to_class": true })).await, 200);
    sse_until(&mut ada_page, "spotlight", "\"consented\":false").await;
    // Bob is not told about a question asked of Ada, and cannot answer it.
    sse_until(&mut bob_page, "spotlight", "null").await;
    let answer = |client: &reqwest::Client, allow: bool| {
        let (client, url) = (client.clone(), server.url("/api/spotlight"));
        async move { client.post(url).json(&serde_json::json!({ "allow": allow })).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(answer(&bob_client, true).await, 404);
    // Nothing to watch before Ada agrees.
    let help: serde_json::Value = bob_client.get(server.url("/api/help")).send().await.unwrap().json().await.unwrap();
    assert!(help["spotlight"].is_null(), "{help}");

    assert_eq!(answer(&ada_client, true).await, 204);
    sse_until(&mut bob_page, "spotlight", "\"consented\":true").await;
    let help: serde_json::Value = bob_client.get(server.url("/api/help")).send().await.unwrap().json().await.unwrap();
    assert_eq!(help["spotlight"]["learner"], ada.as_str());
    // Ada stops it herself.
    assert_eq!(answer(&ada_client, false).await, 204);
    sse_until(&mut bob_page, "spotlight", "null").await;
    // Declining a new question ends it too; the instructor can end one.
    assert_eq!(act(serde_json::json!({ "action": "spotlight", "learner": ada, "tab": 1, "to_class": true })).await, 200);
    assert_eq!(answer(&ada_client, false).await, 204);
    assert!(server.state.spotlights.current(&class).is_none());
    assert_eq!(act(serde_json::json!({ "action": "spotlight", "learner": ada, "tab": 1, "to_class": false })).await, 200);
    assert_eq!(act(serde_json::json!({ "action": "end_spotlight", "class": class })).await, 200);
    assert!(server.state.spotlights.current(&class).is_none());
}
