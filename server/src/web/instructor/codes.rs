//! One-time join codes: the instructor makes a batch for a class (to print or mail, one per
//! learner), sees which were used and by whom, and downloads them as CSV. Each code joins one
//! learner, once (`web::learners` redeems them).

use app::class::OneTimeCodeView;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::ApiError;

pub async fn list(state: &AppState, class: &str) -> Result<Vec<OneTimeCodeView>, ApiError> {
    super::dashboard::class(state, class).await?;
    let names: std::collections::HashMap<String, String> =
        state.store.learners(class).await?.into_iter().map(|l| (l.id, l.display_name)).collect();
    Ok(state
        .store
        .one_time_codes(class)
        .await?
        .into_iter()
        .map(|c| OneTimeCodeView {
            used_by: c.used_by.as_ref().and_then(|id| names.get(id).cloned()).or_else(|| c.used_at.map(|_| String::new())),
            code: c.code,
        })
        .collect())
}

pub async fn make(state: &AppState, class: &str, count: u32) -> Result<Vec<OneTimeCodeView>, ApiError> {
    super::dashboard::class(state, class).await?;
    let made = state.store.create_one_time_codes(class, count).await?;
    tracing::info!(class, count = made.len(), "one-time codes made");
    Ok(made.into_iter().map(|code| OneTimeCodeView { code, used_by: None }).collect())
}

#[derive(Deserialize)]
pub struct MakeRequest {
    count: u32,
}

pub async fn make_route(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(class): Path<String>,
    body: super::LaterJson<MakeRequest>,
) -> Result<Json<Vec<OneTimeCodeView>>, ApiError> {
    super::allowed(who.may_run(&class))?;
    let body = super::body(body)?;
    Ok(Json(make(&state, &class, body.count).await?))
}

/// The class's codes as CSV: code, and who used it (empty while unused).
pub async fn csv_route(State(state): State<AppState>, Staff(who): Staff, Path(class): Path<String>) -> Result<Response, ApiError> {
    super::allowed(who.may_run(&class))?;
    let codes = list(&state, &class).await?;
    let rows = codes.into_iter().map(|c| vec![c.code, c.used_by.unwrap_or_default()]);
    let csv = super::grades::spreadsheet(&["Code".to_string(), "Used by".to_string()], rows);
    Ok(super::grades::csv_download("one-time-codes.csv", csv))
}
