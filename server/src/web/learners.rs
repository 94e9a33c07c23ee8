//! Joining a class, continuing elsewhere (resume code or link), leaving: the learner's session
//! endpoints. Each comes as JSON for scripts and as a form post (or link) for the pages; both
//! share the same steps and refusals.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::SignedCookieJar;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::attempts::too_many;
use crate::sandboxes::ClassTerms;
use crate::store::{Class, Identity, Learner, Role, Session, StoreError};
use crate::updates::Update;
use crate::web::auth::{self, LearnerId, MaybeSession};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/join", post(join))
        .route("/join", post(join_form))
        .route("/api/resume", post(resume))
        .route("/resume", post(resume_form))
        .route("/resume/{code}", get(resume_link))
        .route("/api/logout", post(logout))
        .route("/logout", post(logout_form))
        .route("/api/me", get(me))
}

#[derive(Serialize)]
struct Me {
    learner_id: String,
    display_name: String,
    resume_code: String,
    class_id: String,
    class_name: String,
}

/// Why joining or resuming did not work, in words for the learner.
pub(super) enum Refusal {
    Said(StatusCode, String),
    Store(StoreError),
}

impl Refusal {
    fn json(self, state: &AppState) -> Response {
        match self {
            Refusal::Said(status, message) => (status, Json(serde_json::json!({ "error": message }))).into_response(),
            Refusal::Store(e) => state.store_error(e),
        }
    }

    /// A page of its own saying why (where there is no join page to go back to).
    pub(super) fn page(self, state: &AppState, title: &str) -> Response {
        match self {
            Refusal::Said(status, message) => super::notice::notice(status, title, &message, None),
            Refusal::Store(e) => state.store_error(e),
        }
    }

    /// Back to the join page, which shows the reason.
    fn back(self, state: &AppState, next: &str) -> Response {
        self.back_with_code(state, next, "")
    }

    /// Back to the join page with the class code as typed, to correct or to sign in with.
    fn back_with_code(self, state: &AppState, next: &str, code: &str) -> Response {
        match self {
            Refusal::Said(_, message) => {
                let mut query = vec![("next", next), ("error", message.as_str())];
                if !code.is_empty() {
                    query.push(("code", code));
                }
                let query = serde_urlencoded::to_string(query).unwrap_or_default();
                Redirect::to(&format!("/join?{query}")).into_response()
            }
            Refusal::Store(e) => state.store_error(e),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(message) => Refusal::Said(StatusCode::BAD_REQUEST, message),
            e => Refusal::Store(e),
        }
    }
}

/// A local path to go back to (never another site).
pub(super) fn local_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") { next.to_string() } else { "/".into() }
}

/// Who is joining: someone who typed a name, or someone the school's provider vouched for.
#[derive(Clone, Copy)]
pub(super) enum Joiner<'a> {
    Anonymous(&'a str),
    SignedIn(&'a Identity),
}

/// Admits a learner to the class with this code (or this one-time code).
async fn enroll(state: &AppState, client: SocketAddr, code: &str, who: Joiner<'_>) -> Result<(Learner, Class), Refusal> {
    if !state.attempts.allowed(client.ip()) {
        return Err(Refusal::Said(StatusCode::TOO_MANY_REQUESTS, too_many()));
    }
    let name = match who {
        Joiner::Anonymous(name) => name,
        Joiner::SignedIn(identity) => &identity.display_name,
    };
    // A bad name must not use up a one-time code.
    crate::store::valid_display_name(name)?;
    let (class, one_time) = match state.store.class_by_code(code).await? {
        Some(class) if class.settings.codes_only => {
            return Err(Refusal::Said(StatusCode::FORBIDDEN, app::t!("srv-codes-only")));
        }
        Some(class) => (class, None),
        None => match one_time_class(state, code).await? {
            Some((class, code)) => (class, Some(code)),
            None => {
                state.attempts.failed(client.ip());
                return Err(Refusal::Said(StatusCode::NOT_FOUND, app::t!("srv-no-class-code")));
            }
        },
    };
    let learner = admit(state, &class, one_time.as_deref(), who).await?;
    Ok((learner, class))
}

/// Adds a learner to `class` (someone signed in who is already in it continues as that learner),
/// using up `one_time` when the join goes through. A pre-warmed spare sandbox, if any, becomes
/// theirs.
pub(super) async fn admit(state: &AppState, class: &Class, one_time: Option<&str>, who: Joiner<'_>) -> Result<Learner, Refusal> {
    let name = match who {
        Joiner::Anonymous(name) => name,
        Joiner::SignedIn(identity) => &identity.display_name,
    };
    if let Joiner::SignedIn(identity) = who
        && let Some(learner) = state.store.identity_learner(&identity.id, Some(&class.id)).await?
    {
        return Ok(learner);
    }
    if !class.settings.open_at(crate::store::now()) {
        return Err(Refusal::Said(StatusCode::FORBIDDEN, app::t!("srv-class-ended")));
    }
    if class.settings.sign_in_required && matches!(who, Joiner::Anonymous(_)) {
        let with = state.oidc.as_ref().map_or_else(|| app::t!("srv-school-account"), |o| o.label().to_string());
        return Err(Refusal::Said(StatusCode::FORBIDDEN, app::t!("srv-join-signed-in", with = with)));
    }
    // Used up only now that nothing else refuses the join.
    if let Some(code) = one_time {
        redeem(state, code).await?;
    }
    let terms = ClassTerms::of(class, &state.course);
    let spare = state.sandboxes.as_ref().and_then(|s| s.take_spare(&terms));
    let learner = state.store.create_learner(&class.id, name, spare.as_deref()).await?;
    if let Joiner::SignedIn(identity) = who {
        state.store.link_identity(&learner.id, &identity.id).await?;
    }
    if let Some(sandboxes) = &state.sandboxes {
        sandboxes.set_terms(&learner.id, &terms);
    }
    if let Some(code) = one_time {
        state.store.one_time_code_used_by(code, &learner.id).await?;
    }
    tracing::info!(learner = %learner.id, class = %class.name, spare = spare.is_some(), one_time = one_time.is_some(), "learner joined");
    let _ = state.updates.send(Update::Joined { learner: learner.id.clone(), class_id: class.id.clone() });
    Ok(learner)
}

/// The class of a one-time code (used or not) and the code as stored; `None` when `typed` is no
/// such code.
async fn one_time_class(state: &AppState, typed: &str) -> Result<Option<(Class, String)>, Refusal> {
    let Some(code) = crate::store::normal_one_time_code(typed) else { return Ok(None) };
    let Some(class_id) = state.store.one_time_code_class(&code).await? else { return Ok(None) };
    Ok(state.store.class(&class_id).await?.map(|class| (class, code)))
}

/// Uses a one-time code up (once: two learners typing it at once cannot both have it).
async fn redeem(state: &AppState, code: &str) -> Result<(), Refusal> {
    match state.store.redeem_one_time_code(code).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(Refusal::Said(StatusCode::NOT_FOUND, app::t!("srv-no-class-code"))),
        Err(StoreError::Invalid(said)) => Err(Refusal::Said(StatusCode::FORBIDDEN, said)),
        Err(e) => Err(Refusal::Store(e)),
    }
}

async fn by_resume_code(state: &AppState, client: SocketAddr, code: &str) -> Result<Learner, Refusal> {
    if !state.attempts.allowed(client.ip()) {
        return Err(Refusal::Said(StatusCode::TOO_MANY_REQUESTS, too_many()));
    }
    match state.store.learner_by_resume_code(code).await? {
        Some(learner) => Ok(learner),
        None => {
            state.attempts.failed(client.ip());
            Err(Refusal::Said(StatusCode::NOT_FOUND, app::t!("srv-resume-unknown")))
        }
    }
}

/// A new session for the learner, in the cookie (still naming who signed in, if someone did).
pub(super) async fn sign_in(
    state: &AppState,
    jar: SignedCookieJar,
    learner_id: &str,
    identity: Option<&Identity>,
) -> Result<SignedCookieJar, Refusal> {
    let token = match identity {
        Some(identity) => state.store.create_identity_session(&identity.id, Role::Learner, Some(learner_id), auth::LEARNER_TTL).await?,
        None => state.store.create_session(Role::Learner, Some(learner_id), auth::LEARNER_TTL).await?,
    };
    Ok(jar.add(auth::session_cookie(token, auth::LEARNER_TTL, state.secure_cookies)))
}

/// The identity a session was signed in as, if it was.
async fn identity_of(state: &AppState, session: Option<&(String, Session)>) -> Result<Option<Identity>, Refusal> {
    let Some(id) = session.and_then(|(_, s)| s.identity_id.as_deref()) else { return Ok(None) };
    Ok(state.store.identity(id).await?)
}

/// Someone the provider just vouched for, as a learner: into the class whose code they typed,
/// else back into the class they were last in, else to the join page (signed in, to type a
/// class code there).
pub(super) async fn signed_in(
    state: &AppState,
    client: SocketAddr,
    jar: SignedCookieJar,
    identity: &Identity,
    class_code: Option<&str>,
    next: &str,
) -> Response {
    let landed = async {
        let learner = match class_code {
            Some(code) => Some(enroll(state, client, code, Joiner::SignedIn(identity)).await?.0),
            None => state.store.identity_learner(&identity.id, None).await?,
        };
        Ok::<_, Refusal>(learner)
    };
    match landed.await {
        Ok(Some(learner)) => match sign_in(state, jar, &learner.id, Some(identity)).await {
            Ok(jar) => (jar, Redirect::to(next)).into_response(),
            Err(refusal) => refusal.back(state, next),
        },
        // Signed in, in no class yet: the join page asks for the code, and no name.
        Ok(None) => signed_in_without_class(state, jar, identity, None, next).await,
        Err(Refusal::Said(_, said)) => signed_in_without_class(state, jar, identity, Some((said, class_code.unwrap_or(""))), next).await,
        Err(refusal) => refusal.back(state, next),
    }
}

async fn signed_in_without_class(
    state: &AppState,
    jar: SignedCookieJar,
    identity: &Identity,
    error: Option<(String, &str)>,
    next: &str,
) -> Response {
    match state.store.create_identity_session(&identity.id, Role::Learner, None, auth::LEARNER_TTL).await {
        Ok(token) => {
            let jar = jar.add(auth::session_cookie(token, auth::LEARNER_TTL, state.secure_cookies));
            let back = match error {
                Some((error, code)) => Refusal::Said(StatusCode::FORBIDDEN, error).back_with_code(state, next, code),
                None => {
                    Redirect::to(&format!("/join?{}", serde_urlencoded::to_string([("next", next)]).unwrap_or_default())).into_response()
                }
            };
            (jar, back).into_response()
        }
        Err(e) => state.store_error(e),
    }
}

async fn me_of(state: &AppState, learner: Learner) -> Me {
    let class_name = state.class_name(&learner.class_id).await;
    Me {
        learner_id: learner.id,
        display_name: learner.display_name,
        resume_code: learner.resume_code,
        class_id: learner.class_id,
        class_name,
    }
}

#[derive(Deserialize)]
struct JoinRequest {
    code: String,
    #[serde(default)]
    name: String,
}

async fn join(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    MaybeSession(session): MaybeSession,
    Json(request): Json<JoinRequest>,
) -> Response {
    let joined = async {
        let identity = identity_of(&state, session.as_ref()).await?;
        let who = identity.as_ref().map_or(Joiner::Anonymous(&request.name), Joiner::SignedIn);
        let (learner, _) = enroll(&state, client, &request.code, who).await?;
        let jar = sign_in(&state, jar, &learner.id, identity.as_ref()).await?;
        Ok::<_, Refusal>((jar, Json(me_of(&state, learner).await)))
    };
    joined.await.map_or_else(|r| r.json(&state), IntoResponse::into_response)
}

#[derive(Deserialize)]
struct JoinForm {
    code: String,
    /// Left out by someone signed in (their provider's name is used).
    #[serde(default)]
    name: String,
    #[serde(default)]
    next: String,
}

/// The HTML form's post: on success back to `next`, on failure back to the form with the reason.
async fn join_form(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    MaybeSession(session): MaybeSession,
    axum::Form(form): axum::Form<JoinForm>,
) -> Response {
    let next = local_path(&form.next);
    let joined = async {
        let identity = identity_of(&state, session.as_ref()).await?;
        let who = identity.as_ref().map_or(Joiner::Anonymous(&form.name), Joiner::SignedIn);
        let (learner, _) = enroll(&state, client, &form.code, who).await?;
        sign_in(&state, jar, &learner.id, identity.as_ref()).await
    };
    match joined.await {
        Ok(jar) => (jar, Redirect::to(&next)).into_response(),
        Err(refusal) => refusal.back_with_code(&state, &next, form.code.trim()),
    }
}

#[derive(Deserialize)]
struct ResumeRequest {
    code: String,
}

async fn resume(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    Json(request): Json<ResumeRequest>,
) -> Response {
    let resumed = async {
        let learner = by_resume_code(&state, client, &request.code).await?;
        let jar = sign_in(&state, jar, &learner.id, None).await?;
        Ok::<_, Refusal>((jar, Json(me_of(&state, learner).await)))
    };
    resumed.await.map_or_else(|r| r.json(&state), IntoResponse::into_response)
}

#[derive(Deserialize)]
struct ResumeForm {
    code: String,
    #[serde(default)]
    next: String,
}

async fn resume_form(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    axum::Form(form): axum::Form<ResumeForm>,
) -> Response {
    resume_to(&state, client, jar, &form.code, &local_path(&form.next)).await
}

/// The personal link (`/resume/ABCDE-FGHJK`) a learner keeps for another browser or day.
async fn resume_link(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: SignedCookieJar,
    Path(code): Path<String>,
) -> Response {
    resume_to(&state, client, jar, &code, "/").await
}

async fn resume_to(state: &AppState, client: SocketAddr, jar: SignedCookieJar, code: &str, next: &str) -> Response {
    let resumed = async {
        let learner = by_resume_code(state, client, code).await?;
        sign_in(state, jar, &learner.id, None).await
    };
    match resumed.await {
        Ok(jar) => (jar, Redirect::to(next)).into_response(),
        Err(refusal) => refusal.back(state, next),
    }
}

async fn end_session(
    state: &AppState,
    jar: SignedCookieJar,
    session: Option<(String, crate::store::Session)>,
) -> Result<SignedCookieJar, Response> {
    if let Some((token, _)) = session {
        state.store.delete_session(&token).await.map_err(|e| state.store_error(e))?;
    }
    Ok(jar.remove(auth::removal_cookie()))
}

async fn logout(State(state): State<AppState>, jar: SignedCookieJar, MaybeSession(session): MaybeSession) -> Response {
    match end_session(&state, jar, session).await {
        Ok(jar) => (jar, StatusCode::NO_CONTENT).into_response(),
        Err(response) => response,
    }
}

/// Signing out from a page (learner or instructor): back to the start page.
async fn logout_form(State(state): State<AppState>, jar: SignedCookieJar, MaybeSession(session): MaybeSession) -> Response {
    match end_session(&state, jar, session).await {
        Ok(jar) => (jar, Redirect::to("/")).into_response(),
        Err(response) => response,
    }
}

async fn me(State(state): State<AppState>, LearnerId(id): LearnerId) -> Response {
    match state.store.learner(&id).await {
        Ok(Some(learner)) => Json(me_of(&state, learner).await).into_response(),
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(e) => state.store_error(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_local() {
        assert_eq!(super::local_path("/labs/x"), "/labs/x");
        assert_eq!(super::local_path("//evil.example"), "/");
        assert_eq!(super::local_path("/\\evil.example"), "/");
        assert_eq!(super::local_path("https://evil.example"), "/");
    }
}
