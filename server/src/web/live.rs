//! Presenting: the instructor's current slide of each deck, which learners' decks follow live
//! (server-sent events). Kept in memory: a restart ends the presentation, not the class.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use crate::web::auth::Instructor;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LiveSlide {
    pub deck: String,
    pub slide: usize,
}

pub struct Presentations {
    current: Mutex<HashMap<String, usize>>,
    changes: broadcast::Sender<LiveSlide>,
}

impl Default for Presentations {
    fn default() -> Self {
        Self { current: Mutex::new(HashMap::new()), changes: broadcast::channel(256).0 }
    }
}

impl Presentations {
    pub fn current(&self, deck: &str) -> Option<usize> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).get(deck).copied()
    }

    pub fn set(&self, deck: &str, slide: usize) {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).insert(deck.to_string(), slide);
        let _ = self.changes.send(LiveSlide { deck: deck.to_string(), slide });
    }
}

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/api/decks/{deck}/live", get(follow).post(set))
}

#[derive(Deserialize)]
struct SetSlide {
    slide: usize,
}

/// The instructor moves to another slide.
async fn set(State(state): State<AppState>, _: Instructor, Path(deck): Path<String>, Json(body): Json<SetSlide>) -> Response {
    let Some((_, d)) = state.course.deck(&deck) else { return StatusCode::NOT_FOUND.into_response() };
    if body.slide >= d.slides.len() {
        return (StatusCode::BAD_REQUEST, "no such slide").into_response();
    }
    state.presentations.set(&deck, body.slide);
    StatusCode::NO_CONTENT.into_response()
}

/// The instructor's slide of `deck` now and at every change (anyone may follow: slides are
/// not secret).
async fn follow(State(state): State<AppState>, Path(deck): Path<String>) -> Response {
    if state.course.deck(&deck).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let first = state.presentations.current(&deck).map(|slide| LiveSlide { deck: deck.clone(), slide });
    let changes = BroadcastStream::new(state.presentations.changes.subscribe())
        .filter_map(move |change| std::future::ready(change.ok().filter(|c| c.deck == deck)));
    let stream = futures::stream::iter(first)
        .chain(changes)
        .map(|live| Ok::<_, Infallible>(Event::default().event("slide").json_data(&live).unwrap_or_default()))
        .take_until(state.shutdown.clone().cancelled_owned());
    let stream = crate::metrics::counted("follow", stream);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}
