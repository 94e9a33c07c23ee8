//! Classes and the instructor's dashboard through the real HTTP API: making a class, joining it
//! (taking a pre-warmed spare sandbox), the live matrix's events, grades as CSV and JSON,
//! messages, extending and resetting a sandbox, watching and taking over a terminal.

mod common;

use std::time::Duration;

use common::{INSTRUCTOR_TOKEN, TestServer, read_until};
use futures::{SinkExt, Stream, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn instructor(_server: &TestServer) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {INSTRUCTOR_TOKEN}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

async fn help(server: &TestServer, action: Value) -> (u16, String) {
    let response = instructor(server).post(server.url("/api/instructor/help")).json(&action).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Joins `code` as `name` through the API; the learner's id and cookie.
async fn join(server: &TestServer, code: &str, name: &str) -> Result<(String, String), (u16, String)> {
    let response = server.client("").post(server.url("/api/join")).json(&json!({ "code": code, "name": name })).send().await.unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        return Err((status, response.text().await.unwrap()));
    }
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let me: Value = response.json().await.unwrap();
    Ok((me["learner_id"].as_str().unwrap().to_string(), cookie))
}

/// An event stream's text until it contains `needle`.
async fn until<B: AsRef<[u8]>>(events: &mut (impl Stream<Item = reqwest::Result<B>> + Unpin), seen: &mut String, needle: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in: {seen}"))
            .expect("the stream goes on")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_class_from_creation_to_grades() {
    if !common::sandboxes_available("classes") {
        return;
    }
    let server = TestServer::start("classes", true).await;
    let api = instructor(&server);

    // Bad settings are refused with the reason.
    let bad = api
        .post(server.url("/api/instructor/classes"))
        .json(&json!({ "name": "Tuesday", "settings": { "labs": ["no-such-lab"] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.text().await.unwrap().contains("no-such-lab"));

    let class: Value = api
        .post(server.url("/api/instructor/classes"))
        .json(&json!({ "name": "Tuesday", "code": "tues01", "settings": { "labs": ["netns-veth"], "sandbox_lifetime_minutes": 90 } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(class["join_code"], "TUES01");
    let class_id = class["id"].as_str().unwrap().to_string();

    // Pre-warm two spares before anyone joins.
    let (status, said) = help(&server, json!({ "action": "prewarm", "class": class_id, "spares": 2 })).await;
    assert_eq!(status, 200, "{said}");
    assert!(said.contains("2 spare"), "{said}");
    let sandboxes = server.state.sandboxes.clone().unwrap();
    assert_eq!(sandboxes.spares(), 2);

    // The dashboard's stream sees the join, a check passing and a quiz answer.
    let mut events = api.get(server.url(&format!("/api/instructor/classes/{class_id}/events"))).send().await.unwrap().bytes_stream();
    let mut seen = String::new();
    let (ada, ada_cookie) = join(&server, "tues01", "Ada").await.unwrap();
    assert_eq!(sandboxes.spares(), 1, "Ada took a spare");
    assert!(matches!(sandboxes.status(&ada), server::sandboxes::Status::Running { .. }), "her sandbox was already running");
    until(&mut events, &mut seen, "\"type\":\"joined\"").await;
    assert!(seen.contains("Ada"), "{seen}");

    let learner = server.client(&ada_cookie);
    learner.post(server.url("/api/labs/netns-veth/steps/netns/focus")).send().await.unwrap();
    let solution = server.state.course.lab("netns-veth").unwrap().1.steps[0].solution.clone().unwrap();
    sandboxes.exec(&ada, sandbox::ExecRequest::script(&solution.source)).await.unwrap();
    let checked: Value = learner.post(server.url("/api/labs/netns-veth/steps/netns/check")).send().await.unwrap().json().await.unwrap();
    assert_eq!(checked["done"], true, "{checked}");
    until(&mut events, &mut seen, "\"done\":true").await;

    let question = server.state.course.lab("netns-veth").unwrap().1.steps.iter().flat_map(|s| s.quiz.clone()).next();
    if let Some(q) = &question {
        let right = server.state.course.questions[q].choices.iter().position(|c| c.correct).unwrap();
        learner.post(server.url(&format!("/api/quiz/{q}/answer"))).json(&json!({ "choices": [right] })).send().await.unwrap();
        until(&mut events, &mut seen, "\"type\":\"quiz\"").await;
    }

    // Grades: one row for Ada; the step's points (and the quiz's) in the total.
    let step_points = server.state.course.lab("netns-veth").unwrap().1.steps[0].points;
    let quiz_points = question.as_ref().map_or(0, |q| server.state.course.questions[q].points);
    let grades: Value =
        api.get(server.url(&format!("/api/instructor/classes/{class_id}/grades.json"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(grades["rows"].as_array().unwrap().len(), 1);
    assert_eq!(grades["rows"][0]["name"], "Ada");
    assert_eq!(grades["rows"][0]["total"], step_points + quiz_points);
    let csv = api.get(server.url(&format!("/api/instructor/classes/{class_id}/grades.csv"))).send().await.unwrap();
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("grades-tuesday.csv"));
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with(&format!("Ada,{ada},{step_points},")), "{csv}");
    // The total, then the polls answered (participation, never in the total), then each lab's
    // effort: minutes, failed checks, commands.
    let mut table = csv::ReaderBuilder::new().has_headers(false).from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let records: Vec<csv::StringRecord> = table.records().map(Result::unwrap).collect();
    let header: Vec<&str> = records[0].iter().collect();
    let cells: Vec<&str> = records[1].iter().collect();
    let total = header.iter().position(|h| h.starts_with("Total")).unwrap();
    assert_eq!((cells[total], cells[total + 1]), (format!("{}", step_points + quiz_points).as_str(), "0"), "{csv}");
    assert!(header[total + 1].starts_with("Polls answered"), "{csv}");
    assert!(header[total + 2].ends_with(": minutes") && header[total + 3].ends_with(": failed checks"), "{csv}");
    assert_eq!(header.len(), cells.len(), "{csv}");

    // Messages reach the learner's page live: to her, and to the class.
    let mut inbox = learner.get(server.url("/api/events")).send().await.unwrap().bytes_stream();
    let mut got = String::new();
    let (status, said) =
        help(&server, json!({ "action": "message", "class": class_id, "learner": ada, "body": "Try ip netns list" })).await;
    assert_eq!(status, 200, "{said}");
    until(&mut inbox, &mut got, "Try ip netns list").await;
    help(&server, json!({ "action": "message", "class": class_id, "learner": null, "body": "Break until 10:30" })).await;
    until(&mut inbox, &mut got, "Break until 10:30").await;
    assert!(got.contains("event: message"), "{got}");

    // Extend, then reset: files go (only because the instructor asked to wipe), progress stays.
    let (status, said) = help(&server, json!({ "action": "extend", "learner": ada, "minutes": 30 })).await;
    assert_eq!(status, 200, "{said}");
    sandboxes.exec(&ada, sandbox::ExecRequest::script("echo mine > /root/notes.txt")).await.unwrap();
    let (status, said) = help(&server, json!({ "action": "reset", "learner": ada, "wipe": false })).await;
    assert_eq!(status, 200, "{said}");
    let kept = sandboxes.exec(&ada, sandbox::ExecRequest::script("cat /root/notes.txt")).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&kept.stdout), "mine\n", "a restart keeps files");
    let (status, said) = help(&server, json!({ "action": "reset", "learner": ada, "wipe": true })).await;
    assert_eq!(status, 200, "{said}");
    let gone = sandboxes.exec(&ada, sandbox::ExecRequest::script("test -e /root/notes.txt && echo there || echo gone")).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&gone.stdout), "gone\n");
    let progress: Value = learner.get(server.url("/api/labs/netns-veth/progress")).send().await.unwrap().json().await.unwrap();
    assert_eq!(progress["steps"][0]["done"], true, "progress survives a reset: {progress}");
    until(&mut inbox, &mut got, "fresh one").await;

    // After the class ends nobody new joins, but Ada can still come back with her code.
    let mut settings = class["settings"].clone();
    settings["starts_at"] = json!(1_000);
    settings["ends_at"] = json!(2_000);
    let updated = api
        .post(server.url(&format!("/api/instructor/classes/{class_id}")))
        .json(&json!({ "name": "Tuesday", "settings": settings }))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status().as_u16(), 200);
    let (status, why) = join(&server, "TUES01", "Late").await.unwrap_err();
    assert_eq!(status, 403);
    assert!(why.contains("ended"), "{why}");
    let resume_code = server.store.learner(&ada).await.unwrap().unwrap().resume_code;
    let back = server.client("").get(server.url(&format!("/resume/{resume_code}"))).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 303);
    assert!(back.headers().get("set-cookie").is_some());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn the_instructor_watches_then_takes_over_a_terminal() {
    if !common::sandboxes_available("classes_watch") {
        return;
    }
    let server = TestServer::start("classes_watch", true).await;
    let (ada, ada_cookie) = server.learner("Ada").await;
    let instructor = server.instructor().await;

    // Nothing open yet: the instructor is told so.
    let mut watch = common::ws(&server, &instructor, &format!("/ws/instructor/learners/{ada}/terminal/1")).await;
    read_until(&mut watch, "Ada has no terminal 1 open").await;

    let mut own = common::ws(&server, &ada_cookie, "/ws/terminal/1?start=1").await;
    read_until(&mut own, "attached").await;
    own.send(Message::Binary(b"echo before-$((6*7))\n".to_vec().into())).await.unwrap();
    read_until(&mut own, "before-42").await;

    // Watching: the scrollback and what she types; what the watcher sends goes nowhere.
    let mut watch = common::ws(&server, &instructor, &format!("/ws/instructor/learners/{ada}/terminal/1")).await;
    let hello = read_until(&mut watch, "before-42").await;
    assert!(hello.contains(r#""read_only":true"#) && hello.contains(r#""cols":80,"rows":24"#), "{hello}");
    watch.send(Message::Binary(b"echo watcher-$((1+1))\n".to_vec().into())).await.unwrap();
    watch.send(Message::Text(r#"{"type":"resize","cols":20,"rows":5}"#.into())).await.unwrap();
    own.send(Message::Binary(b"stty size; echo typed-by-ada-$((6*7))\n".to_vec().into())).await.unwrap();
    let seen = read_until(&mut watch, "typed-by-ada-42").await;
    assert!(!seen.contains("watcher-2") && !seen.contains("5 20"), "a watcher typed or resized: {seen}");
    // When Ada resizes, the watcher is told, to draw at her size.
    own.send(Message::Text(r#"{"type":"resize","cols":100,"rows":30}"#.into())).await.unwrap();
    read_until(&mut watch, r#"{"type":"size","cols":100,"rows":30}"#).await;

    // Taking over: input goes through, and Ada is told.
    let mut inbox = server.client(&ada_cookie).get(server.url("/api/events")).send().await.unwrap().bytes_stream();
    let mut got = String::new();
    let mut take = common::ws(&server, &instructor, &format!("/ws/instructor/learners/{ada}/terminal/1?control=1")).await;
    read_until(&mut take, "attached").await;
    take.send(Message::Binary(b"echo helped-$((6*7))\n".to_vec().into())).await.unwrap();
    read_until(&mut own, "helped-42").await;
    until(&mut inbox, &mut got, "typing in your terminal").await;
}

/// A sandbox has only the devices its class's labs use: a class of shell labs gets neither KVM
/// nor FUSE nor tun; when the instructor adds a VM lab, the next start has KVM and tun.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_class_gets_only_the_devices_its_labs_use() {
    if !common::sandboxes_available("class_devices") {
        return;
    }
    let server = TestServer::start("class_devices", true).await;
    let api = instructor(&server);
    let make = |labs: Vec<&str>| json!({ "name": "Devices", "code": "devs01", "settings": { "labs": labs } });
    let class: Value =
        api.post(server.url("/api/instructor/classes")).json(&make(vec!["netns-veth"])).send().await.unwrap().json().await.unwrap();
    let class_id = class["id"].as_str().unwrap().to_string();
    let (learner, _) = join(&server, "devs01", "Ada").await.unwrap();
    let sandboxes = server.state.sandboxes.clone().unwrap();
    let devices = || async {
        let out = sandboxes
            .exec(&learner, sandbox::ExecRequest::script("for d in kvm fuse net/tun; do [ -e /dev/$d ] && echo $d; done; true"))
            .await
            .unwrap();
        out.stdout_text().split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    assert!(devices().await.is_empty(), "a class of shell labs has no devices: {:?}", devices().await);

    let updated = api
        .post(server.url(&format!("/api/instructor/classes/{class_id}")))
        .json(&make(vec!["netns-veth", "tcg-vs-kvm"]))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status().as_u16(), 200);
    sandboxes.stop(&learner).await.unwrap();
    let host_has = |p: &str| std::path::Path::new(p).exists();
    let want: Vec<String> =
        [("kvm", "/dev/kvm"), ("net/tun", "/dev/net/tun")].into_iter().filter(|(_, p)| host_has(p)).map(|(d, _)| d.to_string()).collect();
    assert_eq!(devices().await, want, "a VM lab's class");
}
