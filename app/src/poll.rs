//! Live polls from the presenter: what the presenter launches, what every learner's page shows,
//! the answers, and the histogram. The server stores and counts; both sides read these types,
//! and the rules (what a valid answer is, how answers become a histogram) are here once.

use serde::{Deserialize, Serialize};

/// Choices an ad-hoc poll may have.
pub const MIN_CHOICES: usize = 2;
pub const MAX_CHOICES: usize = 6;
/// The longest ad-hoc prompt and choice.
pub const PROMPT_CHARS: usize = 300;
pub const CHOICE_CHARS: usize = 100;

/// What the presenter launches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PollSource {
    /// A quiz question of the course: answers are also the learner's quiz answers (scored).
    Question { id: String },
    /// A quick question with 2 to 6 choices, asked on the spot (participation only).
    Choices { prompt: String, choices: Vec<String> },
    /// A quick question answered with a number.
    Number { prompt: String },
}

impl PollSource {
    /// An ad-hoc poll's prompt and choices, trimmed, or why they cannot be asked.
    pub fn validate(&self) -> Result<(), String> {
        let prompt = match self {
            PollSource::Question { .. } => return Ok(()),
            PollSource::Choices { prompt, choices } => {
                let choices: Vec<&str> = choices.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
                if !(MIN_CHOICES..=MAX_CHOICES).contains(&choices.len()) {
                    return Err(t!("srv-poll-choices", min = MIN_CHOICES, max = MAX_CHOICES));
                }
                if choices.iter().any(|c| c.chars().count() > CHOICE_CHARS) {
                    return Err(t!("srv-poll-choice-length", max = CHOICE_CHARS));
                }
                prompt
            }
            PollSource::Number { prompt } => prompt,
        };
        let chars = prompt.trim().chars().count();
        if chars == 0 || chars > PROMPT_CHARS {
            return Err(t!("srv-poll-prompt-length", max = PROMPT_CHARS));
        }
        Ok(())
    }
}

/// A learner's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PollAnswer {
    Choices { choices: Vec<usize> },
    Number { value: f64 },
}

/// A poll as pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PollView {
    pub id: i64,
    pub deck: String,
    /// The quiz question it asks, if it is one.
    pub question: Option<String>,
    /// The prompt and the choices, as HTML (a question's from the course; an ad-hoc poll's
    /// escaped text).
    pub prompt_html: String,
    pub choices: Vec<String>,
    /// More than one choice may be picked.
    pub multiple: bool,
    /// Answered with a number, not a choice.
    pub number: bool,
    pub revealed: bool,
    /// The histogram: the presenter's always, the learners' once revealed.
    pub results: Option<PollResults>,
}

impl PollView {
    /// A poll of `deck` with nothing in it yet (the launch fills it in).
    pub fn empty(deck: &str) -> Self {
        PollView {
            id: 0,
            deck: deck.to_string(),
            question: None,
            prompt_html: String::new(),
            choices: Vec::new(),
            multiple: false,
            number: false,
            revealed: false,
            results: None,
        }
    }

    /// Whether `answer` fits this poll.
    pub fn check(&self, answer: &PollAnswer) -> Result<(), String> {
        match (answer, self.number) {
            (PollAnswer::Number { value }, true) if value.is_finite() => Ok(()),
            (PollAnswer::Number { .. }, true) => Err(t!("poll-number-needed")),
            (PollAnswer::Choices { choices }, false) => {
                let mut sorted = choices.clone();
                sorted.sort_unstable();
                sorted.dedup();
                if sorted.is_empty() || sorted.len() != choices.len() || sorted.iter().any(|&c| c >= self.choices.len()) {
                    return Err(t!("srv-pick-answer"));
                }
                if !self.multiple && choices.len() > 1 {
                    return Err(t!("srv-pick-one"));
                }
                Ok(())
            }
            _ => Err(if self.number { t!("poll-number-needed") } else { t!("srv-pick-answer") }),
        }
    }
}

/// The answers so far, counted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PollResults {
    /// Learners who answered.
    pub answers: u32,
    /// Per choice: how many picked it.
    pub counts: Vec<u32>,
    /// A number poll's answers: each value given, ascending, with how many gave it.
    pub values: Vec<(f64, u32)>,
    /// A quiz question's right choices (shown to learners once revealed).
    pub correct: Vec<usize>,
}

impl PollResults {
    /// Counts `answers` to a poll with `choices` choices (answers that do not fit are skipped).
    pub fn tally<'a>(choices: usize, correct: Vec<usize>, answers: impl IntoIterator<Item = &'a PollAnswer>) -> Self {
        let mut results = PollResults { counts: vec![0; choices], correct, ..Default::default() };
        let mut values: Vec<f64> = Vec::new();
        for answer in answers {
            match answer {
                PollAnswer::Choices { choices } => {
                    for &c in choices {
                        if let Some(count) = results.counts.get_mut(c) {
                            *count += 1;
                        }
                    }
                }
                PollAnswer::Number { value } if value.is_finite() => values.push(*value),
                PollAnswer::Number { .. } => continue,
            }
            results.answers += 1;
        }
        values.sort_by(f64::total_cmp);
        for value in values {
            match results.values.last_mut() {
                Some((last, n)) if *last == value => *n += 1,
                _ => results.values.push((value, 1)),
            }
        }
        results
    }

    /// The share of answers `count` stands for, in percent (for the bars).
    pub fn percent(&self, count: u32) -> u32 {
        (count * 100).checked_div(self.answers).unwrap_or(0)
    }
}

/// What a learner's page holds about the poll their class is asked now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerPoll {
    pub poll: PollView,
    /// Their answer, if they gave one (they may change it until the poll closes).
    pub mine: Option<PollAnswer>,
}

/// What the presenter does to a running poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollChange {
    /// Show the right answer and the distribution to the class.
    Reveal,
    /// Take it off every page.
    Close,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(choices: usize, multiple: bool, number: bool) -> PollView {
        PollView { choices: (0..choices).map(|i| i.to_string()).collect(), multiple, number, ..PollView::empty("d") }
    }

    #[test]
    fn answers_that_fit() {
        let single = poll(3, false, false);
        assert!(single.check(&PollAnswer::Choices { choices: vec![2] }).is_ok());
        assert!(single.check(&PollAnswer::Choices { choices: vec![3] }).is_err(), "out of range");
        assert!(single.check(&PollAnswer::Choices { choices: vec![0, 1] }).is_err(), "one answer");
        assert!(single.check(&PollAnswer::Choices { choices: vec![] }).is_err());
        assert!(single.check(&PollAnswer::Number { value: 1.0 }).is_err());
        let multiple = poll(3, true, false);
        assert!(multiple.check(&PollAnswer::Choices { choices: vec![0, 2] }).is_ok());
        assert!(multiple.check(&PollAnswer::Choices { choices: vec![1, 1] }).is_err(), "twice the same");
        let number = poll(0, false, true);
        assert!(number.check(&PollAnswer::Number { value: -3.5 }).is_ok());
        assert!(number.check(&PollAnswer::Number { value: f64::NAN }).is_err());
        assert!(number.check(&PollAnswer::Choices { choices: vec![0] }).is_err());
    }

    #[test]
    fn a_histogram() {
        let answers = [
            PollAnswer::Choices { choices: vec![0] },
            PollAnswer::Choices { choices: vec![0, 2] },
            PollAnswer::Choices { choices: vec![9] },
        ];
        let r = PollResults::tally(3, vec![0], &answers);
        assert_eq!((r.answers, r.counts.clone()), (3, vec![2, 0, 1]));
        assert_eq!(r.percent(2), 66);
        let answers = [PollAnswer::Number { value: 4.0 }, PollAnswer::Number { value: 2.0 }, PollAnswer::Number { value: 4.0 }];
        let r = PollResults::tally(0, vec![], &answers);
        assert_eq!(r.values, vec![(2.0, 1), (4.0, 2)]);
        assert_eq!(PollResults::default().percent(0), 0);
    }

    #[test]
    fn ad_hoc_polls() {
        let ok = PollSource::Choices { prompt: "Ready?".into(), choices: vec!["Yes".into(), "No".into(), " ".into()] };
        assert!(ok.validate().is_ok());
        let one = PollSource::Choices { prompt: "Ready?".into(), choices: vec!["Yes".into()] };
        assert!(one.validate().unwrap_err().contains("2 to 6"));
        let seven = PollSource::Choices { prompt: "Pick".into(), choices: (0..7).map(|i| i.to_string()).collect() };
        assert!(seven.validate().is_err());
        assert!(PollSource::Number { prompt: "  ".into() }.validate().is_err());
        assert!(PollSource::Number { prompt: "How many pods?".into() }.validate().is_ok());
    }
}
