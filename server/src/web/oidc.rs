//! Signing in with the school's OpenID Connect provider. `/auth/oidc/start` sends the browser
//! there, carrying what must come back in a signed cookie of its own; `/auth/oidc/callback` takes
//! the provider's answer: staff land on the instructor's pages, learners in their class (the one
//! whose code they typed, else the one they were in), or on the join page to type a class code.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use serde::Deserialize;

use super::AppState;
use super::learners::{local_path, signed_in};
use super::notice::notice;
use crate::identity::oidc::{PENDING_TTL, Pending, SignInError};
use crate::web::auth;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/auth/oidc/start", get(start)).route("/auth/oidc/callback", get(callback))
}

/// The cookie holding a sign-in on its way (only sent back to `/auth/oidc`).
const PENDING_COOKIE: &str = "stacklab_oidc";
const PENDING_PATH: &str = "/auth/oidc";

fn not_configured() -> Response {
    notice(StatusCode::NOT_FOUND, &app::t!("srv-sign-in-title"), &app::t!("srv-no-sign-in"), Some(("/join", &app::t!("join"))))
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    next: String,
    /// The class code typed on the join form, if any.
    #[serde(default)]
    code: String,
}

async fn start(State(state): State<AppState>, jar: SignedCookieJar, Query(q): Query<StartQuery>) -> Response {
    let Some(oidc) = &state.oidc else { return not_configured() };
    let code = Some(q.code.trim().to_string()).filter(|c| !c.is_empty() && c.len() <= 32);
    match oidc.begin(local_path(&q.next), code).await {
        Ok((url, pending)) => {
            let Ok(value) = serde_json::to_string(&pending) else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
            let cookie = Cookie::build((PENDING_COOKIE, value))
                .path(PENDING_PATH)
                .http_only(true)
                .secure(state.secure_cookies)
                // Lax: the provider's redirect back is a top-level navigation, which carries it.
                .same_site(SameSite::Lax)
                .max_age(time::Duration::seconds(PENDING_TTL.as_secs() as i64))
                .build();
            (jar.add(cookie), Redirect::to(&url)).into_response()
        }
        Err(e) => refused(&e, "/"),
    }
}

/// The provider's redirect back: a code and the state, or an error it names.
#[derive(Deserialize)]
struct Answer {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    Query(answer): Query<Answer>,
) -> Response {
    let Some(oidc) = state.oidc.clone() else { return not_configured() };
    let pending: Option<Pending> = jar.get(PENDING_COOKIE).and_then(|c| serde_json::from_str(c.value()).ok());
    // Used once, whatever happens next.
    let jar = jar.remove(Cookie::build(PENDING_COOKIE).path(PENDING_PATH));
    let back = pending.as_ref().map_or_else(|| "/".to_string(), |p| p.next.clone());
    let vouched = async {
        let pending = pending.ok_or(SignInError::Stale)?;
        if let Some(error) = answer.error {
            return Err(SignInError::Refused(answer.error_description.filter(|d| !d.trim().is_empty()).unwrap_or(error)));
        }
        let (Some(st), Some(code)) = (answer.state, answer.code) else { return Err(SignInError::Stale) };
        Ok((oidc.finish(&pending, &st, &code).await?, pending))
    };
    let (who, pending) = match vouched.await {
        Ok(done) => done,
        Err(e) => return (jar, refused(&e, &back)).into_response(),
    };
    let identity = match state.store.vouched(&who).await {
        Ok(identity) => identity,
        Err(e) => return state.store_error(e),
    };
    tracing::info!(identity = %identity.id, staff = identity.staff, "signed in at the identity provider");
    let to_staff_pages = pending.next.starts_with("/instructor");
    if identity.staff {
        // Their staff account, made at their first sign-in: their classes and roles are its.
        let account = match state.store.staff_account_of(&identity.id).await {
            Ok(Some(account)) => Ok(account),
            Ok(None) => state.store.create_staff_account(&identity.display_name, None, None, Some(&identity.id)).await,
            Err(e) => Err(e),
        };
        let session = match account {
            Ok(account) => state.store.create_staff_session(&account.id, Some(&identity.id), auth::INSTRUCTOR_TTL).await,
            Err(e) => Err(e),
        };
        return match session {
            Ok(token) => {
                let jar = jar.add(auth::session_cookie(token, auth::INSTRUCTOR_TTL, state.secure_cookies));
                (jar, Redirect::to(if to_staff_pages { &pending.next } else { "/instructor" })).into_response()
            }
            Err(e) => state.store_error(e),
        };
    }
    if to_staff_pages {
        let said = app::t!("srv-not-staff", name = identity.display_name.clone());
        let page = notice(StatusCode::FORBIDDEN, &app::t!("srv-not-staff-title"), &said, Some(("/", &app::t!("srv-to-start"))));
        return (jar, page).into_response();
    }
    // The jar goes on with the pending cookie's removal in it.
    signed_in(&state, client, jar, &identity, pending.class_code.as_deref(), &pending.next).await
}

fn refused(e: &SignInError, back: &str) -> Response {
    let status = match e {
        SignInError::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
        SignInError::Refused(_) | SignInError::Stale | SignInError::Untrusted(_) => StatusCode::FORBIDDEN,
    };
    let again = if back.starts_with("/instructor") { "/instructor" } else { "/join" };
    notice(status, &app::t!("srv-sign-in-failed"), &e.to_string(), Some((again, &app::t!("srv-try-again"))))
}
