//! The server's side of `app::services::Services`: what the pages' server functions may ask.

use app::services::{Services, Viewer};
use async_trait::async_trait;
use axum_extra::extract::cookie::SignedCookieJar;

use super::AppState;
use crate::auth::COOKIE;
use crate::store::Role;

#[async_trait]
impl Services for AppState {
    async fn viewer(&self, request: &http::request::Parts) -> Option<Viewer> {
        let jar = SignedCookieJar::from_headers(&request.headers, self.cookie_key.clone());
        let token = jar.get(COOKIE)?.value().to_string();
        let session = self.store.session(&token).await.ok()??;
        if session.role != Role::Learner {
            return None;
        }
        let learner = self.store.learner(session.learner_id.as_deref()?).await.ok()??;
        let class_name = self.class_name(&learner.class_id).await;
        Some(Viewer {
            learner_id: learner.id,
            display_name: learner.display_name,
            class_name,
            resume_code: learner.resume_code,
        })
    }
}
