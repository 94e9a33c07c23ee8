//! Spotlight: the instructor shows one learner's terminal (read-only) on the presenter's screen
//! and, if they choose, on every learner's page of the class — once that learner agrees. Per
//! class, in memory (a restart ends it).

use std::collections::HashMap;
use std::sync::Mutex;

use app::class::SpotlightView;

#[derive(Default)]
pub struct Spotlights {
    by_class: Mutex<HashMap<String, SpotlightView>>,
}

impl Spotlights {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, SpotlightView>> {
        self.by_class.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks to show `view.learner`'s terminal in `class` (not shown until they agree); replaces
    /// any other spotlight of the class.
    pub fn ask(&self, class: &str, view: SpotlightView) -> SpotlightView {
        let view = SpotlightView { consented: false, ..view };
        self.map().insert(class.to_string(), view.clone());
        view
    }

    /// The learner's answer: shown now (`Some(Some)`), or declined and gone (`Some(None)`).
    /// `None`, and nothing changes, for a learner who was not asked.
    pub fn answer(&self, class: &str, learner: &str, allow: bool) -> Option<Option<SpotlightView>> {
        let mut map = self.map();
        match map.get_mut(class) {
            Some(view) if view.learner == learner => {
                if allow {
                    view.consented = true;
                    Some(Some(view.clone()))
                } else {
                    map.remove(class);
                    Some(None)
                }
            }
            _ => None,
        }
    }

    /// Ends the class's spotlight; true if there was one.
    pub fn stop(&self, class: &str) -> bool {
        self.map().remove(class).is_some()
    }

    pub fn current(&self, class: &str) -> Option<SpotlightView> {
        self.map().get(class).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(learner: &str) -> SpotlightView {
        SpotlightView { class: "c".into(), learner: learner.into(), name: learner.into(), tab: 1, to_class: true, consented: true }
    }

    #[test]
    fn shown_only_once_the_learner_agrees() {
        let s = Spotlights::default();
        assert!(!s.ask("c", view("ana")).consented, "asking is not showing");
        assert!(s.answer("c", "bob", true).is_none(), "only the learner asked answers");
        assert!(s.answer("c", "ana", true).unwrap().unwrap().consented);
        assert_eq!(s.current("c").unwrap().learner, "ana");
        s.ask("c", view("bob"));
        assert_eq!(s.answer("c", "bob", false), Some(None), "declined: gone");
        assert_eq!(s.current("c"), None);
        s.ask("c", view("cy"));
        assert!(s.stop("c"));
        assert!(!s.stop("c"));
    }
}
