//! How many commands a terminal may report: the shell integration's records come from inside
//! the sandbox, where a learner can print them as fast as a loop runs (a flood filled 17 MB of
//! the store in under a second). People type a few commands a minute; scripts a few a second.
//! A token bucket lets bursts through and drops the rest of a flood (counted, said once).

use std::time::Instant;

/// Records a terminal may report at once...
pub const BURST: f64 = 100.0;
/// ...and per second after that.
pub const PER_SECOND: f64 = 20.0;
/// A record's command is cut to this many bytes (a pasted script is still recognisable).
pub const MAX_COMMAND: usize = 4096;

#[derive(Debug)]
pub struct CommandBudget {
    tokens: f64,
    last: Instant,
    /// Records dropped since the last time that was said.
    pub dropped: u64,
}

impl CommandBudget {
    pub fn new(now: Instant) -> Self {
        Self { tokens: BURST, last: now, dropped: 0 }
    }

    /// Whether one more record may go to the store now.
    pub fn take(&mut self, now: Instant) -> bool {
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * PER_SECOND;
        self.tokens = (self.tokens + refill).min(BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.dropped += 1;
            false
        }
    }
}

/// `command` cut to [`MAX_COMMAND`] bytes, on a character boundary, marked when cut.
pub fn capped(mut command: String) -> String {
    if command.len() > MAX_COMMAND {
        let mut end = MAX_COMMAND;
        while !command.is_char_boundary(end) {
            end -= 1;
        }
        command.truncate(end);
        command.push('…');
    }
    command
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_flood_is_cut_to_the_burst_and_the_rate() {
        let t = Instant::now();
        let mut budget = CommandBudget::new(t);
        let passed = (0..100_000).filter(|_| budget.take(t)).count();
        assert_eq!(passed, BURST as usize);
        // Three seconds later: the rate's worth again, no more; much later, a burst at most.
        let later = t + Duration::from_secs(3);
        let passed = (0..100_000).filter(|_| budget.take(later)).count();
        assert_eq!(passed, (PER_SECOND * 3.0) as usize);
        let much_later = later + Duration::from_secs(3600);
        let passed = (0..100_000).filter(|_| budget.take(much_later)).count();
        assert_eq!(passed, BURST as usize);
        assert!(budget.dropped > 100_000);
    }

    #[test]
    fn people_typing_never_lose_a_command() {
        let t = Instant::now();
        let mut budget = CommandBudget::new(t);
        for i in 0..10_000u64 {
            assert!(budget.take(t + Duration::from_millis(100 * i)), "command {i}");
        }
    }

    #[test]
    fn long_commands_are_cut_on_a_character() {
        assert_eq!(capped("ls".into()), "ls");
        let long = "é".repeat(MAX_COMMAND);
        let cut = capped(long);
        assert!(cut.len() <= MAX_COMMAND + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
