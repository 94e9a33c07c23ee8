//! The editor's file routes (the work is `files`'): a learner opens, saves and lists files in
//! their own sandbox. A save is a `PUT` of the file's bytes with the version it was opened at in
//! `If-Match` (or `If-None-Match: *` for a new file), answered 409 when the file changed since.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::files::{self, Entry, FileError, OpenedFile};
use crate::web::AppState;
use crate::web::auth::LearnerId;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/api/files", get(open).put(save)).route("/api/files/list", get(list))
}

#[derive(Deserialize)]
struct PathQuery {
    path: String,
}

async fn open(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Query(q): Query<PathQuery>,
) -> Result<Json<OpenedFile>, FilesError> {
    let sandboxes = state.sandboxes.as_ref().ok_or(FilesError::NoSandboxes)?;
    let file = files::open(sandboxes, &learner, &q.path).await?;
    state.open_files.opened(&learner, &file.path);
    Ok(Json(file))
}

async fn save(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Query(q): Query<PathQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, FilesError> {
    let sandboxes = state.sandboxes.as_ref().ok_or(FilesError::NoSandboxes)?;
    let text = std::str::from_utf8(&body).map_err(|_| FileError::Binary(q.path.clone()))?;
    let expected = match (headers.get(header::IF_MATCH), headers.get(header::IF_NONE_MATCH)) {
        (Some(version), _) => Some(version.to_str().unwrap_or("").trim().trim_matches('"').to_string()),
        (None, Some(any)) if any == "*" => None,
        _ => return Err(FilesError::NoVersion),
    };
    let version = files::save(sandboxes, &learner, &q.path, text, expected.as_deref()).await?;
    Ok((StatusCode::OK, [(header::ETAG, format!("\"{version}\""))], Json(serde_json::json!({ "version": version }))).into_response())
}

async fn list(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Query(q): Query<PathQuery>,
) -> Result<Json<Vec<Entry>>, FilesError> {
    let sandboxes = state.sandboxes.as_ref().ok_or(FilesError::NoSandboxes)?;
    Ok(Json(files::list(sandboxes, &learner, &q.path).await?))
}

#[derive(Debug, thiserror::Error)]
enum FilesError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("this server runs without sandboxes")]
    NoSandboxes,
    #[error("say which version you are saving over (If-Match), or that the file is new (If-None-Match: *)")]
    NoVersion,
}

impl IntoResponse for FilesError {
    fn into_response(self) -> Response {
        use FileError::*;
        let status = match &self {
            FilesError::NoSandboxes => StatusCode::SERVICE_UNAVAILABLE,
            FilesError::NoVersion => StatusCode::PRECONDITION_REQUIRED,
            FilesError::File(e) => match e {
                BadPath(_) => StatusCode::BAD_REQUEST,
                Missing(_) | NotAFile(_) | NotAFolder(_) | NoFolder(_) => StatusCode::NOT_FOUND,
                TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                Binary(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Conflict(_) => StatusCode::CONFLICT,
                WriteFailed(_) => StatusCode::INSUFFICIENT_STORAGE,
                Sandbox(_) | Unexpected { .. } => StatusCode::SERVICE_UNAVAILABLE,
            },
        };
        let said = match &self {
            // The backend's own words stay in the log: they can name host paths.
            FilesError::File(Sandbox(e)) => {
                tracing::warn!("editor: {}", e.report());
                crate::sandboxes::said(e)
            }
            FilesError::File(e @ Unexpected { .. }) => {
                tracing::warn!("editor: {e}");
                app::t!("srv-editor-unexpected")
            }
            other => other.to_string(),
        };
        (status, said).into_response()
    }
}
