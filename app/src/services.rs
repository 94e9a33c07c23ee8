//! What the pages' server functions need from the server, as a trait the server implements and
//! provides as context: the app crate stays free of databases and sandboxes, and each server
//! function is a thin call. The types here travel to the browser.

#[cfg(feature = "ssr")]
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::class::ClassSettings;
#[cfg(feature = "ssr")]
use crate::class::{
    AssistantView, ClassInput, ClassSummary, Dashboard, HelpAction, HelpView, LearnerHelp, MessageView, OneTimeCodeView, StaffView,
};
#[cfg(feature = "ssr")]
use crate::error::{AppError, AppResult};

/// Who is looking at a page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub learner_id: String,
    pub display_name: String,
    pub class_id: String,
    pub class_name: String,
    pub class_settings: ClassSettings,
    pub resume_code: String,
    pub preferences: crate::preferences::Preferences,
}

/// How far a tier that needs starting (the cluster) is in the learner's sandbox, as
/// `lab-cluster status --json` says it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TierStatus {
    /// "stopped", "starting", "ready" or "failed".
    pub state: String,
    #[serde(default)]
    pub step: Option<u32>,
    #[serde(default)]
    pub steps: u32,
    /// The step being done.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// The learner's sandbox's ports, for the Ports menu.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SandboxPorts {
    /// TCP ports the sandbox listens on that a web preview reaches, ascending.
    pub listening: Vec<u16>,
    /// The ports the learner shares a link to.
    pub shared: Vec<SharedPort>,
}

/// A preview the learner lets others open without signing in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharedPort {
    pub port: u16,
    /// The link's path on this server (`/share/<token>/`).
    pub link: String,
}

/// A learner's step as their workbook shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepProgress {
    pub step_id: String,
    pub started: bool,
    pub done: bool,
    /// What the last check said, and whether it passed.
    pub last_reason: Option<String>,
    pub last_passed: Option<bool>,
    /// When the learner reached it (Unix seconds), and how many checks in a row failed the
    /// same way: what suggests raising a hand.
    #[serde(default)]
    pub started_at: Option<i64>,
    #[serde(default)]
    pub same_failures: i64,
    /// Hints revealed so far (static ones asked for, then those hint checks fired), as HTML.
    pub hints: Vec<String>,
    /// Static hints not yet asked for.
    pub hints_left: usize,
    /// The solution, once the learner asked for it.
    pub solution: Option<String>,
}

/// One recorded terminal session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingInfo {
    /// `<started-ms>-<tab>`.
    pub id: String,
    pub tab: u32,
    /// Unix seconds.
    pub started_at: i64,
    /// On disk (compressed).
    pub bytes: u64,
}

/// A stored quiz answer with the server's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizResult {
    pub question_id: String,
    /// The choices of the answer shown (the latest).
    pub choices: Vec<usize>,
    pub feedback: labs::QuizFeedback,
    /// Points of the first answer, the one graded.
    pub graded_points: u32,
    pub attempts: u32,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait Services: Send + Sync + 'static {
    /// The learner behind this request's session cookie, if any.
    async fn viewer(&self, request: &http::request::Parts) -> Option<Viewer>;
    /// The member of staff behind the request (the administrator, a staff account or an
    /// assistant), if any.
    async fn staff(&self, request: &http::request::Parts) -> Option<StaffView>;
    /// Whether the instructor may sign in with a password (else only with the login link).
    fn password_login(&self) -> bool;
    /// How the school's sign-in service is named on its button, when the server has one.
    fn sign_in_with(&self) -> Option<String>;
    /// The name of someone signed in at the school's service but in no class yet.
    async fn signed_in_as(&self, request: &http::request::Parts) -> Option<String>;
    /// The staff's side: the classes `who` may see, the live matrix, helping. Each checks what
    /// `who` may do in the class concerned.
    async fn classes(&self, who: &StaffView) -> AppResult<Vec<ClassSummary>>;
    /// Makes a class (`id` is `None`; `who` becomes its owner) or changes one.
    async fn save_class(&self, who: &StaffView, id: Option<String>, input: ClassInput) -> AppResult<ClassSummary>;
    /// The class live, for a member of staff who may see it.
    async fn dashboard(&self, who: &StaffView, class: &str) -> AppResult<Dashboard>;
    /// Does what a member of staff asked (if theirs to do); says what happened.
    async fn help(&self, who: &StaffView, action: HelpAction) -> AppResult<String>;
    /// The class's teaching assistants; `add_assistant` returns the new one's login link once.
    async fn assistants(&self, who: &StaffView, class: &str) -> AppResult<Vec<AssistantView>>;
    async fn add_assistant(&self, who: &StaffView, class: &str, name: &str) -> AppResult<AssistantView>;
    async fn remove_assistant(&self, who: &StaffView, id: &str) -> AppResult<()>;
    /// The class's one-time join codes; `make_codes` adds `count` more and returns them.
    async fn one_time_codes(&self, who: &StaffView, class: &str) -> AppResult<Vec<OneTimeCodeView>>;
    async fn make_codes(&self, who: &StaffView, class: &str, count: u32) -> AppResult<Vec<OneTimeCodeView>>;
    /// Every staff account, with its role in `class` (the class's owner, or the administrator).
    async fn class_staff(&self, who: &StaffView, class: &str) -> AppResult<Vec<crate::class::StaffAccountView>>;
    /// Gives `account` a role in `class`, or (`None`) takes it away (the class's owner).
    async fn set_class_role(&self, who: &StaffView, class: &str, account: &str, role: Option<crate::class::ClassRole>) -> AppResult<()>;
    /// Makes a staff account that signs in with a login and a password (the administrator).
    async fn make_staff_account(
        &self,
        who: &StaffView,
        name: &str,
        login: &str,
        password: &str,
    ) -> AppResult<crate::class::StaffAccountView>;

    /// The tool's URLs and the LMS registrations (the administrator).
    async fn lti_setup(&self, who: &StaffView) -> AppResult<crate::lti::LtiSetup>;
    async fn save_lti_platform(&self, who: &StaffView, input: crate::lti::PlatformInput) -> AppResult<crate::lti::PlatformView>;
    async fn remove_lti_platform(&self, who: &StaffView, id: &str) -> AppResult<()>;
    /// A new signing key for the tool; its id.
    async fn rotate_lti_key(&self, who: &StaffView) -> AppResult<String>;
    /// The class's links in the LMS and the scores sent there (its staff).
    async fn class_lti(&self, who: &StaffView, class: &str) -> AppResult<crate::lti::ClassLti>;
    /// Reads the class's course rosters from the LMS (its teachers); how many learners that added.
    async fn fill_roster(&self, who: &StaffView, class: &str) -> AppResult<usize>;

    /// Messages to this learner (or their class) after message `after`.
    async fn messages(&self, learner: &str, after: i64) -> Vec<MessageView>;
    /// The thread between staff and this learner, for a member of staff who may see them.
    async fn thread(&self, who: &StaffView, learner: &str) -> AppResult<Vec<MessageView>>;
    /// The learner's hand, thread and whether the class's pages are covered.
    async fn my_help(&self, learner: &str) -> AppResult<LearnerHelp>;
    /// Raises the learner's hand (or changes its note), at the step their page shows.
    async fn raise_hand(&self, learner: &str, note: &str) -> AppResult<HelpView>;
    async fn lower_hand(&self, learner: &str) -> AppResult<()>;
    /// The learner agrees to (or declines, or stops) showing their terminal to the class.
    async fn answer_spotlight(&self, learner: &str, allow: bool) -> AppResult<()>;
    /// The learner adds time to their own sandbox, within their class's limit.
    async fn extend_own_sandbox(&self, learner: &str) -> AppResult<LearnerHelp>;
    async fn write_to_staff(&self, learner: &str, body: &str) -> AppResult<MessageView>;

    async fn lab_progress(&self, learner: &str, lab: &str) -> AppResult<Vec<StepProgress>>;
    /// The learner's terminal recordings, oldest first.
    async fn recordings(&self, learner: &str) -> Vec<RecordingInfo>;
    /// Remembers what the learner chose for themselves.
    async fn save_preferences(&self, learner: &str, preferences: crate::preferences::Preferences) -> AppResult<()>;
    /// The learner is on this step now (it starts, its setup runs, auto-checks follow).
    async fn focus_step(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress>;
    async fn check_step(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress>;
    async fn next_hint(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress>;
    async fn show_solution(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress>;
    /// The TCP ports the learner's sandbox listens on that a web preview reaches, and the ones
    /// they share.
    async fn listening_ports(&self, learner: &str) -> AppResult<SandboxPorts>;
    /// Starts (`share`) or stops sharing the learner's preview of `port`; the link when shared.
    async fn share_port(&self, learner: &str, port: u16, share: bool) -> AppResult<Option<String>>;

    async fn answer_quiz(&self, learner: &str, question: &str, choices: Vec<usize>) -> AppResult<QuizResult>;
    /// The learner's earlier answers to these questions.
    async fn quiz_results(&self, learner: &str, questions: &[String]) -> Vec<QuizResult>;

    /// Polls: the presenter launches, reveals and closes them (callers check the role first);
    /// learners answer.
    async fn launch_poll(&self, deck: &str, source: crate::poll::PollSource) -> AppResult<crate::poll::PollView>;
    async fn change_poll(&self, id: i64, change: crate::poll::PollChange) -> AppResult<crate::poll::PollView>;
    async fn presenter_poll(&self, deck: &str) -> AppResult<Option<crate::poll::PollView>>;
    async fn answer_poll(&self, learner: &str, id: i64, answer: crate::poll::PollAnswer) -> AppResult<()>;

    /// The slide the instructor shows in `deck` now, if they present it.
    async fn live_slide(&self, deck: &str) -> Option<usize>;
    async fn set_live_slide(&self, deck: &str, slide: usize) -> AppResult<()>;
}

#[cfg(feature = "ssr")]
pub type SharedServices = std::sync::Arc<dyn Services>;

/// The services and the current request, inside a server function.
#[cfg(feature = "ssr")]
pub async fn request() -> AppResult<(SharedServices, http::request::Parts)> {
    let services = use_context::<SharedServices>().ok_or_else(|| missing("the services"))?;
    let parts: http::request::Parts = leptos_axum::extract().await?;
    Ok((services, parts))
}

/// The signed-in learner, or an error a person understands.
#[cfg(feature = "ssr")]
pub async fn learner() -> AppResult<(SharedServices, Viewer)> {
    let (services, parts) = request().await?;
    match services.viewer(&parts).await {
        Some(viewer) => Ok((services, viewer)),
        None => Err(AppError::NotJoined),
    }
}

/// The services and who asks, once they are known to teach (the administrator or a staff
/// account: they make classes and present decks); anyone else learns only that they must sign in.
#[cfg(feature = "ssr")]
pub async fn teacher() -> AppResult<(SharedServices, StaffView)> {
    let (services, who) = staff().await?;
    if who.may_teach() {
        Ok((services, who))
    } else {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::FORBIDDEN);
        }
        Err(AppError::NotInstructor)
    }
}

/// The services and who of the staff asks (the instructor or an assistant); anyone else learns
/// only that they must sign in.
#[cfg(feature = "ssr")]
pub async fn staff() -> AppResult<(SharedServices, StaffView)> {
    let (services, parts) = request().await?;
    match services.staff(&parts).await {
        Some(who) => Ok((services, who)),
        None => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::FORBIDDEN);
            }
            Err(AppError::NotInstructor)
        }
    }
}

/// The course the server loaded.
#[cfg(feature = "ssr")]
pub fn course() -> AppResult<std::sync::Arc<labs::load::Course>> {
    use_context::<std::sync::Arc<labs::load::Course>>().ok_or_else(|| missing("the course"))
}

/// Something the server puts in every server function's context is not there: a fault of the
/// server's own set-up, logged; the person is told only to try again.
#[cfg(feature = "ssr")]
fn missing(what: &str) -> AppError {
    leptos::logging::error!("server function: {what} missing from the context");
    AppError::Failed
}
