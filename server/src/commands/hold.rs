//! `stacklab hold-sandboxes`: the main process of deploy/stacklab-sandboxes.service, a unit whose
//! only job is to own the cgroup systemd delegates to it (`Delegate=yes`). The server makes its
//! sandboxes' cgroups below it (`--sandbox-cgroup-parent`), so that restarting or upgrading the
//! server leaves the class's sandboxes running, systemd never moves or kills them on its own, and
//! the controllers they are limited by stay enabled. Stopping this unit ends every sandbox.
//!
//! cgroup v2 lets no process sit in a group that hands controllers to its children: this
//! process moves itself into a leaf, `holder`, first.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The leaf this process moves into.
pub const HOLDER: &str = "holder";

pub fn run() -> anyhow::Result<std::process::ExitCode> {
    anyhow::ensure!(
        Path::new("/sys/fs/cgroup/cgroup.controllers").exists(),
        "/sys/fs/cgroup is not a cgroup v2 hierarchy: hold-sandboxes is for cgroup v2 hosts under systemd"
    );
    let own = own_cgroup(&std::fs::read_to_string("/proc/self/cgroup").context("reading /proc/self/cgroup")?)
        .context("this host has no cgroup v2 hierarchy (hold-sandboxes is for cgroup v2 hosts under systemd)")?;
    let dir = Path::new("/sys/fs/cgroup").join(own.strip_prefix("/").unwrap_or(&own));
    let leaf = dir.join(HOLDER);
    std::fs::create_dir_all(&leaf).with_context(|| format!("creating {}", leaf.display()))?;
    std::fs::write(leaf.join("cgroup.procs"), "0").with_context(|| format!("moving into {}", leaf.display()))?;
    tracing::info!(cgroup = %dir.display(), "holding the sandboxes' cgroup: sandboxes go below it");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(())
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// This process's cgroup v2 path, from `/proc/self/cgroup` (`0::/system.slice/x.service`).
fn own_cgroup(proc_cgroup: &str) -> Option<PathBuf> {
    proc_cgroup.lines().find_map(|l| l.strip_prefix("0::")).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_unified_hierarchy_line() {
        let hybrid = "12:memory:/system.slice/x.service\n0::/system.slice/stacklab-sandboxes.service\n";
        assert_eq!(own_cgroup(hybrid), Some(PathBuf::from("/system.slice/stacklab-sandboxes.service")));
        assert_eq!(own_cgroup("11:pids:/user.slice\n"), None);
    }
}
