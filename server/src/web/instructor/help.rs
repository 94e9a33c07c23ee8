//! Helping: reset a learner's sandbox (files wiped only when asked), extend its lifetime, send a
//! message to one learner or the class, pre-warm sandboxes before class.

use app::class::{HelpAction, MessageView, StaffView};
use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::store::{Author, HelpChange, Learner};
use crate::updates::Update;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::ApiError;

/// Spares one pre-warm may start (each is a running sandbox).
const MAX_SPARES: u32 = 200;
/// Minutes one extension may add.
const MAX_EXTEND_MINUTES: u32 = 24 * 60;

#[derive(Debug, Serialize)]
pub struct Done {
    /// What happened, for the instructor.
    pub message: String,
}

fn sandboxes(state: &AppState) -> Result<&std::sync::Arc<crate::sandboxes::Sandboxes>, ApiError> {
    state.sandboxes.as_ref().ok_or_else(|| ApiError::Unavailable(app::t!("srv-no-sandboxes")))
}

async fn learner(state: &AppState, id: &str) -> Result<Learner, ApiError> {
    state.store.learner(id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-learner")))
}

/// Stores a message from the instructor and puts it on the learners' pages.
pub async fn send_message(state: &AppState, class_id: &str, learner: Option<&str>, body: &str) -> Result<MessageView, ApiError> {
    send_as(state, &StaffView::instructor(), class_id, learner, body).await
}

/// The same, from any member of staff (an assistant's messages carry their name).
async fn send_as(state: &AppState, who: &StaffView, class_id: &str, learner: Option<&str>, body: &str) -> Result<MessageView, ApiError> {
    let message = state.store.send_message(class_id, learner, body, Author::Staff(who.author())).await?;
    let view = crate::classroom::message_view(&message);
    let _ = state.updates.send(Update::Message { learner: message.learner_id, class_id: message.class_id, message: view.clone() });
    Ok(view)
}

/// Claims, returns or resolves raised hand `id`; says what happened.
async fn change_hand(state: &AppState, who: &StaffView, id: i64, change: HelpChange) -> Result<String, ApiError> {
    let request = state.store.help_request(id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-help-request")))?;
    if !who.may_see(&request.class_id) {
        return Err(ApiError::Forbidden);
    }
    let name = learner(state, &request.learner_id).await?.display_name;
    let what = match &change {
        HelpChange::Claim(_) => app::t!("srv-helping", name = &name),
        HelpChange::Return => app::t!("srv-back-in-queue", name = &name),
        _ => app::t!("srv-hand-down", name = &name),
    };
    match state.store.change_help(id, change).await? {
        Some(changed) => {
            crate::web::help::announce(state, &changed);
            Ok(what)
        }
        None => Err(ApiError::BadRequest(app::t!("srv-hand-gone", name = name))),
    }
}

/// Whether `who` may do `action` in `class` (the class it concerns; `None` for a raised hand,
/// whose class `change_hand` checks). Helping learners (hands, a message to one learner) takes
/// seeing the class; restarting, resetting, extending, pre-warming, spotlighting and covering
/// the class's pages take running it.
fn allowed(who: &StaffView, action: &HelpAction, class: Option<&str>) -> bool {
    let helping = matches!(
        action,
        HelpAction::Claim { .. } | HelpAction::Unclaim { .. } | HelpAction::Resolve { .. } | HelpAction::Message { learner: Some(_), .. }
    );
    match class {
        Some(class) if helping => who.may_see(class),
        Some(class) => who.may_run(class),
        None => helping,
    }
}

/// The class an action concerns (a learner's, for what is done to one learner).
async fn class_of(state: &AppState, action: &HelpAction) -> Result<Option<String>, ApiError> {
    Ok(match action {
        HelpAction::Reset { learner: id, .. } | HelpAction::Extend { learner: id, .. } | HelpAction::Spotlight { learner: id, .. } => {
            Some(learner(state, id).await?.class_id)
        }
        HelpAction::Message { class, .. }
        | HelpAction::Prewarm { class, .. }
        | HelpAction::EndSpotlight { class }
        | HelpAction::Attention { class, .. } => Some(class.clone()),
        HelpAction::Claim { .. } | HelpAction::Unclaim { .. } | HelpAction::Resolve { .. } => None,
    })
}

pub async fn help(state: &AppState, who: &StaffView, action: HelpAction) -> Result<Done, ApiError> {
    let class = class_of(state, &action).await?;
    if !allowed(who, &action, class.as_deref()) {
        return Err(ApiError::Forbidden);
    }
    let message = match action {
        HelpAction::Reset { learner: id, wipe } => {
            let sandboxes = sandboxes(state)?;
            let learner = learner(state, &id).await?;
            if wipe {
                sandboxes.reset(&id).await?;
            } else {
                sandboxes.stop(&id).await?;
            }
            // Ready again before the learner opens a new shell (unless others wait in line for
            // the place it held: then it starts when the learner's turn comes).
            let started = sandboxes.start_now(&id).await?.is_some();
            let note = if wipe { app::t!("srv-instructor-reset") } else { app::t!("srv-instructor-restarted") };
            send_message(state, &learner.class_id, Some(&id), &note).await?;
            let _ = state.store.log_event(Some(&id), "sandbox_reset", serde_json::json!({ "wipe": wipe })).await;
            format!(
                "{}'s sandbox was {}.{}",
                learner.display_name,
                if wipe { "reset: files deleted, progress kept" } else { "restarted: files and progress kept" },
                if started { "" } else { " The class is full: it starts when their turn in line comes." }
            )
        }
        HelpAction::Extend { learner: id, minutes } => {
            if minutes == 0 || minutes > MAX_EXTEND_MINUTES {
                return Err(ApiError::BadRequest(app::t!("srv-extend-range", max = MAX_EXTEND_MINUTES)));
            }
            let learner = learner(state, &id).await?;
            if !sandboxes(state)?.extend(&id, std::time::Duration::from_secs(u64::from(minutes) * 60)) {
                return Err(ApiError::BadRequest(format!(
                    "{}'s sandbox is not running: it starts again when they use it.",
                    learner.display_name
                )));
            }
            app::t!("srv-extended", name = learner.display_name.clone(), minutes = minutes)
        }
        HelpAction::Message { class, learner: to, body } => {
            if !who.may_see(&class) {
                return Err(ApiError::Forbidden);
            }
            if let Some(to) = &to {
                if learner(state, to).await?.class_id != class {
                    return Err(ApiError::BadRequest(app::t!("srv-not-in-class")));
                }
            } else if state.store.class(&class).await?.is_none() {
                return Err(ApiError::NotFound(app::t!("srv-no-class")));
            }
            send_as(state, who, &class, to.as_deref(), &body).await?;
            if to.is_some() { app::t!("srv-message-sent") } else { app::t!("srv-message-sent-class") }
        }
        HelpAction::Prewarm { class, spares } => {
            if spares > MAX_SPARES {
                return Err(ApiError::BadRequest(app::t!("srv-max-spares", max = MAX_SPARES)));
            }
            let class = super::dashboard::class(state, &class).await?;
            let roster: Vec<String> = state.store.learners(&class.id).await?.into_iter().map(|l| l.id).collect();
            let terms = crate::sandboxes::ClassTerms::of(&class, &state.course);
            let report = sandboxes(state)?.prewarm(roster, spares as usize, &terms).await;
            let mut message = app::t!("srv-prewarmed", started = report.started, running = report.already_running, spares = report.spares);
            if report.no_room > 0 {
                message.push_str(&format!(" {}", app::t!("srv-prewarm-no-room", count = report.no_room)));
            }
            if let Some(first) = report.failed.first() {
                message.push_str(&format!(" {} failed: {first}", report.failed.len()));
            }
            message
        }
        HelpAction::Claim { request } => change_hand(state, who, request, HelpChange::Claim(who.name.clone())).await?,
        HelpAction::Unclaim { request } => change_hand(state, who, request, HelpChange::Return).await?,
        HelpAction::Resolve { request } => change_hand(state, who, request, HelpChange::Resolve).await?,
        HelpAction::Spotlight { learner: id, tab, to_class } => {
            let learner = learner(state, &id).await?;
            let view = app::class::SpotlightView {
                class: learner.class_id.clone(),
                learner: id,
                name: learner.display_name.clone(),
                tab,
                to_class,
                consented: false,
            };
            let asked = state.spotlights.ask(&learner.class_id, view);
            let _ = state.updates.send(Update::Spotlight { class_id: learner.class_id, view: Some(asked) });
            app::t!("srv-spotlight-asked", name = learner.display_name.clone())
        }
        HelpAction::EndSpotlight { class } => {
            if state.spotlights.stop(&class) {
                let _ = state.updates.send(Update::Spotlight { class_id: class, view: None });
            }
            app::t!("srv-spotlight-off")
        }
        HelpAction::Attention { class, message } => {
            let class = super::dashboard::class(state, &class).await?;
            let shown = state.attention.set(&class.id, message.as_deref()).map_err(ApiError::BadRequest)?;
            let said = if shown.is_some() { app::t!("srv-covered") } else { app::t!("srv-released") };
            let _ = state.updates.send(Update::Attention { class_id: class.id, message: shown });
            said.to_string()
        }
    };
    Ok(Done { message })
}

pub async fn help_route(State(state): State<AppState>, Staff(who): Staff, Json(action): Json<HelpAction>) -> Result<Json<Done>, ApiError> {
    Ok(Json(help(&state, &who, action).await?))
}
