//! What the allocator holds, for `/metrics`: glibc's `mallinfo2`, summed over all its arenas.
//!
//! RSS alone cannot tell a leak from fragmentation: in a leak, what is in use grows; in
//! fragmentation, what malloc keeps free does. The class simulator (`stacklab-bench class`)
//! prints both, next to RSS (docs/src/benchmarks.md).

/// Bytes of heap.
pub struct Heap {
    /// Handed out from the arenas and not yet freed: the program's own memory.
    pub in_use: usize,
    /// Blocks of 128 KiB and more, each a mapping of its own (the terminals' scrollback rings,
    /// SQLite's page buffer): address space, resident only where written.
    pub mapped: usize,
    /// Freed but kept in the arenas for reuse (fragmentation, or room for the next peak).
    pub free: usize,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn heap() -> Option<Heap> {
    // SAFETY: mallinfo2 only reads the allocator's counters (under each arena's lock).
    let info = unsafe { libc::mallinfo2() };
    Some(Heap { in_use: info.uordblks, mapped: info.hblkhd, free: info.fordblks })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn heap() -> Option<Heap> {
    None
}

/// Sets glibc's malloc for a server that runs all day: an arena per core, and big blocks (128 KiB
/// and up: each terminal's scrollback) always a mapping of their own. Measured with the class
/// simulator (docs/src/benchmarks.md), where the defaults let the server's memory climb all class.
///
/// - glibc gives each thread that meets a busy arena another one, up to eight per core: here the
///   runtime's workers and each SQLite connection's thread. Each arena keeps its own free blocks,
///   so memory freed in one cannot serve another and the total creeps up. No more threads than
///   cores run at once, so an arena per core costs no waiting.
/// - glibc raises its mmap threshold to the size of any mapped block that is freed, after which
///   blocks of that size come from the arenas instead and leave holes there when they go. Fixing
///   the threshold (at glibc's own default) turns that off: a big block's pages are resident only
///   once written, and go back to the kernel when it is freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn settle() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // SAFETY: mallopt only sets the allocator's parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, cores as libc::c_int);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn settle() {}
