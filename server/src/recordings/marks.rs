//! Markers in the recordings where a step's state changes: passed, failed (with the check's
//! reason, each time the reason changes), a hint shown, the solution revealed. They come from
//! the server's live updates, so the check engine and the routes need not know recordings exist.
//!
//! Labels read well in `asciinema play` and are easy to pick out: `<lab>/<step>: <what>`.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use super::Recordings;
use crate::store::StepState;
use crate::updates::{Update, Updates};

/// What a step's marker says it became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepMark {
    Passed,
    Failed(String),
    Hint,
    Solution,
}

impl StepMark {
    pub fn label(&self, lab: &str, step: &str) -> String {
        match self {
            StepMark::Passed => format!("{lab}/{step}: passed"),
            StepMark::Failed(reason) => format!("{lab}/{step}: failed: {reason}"),
            StepMark::Hint => format!("{lab}/{step}: hint shown"),
            StepMark::Solution => format!("{lab}/{step}: solution shown"),
        }
    }
}

/// What was last marked per step, so a background check failing the same way again is not a
/// new marker.
#[derive(Default)]
struct Seen {
    steps: HashMap<(String, String, String), StepState>,
}

impl Seen {
    fn marks(&mut self, learner: &str, state: &StepState) -> Vec<StepMark> {
        let key = (learner.to_string(), state.lab_id.clone(), state.step_id.clone());
        let before = self.steps.insert(key, state.clone());
        let mut marks = Vec::new();
        let outcome_changed = before.as_ref().is_none_or(|b| b.last_passed != state.last_passed || b.last_reason != state.last_reason);
        if outcome_changed || before.as_ref().is_some_and(|b| !b.done && state.done) {
            match (state.last_passed, &state.last_reason) {
                (Some(true), _) => marks.push(StepMark::Passed),
                (Some(false), reason) => marks.push(StepMark::Failed(reason.clone().unwrap_or_default())),
                (None, _) => {}
            }
        }
        // After a restart the first state seen may carry hints shown long ago: not new.
        if let Some(before) = before {
            if state.hints_revealed > before.hints_revealed {
                marks.push(StepMark::Hint);
            }
            if state.solution_shown && !before.solution_shown {
                marks.push(StepMark::Solution);
            }
        }
        marks
    }
}

/// Marks the recordings from the server's updates until it ends.
pub async fn follow(recordings: Arc<Recordings>, updates: Updates) {
    let mut rx = updates.subscribe();
    let mut seen = Seen::default();
    loop {
        match rx.recv().await {
            Ok(Update::Step { learner, state }) => {
                for mark in seen.marks(&learner, &state) {
                    recordings.mark(&learner, &mark.label(&state.lab_id, &state.step_id));
                }
            }
            Ok(Update::Hint { learner, lab_id, step_id, .. }) => {
                recordings.mark(&learner, &StepMark::Hint.label(&lab_id, &step_id));
            }
            Ok(_) => {}
            Err(RecvError::Lagged(n)) => tracing::debug!(missed = n, "recording markers fell behind the updates"),
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(passed: Option<bool>, reason: &str, hints: i64, solution: bool) -> StepState {
        StepState {
            lab_id: "netns".into(),
            step_id: "veth".into(),
            done: passed == Some(true),
            started_at: 0,
            done_at: None,
            attempts: 0,
            failures: 0,
            same_failures: 0,
            last_check_at: None,
            last_passed: passed,
            last_reason: (!reason.is_empty()).then(|| reason.to_string()),
            hints_revealed: hints,
            solution_shown: solution,
        }
    }

    #[test]
    fn only_changes_are_marked() {
        let mut seen = Seen::default();
        assert_eq!(seen.marks("ada", &state(Some(false), "no veth", 0, false)), [StepMark::Failed("no veth".into())]);
        // The timer finding the same again: nothing.
        assert!(seen.marks("ada", &state(Some(false), "no veth", 0, false)).is_empty());
        assert_eq!(seen.marks("ada", &state(Some(false), "no veth", 1, false)), [StepMark::Hint]);
        assert_eq!(
            seen.marks("ada", &state(Some(false), "veth is down", 1, true)),
            [StepMark::Failed("veth is down".into()), StepMark::Solution]
        );
        assert_eq!(seen.marks("ada", &state(Some(true), "up", 1, true)), [StepMark::Passed]);
        // Another learner's step is theirs.
        assert_eq!(seen.marks("bob", &state(Some(true), "up", 3, true)), [StepMark::Passed]);
    }
}
