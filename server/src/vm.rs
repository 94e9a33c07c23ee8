//! The vm tier's one host-wide fact: does KVM really boot a guest here? Decided when the server
//! starts, by booting a probe VM with KVM (with a time limit) in a throwaway sandbox — not by
//! `/dev/kvm` existing: on a nested hypervisor it exists and cannot boot a stock kernel. Every
//! sandbox sees the answer at `/etc/lab-vm/kvm`, which `lab-vm` reads before choosing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sandbox::native::SharedFile;
use sandbox::{Backend, Device, ExecRequest, Limits, SandboxSpec};

/// Where sandboxes see the fact.
const TARGET: &str = "etc/lab-vm/kvm";
/// How long the probe VM may take to reach its shell with KVM (it takes about a second where
/// KVM works; where it does not, the guest hangs).
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
const PROBE_SANDBOX: &str = "kvm-probe";

/// The file holding the fact: `usable <why>`, `unusable <why>` or `probing`.
#[derive(Clone, Debug)]
pub struct KvmFact {
    path: PathBuf,
}

impl KvmFact {
    /// Makes `<data>/vm/kvm`, saying "probing" until [`KvmFact::write`].
    pub fn prepare(data_dir: &Path) -> std::io::Result<Self> {
        let dir = data_dir.join("vm");
        std::fs::create_dir_all(&dir)?;
        let fact = Self { path: dir.join("kvm") };
        fact.write("probing the server is booting a probe VM with KVM")?;
        Ok(fact)
    }

    /// For the backend: bind it into every sandbox.
    pub fn shared_file(&self) -> SharedFile {
        SharedFile { source: self.path.clone(), target: TARGET.to_string() }
    }

    /// Rewrites the file in place: sandboxes see it through a bind mount of this very inode,
    /// which a rename would leave behind.
    pub fn write(&self, line: &str) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&self.path)?;
        file.write_all(format!("{line}\n").as_bytes())?;
        file.sync_all()
    }

    pub fn read(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap_or_default().trim().to_string()
    }
}

/// Boots the probe VM with KVM in a throwaway sandbox; returns the line for [`KvmFact`].
pub async fn probe(backend: &dyn Backend) -> String {
    if !Path::new(Device::Kvm.path()).exists() {
        return "unusable this host has no /dev/kvm".into();
    }
    let spec = SandboxSpec {
        name: PROBE_SANDBOX.into(),
        owner: PROBE_SANDBOX.into(),
        limits: Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 128, disk_bytes: 0 },
        devices: vec![Device::Kvm],
        network: Default::default(),
        init: sandbox::Init::Minimal,
    };
    let line = match backend.start(&spec).await {
        Ok(_) => {
            let command = format!("lab-vm probe --timeout {}", PROBE_TIMEOUT.as_secs());
            let request = ExecRequest::script(&command).timeout(PROBE_TIMEOUT + Duration::from_secs(20));
            match backend.exec(PROBE_SANDBOX, request).await {
                Ok(out) => {
                    let said = String::from_utf8_lossy(&out.stdout);
                    match said.lines().find(|l| l.starts_with("usable") || l.starts_with("unusable")) {
                        Some(line) => line.to_string(),
                        None => format!(
                            "unusable the probe said nothing useful ({:?}): {}",
                            out.end,
                            String::from_utf8_lossy(&out.stderr).trim()
                        ),
                    }
                }
                Err(e) => format!("unusable the probe could not run: {e}"),
            }
        }
        Err(e) => format!("unusable the probe sandbox did not start: {e}"),
    };
    let _ = backend.stop(PROBE_SANDBOX).await;
    let _ = backend.wipe(PROBE_SANDBOX).await;
    line
}

/// Probes and records the result, logging what was found.
pub async fn probe_into(backend: &dyn Backend, fact: &KvmFact) {
    let line = probe(backend).await;
    if let Err(e) = fact.write(&line) {
        tracing::error!("writing the KVM probe's result: {e}");
    }
    let (state, why) = line.split_once(' ').unwrap_or((line.as_str(), ""));
    tracing::info!(kvm = state, "{why}");
}
