//! The cluster tier's parts that live outside the lab image: `crictl` (built with the server,
//! from this workspace, and bound into every sandbox so it always matches), and starting a
//! learner's cluster when they open a lab that needs one (`lab-cluster start`, in the image).

pub mod from_host;

use std::path::PathBuf;
use std::time::Duration;

use app::services::TierStatus;
use sandbox::native::SharedFile;
use sandbox::{Backend, ExecRequest};

use crate::sandboxes::Sandboxes;
use crate::updates::{Update, Updates};

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

/// The host's k3s, for the k3s cluster provider (installed as k3s' docs say, in /usr/local/bin).
pub fn host_k3s() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/local/bin/k3s");
    path.is_file().then_some(path)
}

/// `crictl` for every sandbox, at /usr/local/bin/crictl; and the host's k3s where it has one.
pub fn shared_files() -> Vec<SharedFile> {
    let crictl = crictl_binary().map(|source| SharedFile { source, target: "usr/local/bin/crictl".into() });
    let k3s = host_k3s().map(|source| SharedFile { source, target: "usr/local/bin/k3s".into() });
    crictl.into_iter().chain(k3s).collect()
}

/// Brings the cluster up in sandbox `name` (a no-op when it is up); the error says which step
/// failed and why, in lab-cluster's words.
pub async fn start(backend: &dyn Backend, name: &str) -> Result<(), String> {
    let request = ExecRequest::script("lab-cluster start").timeout(crate::time_scale::scaled(START_TIMEOUT)).leave_running();
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

/// `lab-cluster status --json` in sandbox `name`.
pub async fn status(backend: &dyn Backend, name: &str) -> Option<TierStatus> {
    let out = backend.exec(name, ExecRequest::script("lab-cluster status --json").timeout(Duration::from_secs(10))).await.ok()?;
    serde_json::from_slice(out.stdout.trim_ascii()).ok()
}

/// Starts the learner's cluster and tells their page how far it is, every second, until it is
/// ready or has failed.
pub async fn start_for(sandboxes: &Sandboxes, updates: &Updates, learner: &str) {
    let Ok(info) = sandboxes.ensure(learner).await else { return };
    let backend = sandboxes.backend();
    let tell = |status: TierStatus| {
        let _ = updates.send(Update::Tier { learner: learner.to_string(), tier: "cluster".into(), status });
    };
    let starting = start(&**backend, &info.name);
    tokio::pin!(starting);
    let mut last = None;
    let result = loop {
        tokio::select! {
            result = &mut starting => break result,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if let Some(now) = status(&**backend, &info.name).await
                    && last.as_ref() != Some(&now) {
                        tell(now.clone());
                        last = Some(now);
                    }
            }
        }
    };
    match result {
        Ok(()) => tell(TierStatus { state: "ready".into(), ..Default::default() }),
        Err(error) => {
            tracing::warn!(learner, sandbox = %info.name, "{error}");
            let mut failed = status(&**backend, &info.name).await.unwrap_or_default();
            failed.state = "failed".into();
            failed.error.get_or_insert(error);
            tell(failed);
        }
    }
}
