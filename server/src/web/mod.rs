//! The HTTP surface: pages (Leptos), server functions, static assets and health, assembled in
//! one [`router`].

mod assets;
pub mod attempts;
pub mod auth;
pub mod error;
mod files;
mod guard;
pub mod help;
pub mod instructor;
mod language;
pub mod learners;
pub mod listen;
pub mod live;
mod lti;
mod notice;
mod oidc;
pub mod polls;
mod preview;
pub mod progress;
mod recordings;
mod services;
mod terminal;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, MatchedPath, Request};
use axum::routing::get;
use axum_extra::extract::cookie::Key;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio_util::sync::CancellationToken;

use crate::store::Store;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// How learners' live work is kept: when a learner counts as gone (see `checks::presence`),
/// and where terminals' screens wait out a server restart.
pub struct LiveSettings {
    pub away_after: std::time::Duration,
    pub data_dir: std::path::PathBuf,
}

/// Everything a request handler may need.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub course: Arc<labs::load::Course>,
    pub store: Arc<dyn Store>,
    pub cookie_key: Key,
    /// Mark cookies `Secure` (the server is reached over HTTPS, through a proxy).
    pub secure_cookies: bool,
    /// `None` when the server runs without sandboxes (`--sandbox-backend none`).
    pub sandboxes: Option<Arc<crate::sandboxes::Sandboxes>>,
    pub terminals: Option<Arc<crate::terminals::Terminals>>,
    /// Every terminal's recording (with sandboxes only).
    pub recordings: Option<Arc<crate::recordings::Recordings>>,
    pub progress: Option<Arc<crate::checks::CheckEngine>>,
    pub presentations: Arc<crate::presentations::Presentations>,
    pub instructor: instructor::InstructorAccess,
    /// What changed, for live pages and dashboards.
    pub updates: crate::updates::Updates,
    /// Wrong join codes, resume codes and instructor tokens, per client address.
    pub attempts: Arc<attempts::FailedAttempts>,
    /// What the instructor should know about this host's sandboxes (shown on the dashboard).
    pub host_notes: Arc<Vec<String>>,
    /// Web previews of learners' services; `None` without sandboxes or with previews off.
    pub previews: Option<Arc<crate::previews::Previews>>,
    /// The file each learner has open in the editor.
    pub open_files: Arc<crate::files::OpenFiles>,
    /// Classes whose pages the instructor covered ("eyes on me").
    pub attention: Arc<crate::classroom::Attention>,
    /// What each learner may still write this minute (messages, raised hands).
    pub write_budget: Arc<crate::classroom::WriteBudget>,
    /// Minutes each learner added to their own sandbox.
    pub extensions: Arc<crate::classroom::Extensions>,
    /// Each class's spotlight on a learner's terminal.
    pub spotlights: Arc<crate::classroom::Spotlights>,
    /// Sign-in with the school's OpenID Connect provider, when configured.
    pub oidc: Option<Arc<crate::identity::oidc::Oidc>>,
    /// The LTI 1.3 tool, when the server has a public URL.
    pub lti: Option<Arc<crate::lti::Lti>>,
    pub shutdown: CancellationToken,
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.cookie_key.clone()
    }
}

impl FromRef<AppState> for Arc<dyn Store> {
    fn from_ref(state: &AppState) -> Self {
        state.store.clone()
    }
}

impl FromRef<AppState> for instructor::InstructorAccess {
    fn from_ref(state: &AppState) -> Self {
        state.instructor.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(
        course: Arc<labs::load::Course>,
        store: Arc<dyn Store>,
        cookie_key: Key,
        site_root: &Path,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> Self {
        let site_root = std::path::absolute(site_root).unwrap_or_else(|_| site_root.to_path_buf());
        let hash_file = site_root.join("hash.txt");
        // scripts/build names the wasm, JS and CSS by content hash and writes hash.txt, so they
        // can be cached forever. Without a built site the pages still render, but do not hydrate.
        let hashed = hash_file.is_file();
        if !hashed {
            tracing::warn!(
                site_root = %site_root.display(),
                "no built site (hash.txt is missing): pages render but stay static; run scripts/build"
            );
        }
        let leptos_options = LeptosOptions::builder()
            .output_name("stacklab")
            .site_root(site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .hash_files(hashed)
            // Leptos joins this to the executable's folder; an absolute path is taken as is.
            .hash_file(Arc::<str>::from(hash_file.to_string_lossy()))
            .build();
        Self {
            leptos_options,
            course,
            store,
            cookie_key,
            secure_cookies: false,
            sandboxes: None,
            terminals: None,
            recordings: None,
            progress: None,
            presentations: Arc::new(crate::presentations::Presentations::default()),
            instructor: instructor::InstructorAccess::default(),
            updates: crate::updates::channel(),
            attempts: Arc::new(attempts::FailedAttempts::default()),
            host_notes: Arc::default(),
            previews: None,
            open_files: Arc::default(),
            attention: Arc::default(),
            write_budget: Arc::default(),
            extensions: Arc::default(),
            spotlights: Arc::default(),
            oidc: None,
            lti: None,
            shutdown,
        }
    }

    /// Adds sandboxes, and with them terminals and the check engine.
    pub fn with_sandboxes(mut self, sandboxes: Arc<crate::sandboxes::Sandboxes>, live: LiveSettings) -> Self {
        let progress = crate::checks::CheckEngine::new(
            self.course.clone(),
            self.store.clone(),
            sandboxes.clone(),
            self.updates.clone(),
            live.away_after,
        );
        let sink: Arc<dyn crate::terminals::CommandSink> = progress.clone();
        let saved = Some(crate::terminals::SavedScreens::new(live.data_dir.join("terminals")));
        let recordings = crate::recordings::Recordings::new(live.data_dir.join("recordings"), self.store.clone());
        tokio::spawn(crate::recordings::follow(recordings.clone(), self.updates.clone()));
        tokio::spawn(recordings.clone().expire());
        self.terminals =
            Some(Arc::new(crate::terminals::Terminals::new(sandboxes.clone(), Some(sink), saved).recorded(recordings.clone())));
        self.recordings = Some(recordings);
        self.progress = Some(progress);
        self.sandboxes = Some(sandboxes);
        self
    }

    /// Adds web previews, their listeners bound where the server listens and taken from `ports`.
    pub fn with_previews(mut self, ports: crate::previews::PortRange) -> Self {
        if ports != crate::previews::PortRange::Off && self.sandboxes.is_some() {
            let settings =
                crate::previews::PreviewSettings { bind: self.leptos_options.site_addr.ip(), ports, idle: crate::previews::IDLE };
            self.previews = Some(crate::previews::Previews::new(settings, self.shutdown.clone()));
        }
        self
    }

    /// A store failure as the client sees it: logged here, never detailed there.
    pub fn store_error(&self, e: crate::store::StoreError) -> axum::response::Response {
        use axum::response::IntoResponse;
        tracing::error!("store: {e}");
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, app::t!("srv-cannot-save")).into_response()
    }

    pub async fn class_name(&self, class_id: &str) -> String {
        self.store.class(class_id).await.ok().flatten().map(|c| c.name).unwrap_or_default()
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let course = state.course.clone();
    let services: app::services::SharedServices = Arc::new(state.clone());
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(course.clone());
                provide_context(services.clone());
            },
            {
                let options = state.leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(CompressionLayer::new());

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/ws/terminal/{tab}", get(terminal::attach))
        .merge(learners::router())
        .merge(oidc::router())
        .merge(lti::router())
        .merge(language::router())
        .merge(progress::router())
        .merge(live::router())
        .merge(preview::router())
        .merge(files::router())
        .merge(help::router())
        .merge(polls::router())
        .merge(recordings::router())
        .merge(instructor::router())
        .route("/favicon.ico", get(assets::favicon))
        .nest_service("/pkg", assets::pkg_service(&state.leptos_options))
        .merge(pages)
        .layer(axum::middleware::from_fn(guard::same_origin))
        .layer(axum::middleware::from_fn(language::of_request))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1 << 20))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let path = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), uri = %req.uri(), matched = path)
        }))
        .with_state(state)
}

/// Readiness, for a load balancer or an orchestrator: 200 when the store answers and, with
/// sandboxes, the backend lists its sandboxes; 503 with what is wrong otherwise. (`/healthz` only
/// says the process serves HTTP.)
async fn ready(axum::extract::State(state): axum::extract::State<AppState>) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    if let Err(e) = state.store.classes().await {
        tracing::warn!("readiness: the store does not answer: {e}");
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready: the store does not answer\n".into());
    }
    if let Some(sandboxes) = &state.sandboxes {
        let why = match tokio::time::timeout(std::time::Duration::from_secs(5), sandboxes.backend().running()).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("no answer within 5 s".to_string()),
        };
        if let Some(why) = why {
            tracing::warn!("readiness: the sandbox backend: {why}");
            return (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: the sandbox backend: {why}\n"));
        }
    }
    (StatusCode::OK, "ready\n".into())
}

#[cfg(test)]
mod tests;
