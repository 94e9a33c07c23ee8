//! The progress store: classes, learners, sessions, messages, step states, check results, quiz
//! answers, commands and events. [`Store`] is the interface; [`SqlStore`] implements it on
//! SQLite (the embedded default, one file in the data directory) and on PostgreSQL
//! (`--database postgres://...`, for a server in a cluster).
//!
//! Every write that matters is committed (SQLite: WAL, `synchronous=FULL`; PostgreSQL: its
//! default synchronous commit) before the call returns, so what the server acknowledged
//! survives a SIGKILL or a power cut.

mod ids;
pub mod lti;
mod sql;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use app::class::ClassSettings;
pub use app::poll::{PollAnswer, PollChange, PollView};
pub use app::preferences::Preferences;
pub use ids::{join_code, learner_id, normal_one_time_code, one_time_code, resume_code, session_token};
pub use sql::{Dialect, SqlStore, page_cache};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub id: String,
    pub name: String,
    pub join_code: String,
    pub created_at: i64,
    pub settings: ClassSettings,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learner {
    pub id: String,
    pub class_id: String,
    pub display_name: String,
    pub resume_code: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub preferences: Preferences,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Learner,
    Instructor,
    /// A teaching assistant of one class.
    Assistant,
    /// A staff account: a role per class.
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Instructor => "instructor",
            Role::Assistant => "assistant",
            Role::Staff => "staff",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub role: Role,
    pub learner_id: Option<String>,
    /// The assistant signed in, for `Role::Assistant`.
    pub assistant_id: Option<String>,
    /// Who the identity provider said this is, for a session begun by signing in there.
    pub identity_id: Option<String>,
    /// The staff account signed in, for `Role::Staff`.
    pub staff_id: Option<String>,
    pub expires_at: i64,
}

/// Someone the school's identity provider vouched for (`issuer` and `subject` name them there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: String,
    pub issuer: String,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    /// The provider's claim made them staff at their last sign-in.
    pub staff: bool,
    pub created_at: i64,
    pub last_seen: i64,
}

/// A member of staff's account: signed in through the identity provider, or with a login and a
/// password (only its argon2 hash is kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub id: String,
    pub name: String,
    pub login: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub identity_id: Option<String>,
    pub created_at: i64,
}

pub use app::class::ClassRole;

/// What the identity provider says of someone at sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vouched {
    pub issuer: String,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub staff: bool,
}

/// A one-time join code of a class, and who used it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeCode {
    pub code: String,
    pub class_id: String,
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
}

/// One-time codes a class may have: enough for a lecture hall, bounded all the same.
pub const ONE_TIME_CODES_PER_CLASS: i64 = 1000;
/// Staff accounts on one server (each made by the administrator, or by the provider's staff
/// claim at a first sign-in).
pub const MAX_STAFF_ACCOUNTS: i64 = 2000;

/// A teaching assistant: sees one class and its help queue, claims and resolves hands, watches
/// terminals; never takes over, resets, exports or changes classes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assistant {
    pub id: String,
    pub class_id: String,
    pub name: String,
    pub created_at: i64,
}

/// Where a learner is in one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    pub lab_id: String,
    pub step_id: String,
    pub done: bool,
    pub started_at: i64,
    pub done_at: Option<i64>,
    pub attempts: i64,
    /// Of those, the ones that failed.
    pub failures: i64,
    pub same_failures: i64,
    pub last_check_at: Option<i64>,
    pub last_passed: Option<bool>,
    pub last_reason: Option<String>,
    pub hints_revealed: i64,
    pub solution_shown: bool,
}

/// What one check run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub passed: bool,
    pub reason: String,
    pub took_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizAnswer {
    pub question_id: String,
    /// The first answer: the one that is graded.
    pub choices: Vec<usize>,
    /// The latest answer, when there was more than one (what the learner's page shows).
    pub latest: Option<Vec<usize>>,
    pub correct: bool,
    pub points: i64,
    pub attempts: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    pub command: String,
    pub exit_status: i32,
    pub started_at: i64,
    pub duration_ms: i64,
}

/// A message: from staff to one learner or the class, or from a learner to staff (their help
/// thread).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    pub class_id: String,
    /// The learner whose thread it is; `None`: to the whole class.
    pub learner_id: Option<String>,
    pub body: String,
    pub at: i64,
    pub from_learner: bool,
    /// The staff member who wrote it, by name; `None` for the instructor.
    pub author: Option<String>,
}

/// A poll as stored: how pages show it (its id and whether it is revealed filled in), and
/// when it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Poll {
    pub view: PollView,
    pub launched_at: i64,
    pub closed_at: Option<i64>,
}

/// Who writes a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Author {
    /// A member of staff, by name (`None`: the instructor).
    Staff(Option<String>),
    /// The learner the thread is with.
    Learner,
}

/// A raised hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpRequest {
    pub id: i64,
    pub class_id: String,
    pub learner_id: String,
    pub note: String,
    pub lab_id: Option<String>,
    pub step_id: Option<String>,
    /// What the learner's last check on that step said.
    pub reason: Option<String>,
    pub raised_at: i64,
    /// Who is helping, by name, and since when.
    pub claimed_by: Option<String>,
    pub claimed_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// Where a learner raised their hand from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelpContext {
    pub note: String,
    pub lab_id: Option<String>,
    pub step_id: Option<String>,
    pub reason: Option<String>,
}

/// What happens to an open hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelpChange {
    /// A member of staff (by name) takes it.
    Claim(String),
    /// Back to the queue, unclaimed.
    Return,
    /// Staff are done helping.
    Resolve,
    /// The learner lowers their hand.
    Lower,
}

/// Why a check ran, which decides what it counts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckRun {
    /// The learner pressed "Check": an attempt, always kept as a result.
    Asked,
    /// After a command the learner ran that may change something: an attempt, kept as a
    /// result when its outcome changed.
    AfterCommand,
    /// After a command that only looks around (`ls`, `man`): not an attempt, kept when changed.
    AfterLook,
    /// After a command the instructor typed while taking over: not the learner's attempt.
    AfterHelp,
    /// The slow background timer: not an attempt (the learner did nothing), kept when changed.
    Timer,
}

impl CheckRun {
    /// Whether this run is the learner trying (what "the same check failed N times" counts).
    pub fn is_attempt(self) -> bool {
        matches!(self, CheckRun::Asked | CheckRun::AfterCommand)
    }
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
pub trait Store: lti::LtiStore + Send + Sync + 'static {
    /// Makes a class; its join code is `code` when given (instructors like memorable ones),
    /// else drawn at random.
    async fn create_class(&self, name: &str, code: Option<&str>, settings: &ClassSettings) -> Result<Class>;
    async fn update_class(&self, id: &str, name: &str, settings: &ClassSettings) -> Result<Class>;
    async fn class(&self, id: &str) -> Result<Option<Class>>;
    async fn classes(&self) -> Result<Vec<Class>>;
    async fn class_by_code(&self, join_code: &str) -> Result<Option<Class>>;

    /// Adds a learner; `id` is taken when given (a pre-warmed spare sandbox's), else drawn.
    async fn create_learner(&self, class_id: &str, display_name: &str, id: Option<&str>) -> Result<Learner>;
    async fn learner(&self, id: &str) -> Result<Option<Learner>>;
    async fn learner_by_resume_code(&self, code: &str) -> Result<Option<Learner>>;
    async fn learners(&self, class_id: &str) -> Result<Vec<Learner>>;
    /// What the learner chose for themselves (their whole set, replacing the last).
    async fn set_preferences(&self, learner_id: &str, preferences: &Preferences) -> Result<()>;

    /// Opens a session and returns its token (only a hash of it is stored).
    async fn create_session(&self, role: Role, learner_id: Option<&str>, ttl: Duration) -> Result<String>;
    /// The live session for `token`, if any (expired ones are not returned).
    async fn session(&self, token: &str) -> Result<Option<Session>>;
    /// A session of someone signed in at the identity provider: as `learner_id` (a learner of
    /// theirs), as staff, or (neither) signed in but in no class yet.
    async fn create_identity_session(&self, identity_id: &str, role: Role, learner_id: Option<&str>, ttl: Duration) -> Result<String>;
    async fn delete_session(&self, token: &str) -> Result<()>;
    /// Deletes expired sessions; returns how many.
    async fn purge_expired_sessions(&self) -> Result<u64>;

    /// Makes `count` more one-time join codes for the class (at most `ONE_TIME_CODES_PER_CLASS`
    /// in all); returns the new ones.
    /// The identity the provider vouched for, made or brought up to date (name, e-mail, staff).
    async fn vouched(&self, who: &Vouched) -> Result<Identity>;
    async fn identity(&self, id: &str) -> Result<Option<Identity>>;
    /// The identity's learner in `class_id`, or (no class) the one they used last.
    async fn identity_learner(&self, identity_id: &str, class_id: Option<&str>) -> Result<Option<Learner>>;
    /// Makes `learner_id` the identity's learner in its class (an identity has one per class).
    async fn link_identity(&self, learner_id: &str, identity_id: &str) -> Result<()>;

    /// A staff account: `login` and `password_hash` for a password, or `identity_id` for the
    /// provider. At most `MAX_STAFF_ACCOUNTS`.
    async fn create_staff_account(
        &self,
        name: &str,
        login: Option<&str>,
        password_hash: Option<&str>,
        identity_id: Option<&str>,
    ) -> Result<StaffAccount>;
    async fn staff_account(&self, id: &str) -> Result<Option<StaffAccount>>;
    async fn staff_account_by_login(&self, login: &str) -> Result<Option<StaffAccount>>;
    async fn staff_account_of(&self, identity_id: &str) -> Result<Option<StaffAccount>>;
    async fn staff_accounts(&self) -> Result<Vec<StaffAccount>>;
    /// Gives the account a role in the class, or (`None`) takes it away.
    async fn set_class_role(&self, class_id: &str, staff_id: &str, role: Option<ClassRole>) -> Result<()>;
    /// The account's classes and its role in each.
    async fn roles_of(&self, staff_id: &str) -> Result<Vec<(String, ClassRole)>>;
    /// The class's staff accounts and their roles.
    async fn class_staff(&self, class_id: &str) -> Result<Vec<(String, ClassRole)>>;
    async fn create_staff_session(&self, staff_id: &str, identity_id: Option<&str>, ttl: Duration) -> Result<String>;

    async fn create_one_time_codes(&self, class_id: &str, count: u32) -> Result<Vec<String>>;
    async fn one_time_codes(&self, class_id: &str) -> Result<Vec<OneTimeCode>>;
    /// The unused code `code`, now used: its class. `None` if there is no such code; an error
    /// if it was used.
    async fn redeem_one_time_code(&self, code: &str) -> Result<Option<String>>;
    /// The class of a one-time code, used or not (nothing is used up).
    async fn one_time_code_class(&self, code: &str) -> Result<Option<String>>;
    /// Notes who joined with a redeemed code.
    async fn one_time_code_used_by(&self, code: &str, learner_id: &str) -> Result<()>;

    /// Makes an assistant for the class; returns them and their login token (only its hash is
    /// kept).
    async fn create_assistant(&self, class_id: &str, name: &str) -> Result<(Assistant, String)>;
    async fn assistant(&self, id: &str) -> Result<Option<Assistant>>;
    async fn assistant_by_token(&self, token: &str) -> Result<Option<Assistant>>;
    async fn assistants(&self, class_id: &str) -> Result<Vec<Assistant>>;
    /// Removes the assistant and ends their sessions.
    async fn remove_assistant(&self, id: &str) -> Result<()>;
    async fn create_assistant_session(&self, assistant_id: &str, ttl: Duration) -> Result<String>;

    /// Stores a message; a learner's own (`Author::Learner`) needs `learner_id`.
    async fn send_message(&self, class_id: &str, learner_id: Option<&str>, body: &str, author: Author) -> Result<Message>;
    /// Messages to this learner or their class, newer than `after_id`, oldest first (their own
    /// to staff included).
    async fn messages_for(&self, learner_id: &str, after_id: i64, limit: i64) -> Result<Vec<Message>>;
    /// The newest `limit` messages between staff and this learner alone, oldest first.
    async fn thread(&self, learner_id: &str, limit: i64) -> Result<Vec<Message>>;

    /// Raises the learner's hand, or changes the note of the one they have up.
    async fn raise_hand(&self, class_id: &str, learner_id: &str, context: &HelpContext) -> Result<HelpRequest>;
    /// Applies `change` to open request `id`; `None` when it is not open (or not there).
    async fn change_help(&self, id: i64, change: HelpChange) -> Result<Option<HelpRequest>>;
    async fn help_request(&self, id: i64) -> Result<Option<HelpRequest>>;
    /// The learner's open request, if their hand is up.
    async fn open_help(&self, learner_id: &str) -> Result<Option<HelpRequest>>;
    /// The class's open requests, oldest first.
    async fn help_queue(&self, class_id: &str) -> Result<Vec<HelpRequest>>;

    /// Launches a poll in `deck` (its `id` and `revealed` are the store's), ending any other
    /// poll of the deck still open.
    async fn launch_poll(&self, deck: &str, view: &PollView) -> Result<Poll>;
    async fn poll(&self, id: i64) -> Result<Option<Poll>>;
    /// Every poll still open, newest first.
    async fn open_polls(&self) -> Result<Vec<Poll>>;
    /// Reveals or closes open poll `id`; `None` when it is closed (or not there).
    async fn change_poll(&self, id: i64, change: PollChange) -> Result<Option<Poll>>;
    /// Stores (or replaces) the learner's answer.
    async fn answer_poll(&self, id: i64, learner_id: &str, answer: &PollAnswer) -> Result<()>;
    async fn poll_answers(&self, id: i64) -> Result<Vec<(String, PollAnswer)>>;
    /// Polls launched so far, per deck.
    async fn polls_per_deck(&self) -> Result<Vec<(String, i64)>>;
    /// Per learner of the class, the polls of `decks` they answered.
    async fn polls_answered(&self, class_id: &str, decks: &[String]) -> Result<Vec<(String, i64)>>;

    /// The learner's states in one lab (steps never reached have none).
    async fn step_states(&self, learner_id: &str, lab_id: &str) -> Result<Vec<StepState>>;
    /// Every learner's states in a class, for the dashboard.
    async fn class_step_states(&self, class_id: &str) -> Result<Vec<(String, StepState)>>;
    /// Marks the step started (once); returns its state.
    async fn start_step(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<StepState>;
    /// Records a check run. A pass makes the step done (for good). Runs whose outcome did not
    /// change only update the step's state, unless the learner asked for them.
    async fn record_check(&self, learner_id: &str, lab_id: &str, step_id: &str, outcome: &CheckOutcome, run: CheckRun)
    -> Result<StepState>;
    /// Reveals static hints up to `count`; returns the state.
    async fn reveal_hints(&self, learner_id: &str, lab_id: &str, step_id: &str, count: i64) -> Result<StepState>;
    async fn show_solution(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<StepState>;
    /// Records that hint check `index` fired; true the first time.
    async fn fire_hint_check(&self, learner_id: &str, lab_id: &str, step_id: &str, index: i64) -> Result<bool>;
    async fn fired_hint_checks(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<Vec<i64>>;

    /// Records an answer; the first one is graded, later ones count as attempts.
    async fn answer_quiz(&self, learner_id: &str, question_id: &str, choices: &[usize], correct: bool, points: i64) -> Result<QuizAnswer>;
    async fn quiz_answers(&self, learner_id: &str) -> Result<Vec<QuizAnswer>>;
    /// Every learner's answers in a class, for the dashboard and grades.
    async fn class_quiz_answers(&self, class_id: &str) -> Result<Vec<(String, QuizAnswer)>>;

    async fn record_command(&self, learner_id: &str, command: &CommandRecord) -> Result<()>;
    /// The learner's last `limit` commands, oldest first.
    async fn commands(&self, learner_id: &str, limit: i64) -> Result<Vec<CommandRecord>>;

    async fn log_event(&self, learner_id: Option<&str>, kind: &str, data: serde_json::Value) -> Result<()>;
}

/// Commands kept per learner (checks see the most recent 2000): the log is bounded however fast
/// a learner's terminal reports them.
pub const COMMANDS_KEPT: i64 = 5000;

/// Check results and events kept per learner: a history for the instructor, bounded however
/// often a learner presses "Check" or answers a quiz.
pub const HISTORY_KEPT: i64 = 5000;

/// Messages kept per learner's thread, and raised hands kept per learner (open and closed):
/// bounded however fast a learner writes or raises and lowers their hand.
pub const THREAD_KEPT: i64 = 1000;
pub const HANDS_KEPT: i64 = 100;

/// A learner's display name, trimmed: 1 to 60 characters, no control characters.
pub fn valid_display_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(app::t!("srv-display-name")));
    }
    Ok(name)
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
