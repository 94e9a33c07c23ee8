//! Presenting's routes: the instructor sets the current slide of a deck, learners' decks follow
//! it (server-sent events). The state is `crate::presentations`.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use crate::presentations::LiveSlide;
use crate::web::auth::Teacher;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/api/decks/{deck}/live", get(follow).post(set))
}

#[derive(Deserialize)]
struct SetSlide {
    slide: usize,
}

/// The instructor moves to another slide.
async fn set(State(state): State<AppState>, _: Teacher, Path(deck): Path<String>, Json(body): Json<SetSlide>) -> Response {
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
    let changes = BroadcastStream::new(state.presentations.subscribe())
        .filter_map(move |change| std::future::ready(change.ok().filter(|c| c.deck == deck)));
    let stream = futures::stream::iter(first)
        .chain(changes)
        .map(|live| Ok::<_, Infallible>(Event::default().event("slide").json_data(&live).unwrap_or_default()))
        .take_until(state.shutdown.clone().cancelled_owned());
    let stream = crate::metrics::counted("follow", stream);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}
