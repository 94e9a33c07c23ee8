//! Errors of the JSON routes and server functions, in words for the person who made the request.
//! Store and sandbox failures are logged here and reported without their details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::progress::ProgressError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unavailable(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, self.to_string()).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Invalid(message) => ApiError::BadRequest(message),
            e => {
                tracing::error!("store: {e}");
                ApiError::Unavailable("The server cannot save right now; try again in a moment.".into())
            }
        }
    }
}

impl From<sandbox::Error> for ApiError {
    fn from(e: sandbox::Error) -> Self {
        tracing::warn!("sandbox: {e}");
        ApiError::Unavailable(format!("The sandbox is not available: {e}"))
    }
}

impl From<ProgressError> for ApiError {
    fn from(e: ProgressError) -> Self {
        match e {
            ProgressError::NoSuchStep(..) => ApiError::NotFound(e.to_string()),
            ProgressError::Sandbox(e) => ApiError::Unavailable(format!("Your sandbox is not available: {e}")),
            ProgressError::Queued(_) => ApiError::Unavailable(e.to_string()),
            ProgressError::Store(e) => e.into(),
        }
    }
}
