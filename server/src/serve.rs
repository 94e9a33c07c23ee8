//! `stacklab serve`: load the content, build the web app, listen, and shut down gracefully.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cli::ServeArgs;
use crate::web::{self, AppState};

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let course = match labs::load::load_course(&args.labs) {
        Ok(course) => course,
        Err(problems) => {
            for problem in problems.iter() {
                tracing::error!("{problem}");
            }
            bail!("the content in {} has {} problem(s); fix them and start again", args.labs.display(), problems.len());
        }
    };
    tracing::info!(labs = %args.labs.display(), sessions = course.sessions.len(), "content loaded");

    let shutdown = CancellationToken::new();
    let state = AppState::new(Arc::new(course), &args.site_root, args.addr, shutdown.clone());
    let app = web::router(state);

    let listener = TcpListener::bind(args.addr).await.with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    tracing::info!("listening on http://{local}");

    let server = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(wait_then_cancel(shutdown.clone()));
    let grace = Duration::from_secs(args.shutdown_grace);
    tokio::select! {
        result = server => result.context("server error")?,
        () = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("connections still open {grace:?} after the shutdown signal; exiting anyway");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C, after cancelling `token` so long-lived connections (terminal
/// WebSockets, live updates) close themselves instead of holding the shutdown open.
async fn wait_then_cancel(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
        () = token.cancelled() => {},
    }
    tracing::info!("shutting down");
    token.cancel();
}
