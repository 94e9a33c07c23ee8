//! A class as the instructor sees it: its settings, the live matrix and the grades. The server
//! fills these types and the browser keeps them up to date from live events; the rules both
//! sides need (flags, time on step, grading) are here once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the instructor chose for a class. Empty lists mean "everything in the course".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassSettings {
    #[serde(default)]
    pub labs: Vec<String>,
    #[serde(default)]
    pub decks: Vec<String>,
    /// The schedule, in Unix seconds; learners cannot join after the end (resuming still works,
    /// for homework).
    #[serde(default)]
    pub starts_at: Option<i64>,
    #[serde(default)]
    pub ends_at: Option<i64>,
    /// Sandbox lifetime for this class's learners, instead of the server's.
    #[serde(default)]
    pub sandbox_lifetime_minutes: Option<u32>,
    /// A learner without progress for this long is flagged as stuck.
    #[serde(default)]
    pub stuck_minutes: Option<u32>,
    /// Only one-time codes join (each once); the class's own code does not.
    #[serde(default)]
    pub codes_only: bool,
    /// Only learners signed in with the school's identity provider join (no anonymous joins);
    /// resume codes still bring back those who joined.
    #[serde(default)]
    pub sign_in_required: bool,
    /// When to start sandboxes for the roster (and `prewarm_spares` more), by itself.
    #[serde(default)]
    pub prewarm_at: Option<i64>,
    #[serde(default)]
    pub prewarm_spares: Option<u32>,
    /// How many minutes in all a learner may add to their own sandbox's lifetime.
    #[serde(default)]
    pub self_extend_minutes: Option<u32>,
    /// Learners' terminals are not recorded (they are by default, and learners are told).
    #[serde(default)]
    pub recording_off: bool,
    /// What one learner's recordings may take on disk; the oldest go first.
    #[serde(default)]
    pub recording_quota_mb: Option<u32>,
    /// How long recordings are kept.
    #[serde(default)]
    pub recording_days: Option<u32>,
}

pub const DEFAULT_RECORDING_QUOTA_MB: u32 = 50;
/// A semester and its grading.
pub const DEFAULT_RECORDING_DAYS: u32 = 150;
pub const MAX_RECORDING_QUOTA_MB: u32 = 2048;

pub const DEFAULT_STUCK_MINUTES: u32 = 10;
/// The same failing check this many times in a row flags the learner.
pub const FAILING_AFTER: i64 = 3;

impl ClassSettings {
    pub fn has_lab(&self, id: &str) -> bool {
        self.labs.is_empty() || self.labs.iter().any(|l| l == id)
    }

    pub fn has_deck(&self, id: &str) -> bool {
        self.decks.is_empty() || self.decks.iter().any(|d| d == id)
    }

    pub fn recording_quota_bytes(&self) -> u64 {
        u64::from(self.recording_quota_mb.unwrap_or(DEFAULT_RECORDING_QUOTA_MB)) * 1024 * 1024
    }

    pub fn recording_secs(&self) -> i64 {
        i64::from(self.recording_days.unwrap_or(DEFAULT_RECORDING_DAYS)) * 24 * 3600
    }

    pub fn stuck_secs(&self) -> i64 {
        i64::from(self.stuck_minutes.unwrap_or(DEFAULT_STUCK_MINUTES)) * 60
    }

    /// Whether a new learner may join at `now`.
    pub fn open_at(&self, now: i64) -> bool {
        self.ends_at.is_none_or(|end| now < end)
    }
}

/// A class as the instructor makes or changes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassInput {
    pub name: String,
    /// A memorable join code; drawn at random when absent (new classes only).
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub settings: ClassSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassSummary {
    pub id: String,
    pub name: String,
    pub join_code: String,
    pub settings: ClassSettings,
    pub learners: usize,
    pub created_at: i64,
}

/// The live matrix: learners down, the class's lab steps across.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub class: ClassSummary,
    pub labs: Vec<LabColumns>,
    pub quizzes: Vec<QuizColumn>,
    pub learners: Vec<LearnerRow>,
    /// Raised hands, oldest first.
    #[serde(default)]
    pub help: Vec<HelpView>,
    /// The "eyes on me" message while the class's pages are covered.
    #[serde(default)]
    pub attention: Option<String>,
    /// The class's spotlight, asked or shown.
    #[serde(default)]
    pub spotlight: Option<SpotlightView>,
    /// Polls launched so far in the class's decks.
    #[serde(default)]
    pub polls: u32,
    /// Sandboxes started ahead of time, waiting for learners who have not joined yet.
    pub spares: usize,
    pub sandboxes_enabled: bool,
    /// What the instructor should know about this host's sandboxes (e.g. VMs without KVM).
    #[serde(default)]
    pub host_notes: Vec<String>,
    /// The server's clock when this was made (Unix seconds).
    pub now: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabColumns {
    pub id: String,
    pub title: String,
    pub steps: Vec<StepColumn>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepColumn {
    pub id: String,
    pub title: String,
    pub points: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizColumn {
    pub id: String,
    pub points: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerRow {
    pub id: String,
    pub name: String,
    pub joined_at: i64,
    /// Cells by `cell_key(lab, step)`; steps never reached have none.
    pub cells: BTreeMap<String, Cell>,
    /// Graded quiz answers by question id.
    pub quiz: BTreeMap<String, QuizCell>,
    pub sandbox: SandboxView,
    /// Polls of the class's decks this learner answered (participation, not points).
    #[serde(default)]
    pub polls_answered: u32,
    /// What this learner's terminal recordings take on disk, and may take.
    #[serde(default)]
    pub recording_bytes: u64,
}

/// One learner in one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub done: bool,
    pub started_at: i64,
    pub done_at: Option<i64>,
    /// Checks the learner caused (commands, "Check"), and how many of the last ones failed the
    /// same way.
    pub attempts: i64,
    /// Of those, the ones that failed.
    #[serde(default)]
    pub failures: i64,
    pub same_failures: i64,
    pub last_reason: Option<String>,
    pub hints: i64,
    pub solution_shown: bool,
    /// A check is running now.
    #[serde(default)]
    pub checking: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizCell {
    pub points: u32,
    pub correct: bool,
    pub attempts: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxState {
    /// Running and used in the last few minutes.
    Running,
    /// Running, unused for a while.
    Idle,
    /// Stopped at the end of its lifetime or for idleness (files kept).
    Expired,
    /// Not started yet, or stopped on request.
    Stopped,
    /// Waiting in line for room (the class is full).
    Queued,
    /// The server runs without sandboxes.
    Off,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxView {
    pub state: SandboxState,
    pub memory_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub expires_in_secs: Option<u64>,
    pub idle_secs: Option<u64>,
    /// Open terminal tabs.
    pub terminals: Vec<u32>,
    /// Place in line (1: next), while queued.
    #[serde(default)]
    pub queue_position: Option<u32>,
    /// Sandbox ports the learner has a web preview of open.
    #[serde(default)]
    pub previews: Vec<u16>,
    /// The file they last opened in the editor.
    #[serde(default)]
    pub editing: Option<String>,
}

impl SandboxView {
    pub fn off() -> Self {
        Self {
            state: SandboxState::Off,
            memory_bytes: None,
            memory_limit_bytes: None,
            expires_in_secs: None,
            idle_secs: None,
            terminals: Vec::new(),
            queue_position: None,
            previews: Vec::new(),
            editing: None,
        }
    }
}

/// What the dashboard's live stream says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DashboardEvent {
    Step {
        learner: String,
        lab_id: String,
        step_id: String,
        cell: Cell,
    },
    Checking {
        learner: String,
        lab_id: String,
        step_id: String,
    },
    Quiz {
        learner: String,
        question_id: String,
        cell: QuizCell,
    },
    Joined {
        row: LearnerRow,
    },
    Sandboxes {
        sandboxes: BTreeMap<String, SandboxView>,
        spares: usize,
        now: i64,
    },
    /// A hand raised, changed or claimed (`request`), or lowered or resolved (`None`).
    Help {
        learner: String,
        request: Option<HelpView>,
    },
    /// A message in a learner's thread (from them or to them).
    Chat {
        learner: String,
        message: MessageView,
    },
    /// The class's "eyes on me" message, or `None` when released.
    Attention {
        message: Option<String>,
    },
    /// The class's spotlight: asked, shown, or ended (`None`).
    Spotlight {
        view: Option<SpotlightView>,
    },
}

impl Dashboard {
    /// Applies a live event; returns false for one that needs a full reload (unknown learner).
    pub fn apply(&mut self, event: DashboardEvent) -> bool {
        match event {
            DashboardEvent::Step { learner, lab_id, step_id, cell } => match self.row_mut(&learner) {
                Some(row) => {
                    row.cells.insert(cell_key(&lab_id, &step_id), cell);
                    true
                }
                None => false,
            },
            DashboardEvent::Checking { learner, lab_id, step_id } => {
                if let Some(cell) = self.row_mut(&learner).and_then(|r| r.cells.get_mut(&cell_key(&lab_id, &step_id))) {
                    cell.checking = true;
                }
                true
            }
            DashboardEvent::Quiz { learner, question_id, cell } => match self.row_mut(&learner) {
                Some(row) => {
                    row.quiz.insert(question_id, cell);
                    true
                }
                None => false,
            },
            DashboardEvent::Joined { row } => {
                if self.row_mut(&row.id).is_none() {
                    self.learners.push(row);
                    self.class.learners = self.learners.len();
                }
                true
            }
            DashboardEvent::Sandboxes { sandboxes, spares, now } => {
                for row in &mut self.learners {
                    if let Some(view) = sandboxes.get(&row.id) {
                        row.sandbox = view.clone();
                    }
                }
                self.spares = spares;
                self.now = now;
                true
            }
            DashboardEvent::Help { learner, request } => {
                self.help.retain(|h| h.learner != learner);
                if let Some(request) = request {
                    let at = self.help.partition_point(|h| (h.raised_at, h.id) < (request.raised_at, request.id));
                    self.help.insert(at, request);
                }
                true
            }
            // The panel of that learner shows it.
            DashboardEvent::Chat { .. } => true,
            DashboardEvent::Attention { message } => {
                self.attention = message;
                true
            }
            DashboardEvent::Spotlight { view } => {
                self.spotlight = view;
                true
            }
        }
    }

    fn row_mut(&mut self, learner: &str) -> Option<&mut LearnerRow> {
        self.learners.iter_mut().find(|r| r.id == learner)
    }

    /// Every step column in order, with its lab.
    pub fn step_columns(&self) -> impl Iterator<Item = (&LabColumns, &StepColumn)> {
        self.labs.iter().flat_map(|lab| lab.steps.iter().map(move |step| (lab, step)))
    }

    /// A learner's points: each step's when done, then each quiz's graded answer.
    pub fn points(&self, row: &LearnerRow) -> Vec<u32> {
        let mut points: Vec<u32> = self
            .step_columns()
            .map(|(lab, step)| if row.cells.get(&cell_key(&lab.id, &step.id)).is_some_and(|c| c.done) { step.points } else { 0 })
            .collect();
        points.extend(self.quizzes.iter().map(|q| row.quiz.get(&q.id).map_or(0, |a| a.points)));
        points
    }

    /// Points per step and quiz, totals: what the CSV and JSON exports hold.
    pub fn grades(&self) -> Grades {
        self.grades_with(&BTreeMap::new())
    }

    /// The grades, with each lab's effort: minutes on its passed steps, failed checks, and
    /// commands run while on it (`commands`: each learner's command start times, Unix seconds).
    pub fn grades_with(&self, commands: &BTreeMap<String, Vec<i64>>) -> Grades {
        let work = self
            .labs
            .iter()
            .flat_map(|lab| ["minutes", "failed checks", "commands"].map(|what| format!("{}: {what}", lab.title)))
            .collect();
        let effort = |row: &LearnerRow| -> Vec<i64> {
            let mut out = Vec::new();
            for lab in &self.labs {
                let cells: Vec<&Cell> = lab.steps.iter().filter_map(|s| row.cells.get(&cell_key(&lab.id, &s.id))).collect();
                let secs: i64 = cells.iter().filter_map(|c| c.done_at.map(|d| (d - c.started_at).max(0))).sum();
                let from = cells.iter().map(|c| c.started_at).min();
                let to = if cells.iter().all(|c| c.done) { cells.iter().filter_map(|c| c.done_at).max() } else { Some(self.now) };
                let ran = match (from, to, commands.get(&row.id)) {
                    (Some(from), Some(to), Some(times)) => times.iter().filter(|&&t| (from..=to).contains(&t)).count() as i64,
                    _ => 0,
                };
                out.extend([(secs + 30) / 60, cells.iter().map(|c| c.failures).sum(), ran]);
            }
            out
        };
        let mut columns: Vec<GradeColumn> = self
            .step_columns()
            .map(|(lab, step)| GradeColumn {
                key: cell_key(&lab.id, &step.id),
                title: format!("{}: {}", lab.title, step.title),
                max: step.points,
            })
            .collect();
        columns.extend(self.quizzes.iter().map(|q| GradeColumn {
            key: format!("quiz:{}", q.id),
            title: format!("Quiz: {}", q.id),
            max: q.points,
        }));
        let rows = self
            .learners
            .iter()
            .map(|row| {
                let points = self.points(row);
                GradeRow {
                    learner_id: row.id.clone(),
                    name: row.name.clone(),
                    total: points.iter().sum(),
                    points,
                    polls_answered: row.polls_answered,
                    work: effort(row),
                }
            })
            .collect();
        Grades { class: self.class.name.clone(), max_total: columns.iter().map(|c| c.max).sum(), columns, rows, polls: self.polls, work }
    }
}

/// One learner in one lab at a glance (the matrix beside the help panel has a cell per lab).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabSummary {
    pub done: usize,
    pub steps: usize,
    pub started: bool,
    /// Some step in it is flagged failing.
    pub failing: bool,
}

impl LabSummary {
    pub fn of(row: &LearnerRow, lab: &LabColumns) -> Self {
        let cells: Vec<&Cell> = lab.steps.iter().filter_map(|s| row.cells.get(&cell_key(&lab.id, &s.id))).collect();
        Self {
            done: cells.iter().filter(|c| c.done).count(),
            steps: lab.steps.len(),
            started: !cells.is_empty(),
            failing: cells.iter().any(|c| !c.done && c.same_failures >= FAILING_AFTER),
        }
    }

    /// The colour the cell shows, as a step cell's: done, failing, started or none.
    pub fn state(&self) -> &'static str {
        match *self {
            Self { done, steps, .. } if steps > 0 && done == steps => "done",
            Self { failing: true, .. } => "failing",
            Self { started: true, .. } => "started",
            _ => "none",
        }
    }
}

/// The key of a step's cell in a row.
pub fn cell_key(lab: &str, step: &str) -> String {
    format!("{lab}/{step}")
}

/// Seconds spent on a step: until it was done, or until `now`.
pub fn time_on_step(cell: &Cell, now: i64) -> i64 {
    (cell.done_at.unwrap_or(now) - cell.started_at).max(0)
}

/// A size on disk, short: 820 B, 14 kB, 3.2 MB (3,2 MB where the page's language writes a
/// decimal comma).
pub fn short_bytes(bytes: u64) -> String {
    let text = match bytes {
        b if b < 1000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{} kB", b / 1000),
        b if b < 1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{:.1} GB", b as f64 / 1e9),
    };
    if crate::i18n::lang().decimal_comma() { text.replace('.', ",") } else { text }
}

/// How long a class took on one step: each learner's time from reaching it to passing it, for
/// those who passed, sorted; and the failed checks they had on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct StepTimes {
    pub lab: String,
    pub step: String,
    pub title: String,
    pub secs: Vec<i64>,
    pub failures: i64,
    /// Learners on it who have not passed yet.
    pub open: usize,
}

impl StepTimes {
    /// The `q` quantile (0 to 1) of the times, if anyone passed.
    pub fn quantile(&self, q: f64) -> Option<i64> {
        let last = self.secs.len().checked_sub(1)?;
        Some(self.secs[((last as f64) * q).round() as usize])
    }
}

/// Every step's times in the class, in the course's order.
pub fn step_times(dash: &Dashboard) -> Vec<StepTimes> {
    let mut all = Vec::new();
    for lab in &dash.labs {
        for step in &lab.steps {
            let key = cell_key(&lab.id, &step.id);
            let cells: Vec<&Cell> = dash.learners.iter().filter_map(|l| l.cells.get(&key)).collect();
            let mut secs: Vec<i64> = cells.iter().filter_map(|c| c.done_at.map(|d| (d - c.started_at).max(0))).collect();
            secs.sort_unstable();
            all.push(StepTimes {
                lab: lab.id.clone(),
                step: step.id.clone(),
                title: step.title.clone(),
                secs,
                failures: cells.iter().map(|c| c.failures).sum(),
                open: cells.iter().filter(|c| !c.done).count(),
            });
        }
    }
    all
}

/// Why the instructor should look at a learner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    /// No step started or finished for this long while a step is open.
    Stuck { step: String, secs: i64 },
    /// The same check failed this many times in a row.
    Failing { step: String, times: i64 },
}

impl Flag {
    pub fn label(&self) -> String {
        match self {
            Flag::Stuck { secs, .. } => t!("flag-stuck", time = crate::i18n::duration(*secs)),
            Flag::Failing { times, .. } => t!("flag-failing", times = *times),
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Flag::Stuck { step, secs } => t!("flag-stuck-detail", time = crate::i18n::duration(*secs), step = step),
            Flag::Failing { step, times } => t!("flag-failing-detail", times = *times, step = step),
        }
    }
}

pub fn flags(row: &LearnerRow, settings: &ClassSettings, now: i64) -> Vec<Flag> {
    let mut flags = Vec::new();
    let open = row.cells.iter().filter(|(_, c)| !c.done).max_by_key(|(_, c)| c.started_at);
    if let Some((key, _)) = open {
        let last_progress = row.cells.values().map(|c| c.done_at.unwrap_or(c.started_at)).max().unwrap_or(row.joined_at);
        let secs = now - last_progress;
        if secs >= settings.stuck_secs() {
            flags.push(Flag::Stuck { step: key.clone(), secs });
        }
    }
    if let Some((key, cell)) =
        row.cells.iter().filter(|(_, c)| !c.done && c.same_failures >= FAILING_AFTER).max_by_key(|(_, c)| c.same_failures)
    {
        flags.push(Flag::Failing { step: key.clone(), times: cell.same_failures });
    }
    flags
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grades {
    pub class: String,
    pub columns: Vec<GradeColumn>,
    pub rows: Vec<GradeRow>,
    pub max_total: u32,
    /// Polls launched in the class's decks: participation, beside the points.
    #[serde(default)]
    pub polls: u32,
    /// Effort beside the points, per lab: minutes, failed checks, commands (titles).
    #[serde(default)]
    pub work: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeColumn {
    pub key: String,
    pub title: String,
    pub max: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeRow {
    pub learner_id: String,
    pub name: String,
    /// In the order of the columns.
    pub points: Vec<u32>,
    pub total: u32,
    #[serde(default)]
    pub polls_answered: u32,
    /// In the order of `Grades::work`.
    #[serde(default)]
    pub work: Vec<i64>,
}

/// A message, as a page shows it: from staff to the class or one learner, or a learner's own
/// to staff (their help thread).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    pub body: String,
    /// To the whole class, or to this learner alone.
    pub to_class: bool,
    pub at: i64,
    /// Written by the learner (to staff), not to them.
    #[serde(default)]
    pub from_learner: bool,
    /// The member of staff who wrote it; `None` for the instructor.
    #[serde(default)]
    pub author: Option<String>,
}

impl MessageView {
    /// Who wrote it, as the learner reads it.
    pub fn sender(&self) -> String {
        match (&self.author, self.from_learner) {
            (_, true) => t!("sender-you"),
            (Some(name), _) => name.clone(),
            (None, _) => t!("sender-instructor"),
        }
    }
}

/// A raised hand, as the dashboard's queue and the learner's page show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HelpView {
    pub id: i64,
    pub learner: String,
    pub name: String,
    pub note: String,
    pub lab_id: Option<String>,
    pub step_id: Option<String>,
    /// What the learner's last check on that step said.
    pub reason: Option<String>,
    pub raised_at: i64,
    /// Who is helping (a name), once someone claimed it.
    pub claimed_by: Option<String>,
}

/// The learner's side of helping: their hand, their thread with staff, and whether the
/// instructor asked for everyone's eyes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnerHelp {
    pub hand: Option<HelpView>,
    pub thread: Vec<MessageView>,
    pub attention: Option<String>,
    /// The poll the presenter asks the class now.
    #[serde(default)]
    pub poll: Option<crate::poll::LearnerPoll>,
    /// When their sandbox stops (seconds from now), while it runs.
    #[serde(default)]
    pub sandbox_expires_in: Option<u64>,
    /// Minutes they may still add to it themselves (the class's limit; 0: none).
    #[serde(default)]
    pub extend_left: u32,
    /// A learner's terminal the instructor shows (or asks this learner to show).
    #[serde(default)]
    pub spotlight: Option<SpotlightView>,
    /// Who this is (to tell their own spotlight from another's).
    #[serde(default)]
    pub learner_id: String,
}

/// Minutes one "extend" of a learner's own adds.
pub const SELF_EXTEND_STEP: u32 = 30;

/// What a member of staff is in one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassRole {
    /// Runs the class and decides who else does.
    Owner,
    /// Runs the class: settings, grades, codes, taking over terminals, resets.
    Instructor,
    /// Helps: sees the class, claims and resolves hands, watches terminals.
    Assistant,
}

impl ClassRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassRole::Owner => "owner",
            ClassRole::Instructor => "instructor",
            ClassRole::Assistant => "assistant",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(ClassRole::Owner),
            "instructor" => Some(ClassRole::Instructor),
            "assistant" => Some(ClassRole::Assistant),
            _ => None,
        }
    }

    /// Whether this role runs the class (more than helping in it).
    pub fn runs(self) -> bool {
        matches!(self, ClassRole::Owner | ClassRole::Instructor)
    }
}

/// A member of staff as pages and the server's checks see them: the server's administrator (the
/// login link or password: every class, as its owner), a staff account with a role per class, or
/// a teaching assistant of one class by a login link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffView {
    /// A login-link assistant's id and class.
    pub assistant: Option<(String, String)>,
    /// Their name as learners read it ("Sam"); the administrator's is `INSTRUCTOR_CLAIMING`.
    pub name: String,
    /// Their classes and role in each; `None`: every class (the administrator).
    #[serde(default)]
    pub classes: Option<Vec<(String, ClassRole)>>,
    /// A staff account's id.
    #[serde(default)]
    pub account: Option<String>,
}

impl StaffView {
    pub fn instructor() -> Self {
        StaffView { assistant: None, name: INSTRUCTOR_CLAIMING.into(), classes: None, account: None }
    }

    /// The server's administrator: every class, staff accounts, the server's metrics.
    pub fn is_administrator(&self) -> bool {
        self.classes.is_none()
    }

    /// Their role in `class`, if any (the administrator owns every class).
    pub fn role_in(&self, class: &str) -> Option<ClassRole> {
        match &self.classes {
            None => Some(ClassRole::Owner),
            Some(roles) => roles.iter().find(|(c, _)| c == class).map(|(_, role)| *role),
        }
    }

    /// Whether they may see (and help in) `class`.
    pub fn may_see(&self, class: &str) -> bool {
        self.role_in(class).is_some()
    }

    /// Whether they run `class`: change it, grade it, take over its terminals.
    pub fn may_run(&self, class: &str) -> bool {
        self.role_in(class).is_some_and(ClassRole::runs)
    }

    /// Whether they decide who else is staff of `class`.
    pub fn owns(&self, class: &str) -> bool {
        self.role_in(class) == Some(ClassRole::Owner)
    }

    /// Whether they teach: make classes of their own (as owner) and present decks. The
    /// administrator and staff accounts do; a login-link assistant does not.
    pub fn may_teach(&self) -> bool {
        self.assistant.is_none()
    }

    /// What a message they write says about its author (`None`: the administrator).
    pub fn author(&self) -> Option<String> {
        (!self.is_administrator()).then(|| self.name.clone())
    }
}

/// A staff account as the administrator and a class's owner see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffAccountView {
    pub id: String,
    pub name: String,
    /// The login name for a password; `None` for someone who signs in at the school's provider.
    pub login: Option<String>,
    /// Their role in the class being looked at, if any.
    pub role: Option<ClassRole>,
}

/// A learner's terminal the instructor shows the class ("look how Ana solved it").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpotlightView {
    pub class: String,
    pub learner: String,
    pub name: String,
    pub tab: u32,
    /// On every learner's page too, not only the presenter's screen.
    pub to_class: bool,
    /// The learner agreed; until then only they see the question.
    pub consented: bool,
}

/// A one-time join code, as the instructor sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneTimeCodeView {
    pub code: String,
    /// Who joined with it (empty if they are gone); `None` while unused.
    pub used_by: Option<String>,
}

/// A teaching assistant's login, as the instructor manages it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssistantView {
    pub id: String,
    pub name: String,
    /// The login link, only right after it was made (only its hash is kept).
    pub link: Option<String>,
}

/// Who is helping when the instructor claims a hand (staff with names of their own are TAs):
/// the learner reads "The instructor is looking at your terminal".
pub const INSTRUCTOR_CLAIMING: &str = "the instructor";

/// What the learner reads when someone took their hand.
pub fn looking_at_you(claimed_by: &str) -> String {
    if claimed_by == INSTRUCTOR_CLAIMING {
        return t!("help-instructor-looking");
    }
    t!("help-looking", name = claimed_by)
}

/// Who took a raised hand, as staff read it.
pub fn claimer(claimed_by: &str) -> String {
    if claimed_by == INSTRUCTOR_CLAIMING { t!("the-instructor") } else { claimed_by.to_string() }
}

/// What the instructor can do for a learner or the class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum HelpAction {
    /// Stop and start the sandbox again; with `wipe`, from a fresh image (files deleted).
    Reset {
        learner: String,
        wipe: bool,
    },
    Extend {
        learner: String,
        minutes: u32,
    },
    Message {
        class: String,
        learner: Option<String>,
        body: String,
    },
    /// Start sandboxes for every learner in the class, and `spares` more for learners yet to join.
    Prewarm {
        class: String,
        spares: u32,
    },
    /// Take a raised hand: the learner is told who is looking.
    Claim {
        request: i64,
    },
    /// Put a claimed hand back in the queue.
    Unclaim {
        request: i64,
    },
    /// Done helping: the hand goes down.
    Resolve {
        request: i64,
    },
    /// Show a learner's terminal (read-only) on the presenter's screen, and with `to_class` on
    /// every learner's page of the class, once they agree.
    Spotlight {
        learner: String,
        tab: u32,
        to_class: bool,
    },
    /// End the class's spotlight.
    EndSpotlight {
        class: String,
    },
    /// "Eyes on me": every learner's page of the class is covered with `message` until it is
    /// released (`None`); terminals keep running underneath.
    Attention {
        class: String,
        message: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(started_at: i64, done_at: Option<i64>, same_failures: i64) -> Cell {
        Cell {
            done: done_at.is_some(),
            started_at,
            done_at,
            attempts: same_failures,
            failures: same_failures,
            same_failures,
            last_reason: None,
            hints: 0,
            solution_shown: false,
            checking: false,
        }
    }

    fn row(cells: &[(&str, Cell)]) -> LearnerRow {
        LearnerRow {
            id: "l1".into(),
            name: "Ada".into(),
            joined_at: 0,
            cells: cells.iter().map(|(k, c)| (k.to_string(), c.clone())).collect(),
            quiz: BTreeMap::new(),
            sandbox: SandboxView::off(),
            polls_answered: 0,
            recording_bytes: 0,
        }
    }

    #[test]
    fn time_per_step_counts_only_who_passed() {
        let dash = Dashboard {
            class: ClassSummary {
                id: "c".into(),
                name: "C".into(),
                join_code: "X".into(),
                learners: 3,
                settings: ClassSettings::default(),
                created_at: 0,
            },
            labs: vec![LabColumns {
                id: "lab".into(),
                title: "Lab".into(),
                steps: vec![StepColumn { id: "a".into(), title: "A".into(), points: 1 }],
            }],
            quizzes: Vec::new(),
            learners: vec![
                row(&[("lab/a", cell(100, Some(400), 2))]),
                row(&[("lab/a", cell(100, Some(160), 0))]),
                row(&[("lab/a", cell(100, None, 1))]),
            ],
            help: Vec::new(),
            attention: None,
            spotlight: None,
            polls: 0,
            spares: 0,
            sandboxes_enabled: true,
            host_notes: Vec::new(),
            now: 1000,
        };
        let times = step_times(&dash);
        assert_eq!(times.len(), 1);
        assert_eq!((times[0].secs.clone(), times[0].failures, times[0].open), (vec![60, 300], 3, 1));
        assert_eq!((times[0].quantile(0.0), times[0].quantile(1.0)), (Some(60), Some(300)));
    }

    #[test]
    fn stuck_and_failing() {
        let settings = ClassSettings { stuck_minutes: Some(5), ..Default::default() };
        let r = row(&[("lab/a", cell(0, Some(100), 0)), ("lab/b", cell(100, None, 1))]);
        assert!(flags(&r, &settings, 200).is_empty());
        assert_eq!(flags(&r, &settings, 400), vec![Flag::Stuck { step: "lab/b".into(), secs: 300 }]);
        let r = row(&[("lab/b", cell(100, None, 3))]);
        assert_eq!(flags(&r, &settings, 150), vec![Flag::Failing { step: "lab/b".into(), times: 3 }]);
        // Done steps are never flagged.
        let r = row(&[("lab/a", cell(0, Some(10), 5))]);
        assert!(flags(&r, &settings, 10_000).is_empty());
    }

    fn empty_dashboard() -> Dashboard {
        Dashboard {
            class: ClassSummary {
                id: "c".into(),
                name: "C".into(),
                join_code: "X".into(),
                settings: Default::default(),
                learners: 1,
                created_at: 0,
            },
            labs: Vec::new(),
            quizzes: Vec::new(),
            learners: Vec::new(),
            help: Vec::new(),
            attention: None,
            spotlight: None,
            polls: 0,
            spares: 0,
            sandboxes_enabled: false,
            host_notes: Vec::new(),
            now: 0,
        }
    }

    #[test]
    fn grades_count_done_steps_and_first_answers() {
        let mut d = Dashboard {
            labs: vec![LabColumns {
                id: "lab".into(),
                title: "Lab".into(),
                steps: vec![
                    StepColumn { id: "a".into(), title: "A".into(), points: 2 },
                    StepColumn { id: "b".into(), title: "B".into(), points: 3 },
                ],
            }],
            quizzes: vec![QuizColumn { id: "q".into(), points: 1 }],
            learners: vec![row(&[("lab/a", cell(0, Some(5), 0)), ("lab/b", cell(5, None, 0))])],
            now: 10,
            ..empty_dashboard()
        };
        d.apply(DashboardEvent::Quiz {
            learner: "l1".into(),
            question_id: "q".into(),
            cell: QuizCell { points: 1, correct: true, attempts: 1 },
        });
        let g = d.grades();
        assert_eq!(g.max_total, 6);
        assert_eq!(g.rows[0].points, vec![2, 0, 1]);
        assert_eq!(g.rows[0].total, 3);
        assert_eq!(g.columns[0].key, "lab/a");
        assert!(!d.apply(DashboardEvent::Step {
            learner: "nobody".into(),
            lab_id: "lab".into(),
            step_id: "a".into(),
            cell: cell(0, None, 0)
        }));
    }

    #[test]
    fn a_lab_at_a_glance() {
        let lab = LabColumns {
            id: "lab".into(),
            title: "Lab".into(),
            steps: ["a", "b", "c"].iter().map(|id| StepColumn { id: id.to_string(), title: id.to_string(), points: 1 }).collect(),
        };
        let none = LabSummary::of(&row(&[]), &lab);
        assert_eq!((none.done, none.steps, none.state()), (0, 3, "none"));
        let working = LabSummary::of(&row(&[("lab/a", cell(0, Some(5), 0)), ("lab/b", cell(5, None, 1))]), &lab);
        assert_eq!((working.done, working.state()), (1, "started"));
        let failing = LabSummary::of(&row(&[("lab/b", cell(5, None, FAILING_AFTER))]), &lab);
        assert_eq!(failing.state(), "failing");
        let done =
            LabSummary::of(&row(&[("lab/a", cell(0, Some(1), 0)), ("lab/b", cell(0, Some(1), 0)), ("lab/c", cell(0, Some(1), 0))]), &lab);
        assert_eq!(done.state(), "done");
        // Other labs' cells do not count.
        let other = LabSummary::of(&row(&[("other/a", cell(0, Some(1), 0))]), &lab);
        assert_eq!(other.state(), "none");
    }

    #[test]
    fn the_help_queue_stays_oldest_first() {
        let hand = |id: i64, learner: &str, raised_at: i64| HelpView {
            id,
            learner: learner.into(),
            name: learner.into(),
            note: String::new(),
            lab_id: None,
            step_id: None,
            reason: None,
            raised_at,
            claimed_by: None,
        };
        let mut d = empty_dashboard();
        for (id, learner, at) in [(2, "bob", 20), (1, "ada", 10), (3, "cy", 30)] {
            d.apply(DashboardEvent::Help { learner: learner.into(), request: Some(hand(id, learner, at)) });
        }
        let order = |d: &Dashboard| d.help.iter().map(|h| h.learner.clone()).collect::<Vec<_>>();
        assert_eq!(order(&d), ["ada", "bob", "cy"]);
        // Claimed: replaced in place, not added.
        d.apply(DashboardEvent::Help {
            learner: "bob".into(),
            request: Some(HelpView { claimed_by: Some("Sam".into()), ..hand(2, "bob", 20) }),
        });
        assert_eq!(order(&d), ["ada", "bob", "cy"]);
        assert_eq!(d.help[1].claimed_by.as_deref(), Some("Sam"));
        d.apply(DashboardEvent::Help { learner: "ada".into(), request: None });
        assert_eq!(order(&d), ["bob", "cy"]);
        assert_eq!(looking_at_you("the instructor"), "The instructor is looking at your terminal");
    }
}
