//! Whether learners' sandboxes get `/dev/kvm` on this host. A learner with KVM can run any
//! QEMU, and the KVM guest-to-host escapes of July 2026 (Januscape, CVE-2026-53359; Zapscape)
//! start from a guest: the Januscape path needs a guest given VMX/SVM, which lab-vm never
//! passes on (`-cpu host,-vmx,-svm`) but a learner's own QEMU may. So KVM is given only on a
//! kernel with the fixes and with nested virtualization off; elsewhere the VM tier runs on TCG
//! (slower, and no door into the host's KVM), unless the operator says otherwise
//! (`--kvm-on-vulnerable-host`) — the dashboard and the log say which, and why.

/// The first release of each stable branch with both fixes; branches not listed that are older
/// than the newest here ended without them.
const FIXED: [(u32, u32, u32); 5] = [(6, 1, 177), (6, 6, 144), (6, 12, 95), (6, 18, 38), (7, 1, 3)];
/// From this branch on, the fixes are in the first release.
const FIXED_FROM: (u32, u32) = (7, 2);

/// What the decision is made from.
#[derive(Clone, Debug, Default)]
pub struct HostKvm {
    /// `uname -r`.
    pub release: String,
    /// `uname -v` (distributions put the upstream release here: "Debian 6.1.158-1").
    pub version: String,
    /// The kvm_intel or kvm_amd module's `nested` parameter, when loaded.
    pub nested: Option<String>,
}

impl HostKvm {
    pub fn read() -> Self {
        // uname's release and version, as the kernel also shows them here.
        let read = |name: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{name}")).unwrap_or_default().trim().to_string();
        let nested = ["kvm_intel", "kvm_amd"]
            .iter()
            .find_map(|m| std::fs::read_to_string(format!("/sys/module/{m}/parameters/nested")).ok())
            .map(|s| s.trim().to_string());
        Self { release: read("osrelease"), version: read("version"), nested }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvmPolicy {
    /// Whether sandboxes get `/dev/kvm`.
    pub give: bool,
    /// For the log and the dashboard, when there is something to say.
    pub note: Option<String>,
}

/// The upstream release a kernel is built from: a distribution's own number in `version` first
/// (Debian's release is "6.1.0-57-amd64", its version "... Debian 6.1.158-1 ..."), else the
/// release when it carries a patch level.
pub fn upstream(host: &HostKvm) -> Option<(u32, u32, u32)> {
    let parse = |word: &str| -> Option<(u32, u32, u32)> {
        let numbers: Vec<u32> = word.split(['-', '+', '~']).next()?.split('.').map(|n| n.parse().ok()).collect::<Option<_>>()?;
        match numbers[..] {
            [a, b, c] => Some((a, b, c)),
            _ => None,
        }
    };
    let words: Vec<&str> = host.version.split_whitespace().collect();
    if let Some(found) = words.windows(2).find(|w| w[0] == "Debian").and_then(|w| parse(w[1])) {
        return Some(found);
    }
    // Distributions that keep an ABI number as the patch level (x.y.0-N) say nothing here.
    parse(&host.release).filter(|&(_, _, patch)| patch > 0 || !host.release.contains('-'))
}

fn has_the_fixes((major, minor, patch): (u32, u32, u32)) -> bool {
    (major, minor) >= FIXED_FROM || FIXED.iter().any(|&(a, b, fix)| (a, b) == (major, minor) && patch >= fix)
}

pub fn judge(host: &HostKvm, allow_anyway: bool) -> KvmPolicy {
    let nested_on = host.nested.as_deref().is_some_and(|n| matches!(n, "Y" | "y" | "1"));
    let risk = match upstream(host) {
        None => Some(format!("cannot tell which upstream release kernel {} is built from", host.release)),
        Some(v) if !has_the_fixes(v) => Some(format!(
            "kernel {}.{}.{} predates the fixes for the 2026 KVM escapes (Januscape, CVE-2026-53359; Zapscape; fixed in 6.1.177, 6.6.144, 6.12.95, 6.18.38, 7.1.3)",
            v.0, v.1, v.2
        )),
        Some(_) if nested_on => Some("nested virtualization is on (the kvm module's `nested` parameter)".to_string()),
        Some(_) => None,
    };
    match (risk, allow_anyway) {
        (None, _) => KvmPolicy { give: true, note: None },
        (Some(why), false) => KvmPolicy {
            give: false,
            note: Some(format!(
                "VMs run without KVM (TCG, slower): {why}. Update the kernel, or start with --kvm-on-vulnerable-host to give KVM anyway."
            )),
        },
        (Some(why), true) => KvmPolicy { give: true, note: Some(format!("Learners have KVM although {why} (--kvm-on-vulnerable-host).")) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(release: &str, version: &str, nested: Option<&str>) -> HostKvm {
        HostKvm { release: release.into(), version: version.into(), nested: nested.map(String::from) }
    }

    #[test]
    fn versions_from_what_distributions_print() {
        let debian = host("6.1.0-57-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (2025-11-20)", None);
        assert_eq!(upstream(&debian), Some((6, 1, 158)));
        assert_eq!(upstream(&host("6.12.95+deb13-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.12.95-1", None)), Some((6, 12, 95)));
        assert_eq!(upstream(&host("6.18.44-fc-v1098", "#1 SMP PREEMPT_DYNAMIC @0", None)), Some((6, 18, 44)));
        assert_eq!(upstream(&host("6.8.0-45-generic", "#45-Ubuntu SMP PREEMPT_DYNAMIC", None)), None, "Ubuntu's ABI number");
        assert_eq!(upstream(&host("7.1.3", "#1", None)), Some((7, 1, 3)));
    }

    #[test]
    fn kvm_only_on_fixed_kernels_without_nesting() {
        let give = |release: &str, nested: Option<&str>| judge(&host(release, "#1", nested), false).give;
        assert!(give("6.12.95-x", None));
        assert!(give("6.18.38-x", Some("N")));
        assert!(give("7.2.1", None));
        assert!(give("7.1.3", Some("0")));
        assert!(!give("6.12.94-x", None));
        assert!(!give("6.1.176", None));
        assert!(!give("6.8.12", None), "a branch that ended without the fixes");
        assert!(!give("5.15.190", None));
        assert!(!give("7.1.2", None));
        assert!(!give("6.18.40-x", Some("Y")), "nested virtualization on");
        assert!(!give("6.8.0-45-generic", None), "unknown: no");
        let refused = judge(&host("6.1.0-57-amd64", "#1 SMP Debian 6.1.158-1", None), false);
        assert!(refused.note.unwrap().contains("--kvm-on-vulnerable-host"));
    }

    #[test]
    fn the_operator_may_give_it_anyway_and_is_told() {
        let anyway = judge(&host("6.1.150", "#1", Some("1")), true);
        assert!(anyway.give);
        assert!(anyway.note.unwrap().contains("although"));
        assert_eq!(judge(&host("6.12.100", "#1", None), true), KvmPolicy { give: true, note: None });
    }
}
