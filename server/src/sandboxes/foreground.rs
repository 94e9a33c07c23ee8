//! Work someone is waiting on (a sandbox starting for a learner at the door, a Check they
//! pressed) against work nobody is (a step re-checked after a command or on the timer).
//!
//! A class moves together: 200 learners join in the same second, or finish a step within a few
//! hundred milliseconds of each other. On a small host the CPU is then the line, and every
//! background check run at that moment lengthens it for the learners who are waiting. Background
//! work therefore waits until the foreground is idle — up to a bound, so that a host that is never
//! idle still re-checks its learners' steps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

#[derive(Default)]
pub struct Foreground {
    busy: AtomicUsize,
    idle: Notify,
}

/// Counts as foreground work while it lives.
pub struct Busy<'a>(&'a Foreground);

impl Foreground {
    pub fn enter(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(self)
    }

    pub fn is_idle(&self) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
    }

    /// Returns once nothing in the foreground is going on, or after `at_most`.
    pub async fn idle(&self, at_most: Duration) {
        let deadline = tokio::time::Instant::now() + at_most;
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before looking, so the last piece ending between the look and the wait
            // is not missed.
            notified.as_mut().enable();
            if self.is_idle() || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn an_idle_foreground_does_not_hold_anyone() {
        let f = Foreground::default();
        tokio::time::timeout(Duration::from_secs(5), f.idle(Duration::from_secs(3600))).await.expect("idle at once");
    }

    #[tokio::test]
    async fn background_waits_for_the_last_foreground_piece() {
        let f = Arc::new(Foreground::default());
        let (a, b) = (f.enter(), f.enter());
        let waiter = {
            let f = f.clone();
            tokio::spawn(async move { f.idle(Duration::from_secs(3600)).await })
        };
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "one piece is still going on");
        drop(b);
        tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("released when the last piece ends").unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_foreground_that_never_idles_holds_background_only_so_long() {
        let f = Foreground::default();
        let _forever = f.enter();
        let before = tokio::time::Instant::now();
        f.idle(Duration::from_secs(5)).await;
        assert_eq!(before.elapsed().as_secs(), 5);
    }
}
