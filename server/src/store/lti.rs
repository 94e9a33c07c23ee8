//! What LTI 1.3 keeps: platform registrations, the tool's keys, launches on their way, the
//! course-to-class and link-to-lab maps, and the outbox of scores for the LMS.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Result;

/// An LMS Stacklab is registered in (its issuer and the client id it gave Stacklab), and where
/// its endpoints are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub id: String,
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    /// Its OIDC authorization endpoint, where launches are completed.
    pub login_url: String,
    /// Its OAuth 2 token endpoint, for the grade and roster services.
    pub token_url: String,
    /// Its public keys, which sign its launches.
    pub jwks_url: String,
    pub deployments: Vec<String>,
    /// Read from the registrations file at start (changing it there is how it changes).
    pub from_file: bool,
    pub created_at: i64,
}

/// A registration as typed in the UI or the file, before it has an id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlatform {
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    pub login_url: String,
    pub token_url: String,
    pub jwks_url: String,
    pub deployments: Vec<String>,
}

/// One of the tool's RSA signing keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolKey {
    pub kid: String,
    /// PKCS#1 PEM.
    pub private_pem: String,
    pub created_at: i64,
}

/// A resource link of a platform: a lab of a class, and the gradebook column of its scores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtiLink {
    pub platform_id: String,
    pub link_id: String,
    pub class_id: String,
    pub lab_id: String,
    pub lineitem: Option<String>,
}

/// A learner's score for a line item, as last computed, and how sending it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreOut {
    pub learner_id: String,
    pub lineitem: String,
    pub platform_id: String,
    pub lab_id: String,
    /// The learner's id at the platform (the launch's `sub`).
    pub user_id: String,
    pub earned: i64,
    pub possible: i64,
    /// AGS `activityProgress` and `gradingProgress`.
    pub activity: String,
    pub grading: String,
    /// When it last changed, in milliseconds since the epoch (the score's timestamp).
    pub version: i64,
    pub sent_version: Option<i64>,
    pub sent_at: Option<i64>,
    /// Failed sends since the last change.
    pub attempts: i64,
    /// When to try (again), in seconds since the epoch.
    pub next_at: i64,
    /// What the LMS (or the network) said the last time it failed.
    pub last_error: Option<String>,
}

impl ScoreOut {
    pub fn sent(&self) -> bool {
        self.sent_version == Some(self.version)
    }
}

/// A score as the grade service computes it, to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewScore<'a> {
    pub learner_id: &'a str,
    pub lineitem: &'a str,
    pub platform_id: &'a str,
    pub lab_id: &'a str,
    pub user_id: &'a str,
    pub earned: i64,
    pub possible: i64,
    pub activity: &'a str,
    pub grading: &'a str,
}

/// Registrations one server keeps (each an LMS, or a school's tenant of one).
pub const MAX_PLATFORMS: i64 = 200;
/// Launches and deep-linking choices on their way at once, across the server: every login
/// initiation writes one before anyone is signed in, so strangers can make them.
pub const MAX_PENDING: i64 = 10_000;
/// How long a launch may take between its login initiation and its message, and a teacher may
/// take to choose a lab.
pub const PENDING_SECS: i64 = 600;

#[async_trait]
pub trait LtiStore: Send + Sync {
    async fn lti_platforms(&self) -> Result<Vec<Platform>>;
    async fn lti_platform(&self, id: &str) -> Result<Option<Platform>>;
    /// The registrations of `issuer` (one per client id).
    async fn lti_platforms_of(&self, issuer: &str) -> Result<Vec<Platform>>;
    /// Adds a registration, or changes the one with the same issuer and client id.
    async fn save_lti_platform(&self, platform: &NewPlatform, from_file: bool) -> Result<Platform>;
    /// Removes a registration with its class and link maps (the classes stay).
    async fn remove_lti_platform(&self, id: &str) -> Result<bool>;

    /// The tool's keys, newest first.
    async fn lti_keys(&self) -> Result<Vec<ToolKey>>;
    /// Adds a key (the newest: it signs from now on), keeping only the one before it beside it.
    async fn add_lti_key(&self, key: &ToolKey) -> Result<()>;

    /// Keeps `payload` under a new random token for `PENDING_SECS`.
    async fn put_lti_pending(&self, kind: &str, payload: &str) -> Result<String>;
    /// Takes (once) what `token` keeps, if it is of `kind` and not expired.
    async fn take_lti_pending(&self, token: &str, kind: &str) -> Result<Option<String>>;

    /// The class of a platform's course, and its roster endpoint.
    async fn lti_context(&self, platform_id: &str, context_id: &str) -> Result<Option<(String, Option<String>)>>;
    async fn set_lti_context(&self, platform_id: &str, context_id: &str, class_id: &str, memberships_url: Option<&str>) -> Result<()>;
    /// The courses mapped to a class: (platform, roster endpoint).
    async fn lti_contexts_of_class(&self, class_id: &str) -> Result<Vec<(String, Option<String>)>>;

    /// The issuer and subject of the identity a learner belongs to, if any.
    async fn lti_user(&self, learner_id: &str) -> Result<Option<(String, String)>>;

    async fn lti_link(&self, platform_id: &str, link_id: &str) -> Result<Option<LtiLink>>;
    async fn save_lti_link(&self, link: &LtiLink) -> Result<()>;
    async fn lti_links_of_class(&self, class_id: &str) -> Result<Vec<LtiLink>>;

    /// Queues a score when it differs from the last one queued for that learner and line item;
    /// true when it did.
    async fn queue_lti_score(&self, score: &NewScore<'_>) -> Result<bool>;
    /// Scores not yet sent whose time to try has come, oldest first.
    async fn due_lti_scores(&self, now: i64, limit: i64) -> Result<Vec<ScoreOut>>;
    /// The LMS has version `version` of the score.
    async fn lti_score_sent(&self, learner_id: &str, lineitem: &str, version: i64) -> Result<()>;
    /// Sending version `version` failed: try again at `next_at`.
    async fn lti_score_failed(&self, learner_id: &str, lineitem: &str, version: i64, next_at: i64, error: &str) -> Result<()>;
    async fn lti_scores_of_class(&self, class_id: &str) -> Result<Vec<ScoreOut>>;
}
