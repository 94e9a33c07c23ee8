//! What a learner may write per minute (messages to staff, raising and lowering a hand): every
//! such write is a row the server stores and a line on the instructor's screen, so a hostile or
//! stuck script gets a clear "slow down" instead of filling both. A token bucket per learner.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Writes in a burst, and how fast the budget comes back.
const BURST: f64 = 10.0;
const REFILL_EVERY: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct WriteBudget {
    by_learner: Mutex<HashMap<String, (Instant, f64)>>,
}

impl WriteBudget {
    /// Takes one write from `learner`'s budget; false when it is spent.
    pub fn take(&self, learner: &str) -> bool {
        self.take_at(learner, Instant::now())
    }

    fn take_at(&self, learner: &str, now: Instant) -> bool {
        let mut map = self.by_learner.lock().unwrap_or_else(|p| p.into_inner());
        // Full buckets are forgotten, so the map holds only learners writing right now.
        let full_after = REFILL_EVERY.mul_f64(BURST);
        map.retain(|_, (at, _)| now.saturating_duration_since(*at) < full_after);
        let (at, tokens) = map.entry(learner.to_string()).or_insert((now, BURST));
        let refilled = (*tokens + now.saturating_duration_since(*at).as_secs_f64() / REFILL_EVERY.as_secs_f64()).min(BURST);
        *at = now;
        if refilled < 1.0 {
            *tokens = refilled;
            return false;
        }
        *tokens = refilled - 1.0;
        true
    }
}

/// What a learner over their budget reads.
/// What a learner who writes too fast is told, in their language.
pub fn slow_down() -> String {
    app::t!("srv-slow-down")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let budget = WriteBudget::default();
        let t0 = Instant::now();
        for _ in 0..BURST as usize {
            assert!(budget.take_at("ada", t0));
        }
        assert!(!budget.take_at("ada", t0), "the burst is spent");
        assert!(budget.take_at("bob", t0), "others have their own");
        assert!(!budget.take_at("ada", t0 + REFILL_EVERY / 2));
        assert!(budget.take_at("ada", t0 + REFILL_EVERY + REFILL_EVERY / 2));
        assert!(!budget.take_at("ada", t0 + REFILL_EVERY + REFILL_EVERY / 2));
    }
}
