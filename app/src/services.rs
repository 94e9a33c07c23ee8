//! What the pages' server functions need from the server, as a trait the server implements and
//! provides as context: the app crate stays free of databases and sandboxes, and each server
//! function is a thin call.

#[cfg(feature = "ssr")]
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is looking at a page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub learner_id: String,
    pub display_name: String,
    pub class_name: String,
    pub resume_code: String,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait Services: Send + Sync + 'static {
    /// The learner behind this request's session cookie, if any.
    async fn viewer(&self, request: &http::request::Parts) -> Option<Viewer>;
}

#[cfg(feature = "ssr")]
pub type SharedServices = std::sync::Arc<dyn Services>;

/// The services and the current request, inside a server function.
#[cfg(feature = "ssr")]
pub async fn request() -> Result<(SharedServices, http::request::Parts), ServerFnError> {
    let services = use_context::<SharedServices>().ok_or_else(|| ServerFnError::new("services are not available"))?;
    let parts: http::request::Parts = leptos_axum::extract().await?;
    Ok((services, parts))
}
