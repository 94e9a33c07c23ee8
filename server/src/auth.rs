//! Who is asking: learners and the instructor hold a session token in a signed, HttpOnly cookie;
//! the server stores only a hash of it. Extractors refuse a request without the role it needs,
//! and say nothing more than that.

use std::path::Path;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};

use crate::store::{Role, Session};
use crate::web::AppState;

pub const COOKIE: &str = "stacklab";
/// Learners come back for homework days later.
pub const LEARNER_TTL: Duration = Duration::from_secs(60 * 24 * 3600);
pub const INSTRUCTOR_TTL: Duration = Duration::from_secs(12 * 3600);

/// The cookie-signing key, made once and kept in the data directory (readable by root only).
pub fn load_or_create_key(data_dir: &Path) -> anyhow::Result<Key> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("cookie.key");
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 64 => return Ok(Key::from(&bytes)),
        Ok(_) => anyhow::bail!("{} is too short: delete it to make a new one (everyone logs in again)", path.display()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        Err(_) => {}
    }
    let key = Key::generate();
    std::fs::create_dir_all(data_dir)?;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
    file.write_all(key.master())?;
    file.sync_all()?;
    Ok(key)
}

/// The cookie that carries `token`.
pub fn session_cookie(token: String, ttl: Duration, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(ttl.as_secs() as i64))
        .build()
}

pub fn removal_cookie() -> Cookie<'static> {
    Cookie::build((COOKIE, "")).path("/").build()
}

/// The caller's session, if their cookie carries a live one.
pub struct MaybeSession(pub Option<(String, Session)>);

impl<S> FromRequestParts<S> for MaybeSession
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let jar = SignedCookieJar::from_headers(&parts.headers, state.cookie_key.clone());
        let Some(token) = jar.get(COOKIE).map(|c| c.value().to_string()) else { return Ok(Self(None)) };
        match state.store.session(&token).await {
            Ok(session) => Ok(Self(session.map(|s| (token, s)))),
            Err(e) => {
                tracing::error!("reading a session: {e}");
                Err(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

/// A request from a learner: their id.
pub struct LearnerId(pub String);

impl<S> FromRequestParts<S> for LearnerId
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match MaybeSession::from_request_parts(parts, state).await?.0 {
            Some((_, Session { role: Role::Learner, learner_id: Some(id), .. })) => Ok(Self(id)),
            _ => Err(StatusCode::UNAUTHORIZED),
        }
    }
}

/// A request from the instructor.
pub struct Instructor;

impl<S> FromRequestParts<S> for Instructor
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Scripts (grade exports) send the login token as a bearer token: no cookie, so no
        // cross-site request can carry it.
        let bearer =
            parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            return if AppState::from_ref(state).instructor.accepts_token(token.trim()) { Ok(Self) } else { Err(StatusCode::FORBIDDEN) };
        }
        match MaybeSession::from_request_parts(parts, state).await?.0 {
            Some((_, Session { role: Role::Instructor, .. })) => Ok(Self),
            // Learners (and strangers) get the same answer, which tells them nothing.
            _ => Err(StatusCode::FORBIDDEN),
        }
    }
}
