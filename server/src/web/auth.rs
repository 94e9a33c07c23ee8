//! Who is asking: learners and the instructor hold a session token in a signed, HttpOnly cookie;
//! the server stores only a hash of it. Extractors refuse a request without the role it needs,
//! and say nothing more than that.

use std::path::Path;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};
use sha2::{Digest, Sha256};

use std::sync::Arc;

use crate::store::{Role, Session, Store};

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

/// The session behind a request's signed cookie, with its token: `None` without a cookie or
/// with one the store no longer knows.
pub async fn session_from(
    headers: &axum::http::HeaderMap,
    key: Key,
    store: &dyn Store,
) -> Result<Option<(String, Session)>, crate::store::StoreError> {
    // Two cookies of this name: one was set by someone else, for a narrower path or from a
    // learner's web preview (cookies do not tell ports apart), to sign the browser in as them.
    // Neither is trusted.
    if cookies_named(headers, COOKIE) > 1 {
        return Ok(None);
    }
    let jar = SignedCookieJar::from_headers(headers, key);
    let Some(token) = jar.get(COOKIE).map(|c| c.value().to_string()) else { return Ok(None) };
    Ok(store.session(&token).await?.map(|s| (token, s)))
}

/// How many cookies called `name` the request carries.
fn cookies_named(headers: &axum::http::HeaderMap, name: &str) -> usize {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter(|pair| pair.split_once('=').is_some_and(|(n, _)| n.trim() == name))
        .count()
}

/// The caller's session, if their cookie carries a live one.
pub struct MaybeSession(pub Option<(String, Session)>);

// Each extractor asks the state for what it uses (the cookie key, the store, the instructor's
// token), not for the whole of it.
impl<S> FromRequestParts<S> for MaybeSession
where
    S: Send + Sync,
    Key: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match session_from(&parts.headers, Key::from_ref(state), Arc::<dyn Store>::from_ref(state).as_ref()).await {
            Ok(session) => Ok(Self(session)),
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
    Key: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match MaybeSession::from_request_parts(parts, state).await?.0 {
            Some((_, Session { role: Role::Learner, learner_id: Some(id), .. })) => Ok(Self(id)),
            _ => Err(StatusCode::UNAUTHORIZED),
        }
    }
}

/// A request from a member of staff: the administrator, a staff account, or a login-link
/// assistant. Their rights differ per class: each route checks with `StaffView`.
pub struct Staff(pub app::class::StaffView);

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
    Key: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    InstructorAccess: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A script's bearer token is the instructor's, or nobody's.
        if parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
            return Instructor::from_request_parts(parts, state).await.map(|_| Self(app::class::StaffView::instructor()));
        }
        let Some((_, session)) = MaybeSession::from_request_parts(parts, state).await?.0 else {
            return Err(StatusCode::FORBIDDEN);
        };
        match staff_of(&session, &*Arc::<dyn Store>::from_ref(state)).await {
            Ok(Some(view)) => Ok(Self(view)),
            Ok(None) => Err(StatusCode::FORBIDDEN),
            Err(e) => {
                tracing::error!("reading an assistant: {e}");
                Err(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

/// A request from someone who teaches (the administrator or a staff account, not a login-link
/// assistant): they present decks, run polls and make classes.
pub struct Teacher(pub app::class::StaffView);

impl<S> FromRequestParts<S> for Teacher
where
    S: Send + Sync,
    Key: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    InstructorAccess: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Staff(who) = Staff::from_request_parts(parts, state).await?;
        if who.may_teach() { Ok(Self(who)) } else { Err(StatusCode::FORBIDDEN) }
    }
}

/// The member of staff a session is (`None`: a learner's, or a removed assistant's or account's).
pub async fn staff_of(session: &Session, store: &dyn Store) -> Result<Option<app::class::StaffView>, crate::store::StoreError> {
    Ok(match (session.role, session.assistant_id.as_deref(), session.staff_id.as_deref()) {
        (Role::Instructor, _, _) => Some(app::class::StaffView::instructor()),
        (Role::Assistant, Some(id), _) => store.assistant(id).await?.map(|a| assistant_view(&a)),
        (Role::Staff, _, Some(id)) => match store.staff_account(id).await? {
            Some(account) => Some(app::class::StaffView {
                assistant: None,
                classes: Some(store.roles_of(&account.id).await?),
                name: account.name,
                account: Some(account.id),
            }),
            None => None,
        },
        (Role::Assistant | Role::Staff, _, _) | (Role::Learner, _, _) => None,
    })
}

pub fn assistant_view(a: &crate::store::Assistant) -> app::class::StaffView {
    app::class::StaffView {
        assistant: Some((a.id.clone(), a.class_id.clone())),
        name: a.name.clone(),
        classes: Some(vec![(a.class_id.clone(), app::class::ClassRole::Assistant)]),
        account: None,
    }
}

/// A request from the server's administrator (the login link, the password, a bearer token):
/// what no class's staff may do (the server's metrics).
pub struct Instructor;

impl<S> FromRequestParts<S> for Instructor
where
    S: Send + Sync,
    Key: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    InstructorAccess: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Scripts (grade exports) send the login token as a bearer token: no cookie, so no
        // cross-site request can carry it.
        let bearer =
            parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            return if InstructorAccess::from_ref(state).accepts_token(token.trim()) { Ok(Self) } else { Err(StatusCode::FORBIDDEN) };
        }
        match MaybeSession::from_request_parts(parts, state).await?.0 {
            Some((_, Session { role: Role::Instructor, .. })) => Ok(Self),
            // Learners (and strangers) get the same answer, which tells them nothing.
            _ => Err(StatusCode::FORBIDDEN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_session_cookie_is_counted() {
        let mut headers = axum::http::HeaderMap::new();
        headers.append(axum::http::header::COOKIE, "theme=dark; stacklab=a".parse().unwrap());
        assert_eq!(cookies_named(&headers, COOKIE), 1);
        headers.append(axum::http::header::COOKIE, "stacklab = b".parse().unwrap());
        assert_eq!(cookies_named(&headers, COOKIE), 2);
        assert_eq!(cookies_named(&headers, "stack"), 0);
    }
}
