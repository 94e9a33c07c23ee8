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
        KubeConfig {
            kubeconfig: Some(self.kubeconfig.path().to_path_buf()),
            namespace: "default".into(),
            pods: busybox_pods(prefix),
            start_timeout: Duration::from_secs(120),
        }
    }
}

/// Starts sandbox `name` as a one-node cluster (room for the control plane and a few pods,
/// owned by `name`), and reaches it.
pub async fn start_node(backend: Arc<NativeBackend>, name: &str) -> anyhow::Result<FromHost> {
    let node = SandboxSpec {
        name: name.into(),
        owner: name.into(),
        limits: Limits { memory_bytes: 2 << 30, cpu_millis: 2000, pids: 2048, disk_bytes: 256 << 20 },
        devices: Vec::new(),
        network: Default::default(),
    };
    backend.start(&node).await?;
    super::start(&*backend, name).await.map_err(anyhow::Error::msg)?;
    reach(backend, name).await
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
/// directory: the lab image (1.7 GB) does not fit the sandboxed node's in-memory image store,
/// and the node has no volume provisioner.
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
