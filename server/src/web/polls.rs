//! Live polls: the presenter launches one in a deck (a quiz question of the course, or a quick
//! question with choices or a number), every learner whose class has that deck sees it at once,
//! their answers build the presenter's histogram live, "reveal" shows the class the result and
//! the distribution, "close" takes it off the pages. A quiz question's answers are also the
//! learner's quiz answers (the first one graded, as on the quiz itself); an ad-hoc poll only
//! counts as participation.

use std::convert::Infallible;
use std::time::Duration;

use app::poll::{LearnerPoll, PollAnswer, PollChange, PollResults, PollSource, PollView};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use super::error::ApiError;
use crate::store::Poll;
use crate::updates::Update;
use crate::web::auth::{LearnerId, Teacher};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/decks/{deck}/polls", post(launch_route))
        .route("/api/decks/{deck}/polls/events", get(presenter_events))
        .route("/api/polls/{id}", post(change_route))
        .route("/api/polls/{id}/answer", post(answer_route))
}

/// The poll `source` asks, as pages show it (before the store gives it an id).
fn view_of(state: &AppState, deck: &str, source: &PollSource) -> Result<PollView, ApiError> {
    source.validate().map_err(ApiError::BadRequest)?;
    let mut view = PollView::empty(deck);
    match source {
        PollSource::Question { id } => {
            let q = state
                .course
                .questions
                .get(id)
                .ok_or_else(|| ApiError::NotFound(app::t!("srv-no-quiz-question", question = format!("{id:?}"))))?;
            view.question = Some(id.clone());
            view.prompt_html = q.prompt_html.clone();
            view.choices = q.choices.iter().map(|c| c.html.clone()).collect();
            view.multiple = q.kind == labs::QuestionKind::Multiple;
        }
        PollSource::Choices { prompt, choices } => {
            view.prompt_html = labs::load::escape_html(prompt.trim());
            view.choices = choices.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).map(labs::load::escape_html).collect();
        }
        PollSource::Number { prompt } => {
            view.prompt_html = labs::load::escape_html(prompt.trim());
            view.number = true;
        }
    }
    Ok(view)
}

/// The histogram of `poll` now, with a quiz question's right choices.
async fn results(state: &AppState, poll: &PollView) -> Result<PollResults, ApiError> {
    let answers = state.store.poll_answers(poll.id).await?;
    let correct = poll
        .question
        .as_ref()
        .and_then(|q| state.course.questions.get(q))
        .map(|q| q.choices.iter().enumerate().filter(|(_, c)| c.correct).map(|(i, _)| i).collect())
        .unwrap_or_default();
    Ok(PollResults::tally(poll.choices.len(), correct, answers.iter().map(|(_, a)| a)))
}

async fn with_results(state: &AppState, mut poll: PollView) -> Result<PollView, ApiError> {
    poll.results = Some(results(state, &poll).await?);
    Ok(poll)
}

/// What learners see: the results only once revealed.
async fn for_learners(state: &AppState, poll: &Poll) -> Result<PollView, ApiError> {
    let view = poll.view.clone();
    if view.revealed { with_results(state, view).await } else { Ok(view) }
}

async fn announce(state: &AppState, poll: &Poll) -> Result<(), ApiError> {
    let view = if poll.closed_at.is_some() { None } else { Some(for_learners(state, poll).await?) };
    let _ = state.updates.send(Update::Poll { deck: poll.view.deck.clone(), poll_id: poll.view.id, view });
    Ok(())
}

pub async fn launch(state: &AppState, deck: &str, source: PollSource) -> Result<PollView, ApiError> {
    if state.course.deck(deck).is_none() {
        return Err(ApiError::NotFound(app::t!("srv-no-deck", deck = format!("{deck:?}"))));
    }
    let view = view_of(state, deck, &source)?;
    let poll = state.store.launch_poll(deck, &view).await?;
    announce(state, &poll).await?;
    with_results(state, poll.view).await
}

pub async fn change(state: &AppState, id: i64, change: PollChange) -> Result<PollView, ApiError> {
    let poll = state.store.change_poll(id, change).await?.ok_or_else(|| ApiError::BadRequest(app::t!("srv-poll-ended")))?;
    announce(state, &poll).await?;
    with_results(state, poll.view).await
}

/// The learner's answer (replacing an earlier one while the poll is open).
pub async fn answer(state: &AppState, learner_id: &str, id: i64, answer: PollAnswer) -> Result<PollResults, ApiError> {
    let learner = state.store.learner(learner_id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-learner")))?;
    let poll = state.store.poll(id).await?.filter(|p| p.closed_at.is_none());
    let class = state.store.class(&learner.class_id).await?;
    let Some(poll) = poll.filter(|p| class.is_some_and(|c| c.settings.has_deck(&p.view.deck))) else {
        return Err(ApiError::NotFound(app::t!("srv-poll-ended")));
    };
    poll.view.check(&answer).map_err(ApiError::BadRequest)?;
    if !state.write_budget.take(learner_id) {
        return Err(ApiError::TooMany(crate::classroom::slow_down()));
    }
    state.store.answer_poll(id, learner_id, &answer).await?;
    if let (Some(question), PollAnswer::Choices { choices }) = (&poll.view.question, &answer) {
        super::progress::answer(state, learner_id, question, choices.clone()).await?;
    }
    let results = results(state, &poll.view).await?;
    let _ = state.updates.send(Update::PollResults { deck: poll.view.deck.clone(), poll_id: id, results: results.clone() });
    Ok(results)
}

/// The poll the learner's class is asked now (the newest open one of the class's decks), with
/// their answer.
pub async fn learner_poll(state: &AppState, learner_id: &str, class: &crate::store::Class) -> Result<Option<LearnerPoll>, ApiError> {
    let open = state.store.open_polls().await?;
    let Some(poll) = open.into_iter().find(|p| class.settings.has_deck(&p.view.deck)) else { return Ok(None) };
    let mine = state.store.poll_answers(poll.view.id).await?.into_iter().find(|(l, _)| l == learner_id).map(|(_, a)| a);
    Ok(Some(LearnerPoll { poll: for_learners(state, &poll).await?, mine }))
}

/// The deck's open poll with its histogram, for the presenter.
pub async fn presenter_poll(state: &AppState, deck: &str) -> Result<Option<PollView>, ApiError> {
    match state.store.open_polls().await?.into_iter().find(|p| p.view.deck == deck) {
        Some(poll) => Ok(Some(with_results(state, poll.view).await?)),
        None => Ok(None),
    }
}

async fn launch_route(
    State(state): State<AppState>,
    _: Teacher,
    Path(deck): Path<String>,
    Json(source): Json<PollSource>,
) -> Result<Json<PollView>, ApiError> {
    Ok(Json(launch(&state, &deck, source).await?))
}

#[derive(Deserialize)]
struct ChangeRequest {
    change: PollChange,
}

async fn change_route(
    State(state): State<AppState>,
    _: Teacher,
    Path(id): Path<i64>,
    Json(request): Json<ChangeRequest>,
) -> Result<Json<PollView>, ApiError> {
    Ok(Json(change(&state, id, request.change).await?))
}

async fn answer_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path(id): Path<i64>,
    Json(request): Json<PollAnswer>,
) -> Result<Json<PollResults>, ApiError> {
    // The learner gets their answer's acceptance, not the histogram: that is the presenter's
    // until revealed.
    answer(&state, &learner, id, request).await?;
    Ok(Json(PollResults::default()))
}

/// The presenter's stream of `deck`'s polls: the open one with its histogram first, then every
/// launch, reveal and close ("poll") and every new count ("results").
async fn presenter_events(State(state): State<AppState>, _: Teacher, Path(deck): Path<String>) -> Result<Response, ApiError> {
    if state.course.deck(&deck).is_none() {
        return Err(ApiError::NotFound(app::t!("srv-no-deck", deck = format!("{deck:?}"))));
    }
    let updates = BroadcastStream::new(state.updates.subscribe());
    let first = Event::default().event("poll").json_data(presenter_poll(&state, &deck).await?).unwrap_or_default();
    // A spotlight already shown in a class that has this deck.
    let mut shown = None;
    for class in state.store.classes().await?.into_iter().filter(|c| c.settings.has_deck(&deck)) {
        shown = shown.or(state.spotlights.current(&class.id).filter(|s| s.consented));
    }
    let spotlight = Event::default().event("spotlight").json_data(shown).unwrap_or_default();
    let (state_for, deck_for) = (state.clone(), deck.clone());
    let changes = updates.filter_map(move |update| {
        let (state, deck) = (state_for.clone(), deck_for.clone());
        async move {
            match update {
                Ok(Update::Poll { deck: d, poll_id, view }) if d == deck => {
                    let view = match view {
                        Some(_) => state.store.poll(poll_id).await.ok().flatten().map(|p| p.view),
                        None => None,
                    };
                    let view = match view {
                        Some(v) => with_results(&state, v).await.ok(),
                        None => None,
                    };
                    Some(Event::default().event("poll").json_data(view).unwrap_or_default())
                }
                Ok(Update::Spotlight { class_id, view }) => {
                    let has_deck = state.store.class(&class_id).await.ok().flatten().is_some_and(|c| c.settings.has_deck(&deck));
                    let view = view.filter(|v| v.consented);
                    has_deck.then(|| Event::default().event("spotlight").json_data(view).unwrap_or_default())
                }
                Ok(Update::PollResults { deck: d, poll_id, results }) if d == deck => Some(
                    Event::default()
                        .event("results")
                        .json_data(serde_json::json!({ "poll_id": poll_id, "results": results }))
                        .unwrap_or_default(),
                ),
                Ok(_) => None,
                Err(_lagged) => Some(Event::default().event("resync").data("{}")),
            }
        }
    });
    let stream = futures::stream::iter([first, spotlight])
        .chain(changes)
        .map(Ok::<_, Infallible>)
        .take_until(state.shutdown.clone().cancelled_owned());
    let stream = crate::metrics::counted("poll-events", stream);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}
