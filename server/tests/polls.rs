//! Live polls over HTTP: the presenter launches a quiz question and a quick question, learners
//! whose class has the deck answer (a learner of a class without it cannot), the presenter's
//! stream counts each answer, reveal sends the result to the learners, the quiz question's
//! answers are scored and every poll counts as participation in the grades.

mod common;

use common::{TestServer, sse_until};

const DECK: &str = "bare-metal-to-vms";

#[tokio::test]
async fn a_poll_from_launch_to_grades() {
    let server = TestServer::start("polls_routes", false).await;
    let class = server.class_id().await;
    let (ada, ada_cookie) = server.learner("Ada").await;
    let (_, bob_cookie) = server.learner("Bob").await;
    let staff = server.client(&server.instructor().await);
    let (ada_client, bob_client) = (server.client(&ada_cookie), server.client(&bob_cookie));
    let mut presenter = staff.get(server.url(&format!("/api/decks/{DECK}/polls/events"))).send().await.unwrap().bytes_stream();
    assert_eq!(sse_until(&mut presenter, "poll", "null").await, "null", "no poll open yet");
    let mut page = ada_client.get(server.url("/api/events")).send().await.unwrap().bytes_stream();

    // A learner cannot launch one.
    let source = serde_json::json!({ "kind": "question", "id": "docker-hypervisor" });
    let refused = ada_client.post(server.url(&format!("/api/decks/{DECK}/polls"))).json(&source).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);

    let launched: serde_json::Value =
        staff.post(server.url(&format!("/api/decks/{DECK}/polls"))).json(&source).send().await.unwrap().json().await.unwrap();
    let id = launched["id"].as_i64().unwrap();
    assert_eq!(launched["choices"].as_array().unwrap().len(), 3);
    let shown = sse_until(&mut page, "poll", "docker-hypervisor").await;
    assert!(!shown.contains("\"results\":{"), "learners see no counts before the reveal: {shown}");

    let answer = |client: &reqwest::Client, body: serde_json::Value| {
        let (client, url) = (client.clone(), server.url(&format!("/api/polls/{id}/answer")));
        async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(answer(&ada_client, serde_json::json!({ "kind": "choices", "choices": [7] })).await.0, 400, "no such choice");
    assert_eq!(answer(&ada_client, serde_json::json!({ "kind": "number", "value": 3 })).await.0, 400, "a choice poll");
    assert_eq!(answer(&ada_client, serde_json::json!({ "kind": "choices", "choices": [0] })).await.0, 200);
    sse_until(&mut presenter, "results", "\"answers\":1").await;
    // Changing her mind replaces her answer; Bob's makes two.
    assert_eq!(answer(&ada_client, serde_json::json!({ "kind": "choices", "choices": [1] })).await.0, 200);
    assert_eq!(answer(&bob_client, serde_json::json!({ "kind": "choices", "choices": [1] })).await.0, 200);
    let counted = sse_until(&mut presenter, "results", "\"answers\":2").await;
    assert!(counted.contains("\"counts\":[0,2,0]"), "{counted}");

    // The quiz question's answer is her quiz answer: the first one is graded (wrong), as on
    // the quiz itself.
    let quiz = server.store.quiz_answers(&ada).await.unwrap();
    assert_eq!((quiz[0].question_id.as_str(), quiz[0].choices.as_slice(), quiz[0].attempts), ("docker-hypervisor", &[0usize][..], 2));

    let revealed =
        staff.post(server.url(&format!("/api/polls/{id}"))).json(&serde_json::json!({ "change": "reveal" })).send().await.unwrap();
    assert_eq!(revealed.status().as_u16(), 200);
    let shown = sse_until(&mut page, "poll", "\"revealed\":true").await;
    assert!(shown.contains("\"correct\":[1]") && shown.contains("\"counts\":[0,2,0]"), "{shown}");

    // A new poll of the deck ends this one; a number poll takes numbers.
    let quick = serde_json::json!({ "kind": "number", "prompt": "How many <b>namespaces</b> does a container get?" });
    let number: serde_json::Value =
        staff.post(server.url(&format!("/api/decks/{DECK}/polls"))).json(&quick).send().await.unwrap().json().await.unwrap();
    assert_eq!(number["prompt_html"], "How many &lt;b&gt;namespaces&lt;/b&gt; does a container get?", "typed text stays text");
    assert_eq!(answer(&ada_client, serde_json::json!({ "kind": "choices", "choices": [1] })).await.0, 404, "the first poll ended");
    let number_id = number["id"].as_i64().unwrap();
    let response = ada_client
        .post(server.url(&format!("/api/polls/{number_id}/answer")))
        .json(&serde_json::json!({ "kind": "number", "value": 7 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let bad = serde_json::json!({ "kind": "choices", "prompt": "Pick", "choices": ["only one"] });
    let refused = staff.post(server.url(&format!("/api/decks/{DECK}/polls"))).json(&bad).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    assert!(refused.text().await.unwrap().contains("2 to 6 choices"));
    let closed =
        staff.post(server.url(&format!("/api/polls/{number_id}"))).json(&serde_json::json!({ "change": "close" })).send().await.unwrap();
    assert_eq!(closed.status().as_u16(), 200);
    sse_until(&mut page, "poll", &format!("\"poll_id\":{number_id},\"view\":null")).await;

    // Participation in the grades: Ada answered both polls, Bob one.
    let grades: serde_json::Value =
        staff.get(server.url(&format!("/api/instructor/classes/{class}/grades.json"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(grades["polls"], 2);
    let answered = |name: &str| grades["rows"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["polls_answered"].clone();
    assert_eq!((answered("Ada"), answered("Bob")), (serde_json::json!(2), serde_json::json!(1)));

    // A learner whose class does not have the deck neither sees nor answers its polls.
    let other = server
        .store
        .create_class("Other", None, &app::class::ClassSettings { decks: vec!["containers-to-kubernetes".into()], ..Default::default() })
        .await
        .unwrap();
    let eve = server.store.create_learner(&other.id, "Eve", None).await.unwrap();
    let token = server.store.create_session(server::store::Role::Learner, Some(&eve.id), std::time::Duration::from_secs(60)).await.unwrap();
    let eve_client = server.client(&server.cookie(token));
    let third: serde_json::Value =
        staff.post(server.url(&format!("/api/decks/{DECK}/polls"))).json(&source).send().await.unwrap().json().await.unwrap();
    let response = eve_client
        .post(server.url(&format!("/api/polls/{}/answer", third["id"])))
        .json(&serde_json::json!({ "kind": "choices", "choices": [1] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let help: serde_json::Value = eve_client.get(server.url("/api/help")).send().await.unwrap().json().await.unwrap();
    assert!(help["poll"].is_null(), "{help}");
    let help: serde_json::Value = ada_client.get(server.url("/api/help")).send().await.unwrap().json().await.unwrap();
    assert_eq!(help["poll"]["poll"]["id"], third["id"]);
}
