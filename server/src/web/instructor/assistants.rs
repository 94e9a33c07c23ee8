//! Teaching assistants: the instructor makes a login for one class (a name; the login link is
//! shown once, only its hash is kept), lists and removes them. An assistant signs in at
//! `/staff/login?token=...` and lands on their class's dashboard.

use std::net::SocketAddr;

use app::class::AssistantView;
use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::SignedCookieJar;
use serde::Deserialize;

use crate::web::AppState;
use crate::web::auth::{self, Staff};
use crate::web::error::ApiError;

/// Assistants one class may have: each is a login into it.
const MAX_PER_CLASS: usize = 20;

fn view(a: &crate::store::Assistant, token: Option<String>) -> AssistantView {
    AssistantView { id: a.id.clone(), name: a.name.clone(), link: token.map(|t| format!("/staff/login?token={t}")) }
}

pub async fn list(state: &AppState, class: &str) -> Result<Vec<AssistantView>, ApiError> {
    super::dashboard::class(state, class).await?;
    Ok(state.store.assistants(class).await?.iter().map(|a| view(a, None)).collect())
}

pub async fn add(state: &AppState, class: &str, name: &str) -> Result<AssistantView, ApiError> {
    super::dashboard::class(state, class).await?;
    if state.store.assistants(class).await?.len() >= MAX_PER_CLASS {
        return Err(ApiError::BadRequest(app::t!("srv-max-assistants", max = MAX_PER_CLASS)));
    }
    let (assistant, token) = state.store.create_assistant(class, name).await?;
    tracing::info!(class, assistant = %assistant.id, "assistant added");
    Ok(view(&assistant, Some(token)))
}

pub async fn remove(state: &AppState, who: &app::class::StaffView, id: &str) -> Result<(), ApiError> {
    super::allowed(who.may_teach())?;
    let assistant = state.store.assistant(id).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-assistant")))?;
    super::allowed(who.may_run(&assistant.class_id))?;
    state.store.remove_assistant(id).await?;
    Ok(())
}

pub async fn list_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(class): Path<String>,
) -> Result<Json<Vec<AssistantView>>, ApiError> {
    super::allowed(who.may_run(&class))?;
    Ok(Json(list(&state, &class).await?))
}

#[derive(Deserialize)]
pub struct NewAssistant {
    name: String,
}

pub async fn add_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(class): Path<String>,
    body: super::LaterJson<NewAssistant>,
) -> Result<Json<AssistantView>, ApiError> {
    super::allowed(who.may_run(&class))?;
    let body = super::body(body)?;
    Ok(Json(add(&state, &class, &body.name).await?))
}

pub async fn remove_route(State(state): State<AppState>, Staff(who): Staff, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    remove(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: String,
}

/// An assistant's login link: a session, then their class. Wrong tokens count as failed codes.
pub async fn login_route(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    Query(q): Query<TokenQuery>,
) -> Response {
    if !state.attempts.allowed(client.ip()) {
        return (StatusCode::TOO_MANY_REQUESTS, crate::web::attempts::too_many()).into_response();
    }
    let assistant = match state.store.assistant_by_token(&q.token).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            state.attempts.failed(client.ip());
            return (StatusCode::FORBIDDEN, app::t!("srv-assistant-link-invalid")).into_response();
        }
        Err(e) => return state.store_error(e),
    };
    match state.store.create_assistant_session(&assistant.id, auth::INSTRUCTOR_TTL).await {
        Ok(token) => {
            let jar = jar.add(auth::session_cookie(token, auth::INSTRUCTOR_TTL, state.secure_cookies));
            (jar, Redirect::to(&format!("/instructor/classes/{}", assistant.class_id))).into_response()
        }
        Err(e) => state.store_error(e),
    }
}
