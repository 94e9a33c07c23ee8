//! The Kubernetes backend's configuration, from the command line: which cluster, namespace,
//! image, runtime class and nodes, and where learners' files go.

use anyhow::{Context, bail};
use sandbox::kubernetes::{Isolation, KubeConfig, PodSettings, Toleration, Volumes};

use crate::cli::ServeArgs;

/// Where a server running in a pod learns its own namespace.
const POD_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

pub fn config(args: &ServeArgs) -> anyhow::Result<KubeConfig> {
    let kube = &args.sandbox.kube;
    let image = match &kube.kube_image {
        Some(image) => image.clone(),
        None => sandbox::image::LabImage::open(&args.image).context("--kube-image is not set and there is no lab image to name")?.tag(),
    };
    let namespace = kube
        .kube_namespace
        .clone()
        .or_else(|| std::fs::read_to_string(POD_NAMESPACE).ok().map(|n| n.trim().to_string()))
        .unwrap_or_else(|| "stacklab".into());
    let isolating = kube.kube_isolating.unwrap_or(kube.kube_runtime_class.is_some());
    Ok(KubeConfig {
        kubeconfig: kube.kube_config.clone(),
        namespace,
        pods: PodSettings {
            prefix: args.sandbox.cgroup_root.clone(),
            image,
            image_pull_policy: kube.kube_image_pull_policy.clone(),
            init: sandbox::kubernetes::pod::INIT.iter().map(|s| s.to_string()).collect(),
            runtime_class: kube.kube_runtime_class.clone(),
            isolation: if isolating { Isolation::Isolating } else { Isolation::Plain },
            node_selector: kube.kube_node_selector.clone(),
            tolerations: tolerations(&kube.kube_tolerations)?,
            volumes: volumes(&kube.kube_volumes)?,
        },
        start_timeout: kube.kube_start_timeout,
    })
}

/// `key=value:Effect,key:Effect` (Effect: NoSchedule, PreferNoSchedule or NoExecute).
fn tolerations(text: &str) -> anyhow::Result<Vec<Toleration>> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (taint, effect) = item.rsplit_once(':').with_context(|| format!("--kube-tolerations {item:?}: use key=value:Effect"))?;
        if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            bail!("--kube-tolerations {item:?}: the effect is NoSchedule, PreferNoSchedule or NoExecute");
        }
        let (key, value) = match taint.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (taint, None),
        };
        out.push(Toleration {
            key: Some(key.to_string()),
            operator: Some(if value.is_some() { "Equal" } else { "Exists" }.into()),
            value,
            effect: Some(effect.into()),
            ..Default::default()
        });
    }
    Ok(out)
}

fn volumes(text: &str) -> anyhow::Result<Volumes> {
    match text.split_once(':') {
        None if text == "claim" => Ok(Volumes::Claim { storage_class: None }),
        Some(("claim", class)) if !class.is_empty() => Ok(Volumes::Claim { storage_class: Some(class.into()) }),
        Some(("hostpath", dir)) if dir.starts_with('/') => Ok(Volumes::HostPath(dir.into())),
        _ => bail!("--kube-volumes {text:?}: use claim, claim:STORAGECLASS or hostpath:/DIR"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerations_and_volumes_parse_or_say_why_not() {
        let t = tolerations("stacklab.dev/sandboxes=true:NoSchedule, gpu:NoExecute").unwrap();
        assert_eq!(
            (t[0].key.as_deref(), t[0].value.as_deref(), t[0].operator.as_deref()),
            (Some("stacklab.dev/sandboxes"), Some("true"), Some("Equal"))
        );
        assert_eq!((t[1].operator.as_deref(), t[1].effect.as_deref()), (Some("Exists"), Some("NoExecute")));
        assert!(tolerations("x=y:Sometimes").unwrap_err().to_string().contains("NoSchedule"));
        assert!(tolerations("").unwrap().is_empty());
        assert_eq!(volumes("claim").unwrap(), Volumes::Claim { storage_class: None });
        assert_eq!(volumes("claim:fast").unwrap(), Volumes::Claim { storage_class: Some("fast".into()) });
        assert_eq!(volumes("hostpath:/srv/homes").unwrap(), Volumes::HostPath("/srv/homes".into()));
        assert!(volumes("hostpath:relative").is_err());
        assert!(volumes("nfs").unwrap_err().to_string().contains("claim, claim:STORAGECLASS"));
    }
}
