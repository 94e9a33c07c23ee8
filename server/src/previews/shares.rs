//! Share links: a learner lets someone without a session (a classmate, a friend at home) open
//! one of their previews. A link names a random token, never the learner; it opens only that
//! learner's preview of that port, and lasts until the learner stops sharing it, [`LIFETIME`]
//! passes or the server restarts (tokens are kept in memory only, as the previews themselves).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;

/// How long a share link works at most.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// Shared ports one learner may have at once; sharing another ends their oldest share.
pub const PER_LEARNER: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub learner: String,
    pub port: u16,
    pub token: String,
    pub expires: Instant,
}

#[derive(Default)]
pub struct Shares {
    by_token: Mutex<HashMap<String, Share>>,
}

impl Shares {
    /// The learner's share of `port`: the one there is, or a new one.
    pub fn share(&self, learner: &str, port: u16, now: Instant) -> Share {
        let mut shares = self.locked();
        shares.retain(|_, s| s.expires > now);
        if let Some(share) = shares.values().find(|s| s.learner == learner && s.port == port) {
            return share.clone();
        }
        let theirs: Vec<(String, Instant)> =
            shares.values().filter(|s| s.learner == learner).map(|s| (s.token.clone(), s.expires)).collect();
        if theirs.len() >= PER_LEARNER
            && let Some((oldest, _)) = theirs.into_iter().min_by_key(|(_, expires)| *expires)
        {
            shares.remove(&oldest);
        }
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
        let share = Share { learner: learner.to_string(), port, token: token.clone(), expires: now + LIFETIME };
        shares.insert(token, share.clone());
        share
    }

    /// Ends the learner's share of `port`; whether there was one.
    pub fn stop(&self, learner: &str, port: u16) -> bool {
        let mut shares = self.locked();
        let before = shares.len();
        shares.retain(|_, s| !(s.learner == learner && s.port == port));
        shares.len() != before
    }

    /// Ends every share of the learner's (their sandbox was reset).
    pub fn stop_all(&self, learner: &str) {
        self.locked().retain(|_, s| s.learner != learner);
    }

    /// The share `token` names, while it lasts.
    pub fn find(&self, token: &str, now: Instant) -> Option<Share> {
        self.locked().get(token).filter(|s| s.expires > now).cloned()
    }

    /// Whether `token` lets its holder into `learner`'s preview of `port`.
    pub fn lets_in(&self, token: &str, learner: &str, port: u16, now: Instant) -> bool {
        self.find(token, now).is_some_and(|s| s.learner == learner && s.port == port)
    }

    /// The learner's shared ports, ascending.
    pub fn of(&self, learner: &str, now: Instant) -> Vec<Share> {
        let mut theirs: Vec<Share> = self.locked().values().filter(|s| s.learner == learner && s.expires > now).cloned().collect();
        theirs.sort_by_key(|s| s.port);
        theirs
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Share>> {
        self.by_token.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_opens_only_its_learners_port_until_it_ends() {
        let shares = Shares::default();
        let now = Instant::now();
        let share = shares.share("ana", 8080, now);
        assert_eq!(share.token.len(), 32, "24 random bytes");
        assert_eq!(shares.share("ana", 8080, now).token, share.token, "sharing again gives the same link");
        assert!(shares.lets_in(&share.token, "ana", 8080, now));
        assert!(!shares.lets_in(&share.token, "ana", 8081, now), "another port of hers");
        assert!(!shares.lets_in(&share.token, "ben", 8080, now), "another learner's preview");
        assert!(!shares.lets_in("made-up", "ana", 8080, now));
        assert!(!shares.lets_in(&share.token, "ana", 8080, now + LIFETIME), "expired");
        assert!(shares.stop("ana", 8080));
        assert!(!shares.lets_in(&share.token, "ana", 8080, now), "stopped");
        assert!(!shares.stop("ana", 8080));
        let again = shares.share("ana", 8080, now);
        assert_ne!(again.token, share.token, "a new link after stopping: the old one stays dead");
    }

    #[test]
    fn a_learner_has_a_bounded_number_of_shares() {
        let shares = Shares::default();
        let now = Instant::now();
        let first = shares.share("ana", 1, now);
        for port in 2..=(PER_LEARNER as u16 + 1) {
            shares.share("ana", port, now + Duration::from_secs(port.into()));
        }
        let ports: Vec<u16> = shares.of("ana", now).iter().map(|s| s.port).collect();
        assert_eq!(ports.len(), PER_LEARNER);
        assert!(!ports.contains(&1), "the oldest share ended: {ports:?}");
        assert!(shares.find(&first.token, now).is_none());
        shares.share("ben", 1, now);
        shares.stop_all("ana");
        assert!(shares.of("ana", now).is_empty());
        assert_eq!(shares.of("ben", now).len(), 1);
    }
}
