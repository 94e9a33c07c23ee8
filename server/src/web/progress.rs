//! A learner's progress: where they are in a lab, "I am on this step", "check now", hints, the
//! solution, quiz answers, and a stream of live updates (server-sent events). The functions
//! here serve both the JSON routes and the pages' server functions (`services.rs`).

use std::convert::Infallible;
use std::time::Duration;

use app::services::{QuizResult, StepProgress};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use super::error::ApiError;
use crate::store::StepState;
use crate::updates::Update;
use crate::web::auth::LearnerId;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/labs/{lab}/progress", get(lab_progress_route))
        .route("/api/labs/{lab}/steps/{step}/focus", post(focus_route))
        .route("/api/labs/{lab}/steps/{step}/check", post(check_route))
        .route("/api/labs/{lab}/steps/{step}/hint", post(hint_route))
        .route("/api/labs/{lab}/steps/{step}/solution", post(solution_route))
        .route("/api/quiz/{question}/answer", post(answer_route))
        .route("/api/events", get(events))
}

fn step_def<'a>(state: &'a AppState, lab: &str, step: &str) -> Result<&'a labs::load::Step, ApiError> {
    state
        .course
        .lab(lab)
        .and_then(|(_, l)| l.step(step))
        .ok_or_else(|| ApiError::NotFound(app::t!("srv-no-step", step = format!("{step:?}"), lab = format!("{lab:?}"))))
}

fn progress(state: &AppState) -> Result<&std::sync::Arc<crate::checks::CheckEngine>, ApiError> {
    state.progress.as_ref().ok_or_else(|| ApiError::Unavailable(app::t!("srv-no-sandboxes")))
}

/// The learner's view of one step, from its stored state.
async fn view(
    state: &AppState,
    learner: &str,
    lab: &str,
    step: &labs::load::Step,
    stored: Option<&StepState>,
) -> Result<StepProgress, ApiError> {
    let revealed = stored.map(|s| s.hints_revealed.max(0) as usize).unwrap_or(0).min(step.hints.len());
    let mut hints: Vec<String> = step.hints[..revealed].to_vec();
    let fired = state.store.fired_hint_checks(learner, lab, &step.id).await?;
    hints.extend(fired.iter().filter_map(|&i| step.hint_checks.get(i as usize)).map(|h| h.hint_html.clone()));
    let shown = stored.is_some_and(|s| s.solution_shown);
    Ok(StepProgress {
        step_id: step.id.clone(),
        started: stored.is_some(),
        done: stored.is_some_and(|s| s.done),
        last_reason: stored.and_then(|s| s.last_reason.clone()),
        last_passed: stored.and_then(|s| s.last_passed),
        started_at: stored.map(|s| s.started_at),
        same_failures: stored.map_or(0, |s| s.same_failures),
        hints,
        hints_left: step.hints.len() - revealed,
        solution: if shown { step.solution.as_ref().map(|s| s.source.clone()) } else { None },
    })
}

pub async fn lab_progress(state: &AppState, learner: &str, lab: &str) -> Result<Vec<StepProgress>, ApiError> {
    let (_, lab_def) = state.course.lab(lab).ok_or_else(|| ApiError::NotFound(app::t!("srv-no-lab", lab = format!("{lab:?}"))))?;
    let stored = state.store.step_states(learner, lab).await?;
    let mut steps = Vec::new();
    for step in &lab_def.steps {
        steps.push(view(state, learner, lab, step, stored.iter().find(|s| s.step_id == step.id)).await?);
    }
    Ok(steps)
}

async fn after(state: &AppState, learner: &str, lab: &str, step: &str, stored: StepState) -> Result<StepProgress, ApiError> {
    view(state, learner, lab, step_def(state, lab, step)?, Some(&stored)).await
}

pub async fn focus(state: &AppState, learner: &str, lab: &str, step: &str) -> Result<StepProgress, ApiError> {
    let stored = progress(state)?.focus(learner, lab, step).await?;
    after(state, learner, lab, step, stored).await
}

pub async fn check(state: &AppState, learner: &str, lab: &str, step: &str) -> Result<StepProgress, ApiError> {
    let stored = progress(state)?.check_now(learner, lab, step).await?;
    after(state, learner, lab, step, stored).await
}

/// Reveals the next static hint.
pub async fn hint(state: &AppState, learner: &str, lab: &str, step: &str) -> Result<StepProgress, ApiError> {
    let def = step_def(state, lab, step)?;
    let current = state.store.start_step(learner, lab, step).await?.hints_revealed.max(0) as usize;
    if current >= def.hints.len() {
        return Err(ApiError::NotFound(app::t!("srv-no-more-hints")));
    }
    let stored = state.store.reveal_hints(learner, lab, step, current as i64 + 1).await?;
    // The dashboard and the recording's marker hear of it.
    let _ = state.updates.send(Update::Step { learner: learner.to_string(), state: stored.clone() });
    after(state, learner, lab, step, stored).await
}

/// The solution, after the learner confirmed they want it (the instructor sees that they did).
pub async fn solution(state: &AppState, learner: &str, lab: &str, step: &str) -> Result<StepProgress, ApiError> {
    // A Killercoda step's solution is its own Run buttons: there is nothing to reveal.
    let def = step_def(state, lab, step)?;
    if def.solution.is_none() || !def.reveal_solution {
        return Err(ApiError::NotFound(app::t!("srv-no-solution")));
    }
    let stored = state.store.show_solution(learner, lab, step).await?;
    let _ = state.updates.send(Update::Step { learner: learner.to_string(), state: stored.clone() });
    after(state, learner, lab, step, stored).await
}

/// Scores an answer on the server and stores it; only now are the right answers and the
/// explanations sent.
pub async fn answer(state: &AppState, learner: &str, question: &str, choices: Vec<usize>) -> Result<QuizResult, ApiError> {
    let q = state
        .course
        .questions
        .get(question)
        .ok_or_else(|| ApiError::NotFound(app::t!("srv-no-question", question = format!("{question:?}"))))?;
    if choices.is_empty() || choices.iter().any(|&c| c >= q.choices.len()) {
        return Err(ApiError::BadRequest(app::t!("srv-pick-answer")));
    }
    let feedback = q.score(&choices);
    let stored = state.store.answer_quiz(learner, question, &choices, feedback.correct, i64::from(feedback.points)).await?;
    let _ = state.updates.send(Update::Quiz { learner: learner.to_string(), answer: stored.clone() });
    Ok(QuizResult {
        question_id: question.to_string(),
        choices,
        feedback,
        graded_points: stored.points as u32,
        attempts: stored.attempts as u32,
    })
}

/// The learner's earlier answers (the latest, as they left the question; the points are the
/// first answer's), with their feedback.
pub async fn quiz_results(state: &AppState, learner: &str, questions: &[String]) -> Result<Vec<QuizResult>, ApiError> {
    let answers = state.store.quiz_answers(learner).await?;
    Ok(answers
        .into_iter()
        .filter(|a| questions.contains(&a.question_id))
        .filter_map(|a| {
            let q = state.course.questions.get(&a.question_id)?;
            let shown = a.latest.unwrap_or(a.choices);
            Some(QuizResult {
                question_id: a.question_id.clone(),
                feedback: q.score(&shown),
                choices: shown,
                graded_points: a.points as u32,
                attempts: a.attempts as u32,
            })
        })
        .collect())
}

#[derive(Serialize)]
struct LabProgressReply {
    steps: Vec<StepProgress>,
}

async fn lab_progress_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path(lab): Path<String>,
) -> Result<Json<LabProgressReply>, ApiError> {
    Ok(Json(LabProgressReply { steps: lab_progress(&state, &learner, &lab).await? }))
}

async fn focus_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path((lab, step)): Path<(String, String)>,
) -> Result<Json<StepProgress>, ApiError> {
    Ok(Json(focus(&state, &learner, &lab, &step).await?))
}

async fn check_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path((lab, step)): Path<(String, String)>,
) -> Result<Json<StepProgress>, ApiError> {
    Ok(Json(check(&state, &learner, &lab, &step).await?))
}

async fn hint_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path((lab, step)): Path<(String, String)>,
) -> Result<Json<StepProgress>, ApiError> {
    Ok(Json(hint(&state, &learner, &lab, &step).await?))
}

async fn solution_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path((lab, step)): Path<(String, String)>,
) -> Result<Json<StepProgress>, ApiError> {
    Ok(Json(solution(&state, &learner, &lab, &step).await?))
}

#[derive(Deserialize)]
struct AnswerRequest {
    choices: Vec<usize>,
}

async fn answer_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path(question): Path<String>,
    Json(request): Json<AnswerRequest>,
) -> Result<Json<QuizResult>, ApiError> {
    Ok(Json(answer(&state, &learner, &question, request.choices).await?))
}

/// Live updates for this learner (their steps turning green, hints firing, messages from the
/// instructor), as server-sent events; the browser's EventSource reconnects by itself.
async fn events(State(state): State<AppState>, LearnerId(learner): LearnerId) -> Result<Response, ApiError> {
    let updates = state.updates.subscribe();
    let class_id = state.store.learner(&learner).await?.map(|l| l.class_id).unwrap_or_default();
    let decks = state.store.class(&class_id).await?.map(|c| c.settings).unwrap_or_default();
    // While this stream is open the learner counts as here: their step keeps being checked
    // however long they only read (the guard goes with the stream).
    let page_open = state.progress.as_ref().map(|p| p.page_open(&learner));
    // First whether the class's pages are covered now: a page loaded just before "eyes on me"
    // was released must not stay covered.
    let attention = Event::default().event("attention").json_data(state.attention.current(&class_id)).unwrap_or_default();
    let updates = BroadcastStream::new(updates).filter_map(move |update| {
        let _page_open = &page_open;
        let event = match update {
            Ok(Update::Poll { deck, poll_id, view }) if decks.has_deck(&deck) => {
                Some(Event::default().event("poll").json_data(serde_json::json!({ "poll_id": poll_id, "view": view })).unwrap_or_default())
            }
            Ok(update) if update.for_learner(&learner, &class_id) => Some(
                match &update {
                    Update::Message { message, .. } => Event::default().event("message").json_data(message),
                    Update::Help { request, .. } => {
                        let view = request.closed_at.is_none().then(|| crate::classroom::help_view(request, ""));
                        Event::default().event("help").json_data(view)
                    }
                    Update::Attention { message, .. } => Event::default().event("attention").json_data(message),
                    // Asked of another learner: not theirs to see.
                    Update::Spotlight { view: Some(view), .. } if view.learner != learner && !(view.consented && view.to_class) => {
                        Event::default().event("spotlight").json_data(None::<()>)
                    }
                    Update::Spotlight { view, .. } => Event::default().event("spotlight").json_data(view),
                    _ => Event::default().event("progress").json_data(&update),
                }
                .unwrap_or_default(),
            ),
            Ok(_) => None,
            // This connection fell behind: the page reloads its state.
            Err(_lagged) => Some(Event::default().event("resync").data("{}")),
        };
        std::future::ready(event.map(Ok::<_, Infallible>))
    });
    let updates = futures::stream::once(std::future::ready(Ok(attention))).chain(updates);
    let stream = crate::metrics::counted("learner-events", updates.take_until(state.shutdown.clone().cancelled_owned()));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}
