//! `crictl` for the lab image. No Debian suite ships crictl and these machines cannot download
//! it, so the cluster tier brings this one: the subcommands the labs and the workshop's Demo 4
//! use, with crictl's flags and output shapes, speaking CRI v1 to containerd's socket exactly
//! as kubelet does (through the `k8s-cri` crate). Where the real crictl is installed (k3s ships
//! it) the image's PATH finds that one first.

mod cri;
mod output;

use anyhow::Context;
use clap::{Parser, Subcommand};

const DEFAULT_ENDPOINT: &str = "unix:///run/containerd/containerd.sock";
/// Where k3s's containerd listens (the k3s cluster provider).
const K3S_ENDPOINT: &str = "unix:///run/k3s/containerd/containerd.sock";

#[derive(Parser)]
#[command(name = "crictl", version, about = "Talk to the node's container runtime over the CRI (the calls kubelet makes)")]
struct Cli {
    /// The runtime's CRI socket.
    #[arg(short = 'r', long, global = true, env = "CONTAINER_RUNTIME_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    runtime_endpoint: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List pod sandboxes.
    Pods {
        /// Only pods whose name contains this.
        #[arg(long)]
        name: Option<String>,
        /// Only pods in this namespace.
        #[arg(long)]
        namespace: Option<String>,
        /// Only pods in this state (ready, notready).
        #[arg(short = 's', long)]
        state: Option<String>,
        /// Only print pod ids.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// Show full ids.
        #[arg(long)]
        no_trunc: bool,
    },
    /// List containers (running ones unless --all).
    Ps {
        #[arg(short = 'a', long)]
        all: bool,
        /// Only containers of this pod sandbox (id or its prefix).
        #[arg(short = 'p', long)]
        pod: Option<String>,
        /// Only containers whose name contains this.
        #[arg(long)]
        name: Option<String>,
        #[arg(short = 'q', long)]
        quiet: bool,
        #[arg(long)]
        no_trunc: bool,
    },
    /// List images.
    Images {
        #[arg(short = 'q', long)]
        quiet: bool,
        #[arg(long)]
        no_trunc: bool,
    },
    /// The runtime's status and configuration.
    Info,
    /// A container's status and the runtime's view of it (JSON).
    Inspect {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// A pod sandbox's status and the runtime's view of it (JSON).
    Inspectp {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// A container's output.
    Logs {
        id: String,
        /// Only the last N lines.
        #[arg(long)]
        tail: Option<usize>,
    },
    /// Run a command in a running container.
    Exec {
        #[arg(short = 'i', long)]
        interactive: bool,
        #[arg(short = 't', long)]
        tty: bool,
        /// Seconds before the command is stopped (0: no limit).
        #[arg(long, default_value_t = 0)]
        timeout: i64,
        id: String,
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Pull an image: from the node's own image archives for `localhost/` images, else from
    /// its registry.
    Pull { image: String },
    /// Stop pod sandboxes.
    Stopp {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Remove pod sandboxes.
    Rmp {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("crictl: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let exists = |endpoint: &str| std::path::Path::new(endpoint.trim_start_matches("unix://")).exists();
    let endpoint = if cli.runtime_endpoint == DEFAULT_ENDPOINT && !exists(DEFAULT_ENDPOINT) && exists(K3S_ENDPOINT) {
        K3S_ENDPOINT.to_string()
    } else {
        cli.runtime_endpoint
    };
    let mut cri = cri::Cri::connect(&endpoint).await.with_context(|| format!("connecting to {endpoint}"))?;
    match cli.command {
        Command::Pods { name, namespace, state, quiet, no_trunc } => {
            let pods = cri.pods(state.as_deref()).await?;
            let pods = pods.into_iter().filter(|p| {
                let meta = p.metadata.clone().unwrap_or_default();
                name.as_ref().is_none_or(|n| meta.name.contains(n.as_str()))
                    && namespace.as_ref().is_none_or(|n| meta.namespace.contains(n.as_str()))
            });
            output::pods(pods.collect(), quiet, no_trunc);
        }
        Command::Ps { all, pod, name, quiet, no_trunc } => {
            let pod = match pod {
                Some(prefix) => Some(cri.resolve_pod(&prefix).await?),
                None => None,
            };
            let containers = cri.containers(all, pod.as_deref()).await?;
            let containers = containers
                .into_iter()
                .filter(|c| name.as_ref().is_none_or(|n| c.metadata.as_ref().is_some_and(|m| m.name.contains(n.as_str()))));
            output::containers(containers.collect(), quiet, no_trunc);
        }
        Command::Images { quiet, no_trunc } => output::images(cri.images().await?, quiet, no_trunc),
        Command::Info => println!("{}", cri.info().await?),
        Command::Inspect { ids } => {
            for id in ids {
                println!("{}", cri.inspect(&id).await?);
            }
        }
        Command::Inspectp { ids } => {
            for id in ids {
                println!("{}", cri.inspectp(&id).await?);
            }
        }
        Command::Logs { id, tail } => {
            let path = cri.log_path(&id).await?;
            output::logs(&path, tail)?;
        }
        Command::Exec { interactive, tty, timeout, id, command } => {
            if interactive || tty {
                anyhow::bail!(
                    "this crictl runs commands without a terminal only (exec ID CMD); for a shell use kubectl exec -it POD -- sh"
                );
            }
            let (stdout, stderr, code) = cri.exec(&id, command, timeout).await?;
            use std::io::Write;
            std::io::stdout().write_all(&stdout)?;
            std::io::stderr().write_all(&stderr)?;
            return Ok(code);
        }
        Command::Pull { image } => {
            let id = cri.pull(&image).await?;
            println!("Image is up to date for {id}");
        }
        Command::Stopp { ids } => {
            for id in ids {
                let full = cri.resolve_pod(&id).await?;
                cri.stop_pod(&full).await?;
                println!("Stopped sandbox {id}");
            }
        }
        Command::Rmp { ids } => {
            for id in ids {
                let full = cri.resolve_pod(&id).await?;
                cri.remove_pod(&full).await?;
                println!("Removed sandbox {id}");
            }
        }
    }
    Ok(0)
}
