//! Time limits on emulated test hosts. A guest under QEMU's TCG runs several times slower than
//! any host a class runs on, so `STACKLAB_TIME_SCALE` (default 1; scripts/guests.sh sets it)
//! multiplies every time limit: the server's (checks, setups, solutions, tier starts) and the
//! sandboxes' own (a process's start).

use std::time::Duration;

/// How many times longer every time limit is: `STACKLAB_TIME_SCALE` (default 1).
pub fn time_scale() -> u32 {
    static SCALE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *SCALE.get_or_init(|| std::env::var("STACKLAB_TIME_SCALE").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(1))
}

/// `limit`, scaled for this host (see [`time_scale`]).
pub fn scaled(limit: Duration) -> Duration {
    limit * time_scale()
}
