//! The line learners wait in for a sandbox when the class is full (the cluster has no room, or
//! `--max-sandboxes` are running): first come, first served, with an estimate of the wait made
//! from what is running, not a promise.

use std::time::Duration;

use serde::Serialize;

/// Learners waiting, first first. A learner holds one place however many of their requests
/// wait (a terminal, the cluster's start): it is given up when the last of them stops waiting.
#[derive(Debug, Default)]
pub struct Queue {
    waiting: Vec<(String, usize)>,
}

impl Queue {
    /// Takes the learner's place (at the end), or holds the one they have.
    pub fn join(&mut self, learner: &str) {
        match self.waiting.iter_mut().find(|(l, _)| l == learner) {
            Some((_, holders)) => *holders += 1,
            None => self.waiting.push((learner.to_string(), 1)),
        }
    }

    /// One of the learner's requests stops waiting; the place goes with the last.
    pub fn leave(&mut self, learner: &str) {
        if let Some(i) = self.waiting.iter().position(|(l, _)| l == learner) {
            self.waiting[i].1 -= 1;
            if self.waiting[i].1 == 0 {
                self.waiting.remove(i);
            }
        }
    }

    /// How many learners are ahead of this one.
    pub fn ahead(&self, learner: &str) -> Option<usize> {
        self.waiting.iter().position(|(l, _)| l == learner)
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// Where a waiting learner is, as they and the instructor see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct QueueSpot {
    /// 1: next.
    pub position: usize,
    /// About how long until their sandbox is up; `None` when nothing running is due to end
    /// (the room is held by what this server does not run, or by sandboxes kept in use).
    #[serde(rename = "eta_secs", serialize_with = "secs")]
    pub eta: Option<Duration>,
}

fn secs<S: serde::Serializer>(eta: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match eta {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

impl std::fmt::Display for QueueSpot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wait = match self.eta {
            Some(eta) => app::t!("srv-queue-about", time = about(eta)),
            None => app::t!("srv-queue-no-estimate"),
        };
        f.write_str(&app::t!("srv-queued", position = self.position, wait = wait))
    }
}

/// A wait as people say it: "1 min", "12 min", "2 h 5 min".
pub fn about(d: Duration) -> String {
    let minutes = d.as_secs().div_ceil(60).max(1);
    if minutes < 60 { format!("{minutes} min") } else { format!("{} h {} min", minutes / 60, minutes % 60) }
}

/// The wait of the learner with `ahead` others before them, when the running sandboxes end
/// `ends` from now (each at the sooner of its lifetime's end and its idle time-out, were it
/// left alone) and a start takes `start`: their turn comes when the `ahead + 1`-th of them ends.
pub fn wait(mut ends: Vec<Duration>, ahead: usize, start: Duration) -> Option<Duration> {
    ends.sort_unstable();
    ends.get(ahead).map(|end| *end + start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_come_first_served_and_one_place_per_learner() {
        let mut q = Queue::default();
        q.join("ada");
        q.join("bob");
        q.join("ada"); // Ada's terminal and her cluster's start wait together.
        assert_eq!((q.ahead("ada"), q.ahead("bob"), q.len()), (Some(0), Some(1), 2));
        q.leave("ada");
        assert_eq!(q.ahead("ada"), Some(0), "one of her requests still waits");
        q.leave("ada");
        assert_eq!((q.ahead("ada"), q.ahead("bob")), (None, Some(0)));
        q.leave("eve"); // never there: nothing happens
        q.leave("bob");
        assert!(q.is_empty());
    }

    #[test]
    fn the_wait_is_the_nth_end_plus_a_start() {
        let m = |n: u64| Duration::from_secs(60 * n);
        let start = Duration::from_secs(5);
        assert_eq!(wait(vec![m(30), m(2), m(10)], 0, start), Some(m(2) + start));
        assert_eq!(wait(vec![m(30), m(2), m(10)], 2, start), Some(m(30) + start));
        assert_eq!(wait(vec![m(30)], 1, start), None, "nothing running is due to make room");
    }

    #[test]
    fn said_to_the_learner() {
        let spot = QueueSpot { position: 3, eta: Some(Duration::from_secs(130)) };
        assert_eq!(
            spot.to_string(),
            "The class is full: you are number 3 in line for a sandbox (about 3 min). Your terminal opens by itself when one is free."
        );
        assert_eq!(serde_json::to_string(&spot).unwrap(), r#"{"position":3,"eta_secs":130}"#);
        assert_eq!(about(Duration::from_secs(3 * 3600 + 60)), "3 h 1 min");
        assert_eq!(about(Duration::ZERO), "1 min");
    }
}
