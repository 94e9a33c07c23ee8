//! How many more sandboxes the cluster can take: the server's count for queueing learners
//! honestly instead of failing. Not a scheduler — the cluster's places the pods — only the
//! same arithmetic, from the nodes' allocatable resources and this server's own pods.
//!
//! It assumes the sandbox nodes (the node selector, the tolerated taints) are dedicated to
//! sandboxes, as `deploy/kubernetes/stacklab.yaml` sets them up: with its least-privilege
//! role the server cannot see other namespaces' pods, so their requests are not subtracted.

use k8s_openapi::api::core::v1::{Node, Pod, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::pod::PodSettings;
use crate::spec::Limits;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capacity {
    /// Sandboxes of this size the sandbox nodes hold in all.
    pub total: u64,
    /// This server's pods on those nodes now.
    pub used: u64,
    /// Nodes that take sandboxes.
    pub nodes: u64,
}

impl Capacity {
    pub fn free(&self) -> u64 {
        self.total.saturating_sub(self.used)
    }
}

/// A Kubernetes quantity as a number of its base unit (`cpu`: cores, memory: bytes), as f64:
/// `1500m`, `2`, `16Gi`, `512M`, `1e9`.
pub fn parse_quantity(q: &Quantity) -> Option<f64> {
    let s = q.0.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E').unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let value: f64 = number.parse().ok()?;
    let multiplier = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        _ => return None,
    };
    Some(value * multiplier)
}

fn tolerated(taint: &k8s_openapi::api::core::v1::Taint, tolerations: &[Toleration]) -> bool {
    if taint.effect == "PreferNoSchedule" {
        return true;
    }
    tolerations.iter().any(|t| {
        let key = t.key.as_deref().is_none_or(|k| k == taint.key);
        let effect = t.effect.as_deref().is_none_or(|e| e == taint.effect);
        let value = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => t.value.as_deref() == taint.value.as_deref(),
        };
        key && effect && value
    })
}

/// Whether sandbox pods can go on `node`: Ready, schedulable, matching the selector, every
/// taint tolerated.
pub fn takes_sandboxes(node: &Node, settings: &PodSettings) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let selected = settings.node_selector.iter().all(|(k, v)| labels.get(k) == Some(v));
    let spec = node.spec.clone().unwrap_or_default();
    let schedulable = !spec.unschedulable.unwrap_or(false);
    let taints_ok = spec.taints.unwrap_or_default().iter().all(|t| tolerated(t, &settings.tolerations));
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    selected && schedulable && taints_ok && ready
}

/// Sandboxes of `limits` that fit on `node` when empty: the least of what its CPU, memory and
/// pod count allow (requests equal limits, see `pod.rs`).
pub fn fits_on(node: &Node, limits: &Limits) -> u64 {
    let Some(allocatable) = node.status.as_ref().and_then(|s| s.allocatable.as_ref()) else { return 0 };
    let get = |key: &str| allocatable.get(key).and_then(parse_quantity).unwrap_or(0.0);
    let by_cpu = get("cpu") / (f64::from(limits.cpu_millis.max(1)) / 1000.0);
    let by_memory = get("memory") / limits.memory_bytes.max(1) as f64;
    let by_pods = get("pods");
    by_cpu.min(by_memory).min(by_pods).floor().max(0.0) as u64
}

/// The count over the cluster's nodes and this server's pods.
pub fn count(nodes: &[Node], pods: &[Pod], settings: &PodSettings, limits: &Limits) -> Capacity {
    let mut capacity = Capacity::default();
    for node in nodes.iter().filter(|n| takes_sandboxes(n, settings)) {
        let name = node.metadata.name.as_deref();
        capacity.nodes += 1;
        capacity.total += fits_on(node, limits);
        capacity.used += pods
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == name)
            .filter(|p| !matches!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed")))
            .count() as u64;
    }
    // Pods not placed yet are waiting for room too.
    capacity.used += pods.iter().filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none()).count() as u64;
    capacity
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus, PodSpec, Taint};
    use std::collections::BTreeMap;

    fn node(name: &str, cpu: &str, memory: &str, taint: Option<&str>) -> Node {
        Node {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta { name: Some(name.into()), ..Default::default() },
            spec: Some(NodeSpec {
                taints: taint
                    .map(|k| vec![Taint { key: k.into(), value: Some("true".into()), effect: "NoSchedule".into(), ..Default::default() }]),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                allocatable: Some(BTreeMap::from([
                    ("cpu".to_string(), Quantity(cpu.into())),
                    ("memory".to_string(), Quantity(memory.into())),
                    ("pods".to_string(), Quantity("110".into())),
                ])),
                conditions: Some(vec![NodeCondition { type_: "Ready".into(), status: "True".into(), ..Default::default() }]),
                ..Default::default()
            }),
        }
    }

    fn settings(tolerations: Vec<Toleration>) -> PodSettings {
        PodSettings {
            prefix: "s".into(),
            image: "i".into(),
            image_pull_policy: "Never".into(),
            init: Vec::new(),
            runtime_class: None,
            isolation: super::super::Isolation::Plain,
            node_selector: BTreeMap::new(),
            tolerations,
            volumes: super::super::Volumes::HostPath("/x".into()),
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(&Quantity("1500m".into())), Some(1.5));
        assert_eq!(parse_quantity(&Quantity("16Gi".into())), Some(17179869184.0));
        assert_eq!(parse_quantity(&Quantity("512M".into())), Some(512e6));
        assert_eq!(parse_quantity(&Quantity("1e9".into())), Some(1e9));
        assert_eq!(parse_quantity(&Quantity("12".into())), Some(12.0));
        assert_eq!(parse_quantity(&Quantity("3Q".into())), None);
    }

    #[test]
    fn the_count_is_the_tightest_resource_on_the_nodes_that_take_sandboxes() {
        let limits = Limits { memory_bytes: 1 << 30, cpu_millis: 1000, pids: 512, disk_bytes: 0 };
        // 8 cores but 24 GiB: memory-bound at 24? No: cpu-bound at 8.
        let big = node("big", "8", "24Gi", None);
        assert_eq!(fits_on(&big, &limits), 8);
        // 32 cores, 15.5 GiB in Ki: memory-bound at 15.
        let wide = node("wide", "32", "16252928Ki", None);
        assert_eq!(fits_on(&wide, &limits), 15);
        let tainted = node("gpu", "64", "256Gi", Some("gpu"));
        let placed = Pod { spec: Some(PodSpec { node_name: Some("big".into()), ..Default::default() }), ..Default::default() };
        let waiting = Pod::default();
        let c = count(&[big.clone(), wide.clone(), tainted.clone()], &[placed, waiting], &settings(Vec::new()), &limits);
        assert_eq!(c, Capacity { total: 23, used: 2, nodes: 2 }, "the tainted node takes no sandboxes");
        assert_eq!(c.free(), 21);
        let tolerate = Toleration { key: Some("gpu".into()), operator: Some("Exists".into()), ..Default::default() };
        assert_eq!(count(&[tainted], &[], &settings(vec![tolerate]), &limits).total, 64);
    }
}
