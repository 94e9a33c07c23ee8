//! The terminal WebSocket through a real socket, into a real sandbox.

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use common::{Socket, read_until};

async fn connect(server: &common::TestServer, cookie: &str, query: &str) -> Socket {
    common::ws(server, cookie, &format!("/ws/terminal/1?{query}")).await
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn type_resize_reconnect_flood_and_interrupt() {
    if !common::sandboxes_available("terminal") {
        return;
    }
    let server = common::TestServer::start("terminal", true).await;
    let (_, cookie) = server.learner("Ada").await;

    let mut socket = connect(&server, &cookie, "start=1&cols=80&rows=24").await;
    let hello = read_until(&mut socket, "attached").await;
    assert!(hello.contains(r#""tab":1"#), "{hello}");
    socket.send(Message::Binary(b"echo hello-$((40+2))\n".to_vec().into())).await.unwrap();
    read_until(&mut socket, "hello-42").await;

    socket.send(Message::Text(r#"{"type":"resize","cols":100,"rows":40}"#.into())).await.unwrap();
    socket.send(Message::Binary(b"stty size\n".to_vec().into())).await.unwrap();
    read_until(&mut socket, "40 100").await;

    // A control message we do not know is refused, and the session goes on.
    socket.send(Message::Text(r#"{"type":"exec","cmd":"id"}"#.into())).await.unwrap();
    read_until(&mut socket, "unknown control message").await;

    // Drop the connection; the shell lives on and the scrollback comes back.
    socket.send(Message::Binary(b"export KEPT=still-here\n".to_vec().into())).await.unwrap();
    drop(socket);
    let mut socket = connect(&server, &cookie, "").await;
    let replay = read_until(&mut socket, "hello-42").await;
    assert!(replay.contains("40 100"), "the replay holds the earlier output: {replay}");
    socket.send(Message::Binary(b"echo $KEPT\n".to_vec().into())).await.unwrap();
    read_until(&mut socket, "still-here\r\n").await;

    // Flood: a browser that reads slowly must not grow the server's memory, and Ctrl-C works.
    let before = rss_kib();
    socket.send(Message::Binary(b"cat /dev/urandom | base64\n".to_vec().into())).await.unwrap();
    let mut received = 0usize;
    let flood_until = tokio::time::Instant::now() + Duration::from_secs(4);
    while tokio::time::Instant::now() < flood_until {
        if let Ok(Some(Ok(Message::Binary(b)))) = tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
            received += b.len();
        }
        // A slow reader: 20 ms between frames.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let grown = rss_kib().saturating_sub(before);
    assert!(received > 0, "output flowed");
    assert!(grown < 32 * 1024, "server memory grew by {grown} KiB during a flood");
    socket.send(Message::Binary(b"\x03".to_vec().into())).await.unwrap();
    socket.send(Message::Binary(b"echo interrupted-$((1+1))\n".to_vec().into())).await.unwrap();
    read_until(&mut socket, "interrupted-2").await;

    // The shell ends: the browser is told.
    socket.send(Message::Binary(b"exit 7\n".to_vec().into())).await.unwrap();
    let end = read_until(&mut socket, r#""type":"exit""#).await;
    assert!(end.contains(r#""code":7"#), "{end}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn two_browser_tabs_on_one_shell_both_see_it() {
    if !common::sandboxes_available("terminal_two_tabs") {
        return;
    }
    let server = common::TestServer::start("terminal_two_tabs", true).await;
    let (_, cookie) = server.learner("Ada").await;
    let mut first = connect(&server, &cookie, "start=1").await;
    read_until(&mut first, "attached").await;
    let mut second = connect(&server, &cookie, "").await;
    read_until(&mut second, "attached").await;
    first.send(Message::Binary(b"echo typed-in-one-$((2*21))\n".to_vec().into())).await.unwrap();
    read_until(&mut first, "typed-in-one-42").await;
    read_until(&mut second, "typed-in-one-42").await;
    second.send(Message::Binary(b"echo typed-in-two-$((2*21))\n".to_vec().into())).await.unwrap();
    read_until(&mut first, "typed-in-two-42").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn only_the_owner_attaches() {
    if !common::sandboxes_available("terminal_owner") {
        return;
    }
    let server = common::TestServer::start("terminal_owner", true).await;
    let (_, ada) = server.learner("Ada").await;
    let (_, bob) = server.learner("Bob").await;

    let mut a = connect(&server, &ada, "start=1").await;
    read_until(&mut a, "attached").await;
    a.send(Message::Binary(b"echo ada-secret > /root/mine; echo written-$((1+1))\n".to_vec().into())).await.unwrap();
    read_until(&mut a, "written-2").await;

    // Bob's tab 1 is Bob's own shell in Bob's own sandbox.
    let mut b = connect(&server, &bob, "start=1").await;
    let hello = read_until(&mut b, "attached").await;
    assert!(!hello.contains("written-2"), "Bob got Ada's scrollback: {hello}");
    b.send(Message::Binary(b"cat /root/mine 2>&1; hostname\n".to_vec().into())).await.unwrap();
    let out = read_until(&mut b, "No such file").await;
    assert!(!out.contains("ada-secret"));

    // No cookie, a forged cookie, another site: refused before any upgrade.
    for (cookie, origin) in
        [("", server.url("")), ("stacklab=forged-token", server.url("")), (ada.as_str(), "http://evil.example".to_string())]
    {
        let mut request = server.ws_url("/ws/terminal/1").into_client_request().unwrap();
        if !cookie.is_empty() {
            request.headers_mut().insert("cookie", cookie.parse().unwrap());
        }
        request.headers_mut().insert("origin", origin.trim_end_matches('/').parse().unwrap());
        let err = tokio_tungstenite::connect_async(request).await.expect_err("refused");
        let status = match err {
            tokio_tungstenite::tungstenite::Error::Http(response) => response.status().as_u16(),
            other => panic!("unexpected {other}"),
        };
        assert!(status == 401 || status == 403, "status {status}");
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_stopped_sandbox_is_reported_not_restarted() {
    if !common::sandboxes_available("terminal_stopped") {
        return;
    }
    let server = common::TestServer::start("terminal_stopped", true).await;
    let (id, cookie) = server.learner("Cy").await;
    let mut socket = connect(&server, &cookie, "start=1").await;
    read_until(&mut socket, "attached").await;
    server.state.sandboxes.as_ref().unwrap().stop(&id).await.unwrap();
    read_until(&mut socket, r#""type":"exit""#).await;
    // A reconnect without start=1 (what the browser does on its own) is told it stopped.
    let mut socket = connect(&server, &cookie, "").await;
    read_until(&mut socket, r#""type":"stopped""#).await;
    // The learner's explicit restart starts it again.
    let mut socket = connect(&server, &cookie, "start=1").await;
    read_until(&mut socket, "attached").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_flood_of_fake_command_records_stays_bounded() {
    if !common::sandboxes_available("terminal_record_flood") {
        return;
    }
    let server = common::TestServer::start("terminal_record_flood", true).await;
    let (learner, cookie) = server.learner("Ada").await;
    let mut socket = connect(&server, &cookie, "start=1").await;
    read_until(&mut socket, "attached").await;
    // The shell integration's records are plain output: a learner can print them in a loop
    // (here 20 000 "echo" commands as fast as bash goes).
    let started = std::time::Instant::now();
    socket
        .send(Message::Binary(
            b"for i in $(seq 20000); do printf '\\033]6973;run;echo\\007\\033]6973;end;0\\007'; done; echo flood-$((6*7))\n"
                .to_vec()
                .into(),
        ))
        .await
        .unwrap();
    read_until(&mut socket, "flood-42").await;
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // After the flood, a command typed by a person is recorded again.
    socket.send(Message::Binary(b"echo calm-$((6*7))\n".to_vec().into())).await.unwrap();
    read_until(&mut socket, "calm-42").await;
    let mut recorded = Vec::new();
    for _ in 0..50 {
        recorded = server.store.commands(&learner, i64::MAX).await.unwrap();
        if recorded.iter().any(|c| c.command.starts_with("echo calm-")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The burst, and the rate for as long as the flood and the pause lasted (20 a second).
    let allowed = 100.0 + 20.0 * (seconds + 3.0);
    assert!((recorded.len() as f64) < allowed, "{} records from a {seconds:.1} s flood", recorded.len());
    assert!(recorded.iter().any(|c| c.command.starts_with("echo calm-")), "a person's command after a flood is recorded");
}

/// A Killercoda scenario's shell set-up (its foreground sets `PROMPT_COMMAND` and a `DEBUG`
/// trap, and `PS0`) does not switch off the command recording, and `~/.bash_history` holds
/// each command as soon as its prompt is back (Killercoda's checks grep it).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_scenarios_prompt_command_and_debug_trap_keep_commands_recorded() {
    if !common::sandboxes_available("terminal_chained") {
        return;
    }
    let server = common::TestServer::start("terminal_chained", true).await;
    let (learner, cookie) = server.learner("Ada").await;
    let mut socket = connect(&server, &cookie, "start=1").await;
    read_until(&mut socket, "attached").await;
    let mut last = String::new();
    for line in [
        "PROMPT_COMMAND='history -a; echo theirs-$((40+2))'",
        "trap 'echo debug >/dev/null' DEBUG",
        "PS0='> '",
        "false",
        "id -u",
        "grep -c '^id -u$' ~/.bash_history | sed 's/^/in-history-/'",
    ] {
        socket.send(Message::Binary(format!("{line}\n").into_bytes().into())).await.unwrap();
        last = read_until(&mut socket, "theirs-42").await;
    }
    assert!(last.contains("in-history-1"), "the history file has the command at once: {last}");
    let mut recorded = Vec::new();
    for _ in 0..50 {
        recorded = server.store.commands(&learner, i64::MAX).await.unwrap();
        if recorded.iter().any(|c| c.command.starts_with("grep -c")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen: Vec<(&str, i32)> = recorded.iter().map(|c| (c.command.as_str(), c.exit_status)).collect();
    assert!(seen.contains(&("false", 1)), "{seen:?}");
    assert!(seen.contains(&("id -u", 0)), "their prompt command runs too, and ours still records: {seen:?}");
}

/// A command line is recorded as it was typed, whatever it holds: a control character (here a
/// tab, put in with Ctrl-V), `%` (the integration's escape), non-ASCII letters, several lines.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn commands_are_recorded_as_typed_whatever_they_hold() {
    if !common::sandboxes_available("terminal_as_typed") {
        return;
    }
    let server = common::TestServer::start("terminal_as_typed", true).await;
    let (learner, cookie) = server.learner("Ada").await;
    let mut socket = connect(&server, &cookie, "start=1").await;
    read_until(&mut socket, "attached").await;
    // Keys typed before readline has the terminal go through the line discipline, whose Ctrl-V
    // would take the tab itself: wait for the prompt.
    read_until(&mut socket, "# ").await;
    for (keys, marker) in
        [("echo '100%\x16\tdone' h\u{e9}llo %41; echo one-$((6*7))\n", "one-42"), ("for i in 1 2\ndo echo two-$((6*7))\ndone\n", "two-42")]
    {
        socket.send(Message::Binary(keys.as_bytes().to_vec().into())).await.unwrap();
        read_until(&mut socket, marker).await;
    }
    let wanted = ["echo '100%\tdone' h\u{e9}llo %41; echo one-$((6*7))", "for i in 1 2; do echo two-$((6*7)); done"];
    let mut recorded = Vec::new();
    for _ in 0..50 {
        recorded = server.store.commands(&learner, i64::MAX).await.unwrap();
        if recorded.len() >= wanted.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen: Vec<&str> = recorded.iter().map(|c| c.command.as_str()).collect();
    for command in wanted {
        assert!(seen.contains(&command), "{command:?} in {seen:?}");
    }
}
