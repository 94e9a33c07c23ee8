//! The LTI 1.3 endpoints the LMS and the browser use: `/lti/login` (third-party login
//! initiation), `/lti/launch` (the launch message: a learner lands in the lab of the link, a
//! teacher on the class's dashboard or, for deep linking, on the choice of a lab), `/lti/jwks`
//! (the tool's public keys) and `/lti/deep-link` (the choice, answered to the LMS).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use axum_extra::extract::cookie::SignedCookieJar;
use serde::Deserialize;

use super::AppState;
use super::learners::{Joiner, admit, sign_in};
use super::notice::{escape, notice, page};
use crate::lti::deep_linking::{Choosing, Chosen};
use crate::lti::grades::{issuer_of, lab_score};
use crate::lti::{CourseRole, Launch, LaunchError, LoginInitiation, Lti, Message};
use crate::store::lti::{LtiLink, Platform};
use crate::store::{Class, ClassRole, ClassSettings, Identity, StoreError, Vouched};
use crate::web::auth;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/lti/login", get(login_query).post(login_form))
        .route("/lti/launch", post(launch))
        .route("/lti/jwks", get(jwks))
        .route("/lti/deep-link", post(choose))
}

const TITLE: &str = "Stacklab";

fn not_configured() -> Response {
    notice(StatusCode::NOT_FOUND, TITLE, &app::t!("srv-lti-not-set-up"), None)
}

fn refused(e: &LaunchError) -> Response {
    let status = match e {
        LaunchError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
        LaunchError::Incomplete(_) => StatusCode::BAD_REQUEST,
        LaunchError::UnknownPlatform(_) | LaunchError::Stale | LaunchError::Untrusted(..) | LaunchError::Said(_) => StatusCode::FORBIDDEN,
    };
    notice(status, &app::t!("srv-lti-launch-failed"), &e.to_string(), None)
}

async fn login_query(State(state): State<AppState>, Query(login): Query<LoginInitiation>) -> Response {
    begin(&state, &login).await
}

async fn login_form(State(state): State<AppState>, Form(login): Form<LoginInitiation>) -> Response {
    begin(&state, &login).await
}

async fn begin(state: &AppState, login: &LoginInitiation) -> Response {
    let Some(lti) = &state.lti else { return not_configured() };
    match lti.begin(login).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => refused(&e),
    }
}

async fn jwks(State(state): State<AppState>) -> Response {
    match &state.lti {
        Some(lti) => Json(lti.keys.jwks()).into_response(),
        None => not_configured(),
    }
}

/// What the LMS posts to the launch URL: the launch, or why it has none.
#[derive(Deserialize)]
struct LaunchForm {
    #[serde(default)]
    id_token: String,
    #[serde(default)]
    state: String,
    error: Option<String>,
    error_description: Option<String>,
}

async fn launch(State(state): State<AppState>, jar: SignedCookieJar, Form(form): Form<LaunchForm>) -> Response {
    let Some(lti) = state.lti.clone() else { return not_configured() };
    if let Some(error) = form.error {
        let said = form.error_description.filter(|d| !d.trim().is_empty()).unwrap_or(error);
        return refused(&LaunchError::Said(app::t!("srv-lti-not-launched", said = said)));
    }
    let (platform, launch) = match lti.finish(&form.state, &form.id_token).await {
        Ok(done) => done,
        Err(e) => return refused(&e),
    };
    let Some((context_id, title)) = launch.context.clone() else {
        return notice(StatusCode::BAD_REQUEST, TITLE, &app::t!("srv-lti-outside-course"), None);
    };
    let who = Vouched {
        issuer: issuer_of(&platform.id),
        subject: launch.subject.clone(),
        display_name: launch.name.clone(),
        email: launch.email.clone(),
        staff: matches!(launch.role, CourseRole::Staff(_)),
    };
    let landed = async {
        let identity = state.store.vouched(&who).await?;
        let (class, made) = class_of(&state, &platform, &context_id, &title, launch.memberships_url.as_deref()).await?;
        tracing::info!(platform = %platform.label, class = %class.id, identity = %identity.id, role = ?launch.role, "LTI launch");
        Ok::<_, StoreError>((identity, class, made))
    };
    let (identity, class, made) = match landed.await {
        Ok(landed) => landed,
        Err(e) => return state.store_error(e),
    };
    let landing = Landing { platform: &platform, launch: &launch, identity: &identity, class: &class };
    match launch.role {
        CourseRole::Staff(role) => staff_landed(&state, &lti, jar, &landing, made, role).await,
        CourseRole::Learner => learner_landed(&state, &lti, jar, &landing).await,
    }
}

/// A checked launch, and who and where it lands.
struct Landing<'a> {
    platform: &'a Platform,
    launch: &'a Launch,
    identity: &'a Identity,
    class: &'a Class,
}

/// The class of the LMS course, made at the course's first launch (named after it).
async fn class_of(
    state: &AppState,
    platform: &Platform,
    context_id: &str,
    title: &str,
    memberships_url: Option<&str>,
) -> Result<(Class, bool), StoreError> {
    if let Some((class_id, _)) = state.store.lti_context(&platform.id, context_id).await?
        && let Some(class) = state.store.class(&class_id).await?
    {
        if memberships_url.is_some() {
            state.store.set_lti_context(&platform.id, context_id, &class.id, memberships_url).await?;
        }
        return Ok((class, false));
    }
    let name: String = title.chars().filter(|c| !c.is_control()).take(80).collect();
    let name = if name.trim().is_empty() { "Course".to_string() } else { name };
    let made = state.store.create_class(&name, None, &ClassSettings::default()).await?;
    state.store.set_lti_context(&platform.id, context_id, &made.id, memberships_url).await?;
    // Two first launches at once: the course keeps the class the first one mapped.
    let mapped = state.store.lti_context(&platform.id, context_id).await?.map(|(id, _)| id).unwrap_or_else(|| made.id.clone());
    if mapped != made.id {
        return Ok((state.store.class(&mapped).await?.unwrap_or(made), false));
    }
    tracing::info!(class = %made.id, name = %made.name, platform = %platform.label, "class made for an LMS course");
    Ok((made, true))
}

/// The lab a resource link opens: the one its deep-linking answer named (a custom parameter), or
/// the one a teacher chose for it before; kept with the link's gradebook column.
async fn link_lab(
    state: &AppState,
    platform: &Platform,
    class: &Class,
    link_id: &str,
    launch: &Launch,
) -> Result<Option<String>, StoreError> {
    let saved = state.store.lti_link(&platform.id, link_id).await?;
    let named = launch.lab.clone().filter(|lab| state.course.lab(lab).is_some());
    let Some(lab) = named.or(saved.map(|l| l.lab_id)) else { return Ok(None) };
    state
        .store
        .save_lti_link(&LtiLink {
            platform_id: platform.id.clone(),
            link_id: link_id.to_string(),
            class_id: class.id.clone(),
            lab_id: lab.clone(),
            lineitem: launch.lineitem.clone(),
        })
        .await?;
    Ok(Some(lab))
}

async fn learner_landed(state: &AppState, lti: &Arc<Lti>, jar: SignedCookieJar, landing: &Landing<'_>) -> Response {
    let Landing { platform, launch, identity, class } = *landing;
    let Message::ResourceLink { id: link_id, .. } = &launch.message else {
        return notice(StatusCode::FORBIDDEN, TITLE, &app::t!("srv-lti-teachers-only"), None);
    };
    let lab = match link_lab(state, platform, class, link_id, launch).await {
        Ok(lab) => lab,
        Err(e) => return state.store_error(e),
    };
    let learner = match admit(state, class, None, Joiner::SignedIn(identity)).await {
        Ok(learner) => learner,
        Err(refusal) => return refusal.page(state, TITLE),
    };
    let jar = match sign_in(state, jar, &learner.id, Some(identity)).await {
        Ok(jar) => jar,
        Err(refusal) => return refusal.page(state, TITLE),
    };
    // A link given its gradebook column after the learner worked: their score goes there now.
    tokio::spawn({
        let (lti, course, learner) = (lti.clone(), state.course.clone(), learner.id.clone());
        async move {
            if let Err(e) = lti.learner_changed(&course, &learner).await {
                tracing::error!("LTI scores: {e}");
            }
        }
    });
    let to = lab.map_or_else(|| "/".to_string(), |lab| format!("/labs/{lab}"));
    (jar, Redirect::to(&to)).into_response()
}

async fn staff_landed(
    state: &AppState,
    lti: &Arc<Lti>,
    jar: SignedCookieJar,
    landing: &Landing<'_>,
    made: bool,
    role: ClassRole,
) -> Response {
    let Landing { platform, launch, identity, class } = *landing;
    let signed_in = async {
        let account = match state.store.staff_account_of(&identity.id).await? {
            Some(account) => account,
            None => state.store.create_staff_account(&identity.display_name, None, None, Some(&identity.id)).await?,
        };
        let staff = state.store.class_staff(&class.id).await?;
        let had = staff.iter().find(|(id, _)| *id == account.id).map(|(_, r)| *r);
        let owned = staff.iter().any(|(_, r)| *r == ClassRole::Owner);
        // The course's first teacher owns its class; nobody loses ownership by launching again.
        let role =
            if had == Some(ClassRole::Owner) || (role == ClassRole::Instructor && (made || !owned)) { ClassRole::Owner } else { role };
        if had != Some(role) {
            state.store.set_class_role(&class.id, &account.id, Some(role)).await?;
        }
        let token = state.store.create_staff_session(&account.id, Some(&identity.id), auth::INSTRUCTOR_TTL).await?;
        Ok::<_, StoreError>(jar.add(auth::session_cookie(token, auth::INSTRUCTOR_TTL, state.secure_cookies)))
    };
    let jar = match signed_in.await {
        Ok(jar) => jar,
        Err(e) => return state.store_error(e),
    };
    if let Some(url) = launch.memberships_url.clone() {
        let (lti, updates, platform, class) = (lti.clone(), state.updates.clone(), platform.clone(), class.clone());
        tokio::spawn(async move { lti.fill_roster(&updates, &platform, &class, &url).await });
    }
    match &launch.message {
        Message::DeepLinking { return_url, data } => {
            let choosing = Choosing {
                platform_id: platform.id.clone(),
                deployment_id: launch.deployment_id.clone(),
                return_url: return_url.clone(),
                data: data.clone(),
            };
            match lti.begin_choice(&choosing).await {
                Ok(token) => (jar, chooser(state, platform, class, &token)).into_response(),
                Err(e) => refused(&e),
            }
        }
        Message::ResourceLink { id, .. } => {
            if let Err(e) = link_lab(state, platform, class, id, launch).await {
                return state.store_error(e);
            }
            (jar, Redirect::to(&format!("/instructor/classes/{}", class.id))).into_response()
        }
    }
}

/// The lab's points: the most its gradebook column can hold.
fn points(state: &AppState, lab: &labs::load::Lab) -> i64 {
    lab_score(lab, &state.course.questions, &[], &[]).possible
}

/// The page where a teacher chooses the lab a new link in the LMS opens.
fn chooser(state: &AppState, platform: &Platform, class: &Class, token: &str) -> Response {
    let labs: String = state
        .course
        .labs()
        .filter(|lab| class.settings.has_lab(&lab.id))
        .map(|lab| {
            format!(
                "<li><button type=\"submit\" name=\"lab\" value=\"{id}\">{title}</button> {points} {summary}</li>",
                id = escape(&lab.id),
                title = escape(&lab.title),
                points = escape(&app::t!("srv-lti-points", points = points(state, lab))),
                summary = escape(&lab.summary),
            )
        })
        .collect();
    let body = format!(
        "<p>{choose}</p>\
         <form method=\"post\" action=\"/lti/deep-link\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <ul>{labs}</ul><p><button type=\"submit\" name=\"cancel\" value=\"1\">{cancel}</button></p></form>",
        choose = escape(&app::t!("srv-lti-choose", lms = platform.label.clone())),
        cancel = escape(&app::t!("srv-cancel")),
        token = escape(token),
    );
    page(StatusCode::OK, &app::t!("srv-lti-add-lab"), &body)
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    token: String,
    lab: Option<String>,
    cancel: Option<String>,
}

/// The teacher's choice, answered to the LMS: a page that posts the signed answer there.
async fn choose(State(state): State<AppState>, Form(choice): Form<Choice>) -> Response {
    let Some(lti) = state.lti.clone() else { return not_configured() };
    let (platform, choosing) = match lti.take_choice(&choice.token).await {
        Ok(taken) => taken,
        Err(e) => return refused(&e),
    };
    let lab = match (&choice.cancel, &choice.lab) {
        (Some(_), _) | (None, None) => None,
        (None, Some(id)) => match state.course.lab(id) {
            Some((_, lab)) => Some(lab),
            None => return notice(StatusCode::BAD_REQUEST, TITLE, &app::t!("srv-lti-no-lab"), None),
        },
    };
    let chosen = lab.map(|lab| Chosen { lab_id: &lab.id, title: &lab.title, summary: &lab.summary, points: points(&state, lab) });
    let jwt = match lti.answer(&platform, &choosing, chosen.as_ref()) {
        Ok(jwt) => jwt,
        Err(e) => {
            tracing::error!("LTI deep linking: {e}");
            return refused(&LaunchError::Said(app::t!("srv-lti-not-signed")));
        }
    };
    let body = format!(
        "<p>{back}</p><form method=\"post\" action=\"{url}\"><input type=\"hidden\" name=\"JWT\" value=\"{jwt}\">\
         <noscript><button type=\"submit\">{next}</button></noscript></form><script>document.forms[0].submit()</script>",
        back = escape(&app::t!("srv-lti-back", lms = platform.label.clone())),
        next = escape(&app::t!("resume-continue")),
        url = escape(&choosing.return_url),
        jwt = escape(&jwt),
    );
    page(StatusCode::OK, &app::t!("srv-lti-add-lab"), &body)
}
