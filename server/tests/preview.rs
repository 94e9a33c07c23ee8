//! Web previews through the server, into real sandboxes: a learner's app opens from the
//! workbook's link on a listener of its own; only its learner and the instructor get through;
//! WebSockets work; Stacklab's cookie never reaches the app, which cannot set it either; the
//! preview's origin cannot call Stacklab's API; and no preview reaches a port of the host's.

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sandbox::ExecRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const APP: &str = include_str!("preview_app.py");

/// Starts the test app in the learner's sandbox on `port`.
async fn run_app(server: &common::TestServer, learner: &str, port: u16) {
    let sandboxes = server.state.sandboxes.clone().unwrap();
    sandboxes.ensure(learner).await.unwrap();
    let mut request =
        ExecRequest::script(&format!("cat > /tmp/app.py && (setsid python3 /tmp/app.py {port} </dev/null >/tmp/app.log 2>&1 &)"))
            .leave_running();
    request.stdin = APP.as_bytes().to_vec();
    let out = sandboxes.exec(learner, request).await.unwrap();
    assert!(out.success(), "{out:?}");
    let deadline = std::time::Instant::now() + server::time_scale::scaled(Duration::from_secs(20));
    while !sandboxes.listening(learner).await.unwrap().contains(&port) {
        assert!(std::time::Instant::now() < deadline, "the app never listened on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Follows the workbook's link: the preview's URL.
async fn preview_url(server: &common::TestServer, cookie: &str, path: &str) -> String {
    let response = server.client(cookie).get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 303, "{path}: {:?}", response.text().await);
    response.headers()["location"].to_str().unwrap().to_string()
}

/// A client with exactly these cookies and no redirects.
fn browser(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if !cookie.is_empty() {
        headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    }
    reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_learners_app_opens_for_them_and_the_instructor_only() {
    if !common::sandboxes_available("preview") {
        return;
    }
    let server = common::TestServer::start("preview", true).await;
    let (ana, ana_cookie) = server.learner("Ana").await;
    let (_, ben_cookie) = server.learner("Ben").await;
    let instructor = server.instructor().await;
    run_app(&server, &ana, 8080).await;

    let ports: serde_json::Value =
        server.client(&ana_cookie).get(server.url("/api/preview/ports")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ports["listening"], serde_json::json!([8080]), "{ports}");

    let url = preview_url(&server, &ana_cookie, "/preview/8080/hello?x=1").await;
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/hello?x=1"), "{url}");
    assert_ne!(url, server.url("/hello?x=1"), "a preview is an origin of its own");
    let origin = url.trim_end_matches("/hello?x=1").to_string();

    // Ana's browser, with another cookie of hers: the app sees that one, never Stacklab's, and
    // its attempt to set Stacklab's cookie is dropped.
    let response = browser(&format!("theme=dark; {ana_cookie}")).get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let set: Vec<_> = response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert_eq!(set, ["app=1; Path=/"]);
    let body = response.text().await.unwrap();
    assert_eq!(body, "hello from the sandbox; cookies: [theme=dark]");

    // The instructor gets through; Ben, a stranger and a forged second cookie do not.
    assert_eq!(browser(&instructor).get(&url).send().await.unwrap().status(), 200);
    let ben_sees = browser(&ben_cookie).get(&url).send().await.unwrap();
    assert_eq!(ben_sees.status(), 403);
    assert!(ben_sees.text().await.unwrap().contains("belongs to another learner"));
    assert_eq!(browser("").get(&url).send().await.unwrap().status(), 401);
    let (_, ben_again) = server.learner("Ben2").await;
    let tossed = format!("{ana_cookie}; {ben_again}");
    assert_eq!(browser(&tossed).get(&url).send().await.unwrap().status(), 401, "two session cookies: neither is trusted");
    // The instructor reaches it from the dashboard's link too.
    let staff_url = preview_url(&server, &instructor, &format!("/instructor/learners/{ana}/preview/8080/")).await;
    assert_eq!(staff_url, format!("{origin}/"));
    assert_eq!(
        server.client(&ben_cookie).get(server.url(&format!("/instructor/learners/{ana}/preview/8080/"))).send().await.unwrap().status(),
        403
    );

    // Ben's own link to 8080 is his sandbox's, which is not running: a page says so.
    let ben_url = preview_url(&server, &ben_cookie, "/preview/8080/").await;
    assert_ne!(ben_url, format!("{origin}/"));
    let stopped = browser(&ben_cookie).get(&ben_url).send().await.unwrap();
    assert_eq!(stopped.status(), 503);
    assert!(stopped.text().await.unwrap().contains("not running"));

    // A WebSocket app works through the preview.
    let mut request = format!("{}/ws", origin.replace("http://", "ws://")).into_client_request().unwrap();
    request.headers_mut().insert("cookie", ana_cookie.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the preview's WebSocket connects");
    socket.send(Message::Text("over the preview".into())).await.unwrap();
    let echoed = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(echoed, Message::Text("echo: over the preview".into()));

    // The preview's pages cannot use Stacklab's API as their viewer: the browser names their
    // origin, which is not Stacklab's.
    let from_preview = |cookie: &str| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
        headers.insert(reqwest::header::ORIGIN, origin.parse().unwrap());
        headers.insert("sec-fetch-site", "same-site".parse().unwrap());
        reqwest::Client::builder().default_headers(headers).build().unwrap()
    };
    let logout = from_preview(&instructor).post(server.url("/api/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 403);
    let check = from_preview(&ana_cookie).post(server.url("/api/labs/netns-veth/steps/1/check")).send().await.unwrap();
    assert_eq!(check.status(), 403);
    let mut terminal = server.ws_url("/ws/terminal/1").into_client_request().unwrap();
    terminal.headers_mut().insert("cookie", ana_cookie.parse().unwrap());
    terminal.headers_mut().insert("origin", origin.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(terminal).await.is_err(), "the preview's page opened the learner's terminal");

    // Ana shares it: a stranger with the link gets in (the token traded for a cookie of that
    // listener's, which the app never sees), without the link does not; Ben cannot share
    // Ana's; once she stops sharing, the link and the cookie are dead.
    let share = |cookie: &str, port: u16, on: bool| {
        server
            .client(cookie)
            .post(server.url("/api/share-port"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("port={port}&share={on}"))
            .send()
    };
    let link: Option<String> = share(&ana_cookie, 8080, true).await.unwrap().json().await.unwrap();
    let link = link.expect("a share link");
    assert!(link.starts_with("/share/") && !link.contains(&ana), "the link names a token, not the learner: {link}");
    let listed: serde_json::Value = server
        .client(&ana_cookie)
        .post(server.url("/api/ports"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["shared"][0]["link"], link.as_str(), "{listed}");
    let to_listener = browser("").get(server.url(&format!("{link}hello?x=1"))).send().await.unwrap();
    assert_eq!(to_listener.status(), 303);
    let at_listener = to_listener.headers()["location"].to_str().unwrap().to_string();
    assert!(at_listener.starts_with(&format!("{origin}/hello?x=1&stacklab-share=")), "{at_listener}");
    let taken = browser("").get(&at_listener).send().await.unwrap();
    assert_eq!((taken.status().as_u16(), taken.headers()["location"].to_str().unwrap()), (303, "/hello?x=1"));
    let share_cookie = taken.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let port_of_origin = origin.rsplit(':').next().unwrap();
    assert!(share_cookie.starts_with(&format!("stacklab-share-{port_of_origin}=")), "{share_cookie}");
    let guest = browser(&format!("{share_cookie}; theme=light")).get(format!("{origin}/hello")).send().await.unwrap();
    assert_eq!(guest.status(), 200);
    assert_eq!(guest.text().await.unwrap(), "hello from the sandbox; cookies: [theme=light]", "the app never sees the share cookie");
    assert_eq!(browser("stacklab-share-1=made-up").get(format!("{origin}/hello")).send().await.unwrap().status(), 401);
    let guessed = browser(&format!("{share_cookie}x")).get(format!("{origin}/hello")).send().await.unwrap();
    assert_eq!(guessed.status(), 401, "a token must be the share's, whole");
    // The same token under another listener's cookie name (another of Ana's ports) does nothing there.
    run_app(&server, &ana, 8081).await;
    let other = preview_url(&server, &ana_cookie, "/preview/8081/").await;
    let other_port = other.trim_end_matches('/').rsplit(':').next().unwrap();
    let token = share_cookie.split_once('=').unwrap().1;
    assert_eq!(browser(&format!("stacklab-share-{other_port}={token}")).get(&other).send().await.unwrap().status(), 401);
    let bens_try: serde_json::Value = share(&ben_cookie, 8080, true).await.unwrap().json().await.unwrap();
    assert_ne!(bens_try.as_str(), Some(link.as_str()), "Ben's share is of his own sandbox");
    assert_eq!(share(&ana_cookie, 8080, false).await.unwrap().status(), 200);
    assert_eq!(browser(&share_cookie).get(format!("{origin}/hello")).send().await.unwrap().status(), 401, "the cookie dies with the share");
    assert_eq!(browser("").get(server.url(&link)).send().await.unwrap().status(), 410, "the link says it has ended");
    assert_eq!(browser("").get(&at_listener).send().await.unwrap().status(), 410);
}

/// A service on the host's own port is never what a preview shows, whatever port is asked.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn no_preview_reaches_the_hosts_ports() {
    if !common::sandboxes_available("preview_host") {
        return;
    }
    let server = common::TestServer::start("preview_host", true).await;
    let (ana, cookie) = server.learner("Ana").await;
    server.state.sandboxes.clone().unwrap().ensure(&ana).await.unwrap();
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    host.set_nonblocking(true).unwrap();
    let port = host.local_addr().unwrap().port();
    // The server's own port too.
    for port in [port, server.addr.port()] {
        let url = preview_url(&server, &cookie, &format!("/preview/{port}/")).await;
        let response = browser(&cookie).get(&url).send().await.unwrap();
        assert_eq!(response.status(), 502, "port {port}");
        assert!(response.text().await.unwrap().contains(&format!("Nothing answers on port {port}")));
    }
    assert!(host.accept().is_err(), "a preview reached the host's port");
    let zero = server.client(&cookie).get(server.url("/preview/0/")).send().await.unwrap();
    assert_eq!(zero.status(), 400);
    let bad = server.client(&cookie).get(server.url("/preview/70000/")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}
