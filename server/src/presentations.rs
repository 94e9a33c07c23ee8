//! Presenting: the instructor's current slide of each deck, which learners' decks follow live.
//! Kept in memory: a restart ends the presentation, not the class. The routes that set and
//! follow it are in `web/live.rs`.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LiveSlide {
    pub deck: String,
    pub slide: usize,
}

pub struct Presentations {
    current: Mutex<HashMap<String, usize>>,
    changes: broadcast::Sender<LiveSlide>,
}

impl Default for Presentations {
    fn default() -> Self {
        // A follower more than 256 changes behind skips to the newest: only the last slide counts.
        Self { current: Mutex::new(HashMap::new()), changes: broadcast::channel(256).0 }
    }
}

impl Presentations {
    pub fn current(&self, deck: &str) -> Option<usize> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).get(deck).copied()
    }

    pub fn set(&self, deck: &str, slide: usize) {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).insert(deck.to_string(), slide);
        let _ = self.changes.send(LiveSlide { deck: deck.to_string(), slide });
    }

    /// Every change from now on, of every deck.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveSlide> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follower_sees_each_change_and_a_latecomer_the_current_slide() {
        let presentations = Presentations::default();
        assert_eq!(presentations.current("intro"), None);
        let mut follower = presentations.subscribe();
        presentations.set("intro", 3);
        presentations.set("cgroups", 1);
        assert_eq!(follower.try_recv().unwrap(), LiveSlide { deck: "intro".into(), slide: 3 });
        assert_eq!(follower.try_recv().unwrap(), LiveSlide { deck: "cgroups".into(), slide: 1 });
        assert_eq!(presentations.current("intro"), Some(3));
        assert_eq!(presentations.current("cgroups"), Some(1));
    }
}
