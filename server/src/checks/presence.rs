//! Which step each learner is on, and whether they are still here to be checked.
//!
//! The page says which step the learner is on ("focus"); the check engine re-checks that step
//! after their commands and on a timer. A learner who left (closed the page, laptop asleep) must
//! stop costing checks, but one who reads, thinks or asks a neighbour for half an hour is still
//! working and must turn green the moment they do the step. So a learner is *here* while any of
//! their pages holds the live event stream open, and for `away_after` after the last sign of
//! them (a page closing, a key typed, a command run, the focus sent). Only a learner who is not
//! here loses their focus; the page sends it again when it comes back (its event stream
//! reconnects, after a dropped connection or a server restart).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The step a learner is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Focus {
    pub lab: String,
    pub step: String,
}

#[derive(Debug)]
struct Learner {
    focus: Option<Focus>,
    /// Live event streams open (pages showing).
    pages: usize,
    last_seen: Instant,
}

/// Every learner's focus and presence. Time is passed in, so the rules are tested without
/// waiting.
#[derive(Debug)]
pub struct Presence {
    learners: HashMap<String, Learner>,
    away_after: Duration,
}

impl Presence {
    pub fn new(away_after: Duration) -> Self {
        Self { learners: HashMap::new(), away_after }
    }

    fn entry(&mut self, learner: &str, now: Instant) -> &mut Learner {
        self.learners.entry(learner.to_string()).or_insert(Learner { focus: None, pages: 0, last_seen: now })
    }

    /// The learner is on `focus` now.
    pub fn focus(&mut self, learner: &str, focus: Focus, now: Instant) {
        let entry = self.entry(learner, now);
        entry.focus = Some(focus);
        entry.last_seen = now;
    }

    /// A sign of the learner (a key typed, a command run).
    pub fn seen(&mut self, learner: &str, now: Instant) {
        if let Some(entry) = self.learners.get_mut(learner) {
            entry.last_seen = now;
        }
    }

    pub fn page_opened(&mut self, learner: &str, now: Instant) {
        let entry = self.entry(learner, now);
        entry.pages += 1;
        entry.last_seen = now;
    }

    /// A page went away: the learner counts as here for `away_after` more.
    pub fn page_closed(&mut self, learner: &str, now: Instant) {
        if let Some(entry) = self.learners.get_mut(learner) {
            entry.pages = entry.pages.saturating_sub(1);
            entry.last_seen = now;
        }
    }

    fn here(&self, entry: &Learner, now: Instant) -> bool {
        entry.pages > 0 || now.saturating_duration_since(entry.last_seen) < self.away_after
    }

    /// The step the learner is on, if they are here.
    pub fn current(&self, learner: &str, now: Instant) -> Option<Focus> {
        self.learners.get(learner).filter(|e| self.here(e, now)).and_then(|e| e.focus.clone())
    }

    /// The learners who are here and on a step (to re-check), forgetting those who left.
    pub fn focused(&mut self, now: Instant) -> Vec<String> {
        let away_after = self.away_after;
        self.learners.retain(|_, e| e.pages > 0 || now.saturating_duration_since(e.last_seen) < away_after);
        self.learners.iter().filter(|(_, e)| e.focus.is_some()).map(|(l, _)| l.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWAY: Duration = Duration::from_secs(600);

    fn on(step: &str) -> Focus {
        Focus { lab: "netns-veth".into(), step: step.into() }
    }

    #[test]
    fn a_learner_with_the_page_open_never_lapses() {
        let mut p = Presence::new(AWAY);
        let t = Instant::now();
        p.page_opened("ada", t);
        p.focus("ada", on("veth"), t);
        // An hour of reading, no key typed.
        let later = t + Duration::from_secs(3600);
        assert_eq!(p.current("ada", later), Some(on("veth")));
        assert_eq!(p.focused(later), vec!["ada".to_string()]);
    }

    #[test]
    fn a_learner_who_left_lapses_after_the_time_out() {
        let mut p = Presence::new(AWAY);
        let t = Instant::now();
        p.page_opened("ada", t);
        p.focus("ada", on("veth"), t);
        p.page_closed("ada", t + Duration::from_secs(10));
        assert!(p.current("ada", t + Duration::from_secs(300)).is_some(), "still here shortly after closing the page");
        let gone = t + Duration::from_secs(10) + AWAY;
        assert_eq!(p.current("ada", gone), None);
        assert!(p.focused(gone).is_empty());
    }

    #[test]
    fn typing_keeps_a_learner_without_a_page_here() {
        let mut p = Presence::new(AWAY);
        let t = Instant::now();
        p.focus("ada", on("veth"), t);
        // A terminal only (the lab page closed before): each key renews.
        for minute in 1..=30 {
            p.seen("ada", t + Duration::from_secs(minute * 60));
        }
        assert!(p.current("ada", t + Duration::from_secs(30 * 60 + 500)).is_some());
    }

    #[test]
    fn two_pages_one_closed_is_still_here() {
        let mut p = Presence::new(AWAY);
        let t = Instant::now();
        p.page_opened("ada", t);
        p.page_opened("ada", t);
        p.focus("ada", on("ping"), t);
        p.page_closed("ada", t);
        assert!(p.current("ada", t + AWAY * 3).is_some());
    }

    #[test]
    fn a_page_that_comes_back_restores_nothing_by_itself() {
        // After a restart the server knows nobody's step: the page sends it again (the
        // event stream's reopening is the page's cue), until then nothing is checked.
        let mut p = Presence::new(AWAY);
        let t = Instant::now();
        p.page_opened("ada", t);
        assert_eq!(p.current("ada", t), None);
        assert!(p.focused(t).is_empty());
        p.focus("ada", on("ping"), t);
        assert_eq!(p.focused(t), vec!["ada".to_string()]);
    }

    #[test]
    fn closing_more_pages_than_opened_does_not_wrap() {
        let mut p = Presence::new(AWAY);
        let t = Instant::now();
        p.focus("ada", on("ping"), t);
        p.page_closed("ada", t);
        p.page_closed("ada", t);
        assert!(p.current("ada", t + AWAY).is_none());
    }
}
