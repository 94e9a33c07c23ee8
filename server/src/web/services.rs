//! The server's side of `app::services::Services`: what the pages' server functions may ask.

use app::class::{
    AssistantView, ClassInput, ClassSummary, Dashboard, HelpAction, HelpView, LearnerHelp, MessageView, OneTimeCodeView, StaffView,
};
use app::error::{AppError, AppResult};
use app::poll::{PollAnswer, PollChange, PollSource, PollView};
use app::services::{QuizResult, SandboxPorts, Services, StepProgress, Viewer};
use async_trait::async_trait;

use super::{AppState, help, instructor, polls, progress};
use crate::store::{Role, Session};
use crate::web::auth::session_from;

impl AppState {
    async fn session_of(&self, request: &http::request::Parts) -> Option<Session> {
        let session = session_from(&request.headers, self.cookie_key.clone(), self.store.as_ref()).await.ok()??;
        Some(session.1)
    }
}

#[async_trait]
impl Services for AppState {
    async fn viewer(&self, request: &http::request::Parts) -> Option<Viewer> {
        let session = self.session_of(request).await?;
        if session.role != Role::Learner {
            return None;
        }
        let learner = self.store.learner(session.learner_id.as_deref()?).await.ok()??;
        let class = self.store.class(&learner.class_id).await.ok()??;
        Some(Viewer {
            learner_id: learner.id,
            display_name: learner.display_name,
            class_id: class.id,
            class_name: class.name,
            class_settings: class.settings,
            resume_code: learner.resume_code,
            preferences: learner.preferences,
        })
    }

    async fn staff(&self, request: &http::request::Parts) -> Option<StaffView> {
        let session = self.session_of(request).await?;
        crate::web::auth::staff_of(&session, &*self.store).await.ok().flatten()
    }

    fn password_login(&self) -> bool {
        self.instructor.has_password()
    }

    fn sign_in_with(&self) -> Option<String> {
        self.oidc.as_ref().map(|o| o.label().to_string())
    }

    async fn signed_in_as(&self, request: &http::request::Parts) -> Option<String> {
        let session = self.session_of(request).await?;
        if session.role != Role::Learner || session.learner_id.is_some() {
            return None;
        }
        Some(self.store.identity(session.identity_id.as_deref()?).await.ok()??.display_name)
    }

    async fn classes(&self, who: &StaffView) -> AppResult<Vec<ClassSummary>> {
        instructor::list_classes(self, who).await.map_err(AppError::from)
    }

    async fn save_class(&self, who: &StaffView, id: Option<String>, input: ClassInput) -> AppResult<ClassSummary> {
        match id {
            Some(id) => instructor::update_class(self, who, &id, input).await,
            None => instructor::create_class(self, who, input).await,
        }
        .map_err(AppError::from)
    }

    async fn dashboard(&self, who: &StaffView, class: &str) -> AppResult<Dashboard> {
        if !who.may_see(class) {
            return Err(AppError::NotInstructor);
        }
        instructor::dashboard(self, class).await.map_err(AppError::from)
    }

    async fn help(&self, who: &StaffView, action: HelpAction) -> AppResult<String> {
        instructor::help(self, who, action).await.map(|done| done.message).map_err(AppError::from)
    }

    async fn assistants(&self, who: &StaffView, class: &str) -> AppResult<Vec<AssistantView>> {
        instructor::allowed(who.may_run(class))?;
        instructor::assistants::list(self, class).await.map_err(AppError::from)
    }

    async fn add_assistant(&self, who: &StaffView, class: &str, name: &str) -> AppResult<AssistantView> {
        instructor::allowed(who.may_run(class))?;
        instructor::assistants::add(self, class, name).await.map_err(AppError::from)
    }

    async fn one_time_codes(&self, who: &StaffView, class: &str) -> AppResult<Vec<OneTimeCodeView>> {
        instructor::allowed(who.may_run(class))?;
        instructor::codes::list(self, class).await.map_err(AppError::from)
    }

    async fn make_codes(&self, who: &StaffView, class: &str, count: u32) -> AppResult<Vec<OneTimeCodeView>> {
        instructor::allowed(who.may_run(class))?;
        instructor::codes::make(self, class, count).await.map_err(AppError::from)
    }

    async fn remove_assistant(&self, who: &StaffView, id: &str) -> AppResult<()> {
        instructor::assistants::remove(self, who, id).await.map_err(AppError::from)
    }

    async fn class_staff(&self, who: &StaffView, class: &str) -> AppResult<Vec<app::class::StaffAccountView>> {
        instructor::staff::list(self, who, class).await.map_err(AppError::from)
    }

    async fn set_class_role(&self, who: &StaffView, class: &str, account: &str, role: Option<app::class::ClassRole>) -> AppResult<()> {
        instructor::staff::set_role(self, who, class, account, role).await.map_err(AppError::from)
    }

    async fn lti_setup(&self, who: &StaffView) -> AppResult<app::lti::LtiSetup> {
        instructor::lti::setup(self, who).await.map_err(AppError::from)
    }

    async fn save_lti_platform(&self, who: &StaffView, input: app::lti::PlatformInput) -> AppResult<app::lti::PlatformView> {
        instructor::lti::save(self, who, input).await.map_err(AppError::from)
    }

    async fn remove_lti_platform(&self, who: &StaffView, id: &str) -> AppResult<()> {
        instructor::lti::remove(self, who, id).await.map_err(AppError::from)
    }

    async fn rotate_lti_key(&self, who: &StaffView) -> AppResult<String> {
        instructor::lti::rotate(self, who).await.map_err(AppError::from)
    }

    async fn class_lti(&self, who: &StaffView, class: &str) -> AppResult<app::lti::ClassLti> {
        instructor::lti::class(self, who, class).await.map_err(AppError::from)
    }

    async fn fill_roster(&self, who: &StaffView, class: &str) -> AppResult<usize> {
        instructor::lti::roster(self, who, class).await.map_err(AppError::from)
    }

    async fn make_staff_account(
        &self,
        who: &StaffView,
        name: &str,
        login: &str,
        password: &str,
    ) -> AppResult<app::class::StaffAccountView> {
        instructor::staff::make(self, who, name, login, password).await.map_err(AppError::from)
    }

    async fn messages(&self, learner: &str, after: i64) -> Vec<MessageView> {
        let messages = self.store.messages_for(learner, after, 20).await.unwrap_or_default();
        messages.iter().map(crate::classroom::message_view).collect()
    }

    async fn thread(&self, who: &StaffView, learner: &str) -> AppResult<Vec<MessageView>> {
        let Ok(Some(l)) = self.store.learner(learner).await else { return Err(AppError::NotFound(app::t!("srv-no-learner"))) };
        if !who.may_see(&l.class_id) {
            return Err(AppError::NotInstructor);
        }
        let messages = self.store.thread(learner, 100).await.map_err(|e| AppError::from(super::error::ApiError::from(e)))?;
        Ok(messages.iter().map(crate::classroom::message_view).collect())
    }

    async fn my_help(&self, learner: &str) -> AppResult<LearnerHelp> {
        help::mine(self, learner).await.map_err(AppError::from)
    }

    async fn raise_hand(&self, learner: &str, note: &str) -> AppResult<HelpView> {
        help::raise(self, learner, note).await.map_err(AppError::from)
    }

    async fn extend_own_sandbox(&self, learner: &str) -> AppResult<LearnerHelp> {
        help::extend(self, learner).await.map_err(AppError::from)
    }

    async fn answer_spotlight(&self, learner: &str, allow: bool) -> AppResult<()> {
        help::spotlight(self, learner, allow).await.map_err(AppError::from)
    }

    async fn lower_hand(&self, learner: &str) -> AppResult<()> {
        help::lower(self, learner).await.map_err(AppError::from)
    }

    async fn write_to_staff(&self, learner: &str, body: &str) -> AppResult<MessageView> {
        help::write(self, learner, body).await.map_err(AppError::from)
    }

    async fn lab_progress(&self, learner: &str, lab: &str) -> AppResult<Vec<StepProgress>> {
        progress::lab_progress(self, learner, lab).await.map_err(AppError::from)
    }

    async fn recordings(&self, learner: &str) -> Vec<app::services::RecordingInfo> {
        self.recordings.as_ref().map(|r| super::recordings::list(r, learner)).unwrap_or_default()
    }

    async fn save_preferences(&self, learner: &str, preferences: app::preferences::Preferences) -> AppResult<()> {
        self.store.set_preferences(learner, &preferences).await.map_err(|e| AppError::from(super::error::ApiError::from(e)))
    }

    async fn focus_step(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress> {
        progress::focus(self, learner, lab, step).await.map_err(AppError::from)
    }

    async fn check_step(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress> {
        progress::check(self, learner, lab, step).await.map_err(AppError::from)
    }

    async fn next_hint(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress> {
        progress::hint(self, learner, lab, step).await.map_err(AppError::from)
    }

    async fn show_solution(&self, learner: &str, lab: &str, step: &str) -> AppResult<StepProgress> {
        progress::solution(self, learner, lab, step).await.map_err(AppError::from)
    }

    async fn answer_quiz(&self, learner: &str, question: &str, choices: Vec<usize>) -> AppResult<QuizResult> {
        progress::answer(self, learner, question, choices).await.map_err(AppError::from)
    }

    async fn quiz_results(&self, learner: &str, questions: &[String]) -> Vec<QuizResult> {
        progress::quiz_results(self, learner, questions).await.unwrap_or_default()
    }

    async fn listening_ports(&self, learner: &str) -> AppResult<SandboxPorts> {
        let ports = crate::web::preview::ports_of(self, learner).await.map_err(AppError::from)?;
        Ok(SandboxPorts { listening: ports.listening, shared: crate::web::preview::shared_by(self, learner) })
    }

    async fn share_port(&self, learner: &str, port: u16, share: bool) -> AppResult<Option<String>> {
        crate::web::preview::share(self, learner, port, share).map_err(AppError::from)
    }

    async fn launch_poll(&self, deck: &str, source: PollSource) -> AppResult<PollView> {
        polls::launch(self, deck, source).await.map_err(AppError::from)
    }

    async fn change_poll(&self, id: i64, change: PollChange) -> AppResult<PollView> {
        polls::change(self, id, change).await.map_err(AppError::from)
    }

    async fn presenter_poll(&self, deck: &str) -> AppResult<Option<PollView>> {
        polls::presenter_poll(self, deck).await.map_err(AppError::from)
    }

    async fn answer_poll(&self, learner: &str, id: i64, answer: PollAnswer) -> AppResult<()> {
        polls::answer(self, learner, id, answer).await.map(|_| ()).map_err(AppError::from)
    }

    async fn live_slide(&self, deck: &str) -> Option<usize> {
        self.presentations.current(deck)
    }

    async fn set_live_slide(&self, deck: &str, slide: usize) -> AppResult<()> {
        let (_, d) = self.course.deck(deck).ok_or_else(|| AppError::NotFound(app::t!("srv-no-such-deck")))?;
        if slide >= d.slides.len() {
            return Err(AppError::NotFound(app::t!("srv-no-such-slide")));
        }
        self.presentations.set(deck, slide);
        Ok(())
    }
}
