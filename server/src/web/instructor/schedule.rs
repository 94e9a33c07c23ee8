//! A class's scheduled pre-warm: at its `prewarm_at` the roster's sandboxes and
//! `prewarm_spares` spares start by themselves, as the dashboard's "Start sandboxes" would,
//! so the first minutes of class are not spent waiting.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::class::{ClassSettings, HelpAction, StaffView};
use tokio_util::sync::CancellationToken;

use crate::web::AppState;

/// How often the schedule is looked at.
const EVERY: Duration = Duration::from_secs(30);
/// A pre-warm time further back than this is let go (a server started long after it).
const STALE_AFTER_SECS: i64 = 2 * 3600;

/// Whether a class with `settings` is due its pre-warm at `now` (before the end, not stale).
pub fn due(settings: &ClassSettings, now: i64) -> bool {
    settings.prewarm_at.is_some_and(|at| at <= now && now - at < STALE_AFTER_SECS) && settings.open_at(now)
}

pub fn spawn(state: AppState, shutdown: CancellationToken) {
    // (class, time) pairs done by this process: a restart may pre-warm again, which starts only
    // what is not running.
    let done: Arc<Mutex<HashSet<(String, i64)>>> = Arc::default();
    crate::periodic::spawn_every(EVERY, shutdown, move || {
        let (state, done) = (state.clone(), done.clone());
        async move {
            let Ok(classes) = state.store.classes().await else { return };
            let now = crate::store::now();
            for class in classes.into_iter().filter(|c| due(&c.settings, now)) {
                let key = (class.id.clone(), class.settings.prewarm_at.unwrap_or_default());
                if !done.lock().unwrap_or_else(|p| p.into_inner()).insert(key) {
                    continue;
                }
                let spares = class.settings.prewarm_spares.unwrap_or(0);
                let action = HelpAction::Prewarm { class: class.id.clone(), spares };
                match super::help(&state, &StaffView::instructor(), action).await {
                    Ok(done) => tracing::info!(class = %class.name, "scheduled pre-warm: {}", done.message),
                    Err(e) => tracing::warn!(class = %class.name, "scheduled pre-warm: {e}"),
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_once_its_time_came_until_stale_or_ended() {
        let at = 1_000_000;
        let s = ClassSettings { prewarm_at: Some(at), ..Default::default() };
        assert!(!due(&s, at - 1));
        assert!(due(&s, at));
        assert!(due(&s, at + STALE_AFTER_SECS - 1));
        assert!(!due(&s, at + STALE_AFTER_SECS), "a server started long after lets it go");
        let ended = ClassSettings { ends_at: Some(at + 10), ..s.clone() };
        assert!(!due(&ended, at + 10));
        assert!(!due(&ClassSettings::default(), at));
    }
}
