//! The cluster tier's parts that live outside the lab image: `crictl` (built with the server,
//! from this workspace, and bound into every sandbox so it always matches), and starting a
//! learner's cluster when they open a lab that needs one (`lab-cluster start`, in the image).

use std::path::PathBuf;
use std::time::Duration;

use sandbox::native::SharedFile;
use sandbox::{Backend, ExecRequest};

/// How long `lab-cluster start` may take: about 35 s here; the first start of a loaded host
/// is slower.
pub const START_TIMEOUT: Duration = Duration::from_secs(240);

/// The `crictl` built beside this binary (`cargo build` puts every binary of the workspace in
/// one folder; tests run from its `deps/` below it).
pub fn crictl_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("crictl"), dir.parent()?.join("crictl")].into_iter().find(|p| p.is_file())
}

/// `crictl` for every sandbox, at /usr/local/bin/crictl.
pub fn shared_files() -> Vec<SharedFile> {
    crictl_binary().map(|source| SharedFile { source, target: "usr/local/bin/crictl".into() }).into_iter().collect()
}

/// Brings the cluster up in sandbox `name` (a no-op when it is up); the error says which step
/// failed and why, in lab-cluster's words.
pub async fn start(backend: &dyn Backend, name: &str) -> Result<(), String> {
    let request = ExecRequest::script("lab-cluster start").timeout(START_TIMEOUT).leave_running();
    match backend.exec(name, request).await {
        Ok(out) if out.success() => Ok(()),
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr);
            let line = said.lines().find(|l| l.starts_with("lab-cluster:")).unwrap_or_else(|| said.trim());
            Err(format!("the cluster did not start ({:?}): {line}", out.end))
        }
        Err(e) => Err(format!("the cluster did not start: {e}")),
    }
}
