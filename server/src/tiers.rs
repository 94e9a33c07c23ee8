//! Which of the lab tiers this host provides, decided once at start and reported with reasons.

use labs::Tier;

use crate::progress::selftest::TierSupport;

/// The tiers the native backend can offer with this image on this host.
pub fn detect(image: &std::path::Path) -> TierSupport {
    let rootfs = image.join("rootfs");
    let vm =
        if rootfs.join("usr/local/bin/lab-vm").exists() { Ok(()) } else { Err("the lab image has no VM tools (lab-vm, QEMU)".to_string()) };
    let cluster = Err("no single-node Kubernetes is set up for sandboxes on this host".to_string());
    let containers =
        if rootfs.join("usr/bin/podman").exists() { Ok(()) } else { Err("the lab image has no container engine (podman)".to_string()) };
    TierSupport(vec![(Tier::Shell, Ok(())), (Tier::Vm, vm), (Tier::Cluster, cluster), (Tier::Containers, containers)])
}
