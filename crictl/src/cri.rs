//! The CRI calls, over the runtime's unix socket.

use std::path::Path;

use anyhow::{Context, bail};
use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::*;
use serde_json::Value;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::output::{camel, status_and_info};

/// The one id starting with `prefix`, or why there is none.
fn one_of(ids: impl Iterator<Item = String>, prefix: &str, what: &str, lister: &str) -> anyhow::Result<String> {
    let found: Vec<String> = ids.filter(|id| id.starts_with(prefix)).collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("no {what} with id {prefix:?} ({lister} lists them)"),
        _ => bail!("{prefix:?} matches {} of them: give more of the {what}'s id", found.len()),
    }
}

/// The node's image archives (the cluster tier packs them into the lab image).
const ARCHIVES: &str = "/usr/lib/lab-cluster/images";

pub struct Cri {
    runtime: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
}

impl Cri {
    pub async fn connect(endpoint: &str) -> anyhow::Result<Self> {
        let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint).to_string();
        if !Path::new(&path).exists() {
            bail!("{path} does not exist: is the cluster running? (lab-cluster status)");
        }
        // The URI is a placeholder: every connection goes to the socket.
        let channel = Endpoint::try_from("http://[::]:0")?
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let path = path.clone();
                async move { Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(path).await?)) }
            }))
            .await?;
        Ok(Self { runtime: RuntimeServiceClient::new(channel.clone()), images: ImageServiceClient::new(channel) })
    }

    pub async fn pods(&mut self, state: Option<&str>) -> anyhow::Result<Vec<PodSandbox>> {
        let state = match state.map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("ready") => Some(PodSandboxStateValue { state: PodSandboxState::SandboxReady as i32 }),
            Some("notready") => Some(PodSandboxStateValue { state: PodSandboxState::SandboxNotready as i32 }),
            Some(other) => bail!("unknown pod state {other:?}: ready or notready"),
        };
        let filter = PodSandboxFilter { state, ..Default::default() };
        let mut pods = self.runtime.list_pod_sandbox(ListPodSandboxRequest { filter: Some(filter) }).await?.into_inner().items;
        pods.sort_by_key(|p| std::cmp::Reverse(p.created_at));
        Ok(pods)
    }

    pub async fn containers(&mut self, all: bool, pod: Option<&str>) -> anyhow::Result<Vec<Container>> {
        let filter = ContainerFilter {
            state: (!all).then_some(ContainerStateValue { state: ContainerState::ContainerRunning as i32 }),
            pod_sandbox_id: pod.unwrap_or_default().to_string(),
            ..Default::default()
        };
        let mut containers = self.runtime.list_containers(ListContainersRequest { filter: Some(filter) }).await?.into_inner().containers;
        containers.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        Ok(containers)
    }

    pub async fn images(&mut self) -> anyhow::Result<Vec<Image>> {
        let mut images = self.images.list_images(ListImagesRequest { filter: None }).await?.into_inner().images;
        images.sort_by(|a, b| a.repo_tags.cmp(&b.repo_tags));
        Ok(images)
    }

    /// A pod id from a prefix of it, as crictl accepts.
    pub async fn resolve_pod(&mut self, prefix: &str) -> anyhow::Result<String> {
        let ids = self.pods(None).await?.into_iter().map(|p| p.id);
        one_of(ids, prefix, "pod sandbox", "crictl pods")
    }

    /// A container id from a prefix of it.
    pub async fn resolve_container(&mut self, prefix: &str) -> anyhow::Result<String> {
        let ids = self.containers(true, None).await?.into_iter().map(|c| c.id);
        one_of(ids, prefix, "container", "crictl ps -a")
    }

    /// `crictl info`: the runtime's conditions, and its info entries (each a JSON document)
    /// beside them — where containerd's `config.sandboxImage` is.
    pub async fn info(&mut self) -> anyhow::Result<String> {
        let response = self.runtime.status(StatusRequest { verbose: true }).await?.into_inner();
        Ok(status_and_info(&camel(serde_json::to_value(&response.status)?), response.info))
    }

    pub async fn inspect(&mut self, prefix: &str) -> anyhow::Result<String> {
        let id = self.resolve_container(prefix).await?;
        let response = self.runtime.container_status(ContainerStatusRequest { container_id: id, verbose: true }).await?.into_inner();
        let mut status = camel(serde_json::to_value(&response.status)?);
        name_state(&mut status, |n| ContainerState::try_from(n).ok().map(|s| s.as_str_name()));
        Ok(status_and_info(&status, response.info))
    }

    pub async fn inspectp(&mut self, prefix: &str) -> anyhow::Result<String> {
        let id = self.resolve_pod(prefix).await?;
        let response = self.runtime.pod_sandbox_status(PodSandboxStatusRequest { pod_sandbox_id: id, verbose: true }).await?.into_inner();
        let mut status = camel(serde_json::to_value(&response.status)?);
        name_state(&mut status, |n| PodSandboxState::try_from(n).ok().map(|s| s.as_str_name()));
        Ok(status_and_info(&status, response.info))
    }

    pub async fn log_path(&mut self, prefix: &str) -> anyhow::Result<String> {
        let id = self.resolve_container(prefix).await?;
        let response = self.runtime.container_status(ContainerStatusRequest { container_id: id, verbose: false }).await?.into_inner();
        let path = response.status.map(|s| s.log_path).unwrap_or_default();
        if path.is_empty() {
            bail!("the runtime keeps no log for container {prefix}");
        }
        Ok(path)
    }

    pub async fn exec(&mut self, prefix: &str, cmd: Vec<String>, timeout: i64) -> anyhow::Result<(Vec<u8>, Vec<u8>, i32)> {
        let id = self.resolve_container(prefix).await?;
        let response = self.runtime.exec_sync(ExecSyncRequest { container_id: id, cmd, timeout }).await?.into_inner();
        Ok((response.stdout, response.stderr, response.exit_code))
    }

    /// Pulls `image`; its id. An image already in the store is not fetched again; a
    /// `localhost/` one comes from the node's archives, anything else from its registry.
    pub async fn pull(&mut self, image: &str) -> anyhow::Result<String> {
        if let Some(id) = self.image_id(image).await? {
            return Ok(id);
        }
        if let Some(archive) = archive_for(image) {
            let status = tokio::process::Command::new("ctr")
                .args(["--address", "/run/containerd/containerd.sock", "-n", "k8s.io", "images", "import"])
                .arg(&archive)
                .stdout(std::process::Stdio::null())
                .status()
                .await
                .context("running ctr to import the image")?;
            if !status.success() {
                bail!("importing {} failed ({status})", archive.display());
            }
            return self.image_id(image).await?.with_context(|| format!("{image} is still not in the store after importing it"));
        }
        let spec = ImageSpec { image: image.to_string(), ..Default::default() };
        let pulled = self.images.pull_image(PullImageRequest { image: Some(spec), ..Default::default() }).await?.into_inner();
        Ok(pulled.image_ref)
    }

    async fn image_id(&mut self, image: &str) -> anyhow::Result<Option<String>> {
        let spec = ImageSpec { image: image.to_string(), ..Default::default() };
        let status = self.images.image_status(ImageStatusRequest { image: Some(spec), verbose: false }).await?.into_inner();
        Ok(status.image.map(|i| i.id))
    }

    pub async fn stop_pod(&mut self, id: &str) -> anyhow::Result<()> {
        self.runtime.stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id: id.to_string() }).await?;
        Ok(())
    }

    pub async fn remove_pod(&mut self, id: &str) -> anyhow::Result<()> {
        self.runtime.remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: id.to_string() }).await?;
        Ok(())
    }
}

/// The archive holding `image` (`NAME.tar` with `NAME.tar.name` naming it), if the node has one.
fn archive_for(image: &str) -> Option<std::path::PathBuf> {
    let wanted = if image.contains(':') { image.to_string() } else { format!("{image}:latest") };
    std::fs::read_dir(ARCHIVES)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "name") && std::fs::read_to_string(p).is_ok_and(|n| n.trim() == wanted))
        .map(|p| p.with_extension(""))
}

/// `state: 1` as crictl prints it, `state: "CONTAINER_RUNNING"`.
fn name_state(status: &mut Value, name: impl Fn(i32) -> Option<&'static str>) {
    if let Some(state) = status.get_mut("state")
        && let Some(n) = state.as_i64().and_then(|n| name(n as i32))
    {
        *state = Value::String(n.to_string());
    }
}
