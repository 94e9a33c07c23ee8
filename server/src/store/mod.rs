//! The progress store: classes, learners, sessions (and, with the check engine, step states,
//! check results, quiz answers and events). [`Store`] is the interface; SQLite is the embedded
//! default, in one file in the data directory.
//!
//! Every write that matters is committed (WAL, `synchronous=FULL`) before the call returns, so
//! what the server acknowledged survives a SIGKILL or a power cut.

mod ids;
mod sqlite;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use ids::{join_code, learner_id, resume_code, session_token};
pub use sqlite::SqliteStore;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub id: String,
    pub name: String,
    pub join_code: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learner {
    pub id: String,
    pub class_id: String,
    pub display_name: String,
    pub resume_code: String,
    pub created_at: i64,
    pub last_seen: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Learner,
    Instructor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Instructor => "instructor",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub role: Role,
    pub learner_id: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is full or its disk is: {0}")]
    Full(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Makes a class; its join code is `code` when given (instructors like memorable ones),
    /// else drawn at random.
    async fn create_class(&self, name: &str, code: Option<&str>) -> Result<Class>;
    async fn classes(&self) -> Result<Vec<Class>>;
    async fn class_by_code(&self, join_code: &str) -> Result<Option<Class>>;

    async fn create_learner(&self, class_id: &str, display_name: &str) -> Result<Learner>;
    async fn learner(&self, id: &str) -> Result<Option<Learner>>;
    async fn learner_by_resume_code(&self, code: &str) -> Result<Option<Learner>>;
    async fn learners(&self, class_id: &str) -> Result<Vec<Learner>>;

    /// Opens a session and returns its token (only a hash of it is stored).
    async fn create_session(&self, role: Role, learner_id: Option<&str>, ttl: Duration) -> Result<String>;
    /// The live session for `token`, if any (expired ones are not returned).
    async fn session(&self, token: &str) -> Result<Option<Session>>;
    async fn delete_session(&self, token: &str) -> Result<()>;
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
