//! The terminal socket's loop ([`ws::serve`]) over channels, with shells of the in-memory
//! backend: who may type and resize, what a bad control frame gets, and how it ends. The same
//! loop runs behind the real WebSocket (`server/tests/terminal.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::ws::Message;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use sandbox::PtySize;
use sandbox::fake::{FakeBackend, FakeTerminal};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::ws::{self, Access};
use super::*;
use crate::sandboxes::Policy;

const SIZE: PtySize = PtySize { cols: 80, rows: 24 };

async fn terminals() -> (Arc<FakeBackend>, Terminals) {
    let fake = Arc::new(FakeBackend::new());
    let sandboxes = Arc::new(Sandboxes::open(fake.clone(), Policy::for_tests()).await.unwrap());
    (fake, Terminals::new(sandboxes, None, None))
}

/// A browser on the other end of [`ws::serve`]: what it sends, what it gets.
struct Browser {
    to_server: mpsc::UnboundedSender<Result<Message, axum::Error>>,
    from_server: mpsc::UnboundedReceiver<Message>,
    served: tokio::task::JoinHandle<()>,
    inputs: Arc<AtomicUsize>,
    shutdown: CancellationToken,
}

fn connect(attachment: Attachment, access: Access) -> Browser {
    let (to_server, stream) = mpsc::unbounded();
    let (sink, from_server) = mpsc::unbounded();
    let inputs = Arc::new(AtomicUsize::new(0));
    let counted = inputs.clone();
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(ws::serve(
        sink,
        stream,
        attachment,
        access,
        move || {
            counted.fetch_add(1, Ordering::SeqCst);
        },
        shutdown.clone(),
    ));
    Browser { to_server, from_server, served, inputs, shutdown }
}

impl Browser {
    async fn send(&mut self, message: Message) {
        self.to_server.send(Ok(message)).await.unwrap();
    }

    async fn next(&mut self) -> Message {
        tokio::time::timeout(Duration::from_secs(5), self.from_server.next()).await.expect("a message in time").expect("still open")
    }

    /// The next text frame, as JSON.
    async fn text(&mut self) -> serde_json::Value {
        loop {
            match self.next().await {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Binary(_) | Message::Ping(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    async fn bytes(&mut self) -> Vec<u8> {
        loop {
            match self.next().await {
                Message::Binary(bytes) => return bytes.to_vec(),
                Message::Ping(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Waits for the loop to end, answering its close as a browser does; whether the server
    /// closed the browser's side.
    async fn ended(mut self) -> bool {
        let drained = async { while self.from_server.next().await.is_some() {} };
        let closed = tokio::time::timeout(Duration::from_secs(5), drained).await.is_ok();
        let _ = self.to_server.send(Ok(Message::Close(None))).await;
        tokio::time::timeout(Duration::from_secs(5), &mut self.served).await.expect("ends in time").unwrap();
        closed
    }
}

/// The learner's first terminal, attached, and the test's end of its shell.
async fn open(terminals: &Terminals, fake: &FakeBackend) -> (Attachment, FakeTerminal) {
    let attachment = terminals.attach("ada", 1, SIZE, true).await.unwrap();
    let shell = fake.terminal("lab-ada").expect("a shell was opened");
    (attachment, shell)
}

/// Reads what was typed into the shell, expecting exactly `expected` and nothing before it.
async fn typed(shell: &mut FakeTerminal, expected: &[u8]) {
    let mut got = vec![0; expected.len()];
    tokio::time::timeout(Duration::from_secs(5), shell.typed.read_exact(&mut got)).await.expect("typed in time").unwrap();
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
}

#[tokio::test]
async fn the_owner_types_and_sees_the_shell() {
    let (fake, terminals) = terminals().await;
    let (attachment, mut shell) = open(&terminals, &fake).await;
    let mut browser = connect(attachment, Access::Owner);
    let hello = browser.text().await;
    assert_eq!((hello["type"].as_str(), hello["read_only"].as_bool()), (Some("attached"), Some(false)));
    browser.send(Message::Binary(b"ls\r".to_vec().into())).await;
    typed(&mut shell, b"ls\r").await;
    assert_eq!(browser.inputs.load(Ordering::SeqCst), 1, "typing counts as use");
    shell.screen.write_all(b"notes.txt\r\n").await.unwrap();
    assert_eq!(browser.bytes().await, b"notes.txt\r\n");
}

#[tokio::test]
async fn a_late_browser_gets_the_scrollback_first() {
    let (fake, terminals) = terminals().await;
    let (_first, mut shell) = open(&terminals, &fake).await;
    shell.screen.write_all(b"earlier output\r\n").await.unwrap();
    // The reader has taken it once a watcher can see it.
    for _ in 0..500 {
        if terminals.scrollback_bytes() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut browser = connect(terminals.attach("ada", 1, SIZE, false).await.unwrap(), Access::Owner);
    let hello = browser.text().await;
    assert_eq!(hello["replay_bytes"].as_u64(), Some(16));
    assert_eq!(browser.bytes().await, b"earlier output\r\n");
}

#[tokio::test]
async fn a_watcher_sees_everything_and_cannot_type_or_resize() {
    let (fake, terminals) = terminals().await;
    let (owner, mut shell) = open(&terminals, &fake).await;
    let mut learner = connect(owner, Access::Owner);
    learner.text().await;
    let mut watcher = connect(terminals.watch("ada", 1).expect("open"), Access::Watch);
    assert_eq!(watcher.text().await["read_only"].as_bool(), Some(true));
    watcher.send(Message::Binary(b"rm -rf /root\r".to_vec().into())).await;
    watcher.send(Message::Text(r#"{"type":"resize","cols":20,"rows":5}"#.into())).await;
    learner.send(Message::Binary(b"x".to_vec().into())).await;
    // Only the learner's key reaches the shell: the watcher's bytes were dropped before it.
    typed(&mut shell, b"x").await;
    assert_eq!(watcher.inputs.load(Ordering::SeqCst), 0);
    assert_eq!(shell.sizes(), vec![SIZE], "the watcher's resize was ignored");
    shell.screen.write_all(b"$ ").await.unwrap();
    assert_eq!(watcher.bytes().await, b"$ ");
}

#[tokio::test]
async fn the_owners_resize_reaches_the_pty_and_the_watchers() {
    let (fake, terminals) = terminals().await;
    let (owner, shell) = open(&terminals, &fake).await;
    let mut learner = connect(owner, Access::Owner);
    learner.text().await;
    let mut watcher = connect(terminals.watch("ada", 1).unwrap(), Access::Watch);
    watcher.text().await;
    learner.send(Message::Text(r#"{"type":"resize","cols":132,"rows":43}"#.into())).await;
    let size = watcher.text().await;
    assert_eq!((size["type"].as_str(), size["cols"].as_u64(), size["rows"].as_u64()), (Some("size"), Some(132), Some(43)));
    assert_eq!(shell.sizes().last(), Some(&PtySize { cols: 132, rows: 43 }));
}

#[tokio::test]
async fn taking_over_types_as_the_instructor_at_the_learners_size() {
    let (fake, terminals) = terminals().await;
    let (_owner, mut shell) = open(&terminals, &fake).await;
    let mut helper = connect(terminals.watch("ada", 1).unwrap(), Access::TakeOver);
    assert_eq!(helper.text().await["read_only"].as_bool(), Some(false));
    helper.send(Message::Binary(b"ip link\r".to_vec().into())).await;
    helper.send(Message::Text(r#"{"type":"resize","cols":20,"rows":5}"#.into())).await;
    typed(&mut shell, b"ip link\r").await;
    assert_eq!(shell.sizes(), vec![SIZE], "the learner's size stays");
}

#[tokio::test]
async fn a_bad_control_frame_gets_an_error_and_the_connection_goes_on() {
    let (fake, terminals) = terminals().await;
    let (attachment, _shell) = open(&terminals, &fake).await;
    let mut browser = connect(attachment, Access::Owner);
    browser.text().await;
    for bad in ["not json", r#"{"type":"exec","cmd":"id"}"#, r#"{"type":"resize","cols":-1,"rows":2}"#] {
        browser.send(Message::Text(bad.into())).await;
        let reply = browser.text().await;
        assert_eq!(reply["type"].as_str(), Some("error"), "{bad}");
        assert!(reply["message"].as_str().unwrap().starts_with("unknown control message"), "{reply}");
    }
    browser.send(Message::Text(r#"{"type":"ping"}"#.into())).await;
    assert_eq!(browser.text().await["type"].as_str(), Some("pong"));
}

/// A browser attached to the learner's first terminal when its shell ended with `code`, the
/// exit message read (the backend and registry kept: the shell is theirs).
async fn told_the_shell_ended(code: i32) -> (Arc<FakeBackend>, Terminals, Browser) {
    let (fake, terminals) = terminals().await;
    let (attachment, shell) = open(&terminals, &fake).await;
    let mut browser = connect(attachment, Access::Owner);
    browser.text().await;
    shell.exit(code);
    let exit = browser.text().await;
    assert_eq!((exit["type"].as_str(), exit["code"].as_i64()), (Some("exit"), Some(i64::from(code))));
    (fake, terminals, browser)
}

#[tokio::test]
async fn the_shells_end_is_told_and_closes_the_connection() {
    let (fake, terminals, browser) = told_the_shell_ended(130).await;
    assert!(browser.ended().await);
    // The ended shell is forgotten: the next attach opens a new one.
    terminals.attach("ada", 1, SIZE, false).await.unwrap();
    assert!(fake.terminal("lab-ada").is_some(), "a second shell");
}

#[tokio::test]
async fn the_connection_is_kept_until_the_browser_answers_the_close() {
    let (_fake, _terminals, mut browser) = told_the_shell_ended(0).await;
    // The server's side is closed; what the browser still sends is read, not left to reset the
    // connection, until the browser's own close.
    assert!(tokio::time::timeout(Duration::from_secs(5), browser.from_server.next()).await.unwrap().is_none());
    browser.send(Message::Pong(Vec::new().into())).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!browser.served.is_finished(), "the socket was dropped before the browser answered");
    browser.send(Message::Close(None)).await;
    tokio::time::timeout(Duration::from_secs(5), &mut browser.served).await.expect("ends once answered").unwrap();
}

/// A hostile or vanished browser that never answers the close holds its connection no longer
/// than a stalled send could.
#[tokio::test(start_paused = true)]
async fn a_browser_that_never_answers_the_close_is_dropped_after_the_send_limit() {
    let (_fake, _terminals, mut browser) = told_the_shell_ended(0).await;
    let waited = tokio::time::Instant::now();
    (&mut browser.served).await.unwrap();
    assert!(waited.elapsed() <= ws::SEND_LIMIT + Duration::from_secs(1), "held for {:?}", waited.elapsed());
}

#[tokio::test]
async fn shutdown_closes_every_connection_and_leaves_the_shell() {
    let (fake, terminals) = terminals().await;
    let (attachment, shell) = open(&terminals, &fake).await;
    let mut browser = connect(attachment, Access::Owner);
    browser.text().await;
    browser.shutdown.cancel();
    assert!(browser.ended().await);
    assert!(!shell.killed(), "the shell outlives the connection; the browser reconnects to it");
}

#[tokio::test]
async fn a_browser_that_leaves_ends_its_loop_only() {
    let (fake, terminals) = terminals().await;
    let (attachment, mut shell) = open(&terminals, &fake).await;
    let mut first = connect(attachment, Access::Owner);
    first.text().await;
    let mut second = connect(terminals.attach("ada", 1, SIZE, false).await.unwrap(), Access::Owner);
    second.text().await;
    first.send(Message::Close(None)).await;
    assert!(first.ended().await);
    second.send(Message::Binary(b"still here\r".to_vec().into())).await;
    typed(&mut shell, b"still here\r").await;
}

#[tokio::test]
async fn attaching_refuses_a_tab_out_of_range_and_a_stopped_sandbox() {
    let (_fake, terminals) = terminals().await;
    assert!(matches!(terminals.attach("ada", 0, SIZE, true).await, Err(AttachError::NoSuchTab(0))));
    assert!(matches!(terminals.attach("ada", MAX_TABS + 1, SIZE, true).await, Err(AttachError::NoSuchTab(_))));
    assert!(matches!(terminals.attach("ada", 1, SIZE, false).await, Err(AttachError::Stopped)), "a reconnect never starts it");
    assert!(terminals.watch("ada", 1).is_none(), "watching never opens a shell");
}

#[test]
fn a_sandbox_error_is_a_plain_sentence_for_the_browser_and_whole_in_the_log() {
    let host_detail = "mount proc on /var/lib/stacklab/native/run/lab-ada/root/proc";
    let error = AttachError::Sandbox(sandbox::Error::io(host_detail, std::io::Error::from_raw_os_error(libc::EACCES)));
    let said = error.for_browser();
    assert!(!said.contains("/var/lib") && !said.contains("lab-ada"), "{said}");
    assert!(said.starts_with("Something went wrong with your sandbox."), "{said}");
    assert!(error.report().starts_with(host_detail), "{}", error.report());
    assert_eq!(AttachError::NoSuchTab(9).for_browser(), "terminal 9 does not exist: use 1 to 8");
}
