//! The objects a sandbox is made of on Kubernetes, built from its spec: one pod from the lab
//! image, and the learner's volume. Pure functions, so what the cluster is asked for can be
//! read (and tested) without a cluster.

use std::collections::BTreeMap;
use std::time::SystemTime;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, HostPathVolumeSource, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, Pod, PodSpec, ResourceRequirements, SeccompProfile, SecurityContext, Toleration, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::backend::SandboxInfo;
use crate::spec::SandboxSpec;

pub const LABEL_SERVER: &str = "stacklab.dev/server";
pub const LABEL_SANDBOX: &str = "stacklab.dev/sandbox";
pub const LABEL_OWNER: &str = "stacklab.dev/owner";
pub const ANNOTATION_SPEC: &str = "stacklab.dev/spec";
pub const ANNOTATION_STARTED: &str = "stacklab.dev/started-at";
/// The one container of a sandbox's pod.
pub const CONTAINER: &str = "sandbox";
/// The lab image's pid 1, as in the other backends: reaps orphans, does nothing else.
pub const INIT: &[&str] = crate::Init::Minimal.argv();

/// What an isolated pod's init runs first: its cgroup mounts made writable again. The runtime
/// mounts them read-only, and Demo 3 makes a cgroup in its own. Where the runtime isolates,
/// those cgroups are the sandbox's own (Sysbox, Kata's guest, gVisor's) or the node's user
/// namespace's (Kubernetes in a user namespace), below the pod's limits, as in a native
/// sandbox. A remount the runtime refuses is left as it is: Demo 3 then fails, nothing else.
/// (/sys stays read-only: its superblock refuses a read-write remount from inside, so
/// `ip netns exec` cannot mount a namespace's own sysfs in a pod. docs/src/backends.md: the Kubernetes backend.)
const WRITABLE_CGROUPS: &str =
    "for m in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do mount -o remount,bind,rw \"$m\" 2>/dev/null; done; exec \"$@\"";

/// Where the learner's files live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Volumes {
    /// A PersistentVolumeClaim per learner, from this storage class (`None`: the cluster's default).
    Claim { storage_class: Option<String> },
    /// A directory per learner under this path on the node: for single-node clusters without
    /// a storage provisioner (tests, a lab in a box). Files stay on that node.
    HostPath(String),
}

/// What keeps a sandbox's root from being the node's root; see the table in docs/src/backends.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// The pods' runtime class isolates (gVisor, Kata Containers, Sysbox) or the nodes run
    /// Kubernetes in a user namespace: the demos' capabilities (unshare, mount, ip netns,
    /// strace) are given, seccomp is unconfined.
    Isolating,
    /// runc on the node's own root: Kubernetes' default capabilities plus NET_ADMIN, the
    /// runtime's seccomp profile. The demos that need CAP_SYS_ADMIN do not work.
    Plain,
}

/// Everything about pods that is the operator's choice.
#[derive(Clone, Debug)]
pub struct PodSettings {
    pub prefix: String,
    pub image: String,
    /// `Always`, `IfNotPresent` or `Never`.
    pub image_pull_policy: String,
    /// The pod's command ([`INIT`] for the lab image).
    pub init: Vec<String>,
    pub runtime_class: Option<String>,
    pub isolation: Isolation,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub volumes: Volumes,
}

impl PodSettings {
    pub fn pod_name(&self, sandbox: &str) -> String {
        format!("{}-{sandbox}", self.prefix)
    }

    pub fn claim_name(&self, owner: &str) -> String {
        format!("{}-home-{owner}", self.prefix)
    }

    /// `stacklab.dev/server=<prefix>`: this server's objects, for list calls.
    pub fn selector(&self) -> String {
        format!("{LABEL_SERVER}={}", self.prefix)
    }
}

fn labels(settings: &PodSettings, owner: &str, sandbox: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_string(), "stacklab".to_string()),
        (LABEL_SERVER.to_string(), settings.prefix.clone()),
        (LABEL_OWNER.to_string(), owner.to_string()),
    ]);
    if let Some(sandbox) = sandbox {
        labels.insert(LABEL_SANDBOX.to_string(), sandbox.to_string());
    }
    labels
}

fn quantity(value: impl ToString) -> Quantity {
    Quantity(value.to_string())
}

/// The learner's claim, sized as the sandbox's disk (1 GiB when the spec sets none).
pub fn claim(settings: &PodSettings, spec: &SandboxSpec, anchor: Option<&OwnerReference>) -> Option<PersistentVolumeClaim> {
    let Volumes::Claim { storage_class } = &settings.volumes else { return None };
    let size = if spec.limits.disk_bytes > 0 { spec.limits.disk_bytes } else { 1 << 30 };
    Some(PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(settings.claim_name(&spec.owner)),
            labels: Some(labels(settings, &spec.owner, None)),
            owner_references: anchor.map(|a| vec![a.clone()]),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_string(), quantity(size))])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The sandbox's pod.
pub fn pod(settings: &PodSettings, spec: &SandboxSpec, started_at: SystemTime, anchor: Option<&OwnerReference>) -> serde_json::Result<Pod> {
    let limits = &spec.limits;
    let mut resources = BTreeMap::from([
        ("memory".to_string(), quantity(limits.memory_bytes)),
        ("cpu".to_string(), quantity(format!("{}m", limits.cpu_millis))),
    ]);
    if limits.disk_bytes > 0 {
        // What the learner writes outside /root (the image's own directories) counts here.
        resources.insert("ephemeral-storage".into(), quantity(limits.disk_bytes));
    }
    // Requests equal to limits: the scheduler places a sandbox only where its whole share
    // fits, so a full class never overcommits a node (the Guaranteed QoS class).
    let requirements = ResourceRequirements { limits: Some(resources.clone()), requests: Some(resources), ..Default::default() };
    let security = match settings.isolation {
        Isolation::Isolating => SecurityContext {
            capabilities: Some(Capabilities {
                add: Some(["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE"].map(String::from).to_vec()),
                ..Default::default()
            }),
            // unshare(2), mount(2) and setns(2) are outside the runtime's default profile.
            seccomp_profile: Some(SeccompProfile { type_: "Unconfined".into(), ..Default::default() }),
            ..Default::default()
        },
        Isolation::Plain => SecurityContext {
            capabilities: Some(Capabilities { add: Some(vec!["NET_ADMIN".into()]), ..Default::default() }),
            seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
            ..Default::default()
        },
    };
    let home = match &settings.volumes {
        Volumes::Claim { .. } => Volume {
            name: "home".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: settings.claim_name(&spec.owner),
                read_only: None,
            }),
            ..Default::default()
        },
        Volumes::HostPath(dir) => Volume {
            name: "home".into(),
            host_path: Some(HostPathVolumeSource {
                path: format!("{}/{}", dir.trim_end_matches('/'), spec.owner),
                type_: Some("DirectoryOrCreate".into()),
            }),
            ..Default::default()
        },
    };
    let scratch = |name: &str| Volume { name: name.into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Default::default() };
    let mount = |name: &str, path: &str| VolumeMount { name: name.into(), mount_path: path.into(), ..Default::default() };
    let container = Container {
        name: CONTAINER.into(),
        image: Some(settings.image.clone()),
        image_pull_policy: Some(settings.image_pull_policy.clone()),
        command: Some(match settings.isolation {
            Isolation::Isolating => {
                [&["/bin/sh".to_string(), "-c".into(), WRITABLE_CGROUPS.into(), "stacklab-init".into()], &settings.init[..]].concat()
            }
            Isolation::Plain => settings.init.clone(),
        }),
        env: Some(vec![EnvVar { name: "container".into(), value: Some("stacklab".into()), ..Default::default() }]),
        resources: Some(requirements),
        security_context: Some(security),
        volume_mounts: Some(vec![mount("home", "/root"), mount("tmp", "/tmp"), mount("run", "/run")]),
        ..Default::default()
    };
    let mut annotations = BTreeMap::from([
        (ANNOTATION_SPEC.to_string(), serde_json::to_string(spec)?),
        (ANNOTATION_STARTED.to_string(), humantime::format_rfc3339_seconds(started_at).to_string()),
    ]);
    if settings.isolation == Isolation::Isolating {
        annotations.insert(format!("container.apparmor.security.beta.kubernetes.io/{CONTAINER}"), "unconfined".into());
    }
    Ok(Pod {
        metadata: ObjectMeta {
            name: Some(settings.pod_name(&spec.name)),
            labels: Some(labels(settings, &spec.owner, Some(&spec.name))),
            annotations: Some(annotations),
            owner_references: anchor.map(|a| vec![a.clone()]),
            ..Default::default()
        },
        spec: Some(PodSpec {
            hostname: Some(spec.name.clone()),
            containers: vec![container],
            volumes: Some(vec![home, scratch("tmp"), scratch("run")]),
            // A sandbox that ended is started afresh by the server, never in place.
            restart_policy: Some("Never".into()),
            // The learner is root in the pod: no token for the cluster's API in it, no
            // environment listing the cluster's services.
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            runtime_class_name: settings.runtime_class.clone(),
            node_selector: (!settings.node_selector.is_empty()).then(|| settings.node_selector.clone()),
            tolerations: (!settings.tolerations.is_empty()).then(|| settings.tolerations.clone()),
            termination_grace_period_seconds: Some(2),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A sandbox's info from its pod's labels and annotations.
pub fn info_from(pod: &Pod) -> Option<SandboxInfo> {
    let annotations = pod.metadata.annotations.as_ref()?;
    let spec: SandboxSpec = serde_json::from_str(annotations.get(ANNOTATION_SPEC)?).ok()?;
    let started_at = annotations.get(ANNOTATION_STARTED).and_then(|t| humantime::parse_rfc3339(t).ok()).unwrap_or(SystemTime::UNIX_EPOCH);
    Some(SandboxInfo { name: spec.name.clone(), owner: spec.owner.clone(), backend: "kubernetes".into(), started_at, spec })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Limits, Network};

    fn settings(isolation: Isolation, volumes: Volumes) -> PodSettings {
        PodSettings {
            prefix: "stacklab".into(),
            image: "registry.example/stacklab/lab:1".into(),
            image_pull_policy: "IfNotPresent".into(),
            init: INIT.iter().map(|s| s.to_string()).collect(),
            runtime_class: Some("gvisor".into()),
            isolation,
            node_selector: BTreeMap::from([("stacklab.dev/sandboxes".to_string(), "true".to_string())]),
            tolerations: Vec::new(),
            volumes,
        }
    }

    fn spec() -> SandboxSpec {
        SandboxSpec {
            name: "lab-ada".into(),
            owner: "ada".into(),
            limits: Limits { memory_bytes: 1 << 30, cpu_millis: 1500, pids: 512, disk_bytes: 2 << 30 },
            devices: Vec::new(),
            network: Network::Isolated,
            init: crate::Init::Minimal,
        }
    }

    #[test]
    fn a_pod_carries_its_spec_and_limits_and_no_api_token() {
        let s = settings(Isolation::Plain, Volumes::Claim { storage_class: None });
        let pod = pod(&s, &spec(), SystemTime::UNIX_EPOCH, None).unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("stacklab-lab-ada"));
        assert_eq!(info_from(&pod).unwrap().spec, spec(), "the spec comes back from the pod");
        let p = pod.spec.as_ref().unwrap();
        assert_eq!(p.automount_service_account_token, Some(false));
        assert_eq!(p.runtime_class_name.as_deref(), Some("gvisor"));
        let c = &p.containers[0];
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["memory"].0, (1u64 << 30).to_string());
        assert_eq!(limits["cpu"].0, "1500m");
        assert_eq!(c.resources.as_ref().unwrap().requests, c.resources.as_ref().unwrap().limits, "Guaranteed: requests = limits");
        let caps = c.security_context.as_ref().unwrap().capabilities.as_ref().unwrap().add.clone().unwrap();
        assert_eq!(caps, ["NET_ADMIN"], "no SYS_ADMIN on a plain runtime: it would be the node's");
        assert_eq!(c.command.as_ref(), Some(&s.init), "nothing remounted on a plain runtime");
        assert_eq!(p.volumes.as_ref().unwrap()[0].persistent_volume_claim.as_ref().unwrap().claim_name, "stacklab-home-ada");
    }

    #[test]
    fn an_isolating_runtime_gets_the_demos_capabilities() {
        let s = settings(Isolation::Isolating, Volumes::HostPath("/var/lib/stacklab/homes/".into()));
        let pod = pod(&s, &spec(), SystemTime::UNIX_EPOCH, None).unwrap();
        let c = &pod.spec.as_ref().unwrap().containers[0];
        let security = c.security_context.as_ref().unwrap();
        assert!(security.capabilities.as_ref().unwrap().add.as_ref().unwrap().contains(&"SYS_ADMIN".to_string()));
        assert_eq!(security.seccomp_profile.as_ref().unwrap().type_, "Unconfined");
        assert_eq!(security.privileged, None, "capabilities, never privileged");
        let command = c.command.as_ref().unwrap();
        assert_eq!(command[..2], ["/bin/sh", "-c"], "cgroups made writable first");
        assert!(command.ends_with(&s.init), "then the init: {command:?}");
        let home = &pod.spec.as_ref().unwrap().volumes.as_ref().unwrap()[0];
        assert_eq!(home.host_path.as_ref().unwrap().path, "/var/lib/stacklab/homes/ada");
        assert!(claim(&s, &spec(), None).is_none(), "no claim with a host path");
    }

    #[test]
    fn a_claim_is_sized_as_the_disk() {
        let s = settings(Isolation::Plain, Volumes::Claim { storage_class: Some("fast".into()) });
        let c = claim(&s, &spec(), None).unwrap();
        let spec = c.spec.unwrap();
        assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
        assert_eq!(spec.resources.unwrap().requests.unwrap()["storage"].0, (2u64 << 30).to_string());
    }
}
