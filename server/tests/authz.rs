//! Authorization: every instructor route and WebSocket refuses strangers, learners, forged,
//! foreign-key and expired cookies and wrong bearer tokens with a bare 403 that says nothing
//! about the class; cross-site requests are refused even with the instructor's cookie; a
//! learner's requests only ever reach their own progress and sandbox.

mod common;

use std::time::Duration;

use axum_extra::extract::cookie::Key;
use common::{INSTRUCTOR_TOKEN, TestServer};
use cookie::{Cookie, CookieJar};
use server::store::Role;
use tokio_tungstenite::tungstenite;

/// Credentials that must all be refused.
async fn intruders(server: &TestServer) -> Vec<(&'static str, Vec<(String, String)>)> {
    let (_, learner) = server.learner("Mallory").await;
    let expired = {
        let token = server.store.create_session(Role::Instructor, None, Duration::ZERO).await.unwrap();
        server.cookie(token)
    };
    let foreign_key = {
        // A real instructor session, signed with another server's key.
        let token = server.store.create_session(Role::Instructor, None, Duration::from_secs(60)).await.unwrap();
        let mut jar = CookieJar::new();
        jar.signed_mut(&Key::generate()).add(Cookie::new(server::web::auth::COOKIE, token));
        format!("{}={}", server::web::auth::COOKIE, jar.get(server::web::auth::COOKIE).unwrap().value())
    };
    let cookie = |v: String| vec![("cookie".to_string(), v)];
    vec![
        ("no cookie", vec![]),
        ("a learner's cookie", cookie(learner)),
        ("a forged cookie", cookie(format!("{}=forged-value", server::web::auth::COOKIE))),
        ("an instructor session signed with another key", cookie(foreign_key)),
        ("an expired instructor session", cookie(expired)),
        ("a wrong bearer token", vec![("authorization".into(), "Bearer not-the-token-0000000".into())]),
    ]
}

fn concrete(path: &str, class: &str, learner: &str) -> String {
    path.replace("{class}", class)
        .replace("{learner}", learner)
        .replace("{tab}", "1")
        .replace("{deck}", "bare-metal-to-vms")
        .replace("{poll}", "1")
        .replace("{recording}", "1000-1")
        .replace("{lab}", "some-lab")
        .replace("{step}", "some-step")
        .replace("{platform}", "p-none")
}

async fn http(server: &TestServer, method: &str, path: &str, headers: &[(String, String)]) -> (u16, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.request(method.parse().unwrap(), server.url(path)).header("origin", format!("http://{}", server.addr));
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    if method == "POST" {
        request = request.header("content-type", "application/json").body("{}");
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn websocket(server: &TestServer, path: &str, headers: &[(String, String)]) -> u16 {
    use tungstenite::client::IntoClientRequest;
    let mut request = server.ws_url(path).into_client_request().unwrap();
    for (k, v) in headers {
        request.headers_mut().insert(tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{path}: {e}"),
    }
}

#[tokio::test]
async fn every_instructor_route_refuses_everyone_else() {
    let server = TestServer::start("authz_matrix", false).await;
    let class = server.class_id().await;
    let (learner, _) = server.learner("Ada").await;
    let class_name = server.store.class(&class).await.unwrap().unwrap().name;
    for (who, headers) in intruders(&server).await {
        for (method, path) in server::web::instructor::PROTECTED {
            let path = concrete(path, &class, &learner);
            if *method == "WS" {
                assert_eq!(websocket(&server, &path, &headers).await, 403, "{who} opened {path}");
            } else {
                let (status, body) = http(&server, method, &path, &headers).await;
                assert_eq!(status, 403, "{who} got {status} from {method} {path}: {body}");
                assert!(!body.contains(&class_name) && !body.contains("Ada"), "{who}: the refusal tells nothing: {body}");
            }
        }
        // The pages' server functions for the instructor refuse too, with well-formed arguments.
        let calls = [
            ("/api/instructor/class-page", "application/x-www-form-urlencoded", format!("class={class}")),
            (
                "/api/instructor/act",
                "application/json",
                serde_json::json!({ "action": { "action": "reset", "learner": learner, "wipe": true } }).to_string(),
            ),
            ("/api/instructor/thread", "application/x-www-form-urlencoded", format!("learner={learner}")),
            (
                "/api/present/launch-poll",
                "application/json",
                serde_json::json!({ "deck": "bare-metal-to-vms", "source": { "kind": "number", "prompt": "How many?" } }).to_string(),
            ),
            ("/api/present/change-poll", "application/json", serde_json::json!({ "id": 1, "change": "close" }).to_string()),
            (
                "/api/instructor/act",
                "application/json",
                serde_json::json!({ "action": { "action": "attention", "class": class, "message": "covered" } }).to_string(),
            ),
            (
                "/api/instructor/save-class",
                "application/json",
                serde_json::json!({ "id": class, "input": { "name": "Taken" } }).to_string(),
            ),
            ("/api/instructor/class-staff", "application/x-www-form-urlencoded", format!("class={class}")),
            (
                "/api/instructor/set-class-role",
                "application/json",
                serde_json::json!({ "class": class, "account": "someone", "role": "owner" }).to_string(),
            ),
            (
                "/api/instructor/make-staff-account",
                "application/x-www-form-urlencoded",
                "name=Eve&login=eve&password=long+enough+pw".into(),
            ),
            ("/api/instructor/lti-setup", "application/x-www-form-urlencoded", String::new()),
            (
                "/api/instructor/save-lti-platform",
                "application/json",
                serde_json::json!({ "input": { "label": "Evil", "issuer": "https://evil.test", "client_id": "x", "login_url": "https://evil.test/a",
                    "token_url": "https://evil.test/t", "jwks_url": "https://evil.test/k", "deployments": "1" } })
                .to_string(),
            ),
            ("/api/instructor/remove-lti-platform", "application/x-www-form-urlencoded", "id=p1".into()),
            ("/api/instructor/rotate-lti-key", "application/x-www-form-urlencoded", String::new()),
            ("/api/instructor/class-lti", "application/x-www-form-urlencoded", format!("class={class}")),
            ("/api/instructor/fill-roster", "application/x-www-form-urlencoded", format!("class={class}")),
        ];
        for (endpoint, content_type, body) in calls {
            let mut request = reqwest::Client::new()
                .post(server.url(endpoint))
                .header("origin", format!("http://{}", server.addr))
                .header("content-type", content_type)
                .body(body);
            for (k, v) in &headers {
                request = request.header(k.as_str(), v.as_str());
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert_eq!(status, 403, "{who} got {status} from {endpoint}: {body}");
            assert!(!body.contains(&class_name) && !body.contains("Ada"), "{who}: {endpoint} tells nothing: {body}");
        }
        assert_eq!(server.store.class(&class).await.unwrap().unwrap().name, class_name, "{who} renamed the class");
        // The dashboard page renders a sign-in, not the class.
        let (status, page) = http(&server, "GET", &format!("/instructor/classes/{class}"), &headers).await;
        assert!(status == 200 || status == 403, "{who}: {status}");
        assert!(!page.contains(&class_name) && !page.contains("Ada"), "{who} saw the dashboard");
    }

    // The instructor does get through, on every route (so the matrix above tested real routes).
    let instructor = vec![("cookie".to_string(), server.instructor().await)];
    let bearer = vec![("authorization".to_string(), format!("Bearer {INSTRUCTOR_TOKEN}"))];
    for headers in [&instructor, &bearer] {
        for (method, path) in server::web::instructor::PROTECTED {
            let path = concrete(path, &class, &learner);
            if *method == "WS" {
                // No sandboxes on this server: past the role check, it says so.
                assert_eq!(websocket(&server, &path, headers).await, 503, "{path}");
            } else if path.contains("/preview/") {
                // Nor web previews, which it says too.
                let (status, body) = http(&server, method, &path, headers).await;
                assert_eq!(status, 503, "{path}: {body}");
                assert!(body.contains("previews are switched off"), "{path}: {body}");
            } else if path.contains("/recordings") || path.ends_with("/replay") {
                // Nor recordings (they are of sandboxes' terminals).
                let (status, body) = http(&server, method, &path, headers).await;
                assert_eq!(status, 503, "{path}: {body}");
                assert!(body.contains("without sandboxes"), "{path}: {body}");
            } else if *method == "GET" && !path.ends_with("/events") {
                let (status, body) = http(&server, method, &path, headers).await;
                assert_eq!(status, 200, "{path}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn cross_site_requests_are_refused_even_for_the_instructor() {
    let server = TestServer::start("authz_csrf", false).await;
    let class = server.class_id().await;
    let cookie = server.instructor().await;
    let client = reqwest::Client::new();
    let body = serde_json::json!({ "action": "message", "class": class, "learner": null, "body": "from evil" });
    for (header, value) in [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")] {
        let response = client
            .post(server.url("/api/instructor/help"))
            .header("cookie", &cookie)
            .header(header, value)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{header}: {value}");
    }
    // The same request from the server's own page goes through.
    let response = server.client(&cookie).post(server.url("/api/instructor/help")).json(&body).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{}", response.text().await.unwrap());

    // A WebSocket from another site is refused before the role is even looked at.
    use tungstenite::client::IntoClientRequest;
    let (learner, _) = server.learner("Ada").await;
    let mut request = server.ws_url(&format!("/ws/instructor/learners/{learner}/terminal/1")).into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    request.headers_mut().insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("a cross-site WebSocket was not refused: {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let server = TestServer::start("authz_logout", false).await;
    let cookie = server.instructor().await;
    let client = server.client(&cookie);
    assert_eq!(client.get(server.url("/api/instructor/classes")).send().await.unwrap().status().as_u16(), 200);
    let out = client.post(server.url("/logout")).send().await.unwrap();
    assert_eq!(out.status().as_u16(), 303);
    // The old cookie is dead even if someone kept a copy.
    assert_eq!(client.get(server.url("/api/instructor/classes")).send().await.unwrap().status().as_u16(), 403);
}

#[tokio::test]
async fn wrong_codes_are_rate_limited_per_address() {
    let server = TestServer::start("authz_guessing", false).await;
    let client = server.client("");
    let mut statuses = Vec::new();
    for i in 0..25 {
        let response = client
            .post(server.url("/api/join"))
            .json(&serde_json::json!({ "code": format!("NOPE{i:02}"), "name": "Guesser" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..20], &[404; 20]);
    assert!(statuses[20..].iter().all(|&s| s == 429), "{statuses:?}");
    // Even the right code waits out the window: guessing is not rewarded.
    let right =
        client.post(server.url("/api/join")).json(&serde_json::json!({ "code": server.class_code, "name": "Late" })).send().await.unwrap();
    assert_eq!(right.status().as_u16(), 429);
}

#[tokio::test]
async fn learners_only_reach_their_own_progress() {
    let server = TestServer::start("authz_learners", false).await;
    let (_, ada_cookie) = server.learner("Ada").await;
    let (bob, _) = server.learner("Bob").await;
    let done = server::store::CheckOutcome { passed: true, reason: "ok".into(), took_ms: 1 };
    server.store.record_check(&bob, "netns-veth", "netns", &done, server::store::CheckRun::Asked).await.unwrap();
    // Learner routes take no learner id: whatever Ada asks for is Ada's.
    let ada = server.client(&ada_cookie);
    let progress: serde_json::Value = ada.get(server.url("/api/labs/netns-veth/progress")).send().await.unwrap().json().await.unwrap();
    assert!(progress["steps"].as_array().unwrap().iter().all(|s| s["done"] == false), "{progress}");
    let me: serde_json::Value = ada.get(server.url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["display_name"], "Ada");
    // Bob's terminal, watched with Ada's cookie: refused.
    use tungstenite::client::IntoClientRequest;
    let mut request = server.ws_url(&format!("/ws/instructor/learners/{bob}/terminal/1")).into_client_request().unwrap();
    request.headers_mut().insert("cookie", ada_cookie.parse().unwrap());
    assert!(matches!(tokio_tungstenite::connect_async(request).await, Err(tungstenite::Error::Http(r)) if r.status() == 403));
}

/// The status of `method path` as `headers`, without reading the body (event streams never end).
async fn status_of(server: &TestServer, method: &str, path: &str, headers: &[(String, String)]) -> u16 {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.request(method.parse().unwrap(), server.url(path)).header("origin", format!("http://{}", server.addr));
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    if method == "POST" {
        request = request.header("content-type", "application/json").body("{}");
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn assistants_help_in_their_class_and_nothing_more() {
    let server = TestServer::start("authz_assistants", false).await;
    let class = server.class_id().await;
    let other = server.store.create_class("Other", None, &Default::default()).await.unwrap();
    let (learner, learner_cookie) = server.learner("Ada").await;
    let (sam, token) = server.store.create_assistant(&class, "Sam").await.unwrap();

    // The login link signs Sam in and lands on the class; a wrong one is refused.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client.get(server.url(&format!("/staff/login?token={token}"))).send().await.unwrap();
    assert_eq!(login.status().as_u16(), 303);
    assert_eq!(login.headers()["location"], format!("/instructor/classes/{class}").as_str());
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let wrong = client.get(server.url("/staff/login?token=not-a-token-000000000")).send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 403);
    let headers = vec![("cookie".to_string(), cookie.clone())];

    // Every instructor route: the assistant's own ones go through for their class (no sandboxes
    // here: the terminal says so with a 503); every other one is a bare 403.
    for (method, path) in server::web::instructor::PROTECTED {
        let own = concrete(path, &class, &learner);
        let allowed = server::web::instructor::FOR_ASSISTANTS.contains(path);
        let status =
            if *method == "WS" { websocket(&server, &own, &headers).await } else { status_of(&server, method, &own, &headers).await };
        if allowed {
            assert_ne!(status, 403, "Sam was refused {method} {own}");
            let foreign = concrete(path, &other.id, &learner);
            if foreign != own {
                let status = if *method == "WS" { 0 } else { status_of(&server, method, &foreign, &headers).await };
                assert!(status == 403 || status == 0, "Sam reached another class: {method} {foreign}: {status}");
            }
        } else {
            assert_eq!(status, 403, "Sam got {status} from {method} {own}");
        }
    }
    // Never typing into a terminal.
    let take_over = format!("/ws/instructor/learners/{learner}/terminal/1?control=1");
    assert_eq!(websocket(&server, &take_over, &headers).await, 403);

    // Helping: a raised hand claimed in Sam's name, a message from Sam; the instructor's actions
    // refused.
    let ada = server.client(&learner_cookie);
    let hand: serde_json::Value =
        ada.post(server.url("/api/help")).json(&serde_json::json!({ "note": "help" })).send().await.unwrap().json().await.unwrap();
    let sam_client = server.client(&cookie);
    let act = |action: serde_json::Value| {
        let (c, url) = (sam_client.clone(), server.url("/api/instructor/help"));
        async move { c.post(url).json(&action).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(act(serde_json::json!({ "action": "claim", "request": hand["id"] })).await, 200);
    assert_eq!(server.store.open_help(&learner).await.unwrap().unwrap().claimed_by.as_deref(), Some("Sam"));
    assert_eq!(act(serde_json::json!({ "action": "message", "class": class, "learner": learner, "body": "On my way" })).await, 200);
    assert_eq!(server.store.thread(&learner, 5).await.unwrap()[0].author.as_deref(), Some("Sam"));
    for refused in [
        serde_json::json!({ "action": "reset", "learner": learner, "wipe": false }),
        serde_json::json!({ "action": "extend", "learner": learner, "minutes": 30 }),
        serde_json::json!({ "action": "prewarm", "class": class, "spares": 1 }),
        serde_json::json!({ "action": "attention", "class": class, "message": "Eyes" }),
        serde_json::json!({ "action": "spotlight", "learner": learner, "tab": 1, "to_class": true }),
        serde_json::json!({ "action": "end_spotlight", "class": class }),
        serde_json::json!({ "action": "message", "class": class, "learner": null, "body": "To all" }),
        serde_json::json!({ "action": "message", "class": other.id, "learner": null, "body": "Elsewhere" }),
    ] {
        assert_eq!(act(refused.clone()).await, 403, "{refused}");
    }
    assert_eq!(act(serde_json::json!({ "action": "resolve", "request": hand["id"] })).await, 200);

    // Removed: Sam's session ends with it.
    server.store.remove_assistant(&sam.id).await.unwrap();
    assert_eq!(status_of(&server, "GET", &format!("/api/instructor/classes/{class}/dashboard"), &headers).await, 403);
}

/// Signs a staff account in with its login and password: the session cookie.
async fn account_cookie(server: &TestServer, login: &str, password: &str) -> Option<String> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(server.url("/instructor/login"))
        .header("origin", format!("http://{}", server.addr))
        .form(&[("login", login), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response.headers().get("set-cookie")?.to_str().unwrap().split(';').next().unwrap().to_string();
    Some(cookie)
}

/// Whether a staff account with `role` in the class (`None`: none there) may use `path`.
fn role_may(role: Option<server::store::ClassRole>, path: &str) -> bool {
    match path {
        // The server's own, for its administrator only.
        "/metrics" | "/api/instructor/accounts" => false,
        // LMS registrations and the tool's key: the server's too.
        p if p.starts_with("/api/instructor/lti") => false,
        // Listing (their own) classes and making one (they own it): anyone who teaches.
        "/api/instructor/classes" => true,
        // Any staff reach it; what each action touches is checked against its class (below).
        "/api/instructor/help" => true,
        // Decks and polls belong to no class: anyone who teaches presents.
        p if p.contains("{deck}") || p.contains("{poll}") => true,
        p if p.ends_with("/staff") => role == Some(server::store::ClassRole::Owner),
        p if server::web::instructor::FOR_ASSISTANTS.contains(&p) => role.is_some(),
        _ => role.is_some_and(server::store::ClassRole::runs),
    }
}

#[tokio::test]
async fn staff_accounts_have_the_rights_of_their_role_in_each_class() {
    use server::store::ClassRole;
    let server = TestServer::start("authz_roles", false).await;
    let class = server.class_id().await;
    let other = server.store.create_class("Other", None, &Default::default()).await.unwrap();
    let (learner, _) = server.learner("Ada").await;
    let password = "a long enough password";
    let hash = server::identity::password::hash(password).unwrap();
    let mut accounts = Vec::new();
    for (login, role) in [
        ("owner", Some(ClassRole::Owner)),
        ("teacher", Some(ClassRole::Instructor)),
        ("helper", Some(ClassRole::Assistant)),
        ("elsewhere", None),
    ] {
        let account = server.store.create_staff_account(login, Some(login), Some(&hash), None).await.unwrap();
        match role {
            Some(role) => server.store.set_class_role(&class, &account.id, Some(role)).await.unwrap(),
            None => server.store.set_class_role(&other.id, &account.id, Some(ClassRole::Owner)).await.unwrap(),
        }
        let cookie = account_cookie(&server, login, password).await.expect("signed in");
        accounts.push((login, role, account.id, vec![("cookie".to_string(), cookie)]));
    }
    // A wrong password and an unknown login are the same refusal, with no session.
    assert_eq!(account_cookie(&server, "owner", "not the password at all").await, None);
    assert_eq!(account_cookie(&server, "nobody", password).await, None);

    for (login, role, _, headers) in &accounts {
        // A login-link assistant of the class for each to try to remove (one who may, does).
        let (sam, _) = server.store.create_assistant(&class, "Sam").await.unwrap();
        for (method, path) in server::web::instructor::PROTECTED {
            let concrete_path = concrete(path, &class, &learner).replace("{assistant}", &sam.id);
            let status = if *method == "WS" {
                websocket(&server, &concrete_path, headers).await
            } else {
                status_of(&server, method, &concrete_path, headers).await
            };
            if role_may(*role, path) {
                assert_ne!(status, 403, "{login} was refused {method} {concrete_path}");
            } else {
                assert_eq!(status, 403, "{login} got {status} from {method} {concrete_path}");
            }
        }
        // Their list of classes holds theirs only.
        let listed: Vec<serde_json::Value> =
            server.client(&headers[0].1).get(server.url("/api/instructor/classes")).send().await.unwrap().json().await.unwrap();
        let ids: Vec<&str> = listed.iter().filter_map(|c| c["id"].as_str()).collect();
        assert_eq!(ids.contains(&class.as_str()), role.is_some(), "{login}: {ids:?}");
        assert_eq!(ids.contains(&other.id.as_str()), role.is_none(), "{login}: {ids:?}");
    }

    // Actions on this class's learners, by staff of another class, or by its assistant beyond
    // helping: refused.
    let (_, _, _, helper) = &accounts[2];
    for (headers, action) in [
        (&accounts[3].3, serde_json::json!({ "action": "reset", "learner": learner, "wipe": false })),
        (&accounts[3].3, serde_json::json!({ "action": "message", "class": class, "learner": learner, "body": "Hi" })),
        (&accounts[3].3, serde_json::json!({ "action": "attention", "class": class, "message": "Eyes" })),
        (helper, serde_json::json!({ "action": "extend", "learner": learner, "minutes": 30 })),
    ] {
        let response = server.client(&headers[0].1).post(server.url("/api/instructor/help")).json(&action).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{action}");
    }
    let said = server
        .client(&helper[0].1)
        .post(server.url("/api/instructor/help"))
        .json(&serde_json::json!({ "action": "message", "class": class, "learner": learner, "body": "On my way" }))
        .send()
        .await
        .unwrap();
    assert_eq!(said.status().as_u16(), 200);
    assert_eq!(server.store.thread(&learner, 5).await.unwrap()[0].author.as_deref(), Some("helper"));

    // The owner gives the account from elsewhere a role here; only an owner may, and not to
    // themselves.
    let (_, _, owner_id, owner) = &accounts[0];
    let (_, _, _, teacher) = &accounts[1];
    let (_, _, elsewhere_id, elsewhere) = &accounts[3];
    let grant = |headers: &Vec<(String, String)>, account: &str, role: &str| {
        let client = server.client(&headers[0].1);
        let (url, body) =
            (server.url(&format!("/api/instructor/classes/{class}/staff")), serde_json::json!({ "account": account, "role": role }));
        async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(grant(teacher, elsewhere_id, "assistant").await, 403);
    assert_eq!(grant(owner, owner_id, "assistant").await, 400);
    assert_eq!(grant(owner, elsewhere_id, "assistant").await, 204);
    let dashboard = format!("/api/instructor/classes/{class}/dashboard");
    assert_eq!(status_of(&server, "GET", &dashboard, elsewhere).await, 200);
    assert_eq!(status_of(&server, "GET", &format!("/api/instructor/classes/{class}/grades.json"), elsewhere).await, 403);
    // Taken away again: the same session loses the class at once.
    let client = server.client(&owner[0].1);
    let gone = client
        .post(server.url(&format!("/api/instructor/classes/{class}/staff")))
        .json(&serde_json::json!({ "account": elsewhere_id, "role": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    assert_eq!(status_of(&server, "GET", &dashboard, elsewhere).await, 403);

    // An account makes a class of its own, and owns it.
    let made: serde_json::Value = server
        .client(&teacher[0].1)
        .post(server.url("/api/instructor/classes"))
        .json(&serde_json::json!({ "name": "Teacher's own" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own = made["id"].as_str().unwrap();
    assert_eq!(status_of(&server, "GET", &format!("/api/instructor/classes/{own}/staff"), teacher).await, 200);

    // Only the administrator makes accounts, with a password long enough.
    let admin = server.client(&server.instructor().await);
    let short = admin
        .post(server.url("/api/instructor/accounts"))
        .json(&serde_json::json!({ "name": "New", "login": "new", "password": "short" }))
        .send()
        .await
        .unwrap();
    assert_eq!(short.status().as_u16(), 400);
    assert!(short.text().await.unwrap().contains("12"));
    let made = admin
        .post(server.url("/api/instructor/accounts"))
        .json(&serde_json::json!({ "name": "New", "login": "new", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status().as_u16(), 200);
    assert!(account_cookie(&server, "NEW", password).await.is_some(), "logins are not case-sensitive");
}
