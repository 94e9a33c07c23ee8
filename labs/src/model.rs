//! Plain serde types describing a course. The browser receives these (or the outline derived
//! from them); nothing here may carry a secret such as a quiz's correct answer or a check script.

use serde::{Deserialize, Serialize};

/// What a lab needs from the learner's sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// A root shell in its own namespaces.
    Shell,
    /// A nested VM the learner can boot.
    Vm,
    /// A single-node Kubernetes cluster.
    Cluster,
    /// A container engine (Podman) inside the sandbox.
    Containers,
    /// systemd as the sandbox's init: the learner starts, enables and inspects services with
    /// `systemctl` as on a host.
    Systemd,
}

impl Tier {
    pub const ALL: [Tier; 5] = [Tier::Shell, Tier::Vm, Tier::Cluster, Tier::Containers, Tier::Systemd];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Shell => "shell",
            Tier::Vm => "vm",
            Tier::Cluster => "cluster",
            Tier::Containers => "containers",
            Tier::Systemd => "systemd",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The course as the home page shows it: sessions with their decks and labs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseOutline {
    pub title: String,
    pub summary: String,
    pub sessions: Vec<SessionOutline>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionOutline {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub decks: Vec<DeckSummary>,
    pub labs: Vec<LabSummary>,
    pub homework_html: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeckSummary {
    pub id: String,
    pub title: String,
    pub slides: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabSummary {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub tiers: Vec<Tier>,
    pub steps: usize,
    pub points: u32,
}

/// One lab as its workbook page shows it (no scripts: checks and solutions stay on the server).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabView {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub session_title: String,
    pub tiers: Vec<Tier>,
    /// The lab's introduction, as HTML.
    pub intro_html: String,
    pub finish_html: String,
    pub steps: Vec<StepView>,
    /// Typed into the terminal when the learner starts the lab (Killercoda's intro `foreground`).
    #[serde(default)]
    pub foreground: Option<String>,
    /// Typed into the terminal when the learner has done every step (the finish `foreground`).
    #[serde(default)]
    pub finish_foreground: Option<String>,
    /// The folders the editor's file tree shows; empty: the learner's home.
    #[serde(default)]
    pub editor_folders: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub id: String,
    pub title: String,
    /// Instructions as HTML; "run in terminal" code blocks carry `data-run-command`.
    pub html: String,
    pub points: u32,
    /// How many static hints there are (their text comes on request).
    pub hints: usize,
    pub has_solution: bool,
    /// No check: the learner marks it done (for no points).
    #[serde(default)]
    pub manual: bool,
    /// Typed into the terminal when the learner first reaches the step.
    #[serde(default)]
    pub foreground: Option<String>,
    pub quiz: Vec<QuestionView>,
    /// Shown in a translated copy: its checks' sentences, as the original says them and in the
    /// copy's words (the checks run as the original has them).
    #[serde(default)]
    pub reasons: Vec<(String, String)>,
}

impl StepView {
    /// A check's sentence in the words this step is shown in.
    pub fn reason(&self, said: String) -> String {
        self.reasons.iter().find(|(original, _)| *original == said).map_or(said, |(_, ours)| ours.clone())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeckView {
    pub id: String,
    pub title: String,
    pub session_title: String,
    pub slides: Vec<SlideView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlideView {
    pub html: String,
    /// Empty unless the presenter asks.
    pub notes_html: String,
    pub minutes: Option<f32>,
    pub class: Option<String>,
    pub quiz: Option<QuestionView>,
    /// For the presenter: the question launched as a poll with this slide.
    #[serde(default)]
    pub poll: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// Exactly one answer is right.
    Single,
    /// Pick every right answer.
    Multiple,
}

/// A quiz question as the browser gets it before answering: no correct answers in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: String,
    pub prompt_html: String,
    pub kind: QuestionKind,
    pub choices: Vec<String>,
    pub points: u32,
}

/// The server's verdict on an answer, with the explanations (sent only after answering).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizFeedback {
    pub correct: bool,
    pub points: u32,
    pub correct_choices: Vec<usize>,
    pub explanations: Vec<String>,
}
