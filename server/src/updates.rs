//! Live updates: what just changed, for learners' pages and the instructor's dashboard. One
//! broadcast channel for the whole server; each live stream (server-sent events) picks what its
//! reader may see.

use app::class::MessageView;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::store::{HelpRequest, QuizAnswer, StepState};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    Step {
        learner: String,
        state: StepState,
    },
    Checking {
        learner: String,
        lab_id: String,
        step_id: String,
    },
    Hint {
        learner: String,
        lab_id: String,
        step_id: String,
        index: usize,
        html: String,
    },
    /// Dashboard only.
    Quiz {
        learner: String,
        answer: QuizAnswer,
    },
    /// Dashboard only: someone joined a class.
    Joined {
        learner: String,
        class_id: String,
    },
    /// A tier coming up in the learner's sandbox (the cluster).
    Tier {
        learner: String,
        tier: String,
        status: app::services::TierStatus,
    },
    /// To one learner, or to everyone in `class_id` when `learner` is `None`. (A learner's own
    /// message to staff has them as `learner` too: their thread.)
    Message {
        learner: Option<String>,
        class_id: String,
        message: MessageView,
    },
    /// A learner's hand: raised, changed, claimed, or (`closed`) down.
    Help {
        learner: String,
        request: HelpRequest,
    },
    /// A poll of `deck` launched, revealed (`view` has the results) or closed (`None`): for
    /// learners whose class has the deck.
    Poll {
        deck: String,
        poll_id: i64,
        view: Option<app::poll::PollView>,
    },
    /// New counts of a poll: the presenter's histogram only.
    PollResults {
        deck: String,
        poll_id: i64,
        results: app::poll::PollResults,
    },
    /// The spotlight of `class_id`: asked, shown, or ended (`None`).
    Spotlight {
        class_id: String,
        view: Option<app::class::SpotlightView>,
    },
    /// "Eyes on me" in `class_id`, or released (`None`).
    Attention {
        class_id: String,
        message: Option<String>,
    },
}

impl Update {
    /// The learner this is about, if it is about one.
    pub fn learner(&self) -> Option<&str> {
        match self {
            Update::Step { learner, .. }
            | Update::Checking { learner, .. }
            | Update::Hint { learner, .. }
            | Update::Quiz { learner, .. }
            | Update::Tier { learner, .. }
            | Update::Joined { learner, .. }
            | Update::Help { learner, .. } => Some(learner),
            Update::Message { learner, .. } => learner.as_deref(),
            Update::Attention { .. } | Update::Spotlight { .. } | Update::Poll { .. } | Update::PollResults { .. } => None,
        }
    }

    /// Whether the page of `learner` (in `class_id`) gets this.
    pub fn for_learner(&self, learner: &str, class_id: &str) -> bool {
        match self {
            Update::Step { .. } | Update::Checking { .. } | Update::Hint { .. } | Update::Tier { .. } | Update::Help { .. } => {
                self.learner() == Some(learner)
            }
            Update::Attention { class_id: class, .. } | Update::Spotlight { class_id: class, .. } => class == class_id,
            Update::Message { learner: to, class_id: class, .. } => match to {
                Some(to) => to == learner,
                None => class == class_id,
            },
            // Polls go by the class's decks, which the learner's stream knows.
            Update::Quiz { .. } | Update::Joined { .. } | Update::Poll { .. } | Update::PollResults { .. } => false,
        }
    }
}

pub type Updates = broadcast::Sender<Update>;

pub fn channel() -> Updates {
    // Generous: a class of 60 finishing a step at once must not make dashboards resync.
    broadcast::channel(4096).0
}
