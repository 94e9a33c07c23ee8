//! How fast a simulated learner types. People in a class do not type in step: each has a pace of
//! their own, and no two of their keys come exactly as far apart. A class whose learners all type
//! every key 200 ms after the last (lockstep) presses Check within milliseconds of each other at
//! every step, for the whole class: the server's worst case, kept as `STACKLAB_CLASS_LOCKSTEP=1`.

use std::time::Duration;

/// The class's mean: 5 keys a second.
pub const MEAN_GAP: Duration = Duration::from_millis(200);

/// One learner's typing.
pub struct Pace {
    /// Their own mean gap between keys; `None`: lockstep, every gap `MEAN_GAP`.
    own: Option<Duration>,
    /// A splitmix64 state: the same learner types the same way in every run.
    state: u64,
}

impl Pace {
    /// Every key `MEAN_GAP` after the last.
    pub fn lockstep() -> Self {
        Self { own: None, state: 0 }
    }

    /// Learner `n` of a class: a mean gap of their own, spread evenly over 150–250 ms (4 to 6.7
    /// keys a second; the class's mean stays 5), and each key from half to one and a half times
    /// that after the last.
    pub fn human(n: usize) -> Self {
        let mut pace = Self { own: None, state: 0x5eed_0000_0000_0000 ^ n as u64 };
        let spread = MEAN_GAP.as_secs_f64() / 4.0;
        pace.own = Some(Duration::from_secs_f64(MEAN_GAP.as_secs_f64() - spread + 2.0 * spread * pace.unit()));
        pace
    }

    /// The wait before the next key.
    pub fn gap(&mut self) -> Duration {
        match self.own {
            None => MEAN_GAP,
            Some(own) => own.mul_f64(0.5 + self.unit()),
        }
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
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
