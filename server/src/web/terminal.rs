//! `GET /ws/terminal/{tab}`: a learner's browser attached to one of their terminals, waiting in
//! line first when the class is full. The loop it runs is `terminals::ws`'s.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sandbox::PtySize;
use serde::Deserialize;

use crate::terminals::ws::{Access, MAX_FRAME, close, send, serve, wait_in_line};
use crate::terminals::{AttachError, ServerMessage};
use crate::web::AppState;
use crate::web::auth::LearnerId;

#[derive(Debug, Deserialize)]
pub struct AttachQuery {
    #[serde(default = "default_cols")]
    cols: u16,
    #[serde(default = "default_rows")]
    rows: u16,
    /// Start the sandbox if it is stopped (an explicit "restart", or the first open).
    #[serde(default)]
    start: u8,
}

fn default_cols() -> u16 {
    80
}
fn default_rows() -> u16 {
    24
}

pub async fn attach(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path(tab): Path<u32>,
    Query(query): Query<AttachQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(terminals) = state.terminals.clone() else {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "this server runs without sandboxes").into_response();
    };
    let shutdown = state.shutdown.clone();
    upgrade.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).on_upgrade(move |socket: WebSocket| async move {
        let _counted = crate::metrics::METRICS.stream_open("terminal");
        let (mut sink, mut stream) = socket.split();
        let size = PtySize { cols: query.cols.clamp(2, 1000), rows: query.rows.clamp(1, 500) };
        let attaching = terminals.attach(&learner, tab, size, query.start == 1);
        let Some(attached) = wait_in_line(&mut sink, &mut stream, attaching, || terminals.sandboxes().queue_spot(&learner)).await else {
            // The browser left while waiting: its place in line went with it.
            return;
        };
        match attached {
            Ok(attachment) => {
                terminals.sandboxes().touch(&learner);
                let sandboxes = terminals.sandboxes().clone();
                let progress = state.progress.clone();
                // Typing keeps the sandbox from idling out and the learner counted as here.
                let on_input = move || {
                    sandboxes.touch(&learner);
                    if let Some(progress) = &progress {
                        progress.seen(&learner);
                    }
                };
                serve(sink, stream, attachment, Access::Owner, on_input, shutdown).await;
            }
            Err(e) => {
                let message = match &e {
                    AttachError::Stopped => ServerMessage::Stopped,
                    other => {
                        tracing::warn!(%learner, tab, "attaching a terminal: {}", other.report());
                        ServerMessage::Error { message: other.for_browser() }
                    }
                };
                let _ = send(&mut sink, Message::Text(message.json().into())).await;
                close(&mut sink, &mut stream).await;
            }
        }
    })
}
