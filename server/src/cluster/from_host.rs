//! A cluster-tier sandbox as the Kubernetes backend's cluster: its API server reached from the
//! host through a port on the host's loopback forwarded into the sandbox's network namespace,
//! and its admin kubeconfig pointed there. The Kubernetes backend's test and bench run their
//! pods this way on the offline Kubernetes from Debian's sources, so everything those pods do
//! stays inside that sandbox's user namespace.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use sandbox::kubernetes::{Isolation, KubeConfig, PodSettings, Volumes};
use sandbox::native::NativeBackend;
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec};

/// Where the cluster tier's API server listens, inside the sandbox.
const API_SERVER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 6443);

/// A running cluster's API server, reachable from the host while this lives.
pub struct FromHost {
    /// The forwarded port on 127.0.0.1.
    pub port: u16,
    /// The cluster's admin kubeconfig, its server at the forwarded port.
    pub admin: String,
    /// `admin` in a file, for the backend.
    kubeconfig: tempfile::NamedTempFile,
    forward: tokio::task::JoinHandle<()>,
}

impl FromHost {
    /// The Kubernetes backend on this cluster as its admin, in namespace `default`, with pods
    /// named after `prefix` (see [`busybox_pods`]).
    pub fn config(&self, prefix: &str) -> KubeConfig {
        self.config_with(busybox_pods(prefix))
    }

    /// As [`config`](Self::config), with pods of the lab image as production runs them, once
    /// [`import`]ed: the demos' capabilities, since the node is Kubernetes in a user namespace
    /// (`Isolation::Isolating`).
    pub fn lab_config(&self, prefix: &str, image: &str) -> KubeConfig {
        self.config_with(PodSettings {
            image: image.into(),
            init: sandbox::kubernetes::pod::INIT.iter().map(|s| s.to_string()).collect(),
            isolation: Isolation::Isolating,
            ..busybox_pods(prefix)
        })
    }

    fn config_with(&self, pods: PodSettings) -> KubeConfig {
        KubeConfig {
            kubeconfig: Some(self.kubeconfig.path().to_path_buf()),
            namespace: "default".into(),
            pods,
            start_timeout: Duration::from_secs(120),
        }
    }
}

/// containerd's image store in the cluster tier (lab-cluster's `own_tmpfs`).
const STORE: &str = "/var/lib/containerd";

/// How big a node [`start_node_sized`] makes.
pub struct NodeSize {
    pub memory_bytes: u64,
    /// containerd's image store, a tmpfs (`mount`'s size: `8g`); `None`: lab-cluster's own
    /// (1 GiB, room for the cluster tier's images but not the lab image).
    pub image_store: Option<&'static str>,
}

impl NodeSize {
    /// Room for the control plane and a few busybox pods.
    pub const SMALL: NodeSize = NodeSize { memory_bytes: 2 << 30, image_store: None };
}

/// Starts sandbox `name` as a one-node cluster (room for the control plane and a few pods,
/// owned by `name`), and reaches it.
pub async fn start_node(backend: Arc<NativeBackend>, name: &str) -> anyhow::Result<FromHost> {
    start_node_sized(backend, name, NodeSize::SMALL).await
}

/// As [`start_node`], `size` big.
pub async fn start_node_sized(backend: Arc<NativeBackend>, name: &str, size: NodeSize) -> anyhow::Result<FromHost> {
    let node = SandboxSpec {
        name: name.into(),
        owner: name.into(),
        limits: Limits { memory_bytes: size.memory_bytes, cpu_millis: 2000, pids: 2048, disk_bytes: 256 << 20 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    };
    backend.start(&node).await?;
    if let Some(store) = size.image_store {
        // lab-cluster leaves a tmpfs it finds mounted there as it is.
        let mount = format!("mkdir -p {STORE} && mount -t tmpfs -o mode=0711,size={store} tmpfs {STORE}");
        let out = backend.exec(name, ExecRequest::script(&mount).timeout(Duration::from_secs(10))).await?;
        anyhow::ensure!(out.success(), "{mount}: {}", String::from_utf8_lossy(&out.stderr));
    }
    super::start(&*backend, name).await.map_err(anyhow::Error::msg)?;
    reach(backend, name).await
}

/// Imports the image archive at `archive` (inside sandbox `name`, a docker-archive tar) into
/// its cluster's containerd, where the kubelet finds it (the cluster has no registry).
pub async fn import(backend: &NativeBackend, name: &str, archive: &str) -> anyhow::Result<()> {
    let import = format!("ctr --address /run/containerd/containerd.sock -n k8s.io images import {archive}");
    let out = backend.exec(name, ExecRequest::script(&import).timeout(Duration::from_secs(900))).await?;
    anyhow::ensure!(out.success(), "{import}: {:?} {}", out.end, String::from_utf8_lossy(&out.stderr));
    Ok(())
}

impl Drop for FromHost {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

/// Reaches the cluster running (`lab-cluster start`) in sandbox `name`.
async fn reach(backend: Arc<NativeBackend>, name: &str) -> anyhow::Result<FromHost> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let port = listener.local_addr()?.port();
    let out = backend.exec(name, ExecRequest::script("cat /etc/kubernetes/admin.conf").timeout(Duration::from_secs(10))).await?;
    anyhow::ensure!(out.success(), "no admin kubeconfig in {name}: {}", String::from_utf8_lossy(&out.stderr));
    let admin = out
        .stdout_text()
        .lines()
        .map(|l| if l.trim_start().starts_with("server:") { format!("    server: https://127.0.0.1:{port}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    let kubeconfig = tempfile::NamedTempFile::new()?;
    std::fs::write(kubeconfig.path(), &admin)?;
    let name = name.to_string();
    let forward = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (backend, name) = (backend.clone(), name.clone());
            tokio::spawn(async move {
                let inside = tokio::task::spawn_blocking(move || backend.connect_inside(&name, API_SERVER)).await;
                let Ok(Ok(inside)) = inside else { return };
                let Ok(mut upstream) = inside.set_nonblocking(true).and_then(|()| tokio::net::TcpStream::from_std(inside)) else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    Ok(FromHost { port, admin, kubeconfig, forward })
}

/// Pods of the cluster tier's own `localhost/busybox:1.0`, with the learners' files in a node
/// directory (the node has no volume provisioner): quick to start, and they fit a small node,
/// whose in-memory image store has no room for the lab image (1.7 GB).
fn busybox_pods(prefix: &str) -> PodSettings {
    PodSettings {
        prefix: prefix.into(),
        image: "localhost/busybox:1.0".into(),
        image_pull_policy: "Never".into(),
        // busybox has no catatonit: a shell that waits, and ends on SIGTERM.
        init: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"].map(String::from).to_vec(),
        runtime_class: None,
        isolation: Isolation::Plain,
        node_selector: Default::default(),
        tolerations: Vec::new(),
        // On the node's own tmpfs (see lab-cluster): the sandbox's root carries mount flags
        // runc may not touch.
        volumes: Volumes::HostPath("/var/lib/kubelet/stacklab-homes".into()),
    }
}
