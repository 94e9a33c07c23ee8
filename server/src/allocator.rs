//! What the allocator holds, for `/metrics`: glibc's `mallinfo2`, summed over all its arenas.
//!
//! RSS alone cannot tell a leak from fragmentation: in a leak, what is in use grows; in
//! fragmentation, what malloc keeps free does. The class simulator (`stacklab-bench class`)
//! prints both, next to RSS (README, "Benchmarks").

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
