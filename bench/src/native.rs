//! The native backend as the benches open it: the lab image the scripts built, the release
//! binary's sandbox helper, and a cgroup root and uid range of the bench's own, so it never meets
//! a running server's sandboxes.

use std::path::Path;

use anyhow::Context;
use sandbox::native::{NativeBackend, NativeConfig, SharedFile};

/// A backend keeping its state in `data` (a throwaway directory the caller holds).
pub fn open(
    stacklab: &Path,
    data: &Path,
    cgroup_root: &str,
    uid_base: u32,
    shared_files: Vec<SharedFile>,
) -> anyhow::Result<NativeBackend> {
    let image = std::env::var_os("STACKLAB_IMAGE").context("STACKLAB_IMAGE is not set (scripts/bench sets it)")?;
    Ok(NativeBackend::open(NativeConfig {
        data_dir: data.into(),
        image: image.into(),
        helper: vec![stacklab.into(), "sandbox-helper".into()],
        uid_base,
        cgroup_root: cgroup_root.into(),
        cgroup_parent: String::new(),
        outbound: None,
        shared_files,
        start_limits: Default::default(),
    })?)
}
