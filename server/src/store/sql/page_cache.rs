//! SQLite's page caches in one buffer of their own, outside malloc's arenas.
//!
//! In WAL mode a connection empties its page cache whenever another connection has written, so
//! under a class its pages are freed and allocated again all day long (heaptrack counted some 140
//! a second), each a 4 KiB block in malloc's arenas among the server's own: holes that grow.
//! SQLite takes its pages from a buffer given before it starts (`SQLITE_CONFIG_PAGECACHE`), and
//! this is that buffer, sized for every connection's cache. SQLite threads its list of free lines
//! through every line when it starts, so the whole buffer is resident from then on: a fixed cost
//! (2.2 MiB) instead of one that grows.

use std::os::raw::{c_int, c_void};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use libsqlite3_sys as ffi;

/// SQLite's page size (its default, which the store keeps).
const PAGE: usize = 4096;

/// Bytes per page in the buffer (the page and SQLite's header for it); 0 until installed.
static LINE: AtomicUsize = AtomicUsize::new(0);

/// Gives SQLite its page buffer, sized for the store's connections and caches. SQLite must not
/// have started, nor be starting on another thread (`sqlite3_config` is not thread-safe), so the
/// binary calls this first thing in `main`; a process that never does (the tests) keeps SQLite's
/// pages on malloc, which is correct, only less tidy.
pub fn install() {
    let (bytes_per_connection, connections) = (super::SQLITE_CACHE_KIB * 1024, super::SQLITE_CONNECTIONS as usize);
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut header: c_int = 0;
        // SAFETY: SQLITE_CONFIG_PCACHE_HDRSZ writes one int through the pointer.
        unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE_HDRSZ, &mut header as *mut c_int) };
        let line = (PAGE + header.max(0) as usize).next_multiple_of(8);
        let lines = bytes_per_connection / PAGE * connections;
        let buffer: &'static mut [u64] = Box::leak(vec![0u64; line * lines / 8].into_boxed_slice());
        // SAFETY: the buffer lives for the rest of the process (leaked), is 8-byte aligned and
        // holds `lines` lines of `line` bytes, as SQLITE_CONFIG_PAGECACHE requires.
        let rc =
            unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_PAGECACHE, buffer.as_mut_ptr() as *mut c_void, line as c_int, lines as c_int) };
        // Refused only if SQLite had started: its pages then stay on malloc, and none are counted.
        if rc == ffi::SQLITE_OK {
            LINE.store(line, Ordering::Relaxed);
        }
    });
}

/// Bytes of the buffer SQLite's caches hold now.
pub fn in_use() -> i64 {
    let (mut current, mut highest) = (0i64, 0i64);
    // SAFETY: a read of one of SQLite's counters into two local integers.
    unsafe { ffi::sqlite3_status64(ffi::SQLITE_STATUS_PAGECACHE_USED, &mut current, &mut highest, 0) };
    current * LINE.load(Ordering::Relaxed) as i64
}
