//! What the staff's pages show of the LMS (LTI 1.3): the tool's URLs and the LMS registrations
//! (for the administrator), and per class the links to its labs and the scores sent to the LMS's
//! gradebook.

use serde::{Deserialize, Serialize};

/// What an LMS asks for when Stacklab is registered in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolUrls {
    pub login: String,
    pub launch: String,
    pub deep_link: String,
    pub jwks: String,
    /// The id of the key that signs now.
    pub kid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformView {
    pub id: String,
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    pub login_url: String,
    pub token_url: String,
    pub jwks_url: String,
    pub deployments: Vec<String>,
    /// From the registrations file: changed there, not here.
    pub from_file: bool,
}

/// A registration as typed on the administrator's page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformInput {
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    pub login_url: String,
    pub token_url: String,
    pub jwks_url: String,
    /// Deployment ids, separated by commas or spaces.
    pub deployments: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtiSetup {
    /// `None` when the server runs without `--public-url` (LTI off).
    pub tool: Option<ToolUrls>,
    pub platforms: Vec<PlatformView>,
}

/// How sending a score went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScoreStatus {
    Sent,
    /// Not sent yet, not failed yet.
    Pending,
    /// Failed at least once since it changed; tried again later.
    Failed,
}

impl ScoreStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScoreStatus::Sent => "sent",
            ScoreStatus::Pending => "pending",
            ScoreStatus::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreView {
    pub learner_id: String,
    pub name: String,
    pub lab: String,
    pub earned: i64,
    pub possible: i64,
    pub status: ScoreStatus,
    /// Failed tries since the last change.
    pub attempts: i64,
    /// What the LMS (or the network) said the last time.
    pub error: Option<String>,
    pub sent_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// The LMS's label.
    pub platform: String,
    pub lab: String,
    /// The link has a gradebook column.
    pub graded: bool,
}

/// A class's side in the LMS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassLti {
    pub links: Vec<LinkView>,
    pub scores: Vec<ScoreView>,
    /// A course roster can be read (a launch named its endpoint).
    pub roster: bool,
}
