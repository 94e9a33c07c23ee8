//! `GET /ws/instructor/learners/{learner}/terminal/{tab}`: the instructor sees a learner's
//! terminal live (read-only), or with `?control=1` types into it after confirming in the page.
//! The learner is told when the instructor takes over.

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::terminals::ws::{Access, MAX_FRAME, watch};
use crate::web::AppState;
use crate::web::auth::Staff;

#[derive(Debug, Deserialize)]
pub struct WatchQuery {
    #[serde(default)]
    control: u8,
}

pub async fn watch_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((learner, tab)): Path<(String, u32)>,
    Query(query): Query<WatchQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Assistants watch the learners of their class; only those who run it type into a terminal.
    let learner = match state.store.learner(&learner).await {
        Ok(Some(l)) if who.may_see(&l.class_id) && (query.control != 1 || who.may_run(&l.class_id)) => l,
        Ok(Some(_)) => return StatusCode::FORBIDDEN.into_response(),
        Ok(None) => return (StatusCode::NOT_FOUND, app::t!("srv-no-learner")).into_response(),
        Err(e) => return state.store_error(e),
    };
    let Some(terminals) = state.terminals.clone() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "this server runs without sandboxes").into_response();
    };
    let access = if query.control == 1 { Access::TakeOver } else { Access::Watch };
    let shutdown = state.shutdown.clone();
    upgrade.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).on_upgrade(move |socket: WebSocket| async move {
        let who = (learner.id.as_str(), learner.display_name.as_str(), tab);
        watch(socket, &terminals, who, access, shutdown, async || {
            if access == Access::TakeOver {
                tracing::info!(learner = %learner.id, tab, "the instructor took over a terminal");
                let note = app::t!("srv-instructor-typing", tab = tab);
                let _ = super::help::send_message(&state, &learner.class_id, Some(&learner.id), &note).await;
            }
        })
        .await;
    })
}
