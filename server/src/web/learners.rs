//! Joining a class, continuing elsewhere, leaving: the learner's session endpoints.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::SignedCookieJar;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::auth::{self, LearnerId, MaybeSession};
use crate::store::Role;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/join", post(join))
        .route("/join", post(join_form))
        .route("/api/resume", post(resume))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
}

#[derive(Deserialize)]
struct JoinRequest {
    code: String,
    name: String,
}

#[derive(Serialize)]
struct Me {
    learner_id: String,
    display_name: String,
    resume_code: String,
    class_name: String,
}

/// An error a person reads: said plainly, with the status that fits.
fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn join(State(state): State<AppState>, jar: SignedCookieJar, Json(request): Json<JoinRequest>) -> Response {
    let class = match state.store.class_by_code(&request.code).await {
        Ok(Some(class)) => class,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "No class has this code: check it with your instructor."),
        Err(e) => return state.store_error(e),
    };
    let learner = match state.store.create_learner(&class.id, &request.name).await {
        Ok(learner) => learner,
        Err(crate::store::StoreError::Invalid(message)) => return refuse(StatusCode::BAD_REQUEST, &message),
        Err(e) => return state.store_error(e),
    };
    start_session(&state, jar, &learner.id, Me {
        learner_id: learner.id.clone(),
        display_name: learner.display_name,
        resume_code: learner.resume_code,
        class_name: class.name,
    })
    .await
}

#[derive(Deserialize)]
struct JoinForm {
    code: String,
    name: String,
    #[serde(default)]
    next: String,
}

/// The HTML form's post: on success back to `next` (a local path only), on failure back to the
/// form with the reason.
async fn join_form(State(state): State<AppState>, jar: SignedCookieJar, axum::Form(form): axum::Form<JoinForm>) -> Response {
    let next = if form.next.starts_with('/') && !form.next.starts_with("//") { form.next.clone() } else { "/".into() };
    let back = |message: &str| {
        let query = serde_urlencoded::to_string([("next", next.as_str()), ("error", message)]).unwrap_or_default();
        axum::response::Redirect::to(&format!("/join?{query}")).into_response()
    };
    let class = match state.store.class_by_code(&form.code).await {
        Ok(Some(class)) => class,
        Ok(None) => return back("No class has this code: check it with your instructor."),
        Err(e) => return state.store_error(e),
    };
    let learner = match state.store.create_learner(&class.id, &form.name).await {
        Ok(learner) => learner,
        Err(crate::store::StoreError::Invalid(message)) => return back(&message),
        Err(e) => return state.store_error(e),
    };
    match state.store.create_session(Role::Learner, Some(&learner.id), auth::LEARNER_TTL).await {
        Ok(token) => {
            let jar = jar.add(auth::session_cookie(token, auth::LEARNER_TTL, state.secure_cookies));
            (jar, axum::response::Redirect::to(&next)).into_response()
        }
        Err(e) => state.store_error(e),
    }
}

#[derive(Deserialize)]
struct ResumeRequest {
    code: String,
}

async fn resume(State(state): State<AppState>, jar: SignedCookieJar, Json(request): Json<ResumeRequest>) -> Response {
    let learner = match state.store.learner_by_resume_code(&request.code).await {
        Ok(Some(learner)) => learner,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "This resume code is unknown."),
        Err(e) => return state.store_error(e),
    };
    let class_name = state.class_name(&learner.class_id).await;
    start_session(&state, jar, &learner.id.clone(), Me {
        learner_id: learner.id,
        display_name: learner.display_name,
        resume_code: learner.resume_code,
        class_name,
    })
    .await
}

async fn start_session(state: &AppState, jar: SignedCookieJar, learner_id: &str, me: Me) -> Response {
    match state.store.create_session(Role::Learner, Some(learner_id), auth::LEARNER_TTL).await {
        Ok(token) => {
            let jar = jar.add(auth::session_cookie(token, auth::LEARNER_TTL, state.secure_cookies));
            (jar, Json(me)).into_response()
        }
        Err(e) => state.store_error(e),
    }
}

async fn logout(State(state): State<AppState>, jar: SignedCookieJar, MaybeSession(session): MaybeSession) -> Response {
    if let Some((token, _)) = session {
        if let Err(e) = state.store.delete_session(&token).await {
            return state.store_error(e);
        }
    }
    (jar.remove(auth::removal_cookie()), StatusCode::NO_CONTENT).into_response()
}

async fn me(State(state): State<AppState>, LearnerId(id): LearnerId) -> Response {
    match state.store.learner(&id).await {
        Ok(Some(learner)) => {
            let class_name = state.class_name(&learner.class_id).await;
            Json(Me { learner_id: learner.id, display_name: learner.display_name, resume_code: learner.resume_code, class_name })
                .into_response()
        }
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(e) => state.store_error(e),
    }
}
