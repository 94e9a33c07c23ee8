//! What a learner's class decides about their sandbox: how long it lives, which devices it
//! gets and what its init is. A device is a door into the host's kernel (KVM's emulation, FUSE,
//! tun), so a sandbox has only those its class's labs use; systemd costs memory and start time,
//! so only a class with a lab of the systemd tier runs it.

use std::collections::BTreeSet;
use std::time::Duration;

use labs::model::Tier;
use sandbox::{Device, Init};

use crate::store::Class;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassTerms {
    /// The class's own sandbox lifetime (`None`: the server's).
    pub lifetime: Option<Duration>,
    /// The devices its labs' tiers need (the server gives only those the host has).
    pub devices: Vec<Device>,
    pub init: Init,
}

impl ClassTerms {
    pub fn of(class: &Class, course: &labs::load::Course) -> Self {
        let tiers: Vec<Tier> =
            course.labs().filter(|lab| class.settings.has_lab(&lab.id)).flat_map(|lab| lab.tiers.iter().copied()).collect();
        Self {
            lifetime: class.settings.sandbox_lifetime_minutes.map(|m| Duration::from_secs(u64::from(m) * 60)),
            devices: devices_for(tiers.iter().copied()),
            init: init_for(&tiers),
        }
    }
}

/// The devices labs of these tiers use: a VM needs KVM (and tun for a network of its own), a
/// container engine FUSE (fuse-overlayfs, for storage on an overlay) and tun (its rootless
/// network helpers). A shell or a cluster (containerd's native snapshotter) needs none.
pub fn devices_for(tiers: impl IntoIterator<Item = Tier>) -> Vec<Device> {
    let mut devices = BTreeSet::new();
    for tier in tiers {
        match tier {
            Tier::Vm => devices.extend([Device::Kvm, Device::Tun]),
            Tier::Containers => devices.extend([Device::Fuse, Device::Tun]),
            Tier::Shell | Tier::Cluster | Tier::Systemd => {}
        }
    }
    devices.into_iter().collect()
}

/// The init labs of these tiers need.
pub fn init_for(tiers: &[Tier]) -> Init {
    if tiers.contains(&Tier::Systemd) { Init::Systemd } else { Init::Minimal }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tiers_devices() {
        assert!(devices_for([Tier::Shell, Tier::Cluster]).is_empty());
        assert_eq!(devices_for([Tier::Vm]), vec![Device::Kvm, Device::Tun]);
        assert_eq!(devices_for([Tier::Containers, Tier::Shell]), vec![Device::Tun, Device::Fuse]);
        assert_eq!(devices_for(Tier::ALL).len(), 3);
    }

    #[test]
    fn systemd_only_where_a_lab_asks() {
        assert_eq!(init_for(&[Tier::Shell, Tier::Containers, Tier::Vm, Tier::Cluster]), Init::Minimal);
        assert_eq!(init_for(&[Tier::Shell, Tier::Systemd]), Init::Systemd);
    }
}
