//! The allocator, seen and kept lean: what it holds, for `/metrics`, and a timer that hands the
//! pages it holds free back to the kernel.
//!
//! glibc's malloc keeps freed memory in its arenas (one per thread that contended, up to 8 per
//! core) and returns it only from the top of each heap. A server whose tasks hop between worker
//! threads frees in the middle, so its RSS creeps up while what it uses stays flat: measured by
//! `stacklab-bench class` (README, "Memory"). `malloc_trim` returns the free pages of every
//! arena; a few milliseconds a minute keep RSS at what the server uses.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Bytes of heap.
pub struct Heap {
    /// Handed out and not yet freed: the program's own memory, small blocks and mmapped ones.
    pub in_use: usize,
    /// Freed but kept in the arenas for reuse (fragmentation, or room for the next peak).
    pub free: usize,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn heap() -> Option<Heap> {
    // SAFETY: mallinfo2 only reads the allocator's counters (under each arena's lock).
    let info = unsafe { libc::mallinfo2() };
    Some(Heap { in_use: info.uordblks + info.hblkhd, free: info.fordblks })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn heap() -> Option<Heap> {
    None
}

/// Every `every`, until `shutdown`: the arenas' free pages back to the kernel.
pub fn spawn_trim(every: Duration, shutdown: CancellationToken) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticks.tick() => {
                    // SAFETY: malloc_trim only takes each arena's lock; it is safe from any thread.
                    // Off the workers: it walks every arena.
                    let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
                }
            }
        }
    });
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (every, shutdown);
}
