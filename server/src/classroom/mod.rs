//! The live layer of a class: raised hands and the help thread (stored), "eyes on me" (in
//! memory: a restart releases it), and the budget that keeps a learner's writes bounded.

mod attention;
mod budget;
mod extensions;
mod spotlight;

pub use attention::Attention;
pub use budget::{WriteBudget, slow_down};
pub use extensions::Extensions;
pub use spotlight::Spotlights;

use app::class::{HelpView, MessageView};

use crate::store::{HelpRequest, Message};

/// A stored hand as pages show it; `name` is the learner's display name.
pub fn help_view(request: &HelpRequest, name: &str) -> HelpView {
    HelpView {
        id: request.id,
        learner: request.learner_id.clone(),
        name: name.to_string(),
        note: request.note.clone(),
        lab_id: request.lab_id.clone(),
        step_id: request.step_id.clone(),
        reason: request.reason.clone(),
        raised_at: request.raised_at,
        claimed_by: request.claimed_by.clone(),
    }
}

pub fn message_view(message: &Message) -> MessageView {
    MessageView {
        id: message.id,
        body: message.body.clone(),
        to_class: message.learner_id.is_none(),
        at: message.at,
        from_learner: message.from_learner,
        author: message.author.clone(),
    }
}
