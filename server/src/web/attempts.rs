//! Guessing join codes, resume codes or the instructor's token: each client address gets a
//! budget of failed attempts per window. Only failures count, because a whole class often comes
//! from one NAT address and sixty learners joining in a minute is normal. (A request-rate
//! limiter such as `governor` cannot count only failures, hence these few lines.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const FAILURES_PER_WINDOW: u32 = 20;

#[derive(Default)]
pub struct FailedAttempts {
    by_client: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailedAttempts {
    /// Whether `client` may try again now.
    pub fn allowed(&self, client: IpAddr) -> bool {
        let map = self.by_client.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&client).is_none_or(|(since, n)| since.elapsed() >= WINDOW || *n < FAILURES_PER_WINDOW)
    }

    pub fn failed(&self, client: IpAddr) {
        let mut map = self.by_client.lock().unwrap_or_else(|p| p.into_inner());
        // Forget old windows so the map stays as small as the set of recent guessers.
        map.retain(|_, (since, _)| since.elapsed() < WINDOW);
        let entry = map.entry(client).or_insert((Instant::now(), 0));
        entry.1 += 1;
    }
}

/// What a client over its budget reads.
/// What a network that guessed too many codes is told, in the reader's language.
pub fn too_many() -> String {
    app::t!("srv-too-many-codes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_count() {
        let attempts = FailedAttempts::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..FAILURES_PER_WINDOW {
            assert!(attempts.allowed(a));
            attempts.failed(a);
        }
        assert!(!attempts.allowed(a));
        assert!(attempts.allowed(b), "other clients are not affected");
    }
}
