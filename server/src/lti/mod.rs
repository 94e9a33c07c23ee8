//! Stacklab as an LTI 1.3 tool in the school's LMS (Moodle, Canvas, Blackboard, Brightspace,
//! Open edX): the launch (`launch`, with the login initiation before it), the tool's own keys
//! (`keys`), the registrations (`platforms`), the LMS's services Stacklab calls — access tokens,
//! scores, rosters (`services`) — and the scores it sends as learners work (`grades`).
//!
//! The flow of a launch: the LMS sends the browser to `/lti/login` (third-party login
//! initiation); Stacklab keeps a nonce under a fresh `state` and sends it on to the LMS's
//! authorization endpoint; the LMS posts a signed ID token and the state back to `/lti/launch`,
//! where `finish` checks it and says who it is for and what it opens.

pub mod deep_linking;
pub mod grades;
pub mod keys;
pub mod launch;
pub mod platforms;
pub mod roster;
pub mod services;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::JsonWebKeySetUrl;
use openidconnect::core::CoreJsonWebKeySet;
use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::store::lti::Platform;
pub use launch::{CourseRole, Launch, Message};

/// A platform's published keys are fetched again after this long.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// Each request to an LMS.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a launch did not sign anyone in, in words for the person at the browser (details of the
/// LMS's answers go to the log).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    #[error("The LMS sent an incomplete launch ({0} is missing). Open the activity again from your course.")]
    Incomplete(&'static str),
    #[error("This LMS ({0}) is not registered with Stacklab: ask the server's administrator to register it.")]
    UnknownPlatform(String),
    #[error("This launch was begun more than ten minutes ago, or was used already: open the activity again from your course.")]
    Stale,
    #[error("{0} cannot be reached to check this launch: try again in a minute.")]
    Unreachable(String),
    #[error("The launch from {0} could not be trusted ({1}), so nobody was signed in. If it happens again, tell your instructor.")]
    Untrusted(String, String),
    #[error("{0}")]
    Said(String),
}

/// A launch on its way, kept under its `state` between the login initiation and the message.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    platform_id: String,
    nonce: String,
}

/// What `/lti/login` receives (as a query or a form).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LoginInitiation {
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub login_hint: String,
    #[serde(default)]
    pub target_link_uri: String,
    #[serde(default)]
    pub lti_message_hint: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub lti_deployment_id: Option<String>,
}

pub struct Lti {
    store: Arc<dyn Store>,
    /// Where the server is reached (`--public-url`), without a trailing slash.
    public_url: String,
    pub keys: keys::ToolKeys,
    http: reqwest::Client,
    platform_keys: Mutex<HashMap<String, (CoreJsonWebKeySet, Instant)>>,
    refetches: crate::identity::refetch::Refetches,
    tokens: services::Tokens,
    /// Wakes the sender of scores when one is queued.
    pub wake: tokio::sync::Notify,
}

impl Lti {
    pub async fn new(store: Arc<dyn Store>, public_url: &str) -> anyhow::Result<Arc<Self>> {
        let http = reqwest::Client::builder()
            // Following redirects would let an LMS's answer send us elsewhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        let keys = keys::ToolKeys::load(store.clone()).await?;
        Ok(Arc::new(Self {
            store,
            public_url: public_url.trim_end_matches('/').to_string(),
            keys,
            http,
            platform_keys: Mutex::default(),
            refetches: Default::default(),
            tokens: services::Tokens::default(),
            wake: tokio::sync::Notify::new(),
        }))
    }

    /// The tool's URL at `path` (`/lti/launch`), as the LMS is told it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// The registration a login initiation speaks of: by issuer, and client id when the LMS
    /// names it (it must when it has Stacklab registered more than once).
    async fn platform_for(&self, issuer: &str, client_id: Option<&str>) -> Result<Platform, LaunchError> {
        let found = self.store.lti_platforms_of(issuer).await.map_err(|e| self.store_failed(e))?;
        let mut matching = found.into_iter().filter(|p| client_id.is_none_or(|c| c == p.client_id));
        match (matching.next(), matching.next()) {
            (Some(platform), None) => Ok(platform),
            (Some(_), Some(_)) => Err(LaunchError::Incomplete("client_id")),
            (None, _) => Err(LaunchError::UnknownPlatform(issuer.to_string())),
        }
    }

    fn store_failed(&self, e: crate::store::StoreError) -> LaunchError {
        match e {
            crate::store::StoreError::Invalid(said) => LaunchError::Said(said),
            e => {
                tracing::error!("LTI: the store failed: {e}");
                LaunchError::Said(app::t!("srv-lti-busy"))
            }
        }
    }

    /// The login initiation: where to send the browser (the LMS's authorization endpoint, with
    /// a fresh state and nonce kept here).
    pub async fn begin(&self, login: &LoginInitiation) -> Result<String, LaunchError> {
        if login.iss.is_empty() {
            return Err(LaunchError::Incomplete("iss"));
        }
        if login.login_hint.is_empty() {
            return Err(LaunchError::Incomplete("login_hint"));
        }
        let platform = self.platform_for(&login.iss, login.client_id.as_deref().filter(|c| !c.is_empty())).await?;
        if let Some(deployment) = login.lti_deployment_id.as_deref().filter(|d| !d.is_empty())
            && !platform.deployments.iter().any(|d| d == deployment)
        {
            return Err(LaunchError::Untrusted(platform.label, format!("its deployment ({deployment}) is not registered with Stacklab")));
        }
        let nonce = crate::store::session_token();
        let pending = serde_json::to_string(&PendingLogin { platform_id: platform.id.clone(), nonce: nonce.clone() })
            .map_err(|_| LaunchError::Stale)?;
        let state = self.store.put_lti_pending("login", &pending).await.map_err(|e| self.store_failed(e))?;
        let mut url = reqwest::Url::parse(&platform.login_url).map_err(|_| LaunchError::UnknownPlatform(platform.issuer.clone()))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("scope", "openid")
                .append_pair("response_type", "id_token")
                .append_pair("response_mode", "form_post")
                .append_pair("prompt", "none")
                .append_pair("client_id", &platform.client_id)
                .append_pair("redirect_uri", &self.url("/lti/launch"))
                .append_pair("login_hint", &login.login_hint)
                .append_pair("state", &state)
                .append_pair("nonce", &nonce);
            if let Some(hint) = &login.lti_message_hint {
                query.append_pair("lti_message_hint", hint);
            }
        }
        Ok(url.to_string())
    }

    /// The launch message: the platform and the checked launch. The state is used up whatever
    /// happens (a replayed launch finds it gone).
    pub async fn finish(&self, state: &str, id_token: &str) -> Result<(Platform, Launch), LaunchError> {
        if state.is_empty() {
            return Err(LaunchError::Incomplete("state"));
        }
        if id_token.is_empty() {
            return Err(LaunchError::Incomplete("id_token"));
        }
        let pending = self.store.take_lti_pending(state, "login").await.map_err(|e| self.store_failed(e))?;
        let pending: PendingLogin = pending.and_then(|p| serde_json::from_str(&p).ok()).ok_or(LaunchError::Stale)?;
        let platform = self.store.lti_platform(&pending.platform_id).await.map_err(|e| self.store_failed(e))?.ok_or(LaunchError::Stale)?;
        let untrusted = |why: String| {
            tracing::warn!(platform = %platform.issuer, "an LTI launch was refused: {why}");
            LaunchError::Untrusted(platform.label.clone(), why)
        };
        let keys = self.platform_keys(&platform, false).await?;
        let launch = match launch::check(id_token, &platform, &pending.nonce, keys) {
            Err(launch::Refused::UnknownKey) => {
                let keys = self.platform_keys(&platform, true).await?;
                launch::check(id_token, &platform, &pending.nonce, keys)
            }
            checked => checked,
        };
        match launch {
            Ok(launch) => Ok((platform, launch)),
            Err(launch::Refused::UnknownKey) => Err(untrusted("it is signed with a key the LMS does not publish".into())),
            Err(launch::Refused::Because(why)) => Err(untrusted(why)),
        }
    }

    /// The platform's public keys, as last fetched; `refetch` asks for fresh ones (at most once
    /// a minute per platform).
    async fn platform_keys(&self, platform: &Platform, refetch: bool) -> Result<CoreJsonWebKeySet, LaunchError> {
        let cached = self.platform_keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&platform.id).cloned();
        let forced = refetch && self.refetches.allowed(&platform.id);
        if let Some((keys, at)) = &cached
            && at.elapsed() < KEYS_TTL
            && !forced
        {
            return Ok(keys.clone());
        }
        let url = JsonWebKeySetUrl::new(platform.jwks_url.clone()).map_err(|_| LaunchError::Unreachable(platform.label.clone()))?;
        match CoreJsonWebKeySet::fetch_async(&url, &self.http).await {
            Ok(keys) => {
                self.platform_keys
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(platform.id.clone(), (keys.clone(), Instant::now()));
                Ok(keys)
            }
            Err(e) => {
                tracing::warn!(platform = %platform.issuer, "fetching the LMS's keys: {e}");
                // Stale keys still check launches while the LMS's key endpoint is briefly away.
                cached.map(|(keys, _)| keys).ok_or_else(|| LaunchError::Unreachable(platform.label.clone()))
            }
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
