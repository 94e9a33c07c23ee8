//! Which of the lab tiers this host provides, decided once at start and reported with reasons.

use labs::Tier;

/// Which tiers this host provides, and why not where it does not.
#[derive(Clone, Debug)]
pub struct TierSupport(pub Vec<(Tier, Result<(), String>)>);

impl TierSupport {
    pub fn check(&self, tiers: &[Tier]) -> Result<(), String> {
        for tier in tiers {
            match self.0.iter().find(|(t, _)| t == tier) {
                Some((_, Ok(()))) => {}
                Some((_, Err(why))) => return Err(format!("needs the {tier} tier: {why}")),
                None => return Err(format!("needs the {tier} tier, which this server does not know")),
            }
        }
        Ok(())
    }
}

/// The tiers the native backend can offer with this image on this host.
pub fn detect(image: &std::path::Path) -> TierSupport {
    let rootfs = image.join("rootfs");
    let vm =
        if rootfs.join("usr/local/bin/lab-vm").exists() { Ok(()) } else { Err("the lab image has no VM tools (lab-vm, QEMU)".to_string()) };
    let kubernetes = rootfs.join("usr/local/lib/kubernetes/bin/kubelet").exists() || crate::cluster::host_k3s().is_some();
    let cluster = if !kubernetes {
        Err("neither the lab image nor the host has Kubernetes (scripts/build-kubernetes, then stacklab image build; or k3s in /usr/local/bin)"
            .to_string())
    } else if crate::cluster::crictl_binary().is_none() {
        Err("no crictl was built beside the server (cargo build -p crictl)".to_string())
    } else {
        Ok(())
    };
    let containers =
        if rootfs.join("usr/bin/podman").exists() { Ok(()) } else { Err("the lab image has no container engine (podman)".to_string()) };
    let systemd = if rootfs.join(sandbox::Init::Systemd.argv()[0].trim_start_matches('/')).exists() {
        Ok(())
    } else {
        Err("the lab image has no systemd (it was built before systemd was in the recipe: stacklab image build)".to_string())
    };
    TierSupport(vec![
        (Tier::Shell, Ok(())),
        (Tier::Vm, vm),
        (Tier::Cluster, cluster),
        (Tier::Containers, containers),
        (Tier::Systemd, systemd),
    ])
}

/// What a lab's tiers need running in the learner's sandbox before its first step: the
/// cluster tier's cluster (the vm tier's VM is the learner's to boot). A no-op when it runs.
pub async fn prepare(backend: &dyn sandbox::Backend, sandbox: &str, tiers: &[Tier]) -> Result<(), String> {
    if tiers.contains(&Tier::Cluster) {
        crate::cluster::start(backend, sandbox).await?;
    }
    Ok(())
}
