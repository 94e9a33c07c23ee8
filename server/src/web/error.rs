//! Errors of the JSON routes and server functions, in words for the person who made the request.
//! Store and sandbox failures are logged here and reported without their details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::checks::CheckError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unavailable(String),
    /// A member of staff without the right for it (a teaching assistant asking for the
    /// instructor's): a bare 403, as the role extractors answer.
    #[error("Only the instructor may do that.")]
    Forbidden,
    /// Over a budget (writes per minute): the sentence says to slow down.
    #[error("{0}")]
    TooMany(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
        };
        (status, self.to_string()).into_response()
    }
}

/// The same sentence, for the pages' server functions.
impl From<ApiError> for app::error::AppError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound(said) => app::error::AppError::NotFound(said),
            ApiError::BadRequest(said) | ApiError::TooMany(said) => app::error::AppError::Invalid(said),
            ApiError::Unavailable(said) => app::error::AppError::Unavailable(said),
            ApiError::Forbidden => app::error::AppError::NotInstructor,
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Invalid(message) => ApiError::BadRequest(message),
            e => {
                tracing::error!("store: {e}");
                ApiError::Unavailable(app::t!("srv-cannot-save"))
            }
        }
    }
}

impl From<sandbox::Error> for ApiError {
    fn from(e: sandbox::Error) -> Self {
        tracing::warn!("sandbox: {}", e.report());
        ApiError::Unavailable(crate::sandboxes::said(&e))
    }
}

impl From<CheckError> for ApiError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::NoSuchStep(lab, step) => {
                ApiError::NotFound(app::t!("srv-no-step", step = format!("{step:?}"), lab = format!("{lab:?}")))
            }
            CheckError::Sandbox(e) => e.into(),
            CheckError::Queued(_) => ApiError::Unavailable(e.to_string()),
            CheckError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(error: ApiError) -> (StatusCode, String) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_sandbox_error_reaches_the_browser_as_a_plain_sentence() {
        let host_detail = "mount: proc on /var/lib/stacklab/native/run/lab-ada/root/proc";
        let failing = || sandbox::Error::io(host_detail, std::io::Error::from_raw_os_error(libc::EACCES));
        for error in [ApiError::from(failing()), ApiError::from(CheckError::Sandbox(failing()))] {
            let (status, text) = body(error).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(!text.contains("/var/lib") && !text.contains("proc") && !text.contains("lab-ada"), "{text}");
            assert!(text.starts_with("Something went wrong with your sandbox."), "{text}");
        }
        // The same error on its way to a page through a server function: what crosses the wire.
        let wire = serde_json::to_string(&app::error::AppError::from(ApiError::from(failing()))).unwrap();
        assert!(!wire.contains("/var/lib") && !wire.contains("proc") && wire.contains("Something went wrong"), "{wire}");
    }

    #[tokio::test]
    async fn the_learners_own_mistakes_are_said_as_they_are() {
        let (status, text) = body(CheckError::NoSuchStep("demo".into(), "nope".into()).into()).await;
        assert_eq!((status, text.as_str()), (StatusCode::NOT_FOUND, "There is no step \"nope\" in lab \"demo\"."));
    }

    /// Each of the sandbox crate's sentences for a learner has its message, the English word
    /// for word; a German request reads the German.
    #[tokio::test]
    async fn a_sandbox_error_is_said_in_the_readers_language() {
        let errors = [
            sandbox::Error::NotFound("lab-x".into()),
            sandbox::Error::create("lab-x", "starting", sandbox::Error::NotFound("lab-x".into())),
            sandbox::Error::Image("gone".into()),
            sandbox::Error::io("mount", std::io::Error::from_raw_os_error(libc::EACCES)),
        ];
        for e in &errors {
            let (_, key) = crate::sandboxes::said::SANDBOX_SAID
                .iter()
                .find(|(said, _)| *said == e.for_learner())
                .expect("every sentence has a message");
            assert_eq!(app::i18n::Lang::En.message(key, &[]), e.for_learner());
        }
        let mut german = axum::http::HeaderMap::new();
        german.insert(axum::http::header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9".parse().unwrap());
        let said = app::i18n::in_request_language(&german, async { crate::sandboxes::said(&errors[0]) }).await;
        assert_eq!(said, "Ihre Sandbox läuft nicht. Öffnen Sie Ihr Terminal, um sie wieder zu starten.");
    }
}
