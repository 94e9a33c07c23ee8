//! Faults a real class meets, each scripted with its outcome asserted: a browser that stalls
//! without closing, a learner opening 50 terminals, a sandbox whose processes are all killed
//! from the host. (SIGKILL of the server itself: restart.rs; a full disk: disk_full.rs.)

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use common::{Socket, read_until};

async fn tab(server: &common::TestServer, cookie: &str, tab: u32, query: &str) -> Socket {
    common::ws(server, cookie, &format!("/ws/terminal/{tab}?{query}")).await
}

async fn type_line(socket: &mut Socket, line: &str) {
    socket.send(Message::Binary(format!("{line}\n").into_bytes().into())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_stalled_browser_is_dropped_and_stalls_nobody_else() {
    if !common::sandboxes_available("fault_stall") {
        return;
    }
    let server = common::TestServer::start("fault_stall", true).await;
    let (_, ada) = server.learner("Ada").await;
    let (_, bob) = server.learner("Bob").await;
    let mut stalled = tab(&server, &ada, 1, "start=1").await;
    read_until(&mut stalled, "attached").await;
    let mut other = tab(&server, &bob, 1, "start=1").await;
    read_until(&mut other, "attached").await;

    // Ada's browser asks for a flood and then reads nothing, without closing.
    const FLOOD: u64 = 300_000_000;
    type_line(&mut stalled, &format!("yes stalled-output-line | head -c {FLOOD}; echo flood-done")).await;

    // Meanwhile Bob types and gets answers, as if nothing happened.
    for i in 0..5 {
        type_line(&mut other, &format!("echo bob-{i}-$((6*7))")).await;
        read_until(&mut other, &format!("bob-{i}-42")).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    // The server gave up on Ada's stalled connection: reading again finds what was buffered, then
    // the end — not the rest of the flood.
    let mut received = 0u64;
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(frame) = stalled.next().await {
            match frame {
                Ok(Message::Binary(b)) => received += b.len() as u64,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stalled connection was never closed ({received} bytes read)");
    assert!(received < FLOOD, "the server kept the whole flood for a stalled browser ({received} bytes)");

    // Ada's shell lives on: a new connection gets it back (Ctrl-C ends the flood if it still runs).
    let mut again = tab(&server, &ada, 1, "").await;
    read_until(&mut again, "attached").await;
    again.send(Message::Binary(b"\x03".to_vec().into())).await.unwrap();
    type_line(&mut again, "echo ada-back-$((1+2))").await;
    read_until(&mut again, "ada-back-3").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn fifty_terminals_from_one_learner_are_bounded() {
    if !common::sandboxes_available("fault_fifty") {
        return;
    }
    let server = common::TestServer::start("fault_fifty", true).await;
    let (_, ada) = server.learner("Ada").await;
    let mut open = Vec::new();
    let mut refused = 0;
    for n in 1..=50 {
        let mut socket = tab(&server, &ada, n, "start=1").await;
        let first = read_until(&mut socket, r#""type":"#).await;
        if first.contains(r#""type":"attached""#) {
            open.push(socket);
        } else {
            assert!(first.contains("does not exist: use 1 to 8"), "tab {n}: {first}");
            refused += 1;
        }
    }
    assert_eq!((open.len(), refused), (server::terminals::MAX_TABS as usize, 50 - server::terminals::MAX_TABS as usize));
    // Every tab that opened is a shell of its own, and they all answer.
    for (i, socket) in open.iter_mut().enumerate() {
        type_line(socket, &format!("echo tab-{i}-$$-ok")).await;
        read_until(socket, "-ok\r\n").await;
    }
    // And fifty browsers on one tab are fifty viewers of the same shell.
    let mut viewers = Vec::new();
    for _ in 0..50 {
        let mut socket = tab(&server, &ada, 1, "").await;
        read_until(&mut socket, "attached").await;
        viewers.push(socket);
    }
    type_line(&mut open[0], "echo seen-by-all-$((2*21))").await;
    for viewer in &mut viewers {
        read_until(viewer, "seen-by-all-42").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_sandbox_killed_from_the_host_is_reported_and_comes_back_with_its_files() {
    if !common::sandboxes_available("fault_killed") {
        return;
    }
    let server = common::TestServer::start("fault_killed", true).await;
    let (learner, ada) = server.learner("Ada").await;
    let mut socket = tab(&server, &ada, 1, "start=1").await;
    read_until(&mut socket, "attached").await;
    type_line(&mut socket, "echo kept > /root/before-the-kill; sleep 1000 & echo written-$((3*3))").await;
    read_until(&mut socket, "written-9").await;

    // Every process of the sandbox, SIGKILLed from the host (an operator, the OOM killer...).
    let root = common::cgroup_root("fault_killed");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pids = common::processes_in(&root);
        if pids.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "processes survive SIGKILL: {pids:?}");
        for pid in pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The browser is told the shell ended; the reaper's next round (every 15 s in `serve`) finds
    // the sandbox gone and records it stopped, files kept.
    read_until(&mut socket, r#""type":"exit""#).await;
    let sandboxes = server.state.sandboxes.clone().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        sandboxes.reap().await;
        let status = sandboxes.status(&learner);
        if !matches!(status, server::sandboxes::Status::Running { .. }) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the server still thinks the killed sandbox runs: {status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The learner's restart makes a new sandbox with the same files.
    let mut socket = tab(&server, &ada, 1, "start=1").await;
    read_until(&mut socket, "attached").await;
    type_line(&mut socket, "cat /root/before-the-kill; echo read-$((4*4))").await;
    let out = read_until(&mut socket, "read-16").await;
    assert!(out.contains("kept"), "the learner's file is gone: {out}");
}
