//! How fast a simulated learner types. People in a class do not type in step: each has a pace of
//! their own, and no two of their keys come exactly as far apart. A class whose learners all type
//! every key 200 ms after the last (lockstep) presses Check within milliseconds of each other at
//! every step, for the whole class: the server's worst case, kept as `STACKLAB_CLASS_LOCKSTEP=1`.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The class's mean: 5 keys a second.
pub const MEAN_GAP: Duration = Duration::from_millis(200);

/// One learner's typing.
pub enum Pace {
    /// Every gap `MEAN_GAP`.
    Lockstep,
    /// Their own mean gap between keys, and a generator seeded by who they are: the same learner
    /// types the same way in every run.
    Human { own: Duration, rng: Box<StdRng> },
}

impl Pace {
    /// Every key `MEAN_GAP` after the last.
    pub fn lockstep() -> Self {
        Self::Lockstep
    }

    /// Learner `n` of a class: a mean gap of their own, spread evenly over 150–250 ms (4 to 6.7
    /// keys a second; the class's mean stays 5), and each key from half to one and a half times
    /// that after the last.
    pub fn human(n: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(n as u64);
        let own = MEAN_GAP.mul_f64(rng.random_range(0.75..1.25));
        Self::Human { own, rng: Box::new(rng) }
    }

    /// The wait before the next key.
    pub fn gap(&mut self) -> Duration {
        match self {
            Self::Lockstep => MEAN_GAP,
            Self::Human { own, rng } => own.mul_f64(rng.random_range(0.5..1.5)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockstep_types_every_key_at_the_mean() {
        let mut pace = Pace::lockstep();
        assert!((0..100).all(|_| pace.gap() == MEAN_GAP));
    }

    #[test]
    fn a_class_types_at_five_keys_a_second_each_learner_at_their_own_pace() {
        let learners = 200;
        let keys = 500;
        let mut means = Vec::new();
        for n in 0..learners {
            let mut pace = Pace::human(n);
            let gaps: Vec<f64> = (0..keys).map(|_| pace.gap().as_secs_f64()).collect();
            assert!(gaps.iter().all(|g| (0.075..0.375).contains(g)), "learner {n}: a gap out of range");
            means.push(gaps.iter().sum::<f64>() / keys as f64);
        }
        let class = means.iter().sum::<f64>() / learners as f64;
        assert!((class - 0.2).abs() < 0.005, "the class's mean gap is {class}");
        // Paces of their own: the slowest learner's mean is well apart from the fastest's.
        let (slow, fast) = (means.iter().cloned().fold(0.0, f64::max), means.iter().cloned().fold(1.0, f64::min));
        assert!(slow - fast > 0.07, "paces from {fast} to {slow}");
        // The same learner types the same way in another run.
        let (mut a, mut b) = (Pace::human(7), Pace::human(7));
        assert!((0..10).all(|_| a.gap() == b.gap()));
    }
}
