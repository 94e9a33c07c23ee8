//! The Kubernetes backend: each sandbox is a pod from the lab image, the way JupyterHub's
//! KubeSpawner runs notebooks, so a class can outgrow one host while the Stacklab server stays
//! the single front door. The cluster's scheduler places the pods; the server keeps no
//! scheduler of its own, only a count of what fits (see `capacity`).
//!
//! - A sandbox is a pod `<prefix>-<sandbox>` labelled with its server, sandbox and owner, its
//!   spec and start time in annotations, so a restarted server finds it again (`running`).
//! - The learner's files are a PersistentVolumeClaim `<prefix>-home-<owner>` at /root (or a
//!   directory on the node, for single-node clusters without a provisioner), which outlives
//!   every pod until a reset.
//! - Pods and claims are owned by one ConfigMap, `<prefix>-anchor`: deleting it (or the
//!   namespace) lets Kubernetes' garbage collector remove everything this server made.
//! - Shells and checks go through the exec API (`exec.rs`).

pub mod capacity;
mod exec;
pub mod pod;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use k8s_openapi::api::core::v1::{ConfigMap, Node, PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::backend::{Backend, Connection, Error, ExecOutput, ExecRequest, Process, Result, SandboxInfo, Shell, ShellRequest, Stats};
use crate::spec::{SandboxSpec, valid_name};
pub use k8s_openapi::api::core::v1::Toleration;
pub use pod::{Isolation, PodSettings, Volumes};

/// How long a deleted pod may take to go (see `delete_pod`).
const DELETE_WAIT: Duration = Duration::from_secs(180);

#[derive(Clone, Debug)]
pub struct KubeConfig {
    /// A kubeconfig file; `None`: the pod's service account when the server runs in the
    /// cluster, else `$KUBECONFIG` or ~/.kube/config.
    pub kubeconfig: Option<PathBuf>,
    /// The namespace sandboxes live in (the server's own, by default, in the cluster).
    pub namespace: String,
    pub pods: PodSettings,
    /// How long a pod may take to run (scheduling, pulling the image) before start fails.
    pub start_timeout: Duration,
}

pub struct KubeBackend {
    pods: Api<Pod>,
    claims: Api<PersistentVolumeClaim>,
    anchors: Api<ConfigMap>,
    nodes: Api<Node>,
    settings: PodSettings,
    anchor: OwnerReference,
    start_timeout: Duration,
}

fn failed(what: impl std::fmt::Display, e: kube::Error) -> Error {
    match &e {
        kube::Error::Api(s) if s.code == 403 => {
            Error::kubernetes(format!("{what} (the cluster refuses the server: apply deploy/kubernetes/rbac.yaml)"), e)
        }
        _ => Error::kubernetes(what.to_string(), e),
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

impl KubeBackend {
    /// Connects, checks that this server may manage pods in the namespace, and makes (or
    /// finds) its anchor; each failure says what to do about it.
    pub async fn open(config: KubeConfig) -> Result<Self> {
        // Fails only when a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client_config = match &config.kubeconfig {
            Some(path) => {
                let file =
                    Kubeconfig::read_from(path).map_err(|e| Error::Backend(format!("reading the kubeconfig {}: {e}", path.display())))?;
                Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| Error::Backend(format!("the kubeconfig {}: {e}", path.display())))?
            }
            None => Config::infer().await.map_err(|e| {
                Error::Backend(format!("no cluster to talk to (not in a pod, no $KUBECONFIG, no ~/.kube/config): {e}; use --kube-config"))
            })?,
        };
        let server = client_config.cluster_url.to_string();
        let client = Client::try_from(client_config).map_err(|e| Error::Backend(format!("a client for {server}: {e}")))?;
        let ns = config.namespace.as_str();
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        pods.list(&ListParams::default().limit(1)).await.map_err(|e| failed(format!("listing pods in namespace {ns} on {server}"), e))?;
        let anchors: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        let anchor_name = format!("{}-anchor", config.pods.prefix);
        let anchor = match anchors.get_opt(&anchor_name).await.map_err(|e| failed(format!("reading {anchor_name}"), e))? {
            Some(a) => a,
            None => {
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(anchor_name.clone()),
                        labels: Some(BTreeMap::from([
                            ("app.kubernetes.io/managed-by".to_string(), "stacklab".to_string()),
                            (pod::LABEL_SERVER.to_string(), config.pods.prefix.clone()),
                        ])),
                        ..Default::default()
                    },
                    data: Some(BTreeMap::from([(
                        "about".to_string(),
                        "Owns this Stacklab server's sandbox pods and learners' volumes: deleting it deletes them.".to_string(),
                    )])),
                    ..Default::default()
                };
                anchors.create(&PostParams::default(), &cm).await.map_err(|e| failed(format!("creating {anchor_name}"), e))?
            }
        };
        let anchor = OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: anchor_name,
            uid: anchor.metadata.uid.clone().unwrap_or_default(),
            ..Default::default()
        };
        if config.pods.isolation == Isolation::Plain {
            tracing::warn!(
                "sandbox pods run without an isolating runtime class: they get Kubernetes' default capabilities only, so the \
                 namespace and mount demos will not work (docs: Sandboxes and backends, the Kubernetes backend)"
            );
        }
        Ok(Self {
            pods,
            claims: Api::namespaced(client.clone(), ns),
            anchors,
            nodes: Api::all(client),
            settings: config.pods,
            anchor,
            start_timeout: config.start_timeout,
        })
    }

    pub fn settings(&self) -> &PodSettings {
        &self.settings
    }

    /// How many sandboxes of `limits` the cluster's sandbox nodes take, and how many of this
    /// server's are on them now (see `capacity`).
    pub async fn capacity(&self, limits: &crate::spec::Limits) -> Result<capacity::Capacity> {
        let nodes = self.nodes.list(&ListParams::default()).await.map_err(|e| failed("listing nodes", e))?;
        let pods = self.pods.list(&self.ours(None)).await.map_err(|e| failed("listing pods", e))?;
        Ok(capacity::count(&nodes.items, &pods.items, &self.settings, limits))
    }

    /// Removes every pod and claim of this server, and its anchor: for tests and for
    /// `stacklab stop-sandboxes`.
    pub async fn remove_all(&self) -> Result<()> {
        let list = self.ours(None);
        self.delete_pods(&list).await?;
        for c in self.claims.list(&list).await.map_err(|e| failed("listing claims", e))? {
            if let Some(name) = c.metadata.name {
                let _ = self.claims.delete(&name, &DeleteParams::default()).await;
            }
        }
        let _ = self.anchors.delete(&self.anchor.name, &DeleteParams::default()).await;
        Ok(())
    }

    /// This server's objects (`stacklab.dev/server=<prefix>`), or one owner's of them.
    fn ours(&self, owner: Option<&str>) -> ListParams {
        match owner {
            None => ListParams::default().labels(&self.settings.selector()),
            Some(owner) => ListParams::default().labels(&format!("{},{}={owner}", self.settings.selector(), pod::LABEL_OWNER)),
        }
    }

    /// Deletes every pod `list` finds, each waited for.
    async fn delete_pods(&self, list: &ListParams) -> Result<()> {
        for p in self.pods.list(list).await.map_err(|e| failed("listing pods", e))? {
            if let Some(name) = p.metadata.name {
                self.delete_pod(&name).await?;
            }
        }
        Ok(())
    }

    /// Deletes a pod and waits until it is gone (its processes ended, its volume released).
    async fn delete_pod(&self, pod: &str) -> Result<()> {
        match self.pods.delete(pod, &DeleteParams { grace_period_seconds: Some(1), ..Default::default() }).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(failed(format!("deleting {pod}"), e)),
        }
        // The kubelet removes the pod only once its containers are gone and its volumes are
        // unmounted; a node busy starting other pods has taken over a minute for that.
        let deadline = Instant::now() + DELETE_WAIT;
        let mut last = String::from("no answer from the cluster");
        while Instant::now() < deadline {
            match self.pods.get_opt(pod).await {
                Ok(None) => return Ok(()),
                Ok(Some(p)) => {
                    last =
                        format!("phase {}, {}", phase(&p), Some(reason(&p)).filter(|r| !r.is_empty()).unwrap_or("no reason given".into()))
                }
                Err(e) => last = format!("reading it failed: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(Error::Backend(format!("{pod} was still there {} s after it was deleted ({last})", DELETE_WAIT.as_secs())))
    }

    /// The pod of `name`, with whether it runs.
    async fn find(&self, name: &str) -> Result<Option<(SandboxInfo, bool)>> {
        let pod_name = self.settings.pod_name(name);
        let Some(p) = self.pods.get_opt(&pod_name).await.map_err(|e| failed(format!("reading {pod_name}"), e))? else {
            return Ok(None);
        };
        let ours = p.metadata.labels.as_ref().and_then(|l| l.get(pod::LABEL_SERVER)) == Some(&self.settings.prefix);
        if !ours {
            return Err(Error::Backend(format!("pod {pod_name} is not this server's")));
        }
        let running = phase(&p) == "Running" && p.metadata.deletion_timestamp.is_none();
        Ok(pod::info_from(&p).map(|i| (i, running)))
    }

    /// Waits for the pod to run; a pod that cannot (unschedulable, no image) fails with the
    /// cluster's own reason.
    async fn wait_running(&self, pod_name: &str) -> Result<()> {
        let deadline = Instant::now() + self.start_timeout;
        let mut why = String::from("it stayed Pending");
        while Instant::now() < deadline {
            let p = self.pods.get(pod_name).await.map_err(|e| failed(format!("reading {pod_name}"), e))?;
            match phase(&p) {
                "Running" => return Ok(()),
                "Failed" | "Succeeded" => {
                    return Err(Error::create_failed(pod_name, format!("the pod ended: {}", reason(&p))));
                }
                _ => {}
            }
            let r = reason(&p);
            if ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"]
                .iter()
                .any(|bad| r.starts_with(bad))
            {
                return Err(Error::create_failed(pod_name, r));
            }
            if !r.is_empty() {
                why = r;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(Error::create_failed(pod_name, format!("not running after {:?}: {why}", self.start_timeout)))
    }
}

/// The backend's own commands are POSIX sh: they run in whatever image the operator chose.
pub(crate) fn posix(script: &str) -> ExecRequest {
    let mut request = ExecRequest::script(script);
    request.argv[0] = "/bin/sh".into();
    request
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending")
}

/// Why a pod is not running, in the cluster's words: a waiting container's reason, or the
/// scheduler's condition.
fn reason(p: &Pod) -> String {
    let status = p.status.as_ref();
    let waiting = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find_map(|c| c.state.as_ref()?.waiting.clone()))
        .map(|w| format!("{}: {}", w.reason.unwrap_or_default(), w.message.unwrap_or_default()));
    let terminated = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find_map(|c| c.state.as_ref()?.terminated.clone()))
        .map(|t| format!("exited {}: {}", t.exit_code, t.reason.unwrap_or_default()));
    let unscheduled = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False"))
        .map(|c| format!("{}: {}", c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default()));
    waiting.or(terminated).or(unscheduled).unwrap_or_default()
}

#[async_trait]
impl Backend for KubeBackend {
    fn kind(&self) -> &'static str {
        "kubernetes"
    }

    async fn start(&self, spec: &SandboxSpec) -> Result<SandboxInfo> {
        for name in [&spec.name, &spec.owner] {
            // Also a label value and part of an object name: the same rule holds.
            if !valid_name(name) || self.settings.pod_name(name).len() > 253 {
                return Err(Error::InvalidName(name.clone()));
            }
        }
        if spec.init != crate::Init::Minimal {
            return Err(Error::Unsupported {
                backend: "kubernetes",
                reason: format!("a sandbox with {} as its init needs the native backend", spec.init),
            });
        }
        match self.find(&spec.name).await? {
            Some((info, true)) => return Ok(info),
            // Ended or ending (its node went away, it was evicted): start afresh, the files
            // are in the learner's volume.
            Some((_, false)) => self.delete_pod(&self.settings.pod_name(&spec.name)).await?,
            None => {}
        }
        if let Some(claim) = pod::claim(&self.settings, spec, Some(&self.anchor)) {
            match self.claims.create(&PostParams::default(), &claim).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(failed(format!("creating {}'s volume claim", spec.owner), e)),
            }
        }
        // Whole seconds, as the annotation keeps it: the same value comes back on adoption.
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs());
        let body = pod::pod(&self.settings, spec, started_at, Some(&self.anchor)).map_err(|e| Error::Backend(e.to_string()))?;
        let pod_name = self.settings.pod_name(&spec.name);
        self.pods.create(&PostParams::default(), &body).await.map_err(|e| failed(format!("creating {pod_name}"), e))?;
        if let Err(e) = self.wait_running(&pod_name).await {
            let _ = self.delete_pod(&pod_name).await;
            return Err(e);
        }
        tracing::info!(sandbox = %spec.name, pod = %pod_name, "kubernetes sandbox started");
        Ok(SandboxInfo { name: spec.name.clone(), owner: spec.owner.clone(), backend: "kubernetes".into(), started_at, spec: spec.clone() })
    }

    async fn running(&self) -> Result<Vec<SandboxInfo>> {
        let pods = self.pods.list(&self.ours(None)).await.map_err(|e| failed("listing pods", e))?;
        Ok(pods
            .items
            .iter()
            .filter(|p| phase(p) == "Running" && p.metadata.deletion_timestamp.is_none())
            .filter_map(pod::info_from)
            .collect())
    }

    async fn exec(&self, name: &str, request: ExecRequest) -> Result<ExecOutput> {
        exec::run(&self.pods, &self.settings.pod_name(name), name, request).await
    }

    async fn open_shell(&self, name: &str, request: ShellRequest) -> Result<Shell> {
        exec::shell(&self.pods, &self.settings.pod_name(name), name, request).await
    }

    async fn stop(&self, name: &str) -> Result<()> {
        if self.find(name).await?.is_none() {
            return Err(Error::NotFound(name.to_string()));
        }
        self.delete_pod(&self.settings.pod_name(name)).await?;
        tracing::info!(sandbox = name, "kubernetes sandbox stopped");
        Ok(())
    }

    async fn wipe(&self, owner: &str) -> Result<()> {
        if !valid_name(owner) {
            return Err(Error::InvalidName(owner.to_string()));
        }
        let list = self.ours(Some(owner));
        let pods = self.pods.list(&list).await.map_err(|e| failed("listing pods", e))?;
        match &self.settings.volumes {
            Volumes::Claim { .. } => {
                self.delete_pods(&list).await?;
                match self.claims.delete(&self.settings.claim_name(owner), &DeleteParams::default()).await {
                    Ok(_) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    Err(e) => Err(failed(format!("deleting {owner}'s volume claim"), e)),
                }
            }
            // A node's directory is only reachable from a pod that mounts it: empty it from the
            // learner's own pod (started for the purpose if none runs), then end the pod.
            Volumes::HostPath(_) => {
                let running = pods.iter().filter(|p| phase(p) == "Running").find_map(pod::info_from);
                let info = match running {
                    Some(info) => info,
                    None => {
                        let spec = SandboxSpec {
                            name: format!("wipe-{owner}").chars().take(63).collect::<String>().trim_end_matches('-').to_string(),
                            owner: owner.to_string(),
                            // Only `rm`: a small share, so that it fits where a learner's
                            // sandbox would not (no disk of its own; the files are the node's).
                            limits: crate::spec::Limits { memory_bytes: 64 << 20, cpu_millis: 100, pids: 64, disk_bytes: 0 },
                            devices: Vec::new(),
                            network: Default::default(),
                            init: crate::Init::Minimal,
                        };
                        self.start(&spec).await?
                    }
                };
                let out = self
                    .exec(&info.name, posix("find /root -mindepth 1 -maxdepth 1 -exec rm -rf {} +").timeout(Duration::from_secs(60)))
                    .await?;
                if !out.success() {
                    return Err(Error::Backend(format!("emptying {owner}'s files: {}", String::from_utf8_lossy(&out.stderr).trim())));
                }
                self.delete_pods(&list).await
            }
        }
    }

    async fn stats(&self, name: &str) -> Result<Stats> {
        exec::stats(&self.pods, &self.settings.pod_name(name), name).await
    }

    async fn processes(&self, name: &str) -> Result<Vec<Process>> {
        let out = self.exec(name, posix("ps -eo pid=,args=").timeout(Duration::from_secs(10))).await?;
        Ok(crate::backend::processes_from_ps(&out, "stacklab-exec"))
    }

    async fn kill(&self, name: &str, pid: i32, signal: i32) -> Result<()> {
        let out = self.exec(name, posix(&format!("kill -{signal} {pid}")).timeout(Duration::from_secs(10))).await?;
        crate::backend::kill_outcome(pid, &out)
    }

    /// The API server's port forward, which the kubelet (through the container runtime) makes
    /// from inside the pod's network namespace to its loopback: the same reach as the other
    /// backends' connect. Nothing is opened on any host.
    async fn connect(&self, name: &str, port: u16) -> Result<Connection> {
        let pod_name = self.settings.pod_name(name);
        let mut forward = match self.pods.portforward(&pod_name, &[port]).await {
            Ok(forward) => forward,
            Err(e) if is_not_found(&e) => return Err(Error::NotFound(name.to_string())),
            Err(e) => return Err(failed(format!("forwarding port {port} of {name}"), e)),
        };
        let stream = forward.take_stream(port).ok_or_else(|| Error::Backend(format!("no stream for port {port} of {name}")))?;
        // A port nothing listens on shows as an error message on the forward's error channel
        // (and the stream ends): kept for the operator's log; the learner sees the preview fail.
        if let Some(error) = forward.take_error(port) {
            let name = name.to_string();
            tokio::spawn(async move {
                if let Some(message) = error.await {
                    tracing::debug!(sandbox = name, port, "port forward: {message}");
                }
            });
        }
        Ok(Box::new(stream))
    }

    async fn room(&self, limits: &crate::spec::Limits) -> Result<Option<u64>> {
        Ok(Some(self.capacity(limits).await?.free()))
    }
}
