//! Time limits on emulated test hosts (see `sandbox::time_scale`): the server's checks, setups,
//! solutions and tier starts wait as much longer, and the tools in the sandbox (lab-vm,
//! lab-cluster) read the scale from /etc/stacklab/time-scale.

pub use sandbox::time_scale::{scaled, time_scale};

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
