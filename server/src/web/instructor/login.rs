//! The instructor's way in: a token printed as a login link at every start (as Jupyter does; only
//! its hash is kept), or a password set in the configuration.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::SignedCookieJar;
use serde::Deserialize;

use crate::store::Role;
use crate::web::AppState;
use crate::web::auth;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/instructor/login", get(login_with_token).post(login_with_password))
}

/// The refusal for a guesser at this address who may not try again yet (tokens and passwords
/// count as codes).
fn refusal(state: &AppState, client: SocketAddr) -> Option<Response> {
    (!state.attempts.allowed(client.ip()))
        .then(|| (axum::http::StatusCode::TOO_MANY_REQUESTS, crate::web::attempts::too_many()).into_response())
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

async fn login_with_token(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    Query(q): Query<TokenQuery>,
) -> Response {
    if let Some(refused) = refusal(&state, client) {
        return refused;
    }
    if !state.instructor.accepts_token(&q.token) {
        state.attempts.failed(client.ip());
        return (axum::http::StatusCode::FORBIDDEN, app::t!("srv-login-link-invalid")).into_response();
    }
    sign_in(&state, jar).await
}

#[derive(Deserialize)]
struct PasswordForm {
    /// A staff account's login; without it, the password is the administrator's.
    #[serde(default)]
    login: String,
    password: String,
}

async fn login_with_password(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    axum::Form(form): axum::Form<PasswordForm>,
) -> Response {
    if let Some(refused) = refusal(&state, client) {
        return refused;
    }
    if !form.login.trim().is_empty() {
        return account_sign_in(&state, client, jar, &form.login, form.password).await;
    }
    if !state.instructor.accepts_password(&form.password) {
        state.attempts.failed(client.ip());
        return Redirect::to("/instructor?error=wrong-password").into_response();
    }
    sign_in(&state, jar).await
}

/// A staff account's login and password (the same answer for an unknown login as for a wrong
/// password, and as slow).
async fn account_sign_in(state: &AppState, client: SocketAddr, jar: SignedCookieJar, login: &str, password: String) -> Response {
    let account = match state.store.staff_account_by_login(login).await {
        Ok(account) => account,
        Err(e) => return state.store_error(e),
    };
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    if !crate::identity::password::verify(password, hash).await {
        state.attempts.failed(client.ip());
        return Redirect::to("/instructor?error=wrong-password").into_response();
    }
    let Some(account) = account else { return Redirect::to("/instructor?error=wrong-password").into_response() };
    match state.store.create_staff_session(&account.id, None, auth::INSTRUCTOR_TTL).await {
        Ok(token) => {
            let jar = jar.add(auth::session_cookie(token, auth::INSTRUCTOR_TTL, state.secure_cookies));
            (jar, Redirect::to("/instructor")).into_response()
        }
        Err(e) => state.store_error(e),
    }
}

async fn sign_in(state: &AppState, jar: SignedCookieJar) -> Response {
    match state.store.create_session(Role::Instructor, None, auth::INSTRUCTOR_TTL).await {
        Ok(token) => {
            let jar = jar.add(auth::session_cookie(token, auth::INSTRUCTOR_TTL, state.secure_cookies));
            (jar, Redirect::to("/instructor")).into_response()
        }
        Err(e) => state.store_error(e),
    }
}
