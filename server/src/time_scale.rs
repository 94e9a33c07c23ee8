//! Time limits on emulated test hosts. A guest under QEMU's TCG runs several times slower than
//! any host a class runs on, so `STACKLAB_TIME_SCALE` (default 1; scripts/guests.sh sets it)
//! multiplies every time limit of checks, setups, solutions and tier starts, and the tools in the
//! sandbox (lab-vm, lab-cluster) read it from /etc/stacklab/time-scale.

use std::time::Duration;

/// How many times longer every time limit is: `STACKLAB_TIME_SCALE` (default 1).
pub fn time_scale() -> u32 {
    static SCALE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *SCALE.get_or_init(|| std::env::var("STACKLAB_TIME_SCALE").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(1))
}

/// On an emulated test host ([`time_scale`] above 1): the scale, written in `data_dir` and
/// shared with every sandbox as /etc/stacklab/time-scale, so the tools in it (lab-vm,
/// lab-cluster) wait as much longer.
pub fn time_scale_file(data_dir: &std::path::Path) -> std::io::Result<Option<sandbox::native::SharedFile>> {
    if time_scale() == 1 {
        return Ok(None);
    }
    let source = data_dir.join("time-scale");
    std::fs::write(&source, format!("{}\n", time_scale()))?;
    Ok(Some(sandbox::native::SharedFile { source, target: "etc/stacklab/time-scale".into() }))
}

/// `limit`, scaled for this host (see [`time_scale`]).
pub fn scaled(limit: Duration) -> Duration {
    limit * time_scale()
}
