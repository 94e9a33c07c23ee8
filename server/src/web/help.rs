//! A learner asking for help: raise and lower their hand (with a note, the step they are on
//! and what its last check said), write to staff in their thread, and read it all back with
//! whether the instructor asked for everyone's eyes. The staff side is `instructor::help`.

use app::class::{LearnerHelp, MessageView};
use axum::Json;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use crate::classroom::{help_view, message_view};
use crate::store::{Author, HelpChange, HelpContext, HelpRequest, Learner};
use crate::terminals::ws::{Access, MAX_FRAME, watch};
use crate::updates::Update;
use crate::web::auth::LearnerId;

/// Messages of the thread a page shows.
const THREAD_SHOWN: i64 = 100;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/help", get(mine_route).post(raise_route).delete(lower_route))
        .route("/api/help/messages", post(write_route))
        .route("/api/sandbox/extend", post(extend_route))
        .route("/api/spotlight", post(spotlight_route))
        .route("/ws/spotlight", get(spotlight_watch))
}

async fn learner(state: &AppState, id: &str) -> Result<Learner, ApiError> {
    state.store.learner(id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-learner")))
}

fn spend(state: &AppState, learner: &str) -> Result<(), ApiError> {
    if state.write_budget.take(learner) { Ok(()) } else { Err(ApiError::TooMany(crate::classroom::slow_down())) }
}

/// Tells the learner's pages and the class's dashboards that their hand changed.
pub fn announce(state: &AppState, request: &HelpRequest) {
    let _ = state.updates.send(Update::Help { learner: request.learner_id.clone(), request: request.clone() });
}

pub async fn mine(state: &AppState, learner_id: &str) -> Result<LearnerHelp, ApiError> {
    let learner = learner(state, learner_id).await?;
    let hand = state.store.open_help(learner_id).await?.map(|r| help_view(&r, &learner.display_name));
    let thread = state.store.thread(learner_id, THREAD_SHOWN).await?.iter().map(message_view).collect();
    let class = state.store.class(&learner.class_id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-class")))?;
    let poll = super::polls::learner_poll(state, learner_id, &class).await?;
    let sandbox_expires_in = match &state.sandboxes {
        Some(s) => s.view(learner_id).await.expires_in_secs,
        None => None,
    };
    let extend_left = class.settings.self_extend_minutes.map_or(0, |limit| state.extensions.left(learner_id, limit));
    let spotlight = state.spotlights.current(&learner.class_id).filter(|s| s.learner == learner_id || (s.consented && s.to_class));
    Ok(LearnerHelp {
        hand,
        thread,
        attention: state.attention.current(&learner.class_id),
        poll,
        sandbox_expires_in,
        extend_left,
        spotlight,
        learner_id: learner_id.to_string(),
    })
}

/// The learner adds `SELF_EXTEND_STEP` minutes (or what their class's limit leaves) to their
/// running sandbox; returns their help state with the new time.
pub async fn extend(state: &AppState, learner_id: &str) -> Result<LearnerHelp, ApiError> {
    let learner = learner(state, learner_id).await?;
    let class = state.store.class(&learner.class_id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-class")))?;
    let sandboxes = state.sandboxes.as_ref().ok_or_else(|| ApiError::Unavailable(app::t!("srv-no-sandboxes")))?;
    let Some(limit) = class.settings.self_extend_minutes.filter(|&m| m > 0) else {
        return Err(ApiError::BadRequest(app::t!("srv-no-self-extend")));
    };
    let granted = state.extensions.take(learner_id, app::class::SELF_EXTEND_STEP, limit);
    if granted == 0 {
        return Err(ApiError::BadRequest(app::t!("srv-self-extend-used", minutes = limit)));
    }
    if !sandboxes.extend(learner_id, std::time::Duration::from_secs(u64::from(granted) * 60)) {
        state.extensions.give_back(learner_id, granted);
        return Err(ApiError::BadRequest(app::t!("srv-sandbox-not-running")));
    }
    let _ = state.store.log_event(Some(learner_id), "sandbox_self_extended", serde_json::json!({ "minutes": granted })).await;
    mine(state, learner_id).await
}

async fn extend_route(State(state): State<AppState>, LearnerId(learner): LearnerId) -> Result<Json<LearnerHelp>, ApiError> {
    Ok(Json(extend(&state, &learner).await?))
}

/// Raises the hand (or changes its note), with the step the learner's page shows and what its
/// last check said.
pub async fn raise(state: &AppState, learner_id: &str, note: &str) -> Result<app::class::HelpView, ApiError> {
    let learner = learner(state, learner_id).await?;
    spend(state, learner_id)?;
    let at = state.progress.as_ref().and_then(|p| p.focus_of(learner_id));
    let reason = match &at {
        Some((lab, step)) => {
            state.store.step_states(learner_id, lab).await?.into_iter().find(|s| &s.step_id == step).and_then(|s| s.last_reason)
        }
        None => None,
    };
    let (lab_id, step_id) = at.unzip();
    let context = HelpContext { note: note.to_string(), lab_id, step_id, reason };
    let request = state.store.raise_hand(&learner.class_id, learner_id, &context).await?;
    announce(state, &request);
    let _ = state.store.log_event(Some(learner_id), "hand_raised", serde_json::json!({ "request": request.id })).await;
    Ok(help_view(&request, &learner.display_name))
}

pub async fn lower(state: &AppState, learner_id: &str) -> Result<(), ApiError> {
    spend(state, learner_id)?;
    if let Some(open) = state.store.open_help(learner_id).await?
        && let Some(closed) = state.store.change_help(open.id, HelpChange::Lower).await?
    {
        announce(state, &closed);
    }
    Ok(())
}

/// The learner's message to staff, in their thread.
pub async fn write(state: &AppState, learner_id: &str, body: &str) -> Result<MessageView, ApiError> {
    let learner = learner(state, learner_id).await?;
    spend(state, learner_id)?;
    let message = state.store.send_message(&learner.class_id, Some(learner_id), body, Author::Learner).await?;
    let view = message_view(&message);
    let _ = state.updates.send(Update::Message { learner: Some(learner.id), class_id: learner.class_id, message: view.clone() });
    Ok(view)
}

/// The learner's answer to the spotlight: agree, decline, or (`allow` false once shown) stop.
pub async fn spotlight(state: &AppState, learner_id: &str, allow: bool) -> Result<(), ApiError> {
    let learner = learner(state, learner_id).await?;
    let shown = state.spotlights.current(&learner.class_id).filter(|s| s.learner == learner_id && s.consented);
    let view = if shown.is_some() && !allow {
        state.spotlights.stop(&learner.class_id);
        None
    } else {
        state.spotlights.answer(&learner.class_id, learner_id, allow).ok_or_else(|| ApiError::NotFound(app::t!("srv-no-spotlight")))?
    };
    let _ = state.updates.send(Update::Spotlight { class_id: learner.class_id, view });
    Ok(())
}

#[derive(Deserialize)]
struct SpotlightAnswer {
    allow: bool,
}

async fn spotlight_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Json(answer): Json<SpotlightAnswer>,
) -> Result<StatusCode, ApiError> {
    spotlight(&state, &learner, answer.allow).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /ws/spotlight`: the terminal the instructor shows the class, read-only, for its
/// learners (only while shown to the class, with its learner's consent).
async fn spotlight_watch(State(state): State<AppState>, LearnerId(learner_id): LearnerId, upgrade: WebSocketUpgrade) -> Response {
    let Some(terminals) = state.terminals.clone() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "this server runs without sandboxes").into_response();
    };
    let class = match state.store.learner(&learner_id).await {
        Ok(Some(l)) => l.class_id,
        Ok(None) => return StatusCode::FORBIDDEN.into_response(),
        Err(e) => return state.store_error(e),
    };
    let Some(shown) = state.spotlights.current(&class).filter(|s| s.consented && s.to_class) else {
        return (StatusCode::NOT_FOUND, app::t!("srv-nothing-shown")).into_response();
    };
    let shutdown = state.shutdown.clone();
    upgrade.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).on_upgrade(move |socket| async move {
        watch(socket, &terminals, (&shown.learner, &shown.name, shown.tab), Access::Watch, shutdown, async || {}).await;
    })
}

async fn mine_route(State(state): State<AppState>, LearnerId(learner): LearnerId) -> Result<Json<LearnerHelp>, ApiError> {
    Ok(Json(mine(&state, &learner).await?))
}

#[derive(Deserialize)]
struct RaiseRequest {
    #[serde(default)]
    note: String,
}

async fn raise_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Json(request): Json<RaiseRequest>,
) -> Result<Json<app::class::HelpView>, ApiError> {
    Ok(Json(raise(&state, &learner, &request.note).await?))
}

async fn lower_route(State(state): State<AppState>, LearnerId(learner): LearnerId) -> Result<StatusCode, ApiError> {
    lower(&state, &learner).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct WriteRequest {
    body: String,
}

async fn write_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Json(request): Json<WriteRequest>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(write(&state, &learner, &request.body).await?))
}
