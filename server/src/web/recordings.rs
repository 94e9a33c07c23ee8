//! Terminal recordings: a learner's own (list, play, download), and for staff a learner's
//! recordings and the part of them that led to one step; the instructor downloads a class's
//! as a zip. Recordings play as asciicast v2 text (`asciinema play` reads a download as is).

use std::collections::BTreeMap;

use app::services::RecordingInfo;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::auth::{LearnerId, Staff};
use super::error::ApiError;
use super::instructor::grades::slug;
use crate::recordings::Recordings;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/recordings", get(own_list_route))
        .route("/api/recordings/{recording}", get(own_cast_route))
        .route("/api/labs/{lab}/steps/{step}/replay", get(own_replay_route))
        .route("/api/instructor/learners/{learner}/recordings", get(list_route))
        .route("/api/instructor/learners/{learner}/recordings/{recording}", get(cast_route))
        .route("/api/instructor/learners/{learner}/labs/{lab}/steps/{step}/replay", get(replay_route))
        .route("/api/instructor/classes/{class}/recordings.zip", get(zip_route))
}

fn recordings(state: &AppState) -> Result<&std::sync::Arc<Recordings>, ApiError> {
    state.recordings.as_ref().ok_or_else(|| ApiError::Unavailable(app::t!("srv-no-sandboxes")))
}

pub fn list(recordings: &Recordings, learner: &str) -> Vec<RecordingInfo> {
    recordings
        .list(learner)
        .into_iter()
        .map(|s| RecordingInfo { id: s.id, tab: s.tab, started_at: s.started_ms / 1000, bytes: s.bytes })
        .collect()
}

/// `name.cast` to save (the id is digits and a dash), or to play in the page.
fn cast_response(text: String, download: Option<&str>) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "application/x-asciicast; charset=utf-8")], text).into_response();
    if let Some(name) = download
        && let Ok(value) = format!("attachment; filename=\"{name}.cast\"").parse()
    {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(serde::Deserialize)]
pub struct CastQuery {
    #[serde(default)]
    download: u8,
}

async fn one_cast(state: &AppState, learner: &str, id: &str, query: &CastQuery) -> Result<Response, ApiError> {
    let cast = recordings(state)?.cast(learner, id).await.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-recording")))?;
    Ok(cast_response(cast.to_text(), (query.download == 1).then_some(id)))
}

/// The part of the learner's recordings from the previous step's pass (or this step's start)
/// to this step's pass (or now).
async fn step_replay(state: &AppState, learner: &str, lab: &str, step: &str) -> Result<Response, ApiError> {
    let recordings = recordings(state)?;
    let (_, lab_def) = state.course.lab(lab).ok_or_else(|| ApiError::NotFound(app::t!("srv-no-lab", lab = format!("{lab:?}"))))?;
    let index = lab_def
        .steps
        .iter()
        .position(|s| s.id == step)
        .ok_or_else(|| ApiError::NotFound(app::t!("srv-no-step", step = format!("{step:?}"), lab = format!("{lab:?}"))))?;
    let states = state.store.step_states(learner, lab).await?;
    let this = states.iter().find(|s| s.step_id == step).ok_or_else(|| ApiError::NotFound(app::t!("srv-step-never-started")))?;
    let previous_pass = index.checked_sub(1).and_then(|i| states.iter().find(|s| s.step_id == lab_def.steps[i].id)).and_then(|s| s.done_at);
    // Stored times are whole seconds: a second's slack each side keeps the markers in.
    let to = this.done_at.unwrap_or_else(crate::store::now) as f64 + 2.0;
    let from = previous_pass.filter(|&p| (p as f64) < to).unwrap_or(this.started_at) as f64 - 1.0;
    let casts = recordings.casts_between(learner, from, to).await;
    let part = crate::recordings::segment::segment(&casts, from, to).ok_or_else(|| ApiError::NotFound(app::t!("srv-nothing-recorded")))?;
    Ok(cast_response(part.to_text(), None))
}

async fn own_list_route(State(state): State<AppState>, LearnerId(learner): LearnerId) -> Result<Json<Vec<RecordingInfo>>, ApiError> {
    Ok(Json(list(recordings(&state)?, &learner)))
}

async fn own_cast_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<CastQuery>,
) -> Result<Response, ApiError> {
    one_cast(&state, &learner, &id, &query).await
}

async fn own_replay_route(
    State(state): State<AppState>,
    LearnerId(learner): LearnerId,
    Path((lab, step)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    step_replay(&state, &learner, &lab, &step).await
}

/// The learner, if this member of staff may see them.
async fn seen_by(state: &AppState, who: &app::class::StaffView, learner: &str) -> Result<crate::store::Learner, ApiError> {
    match state.store.learner(learner).await? {
        Some(l) if who.may_see(&l.class_id) => Ok(l),
        Some(_) => Err(ApiError::Forbidden),
        None => Err(ApiError::NotFound(app::t!("srv-no-learner"))),
    }
}

async fn list_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(learner): Path<String>,
) -> Result<Json<Vec<RecordingInfo>>, ApiError> {
    let learner = seen_by(&state, &who, &learner).await?;
    Ok(Json(list(recordings(&state)?, &learner.id)))
}

async fn cast_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((learner, id)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<CastQuery>,
) -> Result<Response, ApiError> {
    let learner = seen_by(&state, &who, &learner).await?;
    one_cast(&state, &learner.id, &id, &query).await
}

async fn replay_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((learner, lab, step)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let learner = seen_by(&state, &who, &learner).await?;
    step_replay(&state, &learner.id, &lab, &step).await
}

/// Every learner's recordings of the class, as stored (gzip: `gunzip` or `zcat` them, then
/// `asciinema play`), in a folder per learner.
async fn zip_route(State(state): State<AppState>, Staff(who): Staff, Path(class): Path<String>) -> Result<Response, ApiError> {
    crate::web::instructor::allowed(who.may_run(&class))?;
    let class = state.store.class(&class).await?.ok_or_else(|| ApiError::NotFound(app::t!("srv-no-class")))?;
    let recordings = recordings(&state)?.clone();
    let mut files: BTreeMap<String, Vec<(String, std::path::PathBuf)>> = BTreeMap::new();
    for learner in state.store.learners(&class.id).await? {
        let folder = format!("{}-{}", slug(&learner.display_name, "learner"), learner.id);
        let stored = recordings.list(&learner.id).into_iter().map(|s| (format!("{}.cast.gz", s.id), s.path)).collect();
        files.insert(folder, stored);
    }
    let zipped = tokio::task::spawn_blocking(move || write_zip(&files))
        .await
        .map_err(|_| ApiError::Unavailable(app::t!("srv-zip-failed")))?
        .map_err(|e| {
            tracing::error!("zipping a class's recordings: {e}");
            ApiError::Unavailable(app::t!("srv-zip-failed"))
        })?;
    let file = tokio::fs::File::from_std(zipped);
    let name = format!("recordings-{}.zip", slug(&class.name, "class"));
    Ok((
        [(header::CONTENT_TYPE, "application/zip".to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}

/// The zip in an unnamed temporary file (a class's recordings may not fit in memory). A
/// recording removed meanwhile (quota, retention) is left out.
fn write_zip(files: &BTreeMap<String, Vec<(String, std::path::PathBuf)>>) -> std::io::Result<std::fs::File> {
    use std::io::{Seek, Write};
    let mut zip = zip::ZipWriter::new(tempfile::tempfile()?);
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true);
    for (folder, recordings) in files {
        for (name, path) in recordings {
            let Ok(bytes) = std::fs::read(path) else { continue };
            zip.start_file(format!("{folder}/{name}"), stored).map_err(std::io::Error::other)?;
            zip.write_all(&bytes)?;
        }
    }
    let mut file = zip.finish().map_err(std::io::Error::other)?;
    file.rewind()?;
    Ok(file)
}
