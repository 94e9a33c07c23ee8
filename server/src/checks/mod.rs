//! The check engine: lab steps that turn green by themselves.
//!
//! While a learner is on a step (their lab page says which), its checks run in their sandbox soon
//! after every command they finish in a terminal (debounced), on a slow timer, and at once when
//! they press "Check". The step's setup runs when they reach it, and again in a fresh sandbox
//! (after a reset or a restart). Results go to the store before anyone is told, then out to the
//! learner's page and the instructor's dashboard as [`Update`]s. Who is still here to be checked
//! is [`presence`]'s business; what counts as an attempt, [`attempt`]'s.

pub mod attempt;
pub mod presence;
pub mod runner;
pub mod selftest;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use presence::{Focus, Presence};

use labs::load::Course;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::sandboxes::{Sandboxes, Status};
use crate::store::{CheckRun, CommandRecord, StepState, Store};
use crate::updates::{Update, Updates};

/// Checks waiting after terminal activity, so a burst of commands runs them once.
const DEBOUNCE: Duration = Duration::from_millis(400);
/// Background re-checks of a step the learner is on, when nothing else checked it meanwhile.
pub const RECHECK_EVERY: Duration = Duration::from_secs(15);
/// How often the timer looks for steps due a re-check: each learner's falls due on their own
/// beat (their last check), not the whole class's at the same tick.
const RECHECK_LOOKS: u32 = 15;
/// Background checks wait for the foreground (starts, pressed checks) at most this long.
const YIELD_AT_MOST: Duration = Duration::from_secs(5);
/// Commands a check sees (the most recent).
const COMMANDS_FOR_CHECKS: i64 = 2000;
/// A learner with no page open who did nothing for this long has left: their step is no longer
/// re-checked (`serve --away-after`).
pub const AWAY_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("there is no step {1:?} in lab {0:?}")]
    NoSuchStep(String, String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Sandbox(#[from] sandbox::Error),
    /// The class is full and the learner waits in line (`None`: they have no place in it yet,
    /// as their terminal takes one).
    #[error("{}", match .0 { Some(spot) => spot.to_string(), None => "The class is full: no sandbox is free. Open your terminal to take your place in line.".to_string() })]
    Queued(Option<crate::sandboxes::QueueSpot>),
}

pub struct CheckEngine {
    course: Arc<Course>,
    store: Arc<dyn Store>,
    sandboxes: Arc<Sandboxes>,
    presence: Mutex<Presence>,
    /// (learner, lab, step, sandbox start) whose setup has run.
    setups: Mutex<HashSet<(String, String, String, SystemTime)>>,
    /// Learners with a background check pending (debounced, or waiting for its turn): why (an
    /// attempt wins over the timer), and when the latest thing it is to see happened.
    pending: Mutex<HashMap<String, (CheckRun, Instant)>>,
    /// When each learner's latest check began to run: a pending check that this one already
    /// covers (it began after what the pending one was to see) is not run again.
    began: Mutex<HashMap<String, Instant>>,
    /// When the timer last asked for each learner's re-check (a done step's asks run nothing, so
    /// `began` alone would find it due at every look).
    rechecked: Mutex<HashMap<String, Instant>>,
    /// One check run at a time per learner.
    per_learner: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// And a bounded number across the class, so a class typing does not swamp the host.
    slots: Semaphore,
    /// Checks nobody waits on (after a command, the timer) take one of these first, so they hold
    /// at most half the slots: a learner who pressed Check, and is waiting, finds one free soon
    /// even when the whole class has just run a command.
    background: Semaphore,
    updates: Updates,
    /// Learners whose cluster is being started now (one start at a time each).
    clusters_starting: Mutex<HashSet<String>>,
}

impl CheckEngine {
    pub fn new(course: Arc<Course>, store: Arc<dyn Store>, sandboxes: Arc<Sandboxes>, updates: Updates, away_after: Duration) -> Arc<Self> {
        let parallel = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) * 2;
        Arc::new(Self {
            course,
            store,
            sandboxes,
            presence: Mutex::new(Presence::new(away_after)),
            setups: Mutex::new(HashSet::new()),
            pending: Mutex::new(HashMap::new()),
            began: Mutex::new(HashMap::new()),
            rechecked: Mutex::new(HashMap::new()),
            per_learner: Mutex::new(HashMap::new()),
            slots: Semaphore::new(parallel),
            background: Semaphore::new((parallel / 2).max(1)),
            updates,
            clusters_starting: Mutex::new(HashSet::new()),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn step(&self, lab: &str, step: &str) -> Result<&labs::load::Step, CheckError> {
        self.course.lab(lab).and_then(|(_, l)| l.step(step)).ok_or_else(|| CheckError::NoSuchStep(lab.to_string(), step.to_string()))
    }

    /// The learner is on `step` of `lab` now: it starts (once), its setup runs in their sandbox
    /// if it has not there yet, and its checks soon follow.
    pub async fn focus(self: &Arc<Self>, learner: &str, lab: &str, step: &str) -> Result<StepState, CheckError> {
        self.step(lab, step)?;
        let state = self.store.start_step(learner, lab, step).await?;
        self.presence().focus(learner, Focus { lab: lab.to_string(), step: step.to_string() }, Instant::now());
        if !state.done {
            // A learner on a lab page is about to work: start their sandbox (the terminal would
            // anyway) so the step's setup and first check run now. When the class is full the
            // page does not wait: the terminal holds the learner's place in line, and the timer
            // checks once their sandbox is up.
            let init = self.course.lab(lab).map_or(sandbox::Init::Minimal, |(_, l)| crate::sandboxes::init_for(&l.tiers));
            if self.sandboxes.start_now_with(learner, init).await?.is_some() {
                self.first_check(learner, lab, step);
            }
        }
        if self.course.lab(lab).is_some_and(|(_, l)| l.tiers.contains(&labs::Tier::Cluster)) {
            self.start_cluster(learner);
        }
        Ok(state)
    }

    /// Brings the learner's cluster up in the background, their page following its progress
    /// (a no-op that says "ready" when it is up already).
    fn start_cluster(self: &Arc<Self>, learner: &str) {
        if !self.clusters_starting.lock().unwrap_or_else(|p| p.into_inner()).insert(learner.to_string()) {
            return;
        }
        let (this, learner) = (self.clone(), learner.to_string());
        tokio::spawn(async move {
            crate::cluster::start_for(&this.sandboxes, &this.updates, &learner).await;
            this.clusters_starting.lock().unwrap_or_else(|p| p.into_inner()).remove(&learner);
        });
    }

    fn presence(&self) -> std::sync::MutexGuard<'_, Presence> {
        self.presence.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lab and step the learner's page shows, while they are here.
    pub fn focus_of(&self, learner: &str) -> Option<(String, String)> {
        self.presence().current(learner, Instant::now()).map(|f| (f.lab, f.step))
    }

    /// A sign that the learner is here (a key typed in their terminal).
    pub fn seen(&self, learner: &str) {
        self.presence().seen(learner, Instant::now());
    }

    /// One of the learner's pages is open for as long as the guard lives (it holds the live
    /// event stream): while any is, the learner is here.
    pub fn page_open(self: &Arc<Self>, learner: &str) -> PageOpen {
        self.presence().page_opened(learner, Instant::now());
        PageOpen { progress: self.clone(), learner: learner.to_string() }
    }

    /// A terminal command finished: record it, and re-check the learner's step shortly. Only
    /// the learner's own commands that may change something count as attempts ([`attempt`]).
    pub async fn command(self: &Arc<Self>, learner: &str, record: CommandRecord, typist: crate::terminals::Typist) {
        if let Err(e) = self.store.record_command(learner, &record).await {
            tracing::error!(%learner, "recording a command: {e}");
        }
        let run = match typist {
            crate::terminals::Typist::Learner if !attempt::only_looks(&record.command) => CheckRun::AfterCommand,
            crate::terminals::Typist::Learner => CheckRun::AfterLook,
            crate::terminals::Typist::Instructor => CheckRun::AfterHelp,
        };
        if typist == crate::terminals::Typist::Learner {
            self.seen(learner);
        }
        self.schedule(learner, DEBOUNCE, run);
    }

    fn schedule(self: &Arc<Self>, learner: &str, after: Duration, run: CheckRun) {
        let now = Instant::now();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(waiting) = pending.get_mut(learner) {
                if run.is_attempt() {
                    waiting.0 = run;
                }
                waiting.1 = now;
                return;
            }
            pending.insert(learner.to_string(), (run, now));
        }
        let this = self.clone();
        let learner = learner.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            // Still pending while it waits its turn: when the class is busy, the learner's next
            // commands join this check instead of queueing checks of their own. It waits first
            // for the learners who are waiting (for a sandbox, for a Check they pressed), then
            // for a turn: while it gives way it holds no one's turn.
            this.sandboxes.foreground().idle(YIELD_AT_MOST).await;
            let _background = this.background.acquire().await.expect("the semaphore is never closed");
            let (run, asked) = this.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&learner).unwrap_or((run, now));
            let focus = this.presence().current(&learner, Instant::now());
            if let Some(focus) = focus
                && let Err(e) = this.run(&learner, &focus.lab, &focus.step, run, Some(asked)).await
            {
                tracing::debug!(%learner, "background check: {e}");
            }
        });
    }

    /// The step the learner has just reached: its setup and first check, with the checks nobody
    /// waits on (it takes one of their turns, so pressed checks keep theirs) but without giving
    /// way to the foreground: the learner is about to type into what the setup prepares.
    fn first_check(self: &Arc<Self>, learner: &str, lab: &str, step: &str) {
        let (this, learner, lab, step) = (self.clone(), learner.to_string(), lab.to_string(), step.to_string());
        tokio::spawn(async move {
            let _background = this.background.acquire().await.expect("the semaphore is never closed");
            if let Err(e) = this.run(&learner, &lab, &step, CheckRun::Timer, None).await {
                tracing::debug!(%learner, "first check on a step: {e}");
            }
        });
    }

    /// "Check" pressed: runs the step's checks now (starting the sandbox if it stopped). A step
    /// with no check is done now: the learner said so ("I've done this", or "Next").
    pub async fn check_now(self: &Arc<Self>, learner: &str, lab: &str, step: &str) -> Result<StepState, CheckError> {
        if self.step(lab, step)?.is_manual() {
            let before = self.store.start_step(learner, lab, step).await?;
            if before.done {
                return Ok(before);
            }
            let outcome = crate::store::CheckOutcome { passed: true, reason: "Marked as done".into(), took_ms: 0 };
            let state = self.store.record_check(learner, lab, step, &outcome, CheckRun::Asked).await?;
            self.announce(learner, &before, &state).await;
            return Ok(state);
        }
        let _waited_for = self.sandboxes.foreground().enter();
        if self.sandboxes.start_now(learner).await?.is_none() {
            return Err(CheckError::Queued(self.sandboxes.queue_spot(learner)));
        }
        self.run(learner, lab, step, CheckRun::Asked, None).await
    }

    /// Runs the step's checks in the learner's sandbox; a background run (`since`: when what it
    /// is to see happened) does not when a check that began later saw it already.
    async fn run(
        self: &Arc<Self>,
        learner: &str,
        lab: &str,
        step_id: &str,
        run: CheckRun,
        since: Option<Instant>,
    ) -> Result<StepState, CheckError> {
        let step = self.step(lab, step_id)?.clone();
        let lock = self.per_learner.lock().unwrap_or_else(|p| p.into_inner()).entry(learner.to_string()).or_default().clone();
        let _one_at_a_time = lock.lock().await;
        // The learner pressed Check after the last command (and that check ran first): it saw it.
        if let Some(since) = since
            && self.began.lock().unwrap_or_else(|p| p.into_inner()).get(learner).is_some_and(|began| *began > since)
        {
            return Ok(self.store.start_step(learner, lab, step_id).await?);
        }
        // Background checks never start a stopped sandbox, and leave done steps alone.
        let Status::Running { name, started_at, .. } = self.sandboxes.status(learner) else {
            return Ok(self.store.start_step(learner, lab, step_id).await?);
        };
        let before = self.store.start_step(learner, lab, step_id).await?;
        if before.done && run != CheckRun::Asked {
            return Ok(before);
        }
        let _slot = self.slots.acquire().await.expect("the semaphore is never closed");
        self.setup(learner, lab, &step, &name, started_at).await;
        if step.is_manual() {
            // Nothing to check: the learner marks it done (`check_now`).
            return Ok(before);
        }
        let _ = self.updates.send(Update::Checking { learner: learner.into(), lab_id: lab.into(), step_id: step_id.into() });
        // Before the commands are read: a command recorded before this moment is among them.
        self.began.lock().unwrap_or_else(|p| p.into_inner()).insert(learner.to_string(), Instant::now());
        let commands = self.store.commands(learner, COMMANDS_FOR_CHECKS).await?;
        let started = std::time::Instant::now();
        let result = runner::run_step(&**self.sandboxes.backend(), &name, &step, &commands).await;
        crate::metrics::METRICS.check_done(result.outcome.passed, started);
        let state = self.store.record_check(learner, lab, step_id, &result.outcome, run).await?;
        for index in result.hints {
            if self.store.fire_hint_check(learner, lab, step_id, index as i64).await? {
                let html = step.hint_checks[index].hint_html.clone();
                let _ =
                    self.updates.send(Update::Hint { learner: learner.into(), lab_id: lab.into(), step_id: step_id.into(), index, html });
            }
        }
        self.announce(learner, &before, &state).await;
        Ok(state)
    }

    /// Tells the learner's pages and the dashboard the step's new state, and logs a step done;
    /// the step that completes the lab runs the lab's finish script.
    async fn announce(self: &Arc<Self>, learner: &str, before: &StepState, state: &StepState) {
        let _ = self.updates.send(Update::Step { learner: learner.into(), state: state.clone() });
        if state.done && !before.done {
            let (lab, step) = (&state.lab_id, &state.step_id);
            tracing::info!(%learner, lab, step, "step done");
            let _ = self.store.log_event(Some(learner), "step_done", serde_json::json!({ "lab": lab, "step": step })).await;
            self.finish_if_complete(learner, lab).await;
        }
    }

    /// Once every step of the lab is done: its finish script, in the background (once per
    /// sandbox, like a setup).
    async fn finish_if_complete(self: &Arc<Self>, learner: &str, lab_id: &str) {
        let Some((_, lab)) = self.course.lab(lab_id) else { return };
        let Some(script) = lab.finish_setup.clone() else { return };
        let done: Vec<String> = match self.store.step_states(learner, lab_id).await {
            Ok(states) => states.into_iter().filter(|s| s.done).map(|s| s.step_id).collect(),
            Err(e) => return tracing::warn!(%learner, lab_id, "reading progress for the finish script: {e}"),
        };
        if !lab.steps.iter().all(|s| done.contains(&s.id)) {
            return;
        }
        let Status::Running { name, started_at, .. } = self.sandboxes.status(learner) else { return };
        let (this, learner, lab_id) = (self.clone(), learner.to_string(), lab_id.to_string());
        let timeout = crate::time_scale::scaled(Duration::from_secs(60));
        tokio::spawn(async move {
            // Not a step's id: a step cannot be named with angle brackets.
            this.setup_once((&learner, &lab_id, "<finish>"), &script, &name, started_at, timeout).await;
        });
    }

    /// Runs the lab's setup, then the step's, each once per sandbox (a reset or a restart gives
    /// a new sandbox).
    async fn setup(&self, learner: &str, lab: &str, step: &labs::load::Step, name: &str, instance: SystemTime) {
        let timeout = crate::time_scale::scaled(Duration::from_secs(u64::from(step.timeout.max(30))));
        if let Some(script) = self.course.lab(lab).and_then(|(_, l)| l.setup.as_ref()) {
            // The lab's own setup has the empty step id: no step has it.
            self.setup_once((learner, lab, ""), script, name, instance, timeout).await;
        }
        if let Some(script) = &step.setup {
            self.setup_once((learner, lab, &step.id), script, name, instance, timeout).await;
        }
    }

    async fn setup_once(
        &self,
        (learner, lab, step): (&str, &str, &str),
        script: &labs::load::Script,
        name: &str,
        instance: SystemTime,
        timeout: Duration,
    ) {
        let key = (learner.to_string(), lab.to_string(), step.to_string(), instance);
        if self.setups.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
            return;
        }
        match runner::run_script(&**self.sandboxes.backend(), name, script, &[], timeout).await {
            Ok(output) if output.success() => {
                self.setups.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
            }
            Ok(output) => {
                tracing::warn!(%learner, lab, step, "setup failed ({:?}): {}", output.end, String::from_utf8_lossy(&output.stderr).trim())
            }
            Err(e) => tracing::warn!(%learner, lab, step, "setup could not run: {e}"),
        }
    }

    /// Re-checks every focused, unfinished step that no check began on for `every`, until
    /// `shutdown`.
    pub fn spawn_timer(self: &Arc<Self>, every: Duration, shutdown: CancellationToken) {
        let this = self.clone();
        crate::periodic::spawn_every(every / RECHECK_LOOKS, shutdown, move || {
            let now = Instant::now();
            let focused = this.presence().focused(now);
            for learner in this.due(focused, every, now) {
                this.schedule(&learner, Duration::ZERO, CheckRun::Timer);
            }
            std::future::ready(())
        });
    }

    /// Of `learners`, those whose latest check began, and whose latest re-check was asked,
    /// `every` ago or more (or never); they are marked as asked now.
    fn due(&self, learners: Vec<String>, every: Duration, now: Instant) -> Vec<String> {
        let began = self.began.lock().unwrap_or_else(|p| p.into_inner());
        let mut rechecked = self.rechecked.lock().unwrap_or_else(|p| p.into_inner());
        let long_ago = |at: Option<&Instant>| at.is_none_or(|at| now.saturating_duration_since(*at) >= every);
        let due: Vec<String> = learners.into_iter().filter(|l| long_ago(began.get(l)) && long_ago(rechecked.get(l))).collect();
        for learner in &due {
            rechecked.insert(learner.clone(), now);
        }
        due
    }
}

/// A learner's page holding its live event stream open (see [`CheckEngine::page_open`]).
pub struct PageOpen {
    progress: Arc<CheckEngine>,
    learner: String,
}

impl Drop for PageOpen {
    fn drop(&mut self) {
        self.progress.presence().page_closed(&self.learner, Instant::now());
    }
}

/// Where terminals send the commands they see finish.
impl crate::terminals::CommandSink for CheckEngine {
    fn command(self: Arc<Self>, learner: &str, record: CommandRecord, typist: crate::terminals::Typist) {
        let learner = learner.to_string();
        tokio::spawn(async move { CheckEngine::command(&self, &learner, record, typist).await });
    }
}
