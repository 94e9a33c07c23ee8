//! The LMS on the staff's side: the administrator registers LMSs, reads the URLs to give them and
//! rotates the tool's key; a class's staff see its links and the scores sent to the LMS's
//! gradebook (sent, pending, or failed with the LMS's reason), and its teachers read the course
//! roster ahead of class.

use app::class::StaffView;
use app::lti::{ClassLti, LinkView, LtiSetup, PlatformInput, PlatformView, ScoreStatus, ScoreView, ToolUrls};
use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{LaterJson, allowed, body};
use crate::store::lti::{NewPlatform, Platform};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::ApiError;

fn view(p: Platform) -> PlatformView {
    PlatformView {
        id: p.id,
        label: p.label,
        issuer: p.issuer,
        client_id: p.client_id,
        login_url: p.login_url,
        token_url: p.token_url,
        jwks_url: p.jwks_url,
        deployments: p.deployments,
        from_file: p.from_file,
    }
}

fn lti(state: &AppState) -> Result<&std::sync::Arc<crate::lti::Lti>, ApiError> {
    state.lti.as_ref().ok_or_else(|| ApiError::NotFound(app::t!("srv-lti-off")))
}

pub async fn setup(state: &AppState, who: &StaffView) -> Result<LtiSetup, ApiError> {
    allowed(who.is_administrator())?;
    let tool = state.lti.as_ref().map(|lti| ToolUrls {
        login: lti.url("/lti/login"),
        launch: lti.url("/lti/launch"),
        deep_link: lti.url("/lti/launch"),
        jwks: lti.url("/lti/jwks"),
        kid: lti.keys.kid().unwrap_or_default(),
    });
    let platforms = state.store.lti_platforms().await?.into_iter().map(view).collect();
    Ok(LtiSetup { tool, platforms })
}

pub async fn save(state: &AppState, who: &StaffView, input: PlatformInput) -> Result<PlatformView, ApiError> {
    allowed(who.is_administrator())?;
    lti(state)?;
    let new = NewPlatform {
        label: input.label,
        issuer: input.issuer,
        client_id: input.client_id,
        login_url: input.login_url,
        token_url: input.token_url,
        jwks_url: input.jwks_url,
        deployments: input.deployments.split([',', ' ', '\n']).map(str::to_string).collect(),
    };
    let new =
        crate::lti::platforms::checked(new).map_err(|e| ApiError::BadRequest(app::t!("srv-registration-bad", problem = e.to_string())))?;
    let platform = state.store.save_lti_platform(&new, false).await?;
    tracing::info!(platform = %platform.id, issuer = %platform.issuer, "LMS registered");
    Ok(view(platform))
}

pub async fn remove(state: &AppState, who: &StaffView, id: &str) -> Result<(), ApiError> {
    allowed(who.is_administrator())?;
    let platform = state.store.lti_platform(id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-registration")))?;
    if platform.from_file {
        return Err(ApiError::BadRequest(app::t!("srv-registration-from-file")));
    }
    state.store.remove_lti_platform(id).await?;
    tracing::info!(platform = %id, "LMS registration removed");
    Ok(())
}

pub async fn rotate(state: &AppState, who: &StaffView) -> Result<String, ApiError> {
    allowed(who.is_administrator())?;
    lti(state)?.keys.rotate().await.map_err(|e| {
        tracing::error!("rotating the LTI key: {e}");
        ApiError::Unavailable(app::t!("srv-key-failed"))
    })
}

/// The class's links and scores: grades, so for those who run the class.
pub async fn class(state: &AppState, who: &StaffView, class: &str) -> Result<ClassLti, ApiError> {
    allowed(who.may_run(class))?;
    super::dashboard::class(state, class).await?;
    let platforms: std::collections::HashMap<String, String> =
        state.store.lti_platforms().await?.into_iter().map(|p| (p.id, p.label)).collect();
    let title = |lab: &str| state.course.lab(lab).map_or_else(|| lab.to_string(), |(_, l)| l.title.clone());
    let links = state
        .store
        .lti_links_of_class(class)
        .await?
        .into_iter()
        .map(|l| LinkView {
            platform: platforms.get(&l.platform_id).cloned().unwrap_or_default(),
            lab: title(&l.lab_id),
            graded: l.lineitem.is_some(),
        })
        .collect();
    let names: std::collections::HashMap<String, String> =
        state.store.learners(class).await?.into_iter().map(|l| (l.id, l.display_name)).collect();
    let scores = state
        .store
        .lti_scores_of_class(class)
        .await?
        .into_iter()
        .map(|s| ScoreView {
            name: names.get(&s.learner_id).cloned().unwrap_or_default(),
            lab: title(&s.lab_id),
            status: if s.sent() {
                ScoreStatus::Sent
            } else if s.attempts > 0 {
                ScoreStatus::Failed
            } else {
                ScoreStatus::Pending
            },
            earned: s.earned,
            possible: s.possible,
            attempts: s.attempts,
            error: s.last_error,
            sent_at: s.sent_at,
            learner_id: s.learner_id,
        })
        .collect();
    let roster = state.store.lti_contexts_of_class(class).await?.iter().any(|(_, url)| url.is_some());
    Ok(ClassLti { links, scores, roster })
}

/// Reads the course rosters of the class's LMS courses; how many learners that added.
pub async fn roster(state: &AppState, who: &StaffView, class: &str) -> Result<usize, ApiError> {
    allowed(who.may_run(class))?;
    let the_class = super::dashboard::class(state, class).await?;
    let lti = lti(state)?.clone();
    let mut added = 0;
    let mut any = false;
    for (platform_id, url) in state.store.lti_contexts_of_class(class).await? {
        let (Some(url), Some(platform)) = (url, state.store.lti_platform(&platform_id).await?) else { continue };
        any = true;
        added += lti
            .fill_roster(&state.updates, &platform, &the_class, &url)
            .await
            .map_err(|e| ApiError::Unavailable(app::t!("srv-roster-failed", problem = e.to_string())))?;
    }
    if !any {
        return Err(ApiError::BadRequest(app::t!("srv-no-roster")));
    }
    Ok(added)
}

pub async fn setup_route(State(state): State<AppState>, Staff(who): Staff) -> Result<Json<LtiSetup>, ApiError> {
    Ok(Json(setup(&state, &who).await?))
}

pub async fn save_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    input: LaterJson<PlatformInput>,
) -> Result<Json<PlatformView>, ApiError> {
    allowed(who.is_administrator())?;
    Ok(Json(save(&state, &who, body(input)?).await?))
}

pub async fn remove_route(State(state): State<AppState>, Staff(who): Staff, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    remove(&state, &who, &id).await?;
    Ok(Json(json!({ "removed": id })))
}

pub async fn rotate_route(State(state): State<AppState>, Staff(who): Staff) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "kid": rotate(&state, &who).await? })))
}

pub async fn class_route(State(state): State<AppState>, Staff(who): Staff, Path(id): Path<String>) -> Result<Json<ClassLti>, ApiError> {
    Ok(Json(class(&state, &who, &id).await?))
}

pub async fn roster_route(State(state): State<AppState>, Staff(who): Staff, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "added": roster(&state, &who, &id).await? })))
}
