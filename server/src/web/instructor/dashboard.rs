//! The live matrix of a class: a snapshot (learners × the class's lab steps, quiz answers,
//! sandboxes), then a stream of changes (server-sent events) that keeps it current: step states
//! as checks finish, joins, quiz answers, and the sandboxes' state every few seconds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::time::Duration;

use app::class::{
    Cell, ClassSettings, Dashboard, DashboardEvent, LabColumns, LearnerRow, QuizCell, QuizColumn, SandboxView, StepColumn, cell_key,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use crate::classroom::help_view;
use crate::store::{Class, Learner, QuizAnswer, StepState};
use crate::updates::Update;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::ApiError;

/// How often the sandboxes' state (running, idle, memory) is sent.
const SANDBOXES_EVERY: Duration = Duration::from_secs(3);

pub fn cell(state: &StepState) -> Cell {
    Cell {
        done: state.done,
        started_at: state.started_at,
        done_at: state.done_at,
        attempts: state.attempts,
        failures: state.failures,
        same_failures: state.same_failures,
        last_reason: state.last_reason.clone(),
        hints: state.hints_revealed,
        solution_shown: state.solution_shown,
        checking: false,
    }
}

fn quiz_cell(answer: &QuizAnswer) -> QuizCell {
    QuizCell { points: answer.points.max(0) as u32, correct: answer.correct, attempts: answer.attempts.max(0) as u32 }
}

pub async fn class(state: &AppState, id: &str) -> Result<Class, ApiError> {
    state.store.class(id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-class")))
}

/// The class's labs, in course order.
pub fn lab_columns(state: &AppState, settings: &ClassSettings) -> Vec<LabColumns> {
    state
        .course
        .sessions
        .iter()
        .flat_map(|s| s.labs.iter())
        .filter(|lab| settings.has_lab(&lab.id))
        .map(|lab| LabColumns {
            id: lab.id.clone(),
            title: lab.title.clone(),
            steps: lab.steps.iter().map(|s| StepColumn { id: s.id.clone(), title: s.title.clone(), points: s.points }).collect(),
        })
        .collect()
}

/// The quiz questions of the class's decks and labs, in course order, each once.
pub fn quiz_columns(state: &AppState, settings: &ClassSettings) -> Vec<QuizColumn> {
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for session in &state.course.sessions {
        for deck in session.decks.iter().filter(|d| settings.has_deck(&d.id)) {
            ids.extend(deck.slides.iter().filter_map(|s| s.quiz.clone()));
        }
        for lab in session.labs.iter().filter(|l| settings.has_lab(&l.id)) {
            ids.extend(lab.steps.iter().flat_map(|s| s.quiz.iter().cloned()));
        }
    }
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .filter_map(|id| state.course.questions.get(&id).map(|q| QuizColumn { id, points: q.points }))
        .collect()
}

async fn sandbox_view(state: &AppState, learner: &str) -> SandboxView {
    match (&state.sandboxes, &state.terminals) {
        (Some(sandboxes), Some(terminals)) => {
            let mut view = sandboxes.view(learner).await;
            view.terminals = terminals.tabs(learner);
            view.previews = state.previews.as_ref().map(|p| p.of(learner).into_iter().map(|(port, _)| port).collect()).unwrap_or_default();
            view.editing = state.open_files.of(learner);
            view
        }
        _ => SandboxView::off(),
    }
}

async fn row(state: &AppState, learner: Learner, states: &[StepState], answers: &[QuizAnswer], labs: &[LabColumns]) -> LearnerRow {
    let in_class = |s: &&StepState| labs.iter().any(|l| l.id == s.lab_id);
    LearnerRow {
        sandbox: sandbox_view(state, &learner.id).await,
        recording_bytes: state.recordings.as_ref().map_or(0, |r| r.used(&learner.id)),
        cells: states.iter().filter(in_class).map(|s| (cell_key(&s.lab_id, &s.step_id), cell(s))).collect(),
        quiz: answers.iter().map(|a| (a.question_id.clone(), quiz_cell(a))).collect(),
        id: learner.id,
        name: learner.display_name,
        joined_at: learner.created_at,
        polls_answered: 0,
    }
}

pub async fn dashboard(state: &AppState, class_id: &str) -> Result<Dashboard, ApiError> {
    let class = class(state, class_id).await?;
    let labs = lab_columns(state, &class.settings);
    let quizzes = quiz_columns(state, &class.settings);
    let learners = state.store.learners(&class.id).await?;
    let mut states: HashMap<String, Vec<StepState>> = HashMap::new();
    for (learner, s) in state.store.class_step_states(&class.id).await? {
        states.entry(learner).or_default().push(s);
    }
    let mut answers: HashMap<String, Vec<QuizAnswer>> = HashMap::new();
    for (learner, a) in state.store.class_quiz_answers(&class.id).await? {
        answers.entry(learner).or_default().push(a);
    }
    let names: HashMap<&str, &str> = learners.iter().map(|l| (l.id.as_str(), l.display_name.as_str())).collect();
    let help = state
        .store
        .help_queue(&class.id)
        .await?
        .iter()
        .map(|r| help_view(r, names.get(r.learner_id.as_str()).copied().unwrap_or_default()))
        .collect();
    let answered: HashMap<String, i64> = state.store.polls_answered(&class.id, &class.settings.decks).await?.into_iter().collect();
    let polls: i64 =
        state.store.polls_per_deck().await?.into_iter().filter(|(deck, _)| class.settings.has_deck(deck)).map(|(_, n)| n).sum();
    let mut rows = Vec::with_capacity(learners.len());
    for learner in learners {
        let s = states.remove(&learner.id).unwrap_or_default();
        let a = answers.remove(&learner.id).unwrap_or_default();
        let polls_answered = answered.get(&learner.id).copied().unwrap_or(0).max(0) as u32;
        rows.push(LearnerRow { polls_answered, ..row(state, learner, &s, &a, &labs).await });
    }
    let attention = state.attention.current(&class.id);
    let spotlight = state.spotlights.current(&class.id);
    Ok(Dashboard {
        class: app::class::ClassSummary {
            id: class.id,
            name: class.name,
            join_code: class.join_code,
            settings: class.settings,
            learners: rows.len(),
            created_at: class.created_at,
        },
        labs,
        quizzes,
        learners: rows,
        help,
        attention,
        spotlight,
        polls: polls.max(0) as u32,
        spares: state.sandboxes.as_ref().map_or(0, |s| s.spares()),
        sandboxes_enabled: state.sandboxes.is_some(),
        host_notes: state.host_notes.to_vec(),
        now: crate::store::now(),
    })
}

pub async fn snapshot_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(class): Path<String>,
) -> Result<Json<Dashboard>, ApiError> {
    if !who.may_see(&class) {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(dashboard(&state, &class).await?))
}

/// What one dashboard's stream needs to pick and translate updates.
struct Feed {
    state: AppState,
    class: Class,
    labs: HashSet<String>,
    /// The class's learners: id to display name.
    members: HashMap<String, String>,
    updates: tokio::sync::broadcast::Receiver<Update>,
    tick: tokio::time::Interval,
}

impl Feed {
    async fn next(&mut self) -> Option<Event> {
        loop {
            let event = tokio::select! {
                update = self.updates.recv() => match update {
                    Ok(update) => self.translate(update).await,
                    // This dashboard fell behind: it reloads its snapshot.
                    Err(RecvError::Lagged(_)) => return Some(Event::default().event("resync").data("{}")),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.tick.tick() => Some(self.sandboxes().await),
            };
            if let Some(event) = event {
                return Some(Event::default().event("dashboard").json_data(&event).unwrap_or_default());
            }
        }
    }

    async fn translate(&mut self, update: Update) -> Option<DashboardEvent> {
        if let Update::Attention { class_id, message } = update {
            return (class_id == self.class.id).then_some(DashboardEvent::Attention { message });
        }
        if let Update::Spotlight { class_id, view } = update {
            return (class_id == self.class.id).then_some(DashboardEvent::Spotlight { view });
        }
        if let Update::Joined { learner, class_id } = &update {
            if *class_id != self.class.id {
                return None;
            }
            let learner = self.state.store.learner(learner).await.ok()??;
            self.members.insert(learner.id.clone(), learner.display_name.clone());
            let labs = lab_columns(&self.state, &self.class.settings);
            return Some(DashboardEvent::Joined { row: row(&self.state, learner, &[], &[], &labs).await });
        }
        let name = self.members.get(update.learner()?)?.clone();
        match update {
            Update::Step { learner, state } if self.labs.contains(&state.lab_id) => {
                Some(DashboardEvent::Step { learner, cell: cell(&state), lab_id: state.lab_id, step_id: state.step_id })
            }
            Update::Checking { learner, lab_id, step_id } if self.labs.contains(&lab_id) => {
                Some(DashboardEvent::Checking { learner, lab_id, step_id })
            }
            Update::Quiz { learner, answer } => {
                Some(DashboardEvent::Quiz { learner, cell: quiz_cell(&answer), question_id: answer.question_id })
            }
            Update::Help { learner, request } => {
                let request = request.closed_at.is_none().then(|| help_view(&request, &name));
                Some(DashboardEvent::Help { learner, request })
            }
            Update::Message { learner: Some(learner), message, .. } => Some(DashboardEvent::Chat { learner, message }),
            _ => None,
        }
    }

    async fn sandboxes(&self) -> DashboardEvent {
        let mut sandboxes = BTreeMap::new();
        for learner in self.members.keys() {
            sandboxes.insert(learner.clone(), sandbox_view(&self.state, learner).await);
        }
        DashboardEvent::Sandboxes { sandboxes, spares: self.state.sandboxes.as_ref().map_or(0, |s| s.spares()), now: crate::store::now() }
    }
}

pub async fn events_route(State(state): State<AppState>, Staff(who): Staff, Path(class_id): Path<String>) -> Result<Response, ApiError> {
    if !who.may_see(&class_id) {
        return Err(ApiError::Forbidden);
    }
    // Subscribe before reading the roster, so a learner joining in between is not missed.
    let updates = state.updates.subscribe();
    let class = class(&state, &class_id).await?;
    let members = state.store.learners(&class.id).await?.into_iter().map(|l| (l.id, l.display_name)).collect();
    let labs = lab_columns(&state, &class.settings).into_iter().map(|l| l.id).collect();
    let mut tick = tokio::time::interval(SANDBOXES_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let shutdown = state.shutdown.clone();
    let feed = Feed { state, class, labs, members, updates, tick };
    let stream = futures::stream::unfold(feed, |mut feed| async move { feed.next().await.map(|e| (Ok::<_, Infallible>(e), feed)) })
        .take_until(shutdown.cancelled_owned());
    let stream = crate::metrics::counted("dashboard-events", stream);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}
