//! Classes: staff make them (name, labs and decks, schedule, sandbox lifetime; a staff account
//! that makes one owns it) and those who run a class change it; learners join with its code.

use app::class::{ClassInput, ClassRole, ClassSettings, ClassSummary, StaffView};
use axum::Json;
use axum::extract::{Path, State};

use crate::store::Class;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::ApiError;

/// Sandbox lifetimes a class may choose, in minutes.
const LIFETIME_MINUTES: std::ops::RangeInclusive<u32> = 5..=7 * 24 * 60;

/// Spares a scheduled pre-warm may start, and minutes a learner may add to their sandbox.
const MAX_PREWARM_SPARES: u32 = 200;
const MAX_SELF_EXTEND_MINUTES: u32 = 24 * 60;

/// Refuses settings that name labs or decks the course lacks, or make no sense.
fn validate(state: &AppState, settings: &ClassSettings) -> Result<(), ApiError> {
    if settings.sign_in_required && state.oidc.is_none() {
        return Err(ApiError::BadRequest(app::t!("srv-no-oidc")));
    }
    if settings.prewarm_spares.is_some_and(|n| n > MAX_PREWARM_SPARES) {
        return Err(ApiError::BadRequest(app::t!("srv-max-prewarm", max = MAX_PREWARM_SPARES)));
    }
    if settings.self_extend_minutes.is_some_and(|m| m > MAX_SELF_EXTEND_MINUTES) {
        return Err(ApiError::BadRequest(app::t!("srv-max-self-extend", max = MAX_SELF_EXTEND_MINUTES)));
    }
    for lab in &settings.labs {
        if state.course.lab(lab).is_none() {
            return Err(ApiError::BadRequest(app::t!("srv-no-lab-in-course", lab = format!("{lab:?}"))));
        }
    }
    for deck in &settings.decks {
        if state.course.deck(deck).is_none() {
            return Err(ApiError::BadRequest(app::t!("srv-no-deck-in-course", deck = format!("{deck:?}"))));
        }
    }
    if let (Some(start), Some(end)) = (settings.starts_at, settings.ends_at)
        && end <= start
    {
        return Err(ApiError::BadRequest(app::t!("srv-end-after-start")));
    }
    if let Some(minutes) = settings.sandbox_lifetime_minutes
        && !LIFETIME_MINUTES.contains(&minutes)
    {
        return Err(ApiError::BadRequest(format!(
            "A sandbox lifetime is {} to {} minutes.",
            LIFETIME_MINUTES.start(),
            LIFETIME_MINUTES.end()
        )));
    }
    if settings.recording_quota_mb.is_some_and(|mb| mb == 0 || mb > app::class::MAX_RECORDING_QUOTA_MB) {
        return Err(ApiError::BadRequest(app::t!("srv-recording-quota", max = app::class::MAX_RECORDING_QUOTA_MB)));
    }
    if settings.recording_days == Some(0) {
        return Err(ApiError::BadRequest(app::t!("srv-recording-days")));
    }
    if settings.stuck_minutes == Some(0) {
        return Err(ApiError::BadRequest("\"Stuck after\" is at least one minute.".into()));
    }
    Ok(())
}

async fn summary(state: &AppState, class: Class) -> Result<ClassSummary, ApiError> {
    let learners = state.store.learners(&class.id).await?.len();
    Ok(ClassSummary {
        id: class.id,
        name: class.name,
        join_code: class.join_code,
        settings: class.settings,
        learners,
        created_at: class.created_at,
    })
}

/// The classes `who` may see.
pub async fn list(state: &AppState, who: &StaffView) -> Result<Vec<ClassSummary>, ApiError> {
    let mut out = Vec::new();
    for class in state.store.classes().await?.into_iter().filter(|c| who.may_see(&c.id)) {
        out.push(summary(state, class).await?);
    }
    Ok(out)
}

/// A new class; a staff account that makes it is its owner.
pub async fn create(state: &AppState, who: &StaffView, form: ClassInput) -> Result<ClassSummary, ApiError> {
    super::allowed(who.may_teach())?;
    validate(state, &form.settings)?;
    let code = form.code.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let class = state.store.create_class(&form.name, code, &form.settings).await?;
    if let Some(account) = &who.account {
        state.store.set_class_role(&class.id, account, Some(ClassRole::Owner)).await?;
    }
    tracing::info!(class = %class.name, code = %class.join_code, "class created");
    summary(state, class).await
}

pub async fn update(state: &AppState, who: &StaffView, id: &str, form: ClassInput) -> Result<ClassSummary, ApiError> {
    super::allowed(who.may_run(id))?;
    validate(state, &form.settings)?;
    if state.store.class(id).await?.is_none() {
        return Err(ApiError::NotFound(app::t!("srv-no-class")));
    }
    let class = state.store.update_class(id, &form.name, &form.settings).await?;
    apply_terms(state, &class).await?;
    summary(state, class).await
}

/// Gives the class's learners its sandbox terms (at start, and when the class changes).
pub async fn apply_terms(state: &AppState, class: &Class) -> Result<(), ApiError> {
    if let Some(sandboxes) = &state.sandboxes {
        let terms = crate::sandboxes::ClassTerms::of(class, &state.course);
        for learner in state.store.learners(&class.id).await? {
            sandboxes.set_terms(&learner.id, &terms);
        }
    }
    Ok(())
}

pub async fn list_route(State(state): State<AppState>, Staff(who): Staff) -> Result<Json<Vec<ClassSummary>>, ApiError> {
    // A login-link assistant's class is on their link; the list is for those who teach.
    super::allowed(who.may_teach())?;
    Ok(Json(list(&state, &who).await?))
}

pub async fn create_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    form: super::LaterJson<ClassInput>,
) -> Result<Json<ClassSummary>, ApiError> {
    super::allowed(who.may_teach())?;
    Ok(Json(create(&state, &who, super::body(form)?).await?))
}

pub async fn update_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
    form: super::LaterJson<ClassInput>,
) -> Result<Json<ClassSummary>, ApiError> {
    super::allowed(who.may_run(&id))?;
    Ok(Json(update(&state, &who, &id, super::body(form)?).await?))
}
