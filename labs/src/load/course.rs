//! The course as the server holds it, with everything the browser must never see (scripts,
//! correct answers), and the views derived from it for pages.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::problem::Problems;
use crate::model::*;

#[derive(Clone, Debug)]
pub struct Course {
    pub root: PathBuf,
    pub title: String,
    pub summary: String,
    pub sessions: Vec<Session>,
    /// Every quiz question, by id.
    pub questions: BTreeMap<String, Question>,
    /// Labs with problems, left out so the rest can be served.
    pub left_out: Vec<LeftOut>,
    /// What loaded but an author should know (a field or marker with no counterpart here).
    pub warnings: Problems,
    /// Translated copies of labs that do not match their original: not served (their learners
    /// see the original), but `labs check` fails on them.
    pub untranslated: Problems,
}

/// A lab folder the loader left out, and why.
#[derive(Clone, Debug)]
pub struct LeftOut {
    /// The id the lab would have had.
    pub id: String,
    pub folder: PathBuf,
    pub problems: Problems,
}

impl LeftOut {
    /// One line for the instructor: the folder and its problems, paths from the course root.
    pub fn note(&self, root: &std::path::Path) -> String {
        let folder = self.folder.strip_prefix(root).unwrap_or(&self.folder).display();
        let problems: Vec<String> = self.problems.iter().map(|p| p.shown_from(root)).collect();
        format!("The lab in {folder} was left out: {}", problems.join("; "))
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub intro_html: String,
    pub homework_html: Option<String>,
    pub decks: Vec<Deck>,
    pub labs: Vec<Lab>,
}

#[derive(Clone, Debug)]
pub struct Deck {
    pub id: String,
    pub title: String,
    pub slides: Vec<Slide>,
    pub source: PathBuf,
}

#[derive(Clone, Debug)]
pub struct Slide {
    pub html: String,
    pub notes_html: String,
    /// Planned minutes for this slide (the seed's timing guide), when given.
    pub minutes: Option<f32>,
    pub quiz: Option<String>,
    /// The quiz question the presenter's screen launches as a poll on this slide.
    pub poll: Option<String>,
    pub class: Option<String>,
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabFormat {
    Stacklab,
    Killercoda,
}

#[derive(Clone, Debug)]
pub struct Lab {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub tiers: Vec<Tier>,
    pub intro_html: String,
    pub finish_html: String,
    pub steps: Vec<Step>,
    /// Run as root in the sandbox before any step's setup, once per sandbox, whichever step the
    /// learner opens first (a Killercoda scenario's assets and intro `background`).
    pub setup: Option<Script>,
    /// Typed into the terminal when the learner starts the lab (the intro's `foreground`).
    pub foreground: Option<String>,
    /// Run as root in the sandbox once the learner has done every step (the finish page's
    /// `background`), and typed into the terminal then (its `foreground`).
    pub finish_setup: Option<Script>,
    pub finish_foreground: Option<String>,
    /// The folders the editor's file tree shows (absolute paths); empty: the learner's home.
    pub editor_folders: Vec<String>,
    pub format: LabFormat,
    pub source: PathBuf,
    /// Translated copies of the lab's words, by language tag (load/translation.rs).
    pub translations: BTreeMap<String, LabText>,
}

/// A lab's words in another language: its scripts stay the original's.
#[derive(Clone, Debug, Default)]
pub struct LabText {
    pub title: String,
    pub summary: String,
    pub intro_html: String,
    pub finish_html: String,
    /// In the lab's step order.
    pub steps: Vec<StepText>,
}

#[derive(Clone, Debug, Default)]
pub struct StepText {
    pub title: String,
    pub html: String,
    pub hints: Vec<String>,
    /// The hints of the step's hint-checks, in their order.
    pub hint_checks: Vec<String>,
    /// The original's check sentences (`pass "…"`, `fail "…"`) with their translations.
    pub reasons: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Step {
    /// Stable across renumbering: the file name without its number (`02-hostname.md` ->
    /// `hostname`), or Killercoda's `step1`...
    pub id: String,
    pub title: String,
    pub html: String,
    pub points: u32,
    pub hints: Vec<String>,
    pub setup: Option<Script>,
    pub checks: Vec<Script>,
    pub hint_checks: Vec<HintCheck>,
    pub solution: Option<Script>,
    /// Whether the learner may ask to see the solution (not where it is the step's own Run
    /// buttons, as in a Killercoda scenario).
    pub reveal_solution: bool,
    /// Typed into the learner's terminal when they reach the step (Killercoda's `foreground`).
    pub foreground: Option<String>,
    /// Seconds a check may run.
    pub timeout: u32,
    pub quiz: Vec<String>,
    pub source: PathBuf,
}

/// A shell script from the content, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub source: String,
    pub file: PathBuf,
    pub line: usize,
}

impl Script {
    pub fn at(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

#[derive(Clone, Debug)]
pub struct HintCheck {
    pub script: Script,
    pub hint_html: String,
}

#[derive(Clone, Debug)]
pub struct Question {
    pub id: String,
    pub prompt_html: String,
    pub kind: QuestionKind,
    pub choices: Vec<Choice>,
    pub points: u32,
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct Choice {
    pub html: String,
    pub correct: bool,
    pub explanation_html: String,
}

impl Question {
    /// What the browser may see before answering: no correct answers, no explanations.
    pub fn view(&self) -> QuestionView {
        QuestionView {
            id: self.id.clone(),
            prompt_html: self.prompt_html.clone(),
            kind: self.kind,
            choices: self.choices.iter().map(|c| c.html.clone()).collect(),
            points: self.points,
        }
    }

    /// Scores `picked` (choice indexes): all or nothing.
    pub fn score(&self, picked: &[usize]) -> QuizFeedback {
        let mut picked: Vec<usize> = picked.iter().copied().filter(|&i| i < self.choices.len()).collect();
        picked.sort_unstable();
        picked.dedup();
        let correct_set: Vec<usize> = self.choices.iter().enumerate().filter(|(_, c)| c.correct).map(|(i, _)| i).collect();
        let correct = picked == correct_set;
        QuizFeedback {
            correct,
            points: if correct { self.points } else { 0 },
            correct_choices: correct_set,
            explanations: self.choices.iter().map(|c| c.explanation_html.clone()).collect(),
        }
    }
}

impl Course {
    pub fn lab(&self, id: &str) -> Option<(&Session, &Lab)> {
        self.sessions.iter().find_map(|s| s.labs.iter().find(|l| l.id == id).map(|l| (s, l)))
    }

    pub fn deck(&self, id: &str) -> Option<(&Session, &Deck)> {
        self.sessions.iter().find_map(|s| s.decks.iter().find(|d| d.id == id).map(|d| (s, d)))
    }

    pub fn labs(&self) -> impl Iterator<Item = &Lab> {
        self.sessions.iter().flat_map(|s| s.labs.iter())
    }

    /// The public outline the home page lists.
    pub fn outline(&self) -> CourseOutline {
        self.outline_in("")
    }

    /// The outline for a reader of `lang`: labs by their translated copies' titles where they
    /// have one.
    pub fn outline_in(&self, lang: &str) -> CourseOutline {
        CourseOutline {
            title: self.title.clone(),
            summary: self.summary.clone(),
            sessions: self
                .sessions
                .iter()
                .map(|s| SessionOutline {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    summary: s.summary.clone(),
                    decks: s
                        .decks
                        .iter()
                        .map(|d| DeckSummary { id: d.id.clone(), title: d.title.clone(), slides: d.slides.len() })
                        .collect(),
                    labs: s.labs.iter().map(|l| l.summary_in(lang)).collect(),
                    homework_html: s.homework_html.clone(),
                })
                .collect(),
        }
    }

    /// The lab `id` as its page shows it.
    pub fn lab_view(&self, id: &str) -> Option<LabView> {
        self.lab_view_in(id, "")
    }

    /// The lab `id` as its page shows it to a reader of `lang`: its translated copy's words
    /// where it has one, else the original's.
    pub fn lab_view_in(&self, id: &str, lang: &str) -> Option<LabView> {
        let (session, lab) = self.lab(id)?;
        let copy = lab.translations.get(lang);
        Some(LabView {
            id: lab.id.clone(),
            title: copy.map_or(&lab.title, |c| &c.title).clone(),
            summary: copy.map_or(&lab.summary, |c| &c.summary).clone(),
            session_title: session.title.clone(),
            tiers: lab.tiers.clone(),
            intro_html: copy.map_or(&lab.intro_html, |c| &c.intro_html).clone(),
            finish_html: copy.map_or(&lab.finish_html, |c| &c.finish_html).clone(),
            foreground: lab.foreground.clone(),
            finish_foreground: lab.finish_foreground.clone(),
            editor_folders: lab.editor_folders.clone(),
            steps: lab
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| StepView {
                    id: s.id.clone(),
                    title: copy.and_then(|c| c.steps.get(i)).map_or(&s.title, |c| &c.title).clone(),
                    html: copy.and_then(|c| c.steps.get(i)).map_or(&s.html, |c| &c.html).clone(),
                    points: s.points,
                    hints: s.hints.len(),
                    has_solution: s.solution.is_some() && s.reveal_solution,
                    manual: s.is_manual(),
                    foreground: s.foreground.clone(),
                    quiz: s.quiz.iter().filter_map(|q| self.questions.get(q)).map(Question::view).collect(),
                    reasons: copy.and_then(|c| c.steps.get(i)).map(|c| c.reasons.clone()).unwrap_or_default(),
                })
                .collect(),
        })
    }

    /// The deck `id` for learners (`notes` false) or the presenter (`notes` true).
    pub fn deck_view(&self, id: &str, notes: bool) -> Option<DeckView> {
        let (session, deck) = self.deck(id)?;
        Some(DeckView {
            id: deck.id.clone(),
            title: deck.title.clone(),
            session_title: session.title.clone(),
            slides: deck
                .slides
                .iter()
                .map(|s| SlideView {
                    html: s.html.clone(),
                    notes_html: if notes { s.notes_html.clone() } else { String::new() },
                    minutes: s.minutes,
                    class: s.class.clone(),
                    quiz: s.quiz.as_ref().and_then(|q| self.questions.get(q)).map(Question::view),
                    poll: if notes { s.poll.clone() } else { None },
                })
                .collect(),
        })
    }
}

impl Step {
    /// A bare step with one check and nothing else (for tests and benchmarks of checks).
    pub fn checked_by(check: Script, timeout: u32) -> Step {
        Step {
            id: "step".into(),
            title: "Step".into(),
            html: String::new(),
            points: 1,
            hints: Vec::new(),
            setup: None,
            source: check.file.clone(),
            checks: vec![check],
            hint_checks: Vec::new(),
            solution: None,
            reveal_solution: true,
            foreground: None,
            timeout,
            quiz: Vec::new(),
        }
    }

    /// A step with no check is done when the learner says so (Killercoda's steps without
    /// `verify`): the auto-check leaves it alone.
    pub fn is_manual(&self) -> bool {
        self.checks.is_empty()
    }
}

impl Lab {
    pub fn summary(&self) -> LabSummary {
        self.summary_in("")
    }

    pub fn summary_in(&self, lang: &str) -> LabSummary {
        let copy = self.translations.get(lang);
        LabSummary {
            id: self.id.clone(),
            title: copy.map_or(&self.title, |c| &c.title).clone(),
            summary: copy.map_or(&self.summary, |c| &c.summary).clone(),
            tiers: self.tiers.clone(),
            steps: self.steps.len(),
            points: self.steps.iter().map(|s| s.points).sum(),
        }
    }

    /// A hint of step `step` (its HTML as the original has it) in its translated copy's words
    /// for `lang`; `None` when there is no copy or no such hint.
    pub fn hint_in(&self, step: &str, lang: &str, html: &str) -> Option<String> {
        let index = self.steps.iter().position(|s| s.id == step)?;
        let copy = self.translations.get(lang)?.steps.get(index)?;
        let original = &self.steps[index];
        if let Some(i) = original.hints.iter().position(|h| h == html) {
            return copy.hints.get(i).cloned();
        }
        let i = original.hint_checks.iter().position(|h| h.hint_html == html)?;
        copy.hint_checks.get(i).cloned()
    }

    /// A check's sentence (`pass "…"`, `fail "…"`) of step `step` in its translated copy's
    /// words for `lang`.
    pub fn reason_in(&self, step: &str, lang: &str, said: &str) -> Option<String> {
        let index = self.steps.iter().position(|s| s.id == step)?;
        let copy = self.translations.get(lang)?.steps.get(index)?;
        copy.reasons.iter().find(|(original, _)| original == said).map(|(_, ours)| ours.clone())
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}
