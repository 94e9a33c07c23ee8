//! The instructor's way in: a token printed as a login link at every start (as Jupyter does; only
//! its hash is kept), or a password set in the configuration.

use std::net::SocketAddr;
use std::path::Path;

use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::SignedCookieJar;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth;
use crate::store::Role;
use crate::web::AppState;

/// What unlocks instructor access.
#[derive(Clone, Debug, Default)]
pub struct InstructorAccess {
    token_hash: Option<[u8; 32]>,
    password_hash: Option<[u8; 32]>,
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Constant-time comparison: how much of a guess was right must not show in the timing.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl InstructorAccess {
    /// Makes this start's token (or takes `token`), keeps only its hash (also in the data dir,
    /// for operators' tools), and returns the token for the login link.
    pub fn start(data_dir: &Path, token: Option<String>, password: Option<&str>) -> anyhow::Result<(Self, String)> {
        let token = token.unwrap_or_else(crate::store::session_token);
        anyhow::ensure!(token.len() >= 16, "the instructor token needs at least 16 characters");
        let hash = sha256(&token);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(data_dir.join("instructor-token.sha256"), hex)?;
        Ok((Self { token_hash: Some(hash), password_hash: password.filter(|p| !p.is_empty()).map(sha256) }, token))
    }

    pub fn accepts_token(&self, token: &str) -> bool {
        self.token_hash.as_ref().is_some_and(|h| same(h, &sha256(token)))
    }

    pub fn accepts_password(&self, password: &str) -> bool {
        self.password_hash.as_ref().is_some_and(|h| same(h, &sha256(password)))
    }

    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
}

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/instructor/login", get(login_with_token).post(login_with_password))
}

/// The refusal for a guesser at this address who may not try again yet (tokens and passwords
/// count as codes).
fn refusal(state: &AppState, client: SocketAddr) -> Option<Response> {
    (!state.attempts.allowed(client.ip()))
        .then(|| (axum::http::StatusCode::TOO_MANY_REQUESTS, crate::web::attempts::TOO_MANY).into_response())
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
        return (
            axum::http::StatusCode::FORBIDDEN,
            "This login link is not valid (any more): use the one the server printed at its last start.",
        )
            .into_response();
    }
    sign_in(&state, jar).await
}

#[derive(Deserialize)]
struct PasswordForm {
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
    if !state.instructor.accepts_password(&form.password) {
        state.attempts.failed(client.ip());
        return Redirect::to("/instructor?error=wrong-password").into_response();
    }
    sign_in(&state, jar).await
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
