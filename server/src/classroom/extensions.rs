//! How many minutes each learner has added to their own sandbox's lifetime, against the limit
//! their class sets. In memory: a restart gives the allowance again, which the sandbox's
//! lifetime bounds anyway.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Extensions {
    used: Mutex<HashMap<String, u32>>,
}

impl Extensions {
    /// Minutes `learner` may still add under `limit`.
    pub fn left(&self, learner: &str, limit: u32) -> u32 {
        limit.saturating_sub(self.used.lock().unwrap_or_else(|p| p.into_inner()).get(learner).copied().unwrap_or(0))
    }

    /// Takes up to `minutes` of the allowance: what was granted (0 when none is left).
    pub fn take(&self, learner: &str, minutes: u32, limit: u32) -> u32 {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let spent = used.entry(learner.to_string()).or_default();
        let granted = minutes.min(limit.saturating_sub(*spent));
        *spent += granted;
        granted
    }

    /// Gives back what `take` granted (the sandbox was not running after all).
    pub fn give_back(&self, learner: &str, minutes: u32) {
        if let Some(spent) = self.used.lock().unwrap_or_else(|p| p.into_inner()).get_mut(learner) {
            *spent = spent.saturating_sub(minutes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_to_the_limit() {
        let e = Extensions::default();
        assert_eq!(e.take("ada", 30, 45), 30);
        assert_eq!(e.left("ada", 45), 15);
        assert_eq!(e.take("ada", 30, 45), 15, "what is left");
        assert_eq!(e.take("ada", 30, 45), 0);
        e.give_back("ada", 15);
        assert_eq!(e.left("ada", 45), 15);
        assert_eq!(e.left("bob", 45), 45);
    }
}
