//! Work the server does on a clock: reaping sandboxes, re-checking focused steps.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Runs `tick` every `every` until `shutdown`. A tick that overruns delays the next one instead
/// of bunching the missed ones up after it, and a tick under way is finished, not cut off
/// halfway, when the server shuts down.
pub fn spawn_every<F, Fut>(every: Duration, shutdown: CancellationToken, mut tick: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut clock = tokio::time::interval(every);
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = clock.tick() => {}
                () = shutdown.cancelled() => break,
            }
            tick().await;
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ticks_until_shutdown_and_not_after() {
        let (ticks, shutdown) = (Arc::new(AtomicU32::new(0)), CancellationToken::new());
        let counted = ticks.clone();
        spawn_every(Duration::from_secs(10), shutdown.clone(), move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        // The first tick is at once, then one every 10 s: 0, 10, 20, 30 s.
        tokio::time::sleep(Duration::from_secs(35)).await;
        assert_eq!(ticks.load(Ordering::SeqCst), 4);
        shutdown.cancel();
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(ticks.load(Ordering::SeqCst), 4);
    }
}
