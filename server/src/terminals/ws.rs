//! A browser attached to a terminal over a WebSocket: the loop behind `GET /ws/terminal/{tab}`
//! (the route is `web::terminal`'s) and the instructor's watch.
//!
//! Binary frames carry terminal bytes both ways; text frames carry [`ClientMessage`] and
//! [`ServerMessage`]. The loop is generic over `Sink`/`Stream`, so it is tested with channels
//! (`socket_tests`) as well as through a real socket (`server/tests/terminal.rs`).

use std::time::Duration;

use axum::extract::ws::Message;
use futures::{Sink, SinkExt, Stream, StreamExt};
use sandbox::PtySize;
use tokio_util::sync::CancellationToken;

use super::{Attachment, ClientMessage, Event, ServerMessage};

/// Input frames larger than this are refused (typing and pasting fit easily).
pub const MAX_FRAME: usize = 64 * 1024;
/// Keep-alive: a ping this often; a connection silent for `DEAD` is closed.
const PING_EVERY: Duration = Duration::from_secs(20);
const DEAD: Duration = Duration::from_secs(60);
/// A browser that takes no bytes for this long is stalled (a laptop lid closed mid-flood, a
/// dead proxy): the connection is closed so it holds nothing; the browser reconnects and gets
/// the scrollback. Without it a send would wait for the peer forever.
pub const SEND_LIMIT: Duration = Duration::from_secs(10);

/// Sends `message`, false when the connection is gone or stalled past [`SEND_LIMIT`].
pub async fn send<S: Sink<Message> + Unpin>(sink: &mut S, message: Message) -> bool {
    matches!(tokio::time::timeout(SEND_LIMIT, sink.send(message)).await, Ok(Ok(())))
}

/// Closes the connection as the protocol has it: the server's Close, then the browser's answer
/// read before the socket is dropped, a stalled or silent peer given no more than [`SEND_LIMIT`]
/// for each. Dropping the socket at once reset the connection whenever something of the
/// browser's was still unread (a pong, keys typed as the shell ended), and the peer's side of a
/// reset connection can fail before it hands over the last frames: the shell's exit among them.
pub async fn close<S, R>(sink: &mut S, stream: &mut R)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    if tokio::time::timeout(SEND_LIMIT, sink.close()).await.is_err() {
        return;
    }
    let answered = async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(SEND_LIMIT, answered).await;
}

/// How often a learner waiting for a sandbox is told their place (when it changed).
const QUEUE_EVERY: Duration = Duration::from_secs(1);

/// Runs `attaching` to its end, telling the browser its place in line (`spot`) meanwhile, when
/// the class is full and the sandbox must wait for room. `None` when the browser left first:
/// `attaching` is dropped, which gives up the place.
pub async fn wait_in_line<S, R, T>(
    sink: &mut S,
    stream: &mut R,
    attaching: impl Future<Output = T>,
    spot: impl Fn() -> Option<crate::sandboxes::QueueSpot>,
) -> Option<T>
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    tokio::pin!(attaching);
    let mut tick = tokio::time::interval(QUEUE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut told = None;
    loop {
        tokio::select! {
            done = &mut attaching => return Some(done),
            _ = tick.tick() => {
                let spot = spot();
                // Told again when the place or the estimate (to the minute) changed.
                let said = spot.map(|s| (s.position, s.eta.map(|e| e.as_secs().div_ceil(60))));
                if said != told {
                    told = said;
                    if let Some(spot) = spot
                        && !send(sink, Message::Text(ServerMessage::Queued(spot).json().into())).await {
                            return None;
                        }
                }
            }
            // Only while in line is the browser read: to see it leave. Before (a start takes
            // a moment) what it sends waits in the socket for the shell, so no key typed early
            // is lost; in line there is no shell to type into, and what it sends is dropped.
            message = stream.next(), if told.is_some() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return None,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Who is attached, and so what their browser may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The learner: types, and sizes the terminal to their pane.
    Owner,
    /// The instructor watching: sees everything, sends nothing.
    Watch,
    /// The instructor typing for the learner: input, but the learner's size stays.
    TakeOver,
}

/// Runs one attached browser until it leaves, the shell ends, or the server shuts down.
/// Serves `socket` someone watching (or taking over) `learner`'s terminal `tab`, after
/// `attached` has run; or tells them `name` has no such terminal open.
pub async fn watch(
    socket: axum::extract::ws::WebSocket,
    terminals: &super::Terminals,
    (learner, name, tab): (&str, &str, u32),
    access: Access,
    shutdown: CancellationToken,
    attached: impl AsyncFnOnce(),
) {
    let (mut sink, stream) = socket.split();
    let Some(attachment) = terminals.watch(learner, tab) else {
        let message = format!("{name} has no terminal {tab} open.");
        let _ = sink.send(Message::Text(ServerMessage::Error { message }.json().into())).await;
        let _ = sink.close().await;
        return;
    };
    attached().await;
    serve(sink, stream, attachment, access, || {}, shutdown).await;
}

pub async fn serve<S, R>(
    mut sink: S,
    mut stream: R,
    attachment: Attachment,
    access: Access,
    on_input: impl Fn(),
    shutdown: CancellationToken,
) where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let Attachment { terminal, replay, size, mut events } = attachment;
    let hello = ServerMessage::Attached {
        tab: terminal.tab,
        replay_bytes: replay.len(),
        read_only: access == Access::Watch,
        cols: size.cols,
        rows: size.rows,
    };
    if !send(&mut sink, Message::Text(hello.json().into())).await {
        return;
    }
    for chunk in replay.chunks(MAX_FRAME) {
        if !send(&mut sink, Message::Binary(chunk.to_vec().into())).await {
            return;
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Output(bytes)) => {
                    if !send(&mut sink, Message::Binary(bytes.to_vec().into())).await {
                        return;
                    }
                }
                Some(Event::Resize(size)) => {
                    if access != Access::Owner {
                        let message = ServerMessage::Size { cols: size.cols, rows: size.rows };
                        if !send(&mut sink, Message::Text(message.json().into())).await {
                            return;
                        }
                    }
                }
                Some(Event::Exit(code)) => {
                    let _ = send(&mut sink, Message::Text(ServerMessage::Exit { code }.json().into())).await;
                    break;
                }
                // Dropped as too slow: close, the browser reconnects and gets the scrollback.
                None => break,
            },
            message = stream.next() => {
                last_heard = tokio::time::Instant::now();
                match message {
                    Some(Ok(Message::Binary(bytes))) => {
                        if access == Access::Watch {
                            continue;
                        }
                        on_input();
                        let typist = if access == Access::TakeOver { super::Typist::Instructor } else { super::Typist::Learner };
                        if let Err(e) = terminal.write(&bytes, typist).await {
                            tracing::debug!("writing to a terminal: {e}");
                            break;
                        }
                    }
                    Some(Ok(Message::Text(text))) => {
                        let reply = match serde_json::from_str::<ClientMessage>(&text) {
                            Ok(ClientMessage::Ping) => Some(ServerMessage::Pong),
                            Ok(ClientMessage::Resize { cols, rows }) => {
                                if access == Access::Owner && cols > 0 && rows > 0 {
                                    let _ = terminal.resize(PtySize { cols: cols.min(1000), rows: rows.min(500) });
                                }
                                None
                            }
                            Err(e) => Some(ServerMessage::Error { message: format!("unknown control message: {e}") }),
                        };
                        if let Some(reply) = reply
                            && !send(&mut sink, Message::Text(reply.json().into())).await {
                                return;
                            }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > DEAD {
                    tracing::debug!("closing a terminal connection silent for {DEAD:?}");
                    break;
                }
                if !send(&mut sink, Message::Ping(Vec::new().into())).await {
                    return;
                }
            }
            () = shutdown.cancelled() => break,
        }
    }
    close(&mut sink, &mut stream).await;
}
