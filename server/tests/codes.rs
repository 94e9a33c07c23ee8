//! Access and schedule: one-time join codes (each joins one learner once; a class can take only
//! those), a learner extending their own sandbox within the limit their class sets, and a
//! class's scheduled pre-warm.

mod common;

use common::TestServer;
use serde_json::{Value, json};

async fn join(server: &TestServer, code: &str, name: &str) -> (u16, String) {
    let response = server.client("").post(server.url("/api/join")).json(&json!({ "code": code, "name": name })).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_one_time_code_joins_once() {
    let server = TestServer::start("codes_once", false).await;
    let class = server.class_id().await;
    let staff = server.client(&server.instructor().await);
    let made: Vec<Value> = staff
        .post(server.url(&format!("/api/instructor/classes/{class}/codes")))
        .json(&json!({ "count": 3 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(made.len(), 3);
    let code = made[0]["code"].as_str().unwrap().to_string();
    assert!(code.len() == 9 && code.as_bytes()[4] == b'-', "{code}");

    // A bad name does not use the code up; typed in lower case without the dash, it joins once.
    let (status, said) = join(&server, &code, "  ").await;
    assert_eq!(status, 400, "{said}");
    let typed = code.replace('-', " ").to_lowercase();
    let (status, said) = join(&server, &typed, "Ada").await;
    assert_eq!(status, 200, "{said}");
    let (status, said) = join(&server, &code, "Mallory").await;
    assert_eq!(status, 403);
    assert!(said.contains("already used"), "{said}");
    let names: Vec<String> = server.store.learners(&class).await.unwrap().into_iter().map(|l| l.display_name).collect();
    assert_eq!(names, ["Ada"]);

    // The CSV says who used which.
    let csv = staff.get(server.url(&format!("/api/instructor/classes/{class}/codes.csv"))).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains(&format!("{code},Ada")), "{csv}");
    assert!(csv.contains(&format!("{},\r\n", made[1]["code"].as_str().unwrap())), "{csv}");

    // A class that takes only one-time codes refuses its own code.
    let settings = app::class::ClassSettings { codes_only: true, ..Default::default() };
    let renamed = server.store.class(&class).await.unwrap().unwrap();
    server.store.update_class(&class, &renamed.name, &settings).await.unwrap();
    let (status, said) = join(&server, &renamed.join_code, "Bob").await;
    assert_eq!(status, 403);
    assert!(said.contains("one-time code"), "{said}");
    let (status, _) = join(&server, made[1]["code"].as_str().unwrap(), "Bob").await;
    assert_eq!(status, 200);

    // A join refused for another reason (the class wants learners signed in; the class has
    // ended) does not use the code up.
    let last = made[2]["code"].as_str().unwrap();
    let unused = async || server.store.one_time_codes(&class).await.unwrap().iter().any(|c| c.code == last && c.used_at.is_none());
    for settings in [
        app::class::ClassSettings { codes_only: true, sign_in_required: true, ..Default::default() },
        app::class::ClassSettings { codes_only: true, ends_at: Some(1), ..Default::default() },
    ] {
        server.store.update_class(&class, &renamed.name, &settings).await.unwrap();
        let (status, said) = join(&server, last, "Carol").await;
        assert_eq!(status, 403, "{said}");
        assert!(unused().await, "refused, yet the code was used up: {said}");
    }

    // Bounded: no class gets more than a thousand.
    let too_many =
        staff.post(server.url(&format!("/api/instructor/classes/{class}/codes"))).json(&json!({ "count": 1000 })).send().await.unwrap();
    assert_eq!(too_many.status().as_u16(), 400);
    assert!(too_many.text().await.unwrap().contains("at most 1000"));
    // A learner cannot make codes.
    let (_, cookie) = server.learner("Eve").await;
    let refused = server
        .client(&cookie)
        .post(server.url(&format!("/api/instructor/classes/{class}/codes")))
        .json(&json!({ "count": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_learner_extends_their_sandbox_within_the_class_limit() {
    if !common::sandboxes_available("codes_extend") {
        return;
    }
    let server = TestServer::start("codes_extend", true).await;
    let class = server.store.class(&server.class_id().await).await.unwrap().unwrap();
    let (learner, cookie) = server.learner("Ada").await;
    let client = server.client(&cookie);
    let sandboxes = server.state.sandboxes.clone().unwrap();
    sandboxes.start_now(&learner).await.unwrap();
    let extend = || {
        let (client, url) = (client.clone(), server.url("/api/sandbox/extend"));
        async move {
            let response = client.post(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    // Not allowed until the class says so.
    let (status, said) = extend().await;
    assert_eq!(status, 400);
    assert!(said.contains("does not let learners"), "{said}");
    let settings = app::class::ClassSettings { self_extend_minutes: Some(45), ..class.settings.clone() };
    server.store.update_class(&class.id, &class.name, &settings).await.unwrap();

    let before: Value = client.get(server.url("/api/help")).send().await.unwrap().json().await.unwrap();
    let before_secs = before["sandbox_expires_in"].as_u64().unwrap();
    assert_eq!(before["extend_left"], 45);
    let (status, said) = extend().await;
    assert_eq!(status, 200, "{said}");
    let after: Value = serde_json::from_str(&said).unwrap();
    let gained = after["sandbox_expires_in"].as_u64().unwrap() as i64 - before_secs as i64;
    assert!((29 * 60..=30 * 60 + 5).contains(&gained), "30 minutes more: {gained} s");
    assert_eq!(after["extend_left"], 15);
    assert_eq!(extend().await.0, 200, "the 15 left");
    let (status, said) = extend().await;
    assert_eq!(status, 400);
    assert!(said.contains("45 minutes"), "{said}");
    sandboxes.stop(&learner).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_scheduled_prewarm_starts_the_roster_and_spares_by_itself() {
    if !common::sandboxes_available("codes_prewarm") {
        return;
    }
    let server = TestServer::start("codes_prewarm", true).await;
    let class = server.store.class(&server.class_id().await).await.unwrap().unwrap();
    let (learner, _) = server.learner("Ada").await;
    let sandboxes = server.state.sandboxes.clone().unwrap();
    assert!(!matches!(sandboxes.status(&learner), server::sandboxes::Status::Running { .. }));
    let now = server::store::now();
    let settings = app::class::ClassSettings { prewarm_at: Some(now - 5), prewarm_spares: Some(1), ..class.settings.clone() };
    server.store.update_class(&class.id, &class.name, &settings).await.unwrap();
    // The schedule's first look is at once.
    server::web::instructor::schedule::spawn(server.state.clone(), server.shutdown.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !(matches!(sandboxes.status(&learner), server::sandboxes::Status::Running { .. }) && sandboxes.spares() == 1) {
        assert!(std::time::Instant::now() < deadline, "the roster and a spare were not started by the schedule");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    sandboxes.stop(&learner).await.unwrap();
}
