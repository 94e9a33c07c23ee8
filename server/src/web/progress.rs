//! A learner's progress over HTTP: where they are in a lab, "I am on this step", "check now",
//! hints, the solution, quiz answers, and a stream of live updates (server-sent events).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use crate::auth::LearnerId;
use crate::progress::ProgressError;
use crate::store::StepState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/labs/{lab}/progress", get(lab_progress))
        .route("/api/labs/{lab}/steps/{step}/focus", post(focus))
        .route("/api/labs/{lab}/steps/{step}/check", post(check))
        .route("/api/labs/{lab}/steps/{step}/hint", post(hint))
        .route("/api/labs/{lab}/steps/{step}/solution", post(solution))
        .route("/api/quiz/{question}/answer", post(answer))
        .route("/api/events", get(events))
}

fn error(e: ProgressError) -> Response {
    match e {
        ProgressError::NoSuchStep(..) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
        ProgressError::Sandbox(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("Your sandbox is not available: {e}")).into_response(),
        ProgressError::Store(e) => {
            tracing::error!("store: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "The server cannot save right now; try again in a moment.").into_response()
        }
    }
}

fn no_sandboxes() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "this server runs without sandboxes").into_response()
}

#[derive(Serialize)]
pub struct LabProgress {
    pub steps: Vec<StepState>,
    /// Per step, the hints revealed so far (static hints, then those hint checks fired).
    pub hints: Vec<StepHints>,
}

#[derive(Serialize)]
pub struct StepHints {
    pub step_id: String,
    pub html: Vec<String>,
}

async fn lab_progress(State(state): State<AppState>, LearnerId(learner): LearnerId, Path(lab): Path<String>) -> Response {
    let Some((_, lab_def)) = state.course.lab(&lab) else { return StatusCode::NOT_FOUND.into_response() };
    let steps = match state.store.step_states(&learner, &lab).await {
        Ok(steps) => steps,
        Err(e) => return state.store_error(e),
    };
    let mut hints = Vec::new();
    for step in &lab_def.steps {
        let revealed = steps.iter().find(|s| s.step_id == step.id).map(|s| s.hints_revealed).unwrap_or(0);
        let mut html: Vec<String> = step.hints.iter().take(revealed.max(0) as usize).cloned().collect();
        match state.store.fired_hint_checks(&learner, &lab, &step.id).await {
            Ok(fired) => html.extend(fired.iter().filter_map(|&i| step.hint_checks.get(i as usize)).map(|h| h.hint_html.clone())),
            Err(e) => return state.store_error(e),
        }
        if !html.is_empty() {
            hints.push(StepHints { step_id: step.id.clone(), html });
        }
    }
    Json(LabProgress { steps, hints }).into_response()
}

async fn focus(State(state): State<AppState>, LearnerId(learner): LearnerId, Path((lab, step)): Path<(String, String)>) -> Response {
    let Some(progress) = &state.progress else { return no_sandboxes() };
    match progress.focus(&learner, &lab, &step).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => error(e),
    }
}

async fn check(State(state): State<AppState>, LearnerId(learner): LearnerId, Path((lab, step)): Path<(String, String)>) -> Response {
    let Some(progress) = &state.progress else { return no_sandboxes() };
    match progress.check_now(&learner, &lab, &step).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => error(e),
    }
}

#[derive(Serialize)]
struct HintReply {
    index: usize,
    html: String,
    remaining: usize,
}

/// Reveals the next static hint.
async fn hint(State(state): State<AppState>, LearnerId(learner): LearnerId, Path((lab, step)): Path<(String, String)>) -> Response {
    let Some(step_def) = state.course.lab(&lab).and_then(|(_, l)| l.step(&step)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let current = match state.store.start_step(&learner, &lab, &step).await {
        Ok(s) => s.hints_revealed.max(0) as usize,
        Err(e) => return state.store_error(e),
    };
    if current >= step_def.hints.len() {
        return (StatusCode::NOT_FOUND, "There are no more hints for this step.").into_response();
    }
    if let Err(e) = state.store.reveal_hints(&learner, &lab, &step, current as i64 + 1).await {
        return state.store_error(e);
    }
    Json(HintReply { index: current, html: step_def.hints[current].clone(), remaining: step_def.hints.len() - current - 1 }).into_response()
}

#[derive(Serialize)]
struct SolutionReply {
    source: String,
}

/// The solution, after the learner confirmed they want it (recorded for the instructor).
async fn solution(State(state): State<AppState>, LearnerId(learner): LearnerId, Path((lab, step)): Path<(String, String)>) -> Response {
    let Some(source) = state.course.lab(&lab).and_then(|(_, l)| l.step(&step)).and_then(|s| s.solution.as_ref()).map(|s| s.source.clone())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Err(e) = state.store.show_solution(&learner, &lab, &step).await {
        return state.store_error(e);
    }
    Json(SolutionReply { source }).into_response()
}

#[derive(Deserialize)]
struct AnswerRequest {
    choices: Vec<usize>,
}

#[derive(Serialize)]
struct AnswerReply {
    #[serde(flatten)]
    feedback: labs::QuizFeedback,
    /// Points this question gives the learner: those of their first answer.
    graded_points: i64,
    attempts: i64,
}

/// Scores an answer on the server and stores it; only now are the right answers and the
/// explanations sent.
async fn answer(State(state): State<AppState>, LearnerId(learner): LearnerId, Path(question): Path<String>, Json(request): Json<AnswerRequest>) -> Response {
    let Some(q) = state.course.questions.get(&question) else { return StatusCode::NOT_FOUND.into_response() };
    if request.choices.is_empty() || request.choices.iter().any(|&c| c >= q.choices.len()) {
        return (StatusCode::BAD_REQUEST, "Pick one of the answers.").into_response();
    }
    let feedback = q.score(&request.choices);
    match state.store.answer_quiz(&learner, &question, &request.choices, feedback.correct, i64::from(feedback.points)).await {
        Ok(stored) => Json(AnswerReply { feedback, graded_points: stored.points, attempts: stored.attempts }).into_response(),
        Err(e) => state.store_error(e),
    }
}

/// Live updates for this learner (their steps turning green, hints firing), as server-sent
/// events; the browser's EventSource reconnects by itself.
async fn events(State(state): State<AppState>, LearnerId(learner): LearnerId) -> Response {
    let Some(progress) = state.progress.clone() else { return no_sandboxes() };
    let updates = BroadcastStream::new(progress.subscribe()).filter_map(move |update| {
        let event = match update {
            Ok(update) if update.learner() == learner => {
                Some(Event::default().event("progress").json_data(&update).unwrap_or_default())
            }
            Ok(_) => None,
            // This connection fell behind: the page reloads its state.
            Err(_lagged) => Some(Event::default().event("resync").data("{}")),
        };
        std::future::ready(event.map(Ok::<_, Infallible>))
    });
    let stream = updates.take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}
