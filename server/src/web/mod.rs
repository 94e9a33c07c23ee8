//! The HTTP surface: pages (Leptos), server functions, static assets and health, assembled in
//! one [`router`].

mod assets;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, MatchedPath, Request};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// Everything a request handler may need.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub course: Arc<labs::load::Course>,
    /// `None` when the server runs without sandboxes (`--sandbox-backend none`).
    pub sandboxes: Option<Arc<crate::sandboxes::Sandboxes>>,
    pub shutdown: CancellationToken,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(course: Arc<labs::load::Course>, site_root: &Path, addr: SocketAddr, shutdown: CancellationToken) -> Self {
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
        Self { leptos_options, course, sandboxes: None, shutdown }
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let course = state.course.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(course.clone()),
            {
                let options = state.leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(CompressionLayer::new());

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/favicon.ico", get(assets::favicon))
        .nest_service("/pkg", assets::pkg_service(&state.leptos_options))
        .merge(pages)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let path = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), uri = %req.uri(), matched = path)
        }))
        .with_state(state)
}

#[cfg(test)]
mod tests;
