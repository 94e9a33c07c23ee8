//! Web previews of learners' services (the listeners are `previews`'): a workbook link
//! (`/preview/8080/`) opens the learner's preview listener and sends the browser there; the
//! instructor opens any learner's the same way from the dashboard; `/api/preview/ports` lists
//! what the learner's sandbox listens on, for the Ports menu.
//!
//! What a preview listener serves: every request, whatever its method and path, is the learner's
//! service's, once the browser's session says it is that learner (or the instructor), or it
//! holds the learner's share link for that port (`/share/<token>/` sends it to the listener,
//! which trades the token for a cookie of that listener's). Nobody else gets through, whatever
//! URL they hold.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::previews::{Activity, PreviewError, proxy};
use crate::store::{Role, Session};
use crate::web::AppState;
use crate::web::auth::{COOKIE, LearnerId, Staff};
use crate::web::error::ApiError;

/// What a preview's request body may weigh (an upload to the learner's app).
const BODY_LIMIT: usize = 16 << 20;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/preview", get(ports_page))
        .route("/preview/{port}", get(open_own))
        .route("/preview/{port}/", get(open_own))
        .route("/preview/{port}/{*path}", get(open_own))
        .route("/api/preview/ports", get(ports))
        .route("/share/{token}", get(open_shared))
        .route("/share/{token}/", get(open_shared))
        .route("/share/{token}/{*path}", get(open_shared))
        .route("/instructor/learners/{learner}/preview/{port}", get(open_learners))
        .route("/instructor/learners/{learner}/preview/{port}/", get(open_learners))
        .route("/instructor/learners/{learner}/preview/{port}/{*path}", get(open_learners))
}

#[derive(Debug, Serialize)]
pub struct Ports {
    /// Ports the sandbox listens on (that a preview reaches), ascending.
    pub listening: Vec<u16>,
    /// Ports with a preview open.
    pub open: Vec<u16>,
}

async fn ports(State(state): State<AppState>, LearnerId(learner): LearnerId) -> Result<Json<Ports>, ApiError> {
    Ok(Json(ports_of(&state, &learner).await?))
}

pub(crate) async fn ports_of(state: &AppState, learner: &str) -> Result<Ports, ApiError> {
    let sandboxes = state.sandboxes.as_ref().ok_or_else(|| ApiError::Unavailable(app::t!("srv-no-sandboxes")))?;
    let listening = match sandboxes.listening(learner).await {
        Ok(ports) => ports,
        Err(sandbox::Error::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let open = state.previews.as_ref().map(|p| p.of(learner).into_iter().map(|(port, _)| port).collect()).unwrap_or_default();
    Ok(Ports { listening, open })
}

/// The learner's share links, by port.
pub(crate) fn shared_by(state: &AppState, learner: &str) -> Vec<app::services::SharedPort> {
    let Some(previews) = &state.previews else { return Vec::new() };
    previews
        .shares
        .of(learner, std::time::Instant::now())
        .into_iter()
        .map(|s| app::services::SharedPort { port: s.port, link: share_link(&s.token) })
        .collect()
}

fn share_link(token: &str) -> String {
    format!("/share/{token}/")
}

/// Starts or stops sharing the learner's preview of `port`; the link when shared.
pub(crate) fn share(state: &AppState, learner: &str, port: u16, on: bool) -> Result<Option<String>, ApiError> {
    let previews = state.previews.as_ref().ok_or_else(|| ApiError::Unavailable(app::t!("srv-previews-off")))?;
    if port == 0 {
        return Err(ApiError::BadRequest(app::t!("srv-preview-port")));
    }
    if !on {
        previews.shares.stop(learner, port);
        return Ok(None);
    }
    let share = previews.shares.share(learner, port, std::time::Instant::now());
    tracing::info!(%learner, port, "preview shared");
    Ok(Some(share_link(&share.token)))
}

#[derive(serde::Deserialize)]
struct SharedPath {
    token: String,
    #[serde(default)]
    path: String,
}

/// A share link: the learner's preview, for whoever holds the link.
async fn open_shared(State(state): State<AppState>, Path(shared): Path<SharedPath>, headers: HeaderMap, uri: Uri) -> Response {
    let share = state.previews.as_ref().and_then(|p| p.shares.find(&shared.token, std::time::Instant::now()));
    let Some(share) = share else {
        return page(StatusCode::GONE, &app::t!("srv-share-ended"));
    };
    open(&state, &share.learner, PreviewPath { port: share.port, path: shared.path }, &headers, &uri, Some(&shared.token)).await
}

#[derive(serde::Deserialize)]
struct PortQuery {
    port: Option<String>,
}

/// `{{TRAFFIC_SELECTOR}}`'s page: the learner's ports, each a link to its preview, and a form
/// for any other (the Ports menu's form lands here too: `?port=N` goes to that preview).
async fn ports_page(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    axum::extract::Query(query): axum::extract::Query<PortQuery>,
) -> Result<Response, ApiError> {
    if let Some(port) = query.port {
        return match port.trim().parse::<u16>() {
            Ok(port) if port > 0 => Ok(Redirect::to(&format!("/preview/{port}/")).into_response()),
            _ => Err(ApiError::BadRequest(app::t!("srv-not-a-port", port = format!("{port:?}")))),
        };
    }
    let ports = ports_of(&state, &learner).await?;
    let items: String = ports.listening.iter().map(|p| format!("<li><a href=\"/preview/{p}/\">Port {p}</a></li>")).collect();
    let body = if items.is_empty() {
        "<p>Nothing in your sandbox listens on a TCP port yet. Start your service, then reload this page.</p>".to_string()
    } else {
        format!("<ul>{items}</ul>")
    };
    let form = "<form action=\"/preview\" method=\"get\"><label>Other port <input type=\"number\" name=\"port\" min=\"1\" \
                max=\"65535\" required></label> <button type=\"submit\">Open</button></form>";
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Your ports</title></head>\
         <body><main><h1>Ports your sandbox listens on</h1>{body}{form}</main></body></html>"
    ))
    .into_response())
}

async fn open_own(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path(path): Path<PreviewPath>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    open(&state, &learner, path, &headers, &uri, None).await
}

async fn open_learners(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(path): Path<LearnersPreviewPath>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let LearnersPreviewPath { learner, port, path } = path;
    if !runs_class_of(&state, &who, &learner).await {
        return page(StatusCode::FORBIDDEN, &app::t!("srv-preview-not-yours"));
    }
    open(&state, &learner, PreviewPath { port, path }, &headers, &uri, None).await
}

#[derive(serde::Deserialize)]
struct PreviewPath {
    port: u16,
    #[serde(default)]
    path: String,
}

#[derive(serde::Deserialize)]
struct LearnersPreviewPath {
    learner: String,
    port: u16,
    #[serde(default)]
    path: String,
}

/// Opens (or finds) the preview and sends the browser to it, on the host name the browser used;
/// with a share link's token for the listener to take.
async fn open(state: &AppState, learner: &str, target: PreviewPath, headers: &HeaderMap, uri: &Uri, share: Option<&str>) -> Response {
    let Some(previews) = state.previews.clone() else {
        return (StatusCode::SERVICE_UNAVAILABLE, app::t!("srv-previews-off")).into_response();
    };
    if target.port == 0 {
        return (StatusCode::BAD_REQUEST, "A preview needs a port from 1 to 65535.").into_response();
    }
    let serving = state.clone();
    let owner = learner.to_string();
    let port = target.port;
    let opened = previews.open(learner, port, move |listener, activity, stop| serve(serving, owner, port, listener, activity, stop)).await;
    let host_port = match opened {
        Ok(host_port) => host_port,
        Err(e @ (PreviewError::Off | PreviewError::NoPort(_))) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
        Err(e) => {
            tracing::error!(%learner, port, "{e}");
            return (StatusCode::SERVICE_UNAVAILABLE, app::t!("srv-preview-cannot")).into_response();
        }
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(host_name).unwrap_or("localhost");
    let mut query: Vec<String> = uri.query().map(|q| q.split('&').map(str::to_string).collect()).unwrap_or_default();
    if let Some(token) = share {
        query.push(format!("{SHARE_PARAM}={token}"));
    }
    let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
    Redirect::to(&format!("http://{host}:{host_port}/{}{query}", target.path)).into_response()
}

/// The host in a `Host` header, without its port (`[::1]:3000` gives `[::1]`).
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon) if !host[colon..].contains(']') => &host[..colon],
        _ => host,
    }
}

/// The query parameter that brings a share link's token to the preview listener.
const SHARE_PARAM: &str = "stacklab-share";

/// Serves one preview listener until `stop`.
async fn serve(state: AppState, owner: String, port: u16, listener: TcpListener, activity: Arc<Activity>, stop: CancellationToken) {
    let host_port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let shared = Arc::new(Listening { state, owner, port, host_port, activity });
    let app = axum::Router::new()
        .fallback(move |request: Request| {
            let shared = shared.clone();
            async move { shared.handle(request).await }
        })
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT));
    crate::web::listen::serve(listener, app, stop.cancelled_owned()).await;
}

struct Listening {
    state: AppState,
    owner: String,
    port: u16,
    /// The listener's own port: its share cookie's name has it, so that shares of several
    /// previews (one host, cookies shared across ports) do not overwrite each other.
    host_port: u16,
    activity: Arc<Activity>,
}

impl Listening {
    async fn handle(&self, request: Request) -> Response {
        self.activity.touch();
        if let Some(token) = share_token(request.uri()) {
            return self.take_share(&token, request.uri());
        }
        match self.viewer(request.headers()).await {
            Ok(()) => {}
            Err(refused) => return refused,
        }
        let Some(sandboxes) = &self.state.sandboxes else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
        let stream = match sandboxes.connect(&self.owner, self.port).await {
            Ok(stream) => stream,
            Err(sandbox::Error::NotFound(_)) => {
                return page(StatusCode::SERVICE_UNAVAILABLE, &app::t!("srv-preview-not-running"));
            }
            Err(e) => {
                tracing::debug!(learner = %self.owner, port = self.port, "preview: {}", e.report());
                return page(StatusCode::BAD_GATEWAY, &app::t!("srv-preview-no-answer", port = self.port));
            }
        };
        match proxy::forward(stream, request, COOKIE, self.activity.hold()).await {
            Ok(response) => response,
            Err(e) => {
                tracing::debug!(learner = %self.owner, port = self.port, "preview: {e}");
                page(StatusCode::BAD_GATEWAY, &app::t!("srv-preview-not-http", port = self.port))
            }
        }
    }

    /// Lets the preview's learner, the instructor and holders of its share link through; anyone
    /// else gets a page saying so.
    async fn viewer(&self, headers: &HeaderMap) -> Result<(), Response> {
        let session = crate::web::auth::session_from(headers, self.state.cookie_key.clone(), self.state.store.as_ref()).await;
        match &session {
            Ok(Some((_, Session { role: Role::Instructor, .. }))) => return Ok(()),
            Ok(Some((_, s @ Session { role: Role::Staff, .. }))) => {
                let who = crate::web::auth::staff_of(s, self.state.store.as_ref()).await.ok().flatten();
                if let Some(who) = who
                    && runs_class_of(&self.state, &who, &self.owner).await
                {
                    return Ok(());
                }
            }
            Ok(Some((_, Session { role: Role::Learner, learner_id: Some(id), .. }))) if *id == self.owner => return Ok(()),
            _ if self.shared_with(headers) => return Ok(()),
            _ => {}
        }
        match session {
            Ok(Some(_)) => Err(page(StatusCode::FORBIDDEN, &app::t!("srv-preview-other"))),
            Ok(None) => Err(page(StatusCode::UNAUTHORIZED, &app::t!("srv-preview-signed-out"))),
            Err(e) => Err(self.state.store_error(e)),
        }
    }

    fn share_cookie(&self) -> String {
        format!("{COOKIE}-share-{}", self.host_port)
    }

    /// Whether the browser holds a share cookie of this listener's that the learner's share of
    /// this port still honours.
    fn shared_with(&self, headers: &HeaderMap) -> bool {
        let Some(previews) = &self.state.previews else { return false };
        let name = self.share_cookie();
        let now = std::time::Instant::now();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(n, token)| n == name && previews.shares.lets_in(token, &self.owner, self.port, now))
    }

    /// A share link arriving: its token becomes this listener's cookie, and the browser goes on
    /// to the same address without it (so it is not in the app's logs or the address bar).
    fn take_share(&self, token: &str, uri: &Uri) -> Response {
        let honoured =
            self.state.previews.as_ref().is_some_and(|p| p.shares.lets_in(token, &self.owner, self.port, std::time::Instant::now()));
        if !honoured {
            return page(StatusCode::GONE, &app::t!("srv-share-ended"));
        }
        let rest: Vec<&str> =
            uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty() && !p.starts_with(&format!("{SHARE_PARAM}="))).collect();
        let to = if rest.is_empty() { uri.path().to_string() } else { format!("{}?{}", uri.path(), rest.join("&")) };
        let lifetime = crate::previews::shares::LIFETIME.as_secs();
        let cookie = format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={lifetime}", self.share_cookie());
        (StatusCode::SEE_OTHER, [(header::LOCATION, to), (header::SET_COOKIE, cookie), (header::CACHE_CONTROL, "no-store".into())])
            .into_response()
    }
}

/// The share token in a preview request's query, if any.
fn share_token(uri: &Uri) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| pair.strip_prefix(SHARE_PARAM)?.strip_prefix('=')).map(str::to_string)
}

/// Whether `who` runs the class `learner` is in.
async fn runs_class_of(state: &AppState, who: &app::class::StaffView, learner: &str) -> bool {
    matches!(state.store.learner(learner).await, Ok(Some(l)) if who.may_run(&l.class_id))
}

/// A short page of Stacklab's own in a preview's place.
fn page(status: StatusCode, said: &str) -> Response {
    super::notice::notice(status, &app::t!("srv-preview-title"), said, None)
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_lose_their_port() {
        assert_eq!(host_name("lab.school.org:3000"), "lab.school.org");
        assert_eq!(host_name("lab.school.org"), "lab.school.org");
        assert_eq!(host_name("[::1]:3000"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert_eq!(host_name("10.0.0.5:80"), "10.0.0.5");
    }
}
