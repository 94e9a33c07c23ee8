//! Command line and environment configuration. Every flag can also be set through the
//! environment variable named next to it (`--help` lists them), which is how systemd units and
//! containers configure the server.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "stacklab", version, about = "A self-hosted lab workbook for teaching the stack from bare metal to Kubernetes")]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the workbook to a class.
    Serve(Box<ServeArgs>),
    /// Check or test the workbook content.
    #[command(subcommand)]
    Labs(LabsCommand),
    /// Build or check the lab image sandboxes start from.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Stop every sandbox a server on this data directory left running (files are kept).
    StopSandboxes {
        #[arg(long, env = "STACKLAB_DATA_DIR", default_value = "/var/lib/stacklab")]
        data_dir: PathBuf,
        #[arg(long = "sandbox-cgroup-root", env = "STACKLAB_SANDBOX_CGROUP_ROOT", default_value = "stacklab")]
        cgroup_root: String,
        #[arg(long = "sandbox-cgroup-parent", env = "STACKLAB_SANDBOX_CGROUP_PARENT", default_value = "")]
        cgroup_parent: String,
    },
    /// Keeps the cgroup systemd delegates to deploy/stacklab-sandboxes.service for the sandboxes
    /// (this process moves into a leaf of its own, so the rest can hold them), until stopped.
    HoldSandboxes,
    /// Internal: builds one sandbox in a fresh single-threaded process (run by the server).
    #[command(hide = true)]
    SandboxHelper,
}

#[derive(Debug, Subcommand)]
pub enum LabsCommand {
    /// Validate a content tree: every problem with file:line, exit code 1 if any.
    Check {
        /// The folder holding course.toml.
        #[arg(default_value_os_t = default_in_checkout("labs/workshop"))]
        dir: PathBuf,
    },
    /// Self-test labs in fresh sandboxes: checks must fail before each step's solution and pass
    /// after it. Labs needing a tier this host lacks are skipped, with the reason.
    Test {
        /// Labs to test (all if none).
        labs: Vec<String>,
        #[arg(long, env = "STACKLAB_LABS", default_value_os_t = default_in_checkout("labs/workshop"))]
        dir: PathBuf,
        #[arg(long, env = "STACKLAB_IMAGE", default_value = DEFAULT_IMAGE)]
        image: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build the lab image from Debian's packages (skipped when the one there is current).
    Build {
        /// The image folder.
        #[arg(long, env = "STACKLAB_IMAGE", default_value = DEFAULT_IMAGE)]
        out: PathBuf,
        /// Rebuild even if the image is current.
        #[arg(long)]
        force: bool,
        /// Keep downloaded packages here between builds.
        #[arg(long, env = "STACKLAB_PACKAGE_CACHE")]
        package_cache: Option<PathBuf>,
        /// Kubernetes binaries for the cluster tier (what scripts/build-kubernetes makes); without
        /// them the image has no cluster tier.
        #[arg(long, env = "STACKLAB_KUBERNETES")]
        kubernetes: Option<PathBuf>,
    },
    /// Check an image the way the server does at start.
    Check {
        #[arg(long, env = "STACKLAB_IMAGE", default_value = DEFAULT_IMAGE)]
        image: PathBuf,
    },
}

pub const DEFAULT_IMAGE: &str = "/var/lib/stacklab/images/lab";

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log filter in `tracing` EnvFilter syntax; RUST_LOG is read too.
    #[arg(long, global = true, env = "STACKLAB_LOG", default_value = "info,tower_http=info")]
    pub log_filter: String,
    /// `text` for people, `json` for log collectors.
    #[arg(long, global = true, env = "STACKLAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "STACKLAB_ADDR", default_value = "0.0.0.0:3000")]
    pub addr: SocketAddr,
    /// The content tree to serve (the folder holding `course.toml`).
    #[arg(long, env = "STACKLAB_LABS", default_value_os_t = default_in_checkout("labs/workshop"))]
    pub labs: PathBuf,
    /// The built site (wasm, JavaScript, CSS) that `scripts/build` writes.
    #[arg(long, env = "STACKLAB_SITE_ROOT", default_value_os_t = default_in_checkout("target/site"))]
    pub site_root: PathBuf,
    /// Where learners' files, the database and sandboxes' state live.
    #[arg(long, env = "STACKLAB_DATA_DIR", default_value = "/var/lib/stacklab")]
    pub data_dir: PathBuf,
    /// The store: `postgres://USER:PASSWORD@HOST/DB` for PostgreSQL, or `sqlite://PATH`;
    /// default: SQLite in `<data-dir>/stacklab.db`.
    #[arg(long, env = "STACKLAB_DATABASE", hide_env_values = true)]
    pub database: Option<String>,
    /// The lab image sandboxes start from (`stacklab image build` makes it).
    #[arg(long, env = "STACKLAB_IMAGE", default_value = DEFAULT_IMAGE)]
    pub image: PathBuf,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// The instructor's login token (random at every start if not given; the login link is
    /// printed in the log).
    #[arg(long, env = "STACKLAB_INSTRUCTOR_TOKEN", hide_env_values = true)]
    pub instructor_token: Option<String>,
    /// Also let the instructor in with this password (on /instructor).
    #[arg(long, env = "STACKLAB_INSTRUCTOR_PASSWORD", hide_env_values = true)]
    pub instructor_password: Option<String>,
    /// Join code of the open class made at first start (random if not given).
    #[arg(long, env = "STACKLAB_CLASS_CODE")]
    pub class_code: Option<String>,
    /// Seconds to wait for open connections after SIGTERM/Ctrl-C before exiting anyway.
    #[arg(long, env = "STACKLAB_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace: u64,
    /// Host ports for web previews of learners' services, one per open preview: `FIRST-LAST`
    /// (to open in a firewall), `any` (free ports the kernel gives) or `off`.
    #[arg(long = "preview-ports", env = "STACKLAB_PREVIEW_PORTS", default_value = "any")]
    pub preview_ports: crate::previews::PortRange,
    #[command(flatten)]
    pub oidc: OidcArgs,
    #[command(flatten)]
    pub lti: LtiArgs,
}

/// Stacklab as an LTI 1.3 tool in the school's LMS: on when `--public-url` is given.
#[derive(Debug, Default, Args)]
pub struct LtiArgs {
    /// Where people reach this server (https://labs.school.edu): the LMS is given the tool's
    /// URLs under it (/lti/login, /lti/launch, /lti/jwks). Without it, LTI is off.
    #[arg(long = "public-url", env = "STACKLAB_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A TOML file of LMS registrations (`[[platform]]` entries), read at each start; more can be
    /// added on the administrator's page.
    #[arg(long = "lti-platforms", env = "STACKLAB_LTI_PLATFORMS")]
    pub platforms: Option<PathBuf>,
}

impl LtiArgs {
    /// The public URL (checked) and the registrations of the file, or what is wrong with them.
    pub fn settings(&self) -> anyhow::Result<Option<(String, Vec<crate::store::lti::NewPlatform>)>> {
        let Some(url) = &self.public_url else {
            anyhow::ensure!(self.platforms.is_none(), "--lti-platforms needs --public-url (the address the LMS reaches this server at)");
            return Ok(None);
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("--public-url {url:?} is not a URL: {e}"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https") && parsed.query().is_none() && parsed.fragment().is_none(),
            "--public-url must be an http(s) URL without a query, like https://labs.school.edu, not {url:?}"
        );
        let platforms = match &self.platforms {
            Some(path) => crate::lti::platforms::read_file(path)?,
            None => Vec::new(),
        };
        Ok(Some((url.trim_end_matches('/').to_string(), platforms)))
    }
}

/// Sign-in with the school's OpenID Connect provider: off unless `--oidc-issuer` is given.
#[derive(Debug, Default, Args)]
pub struct OidcArgs {
    /// The provider's issuer URL (its discovery document is at ISSUER/.well-known/openid-configuration).
    #[arg(long = "oidc-issuer", env = "STACKLAB_OIDC_ISSUER")]
    pub issuer: Option<String>,
    /// The client id Stacklab is registered under at the provider.
    #[arg(long = "oidc-client-id", env = "STACKLAB_OIDC_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The client's secret (leave it out for a public client: PKCE alone).
    #[arg(long = "oidc-client-secret", env = "STACKLAB_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Where the provider sends people back, as registered there: https://HOST/auth/oidc/callback.
    #[arg(long = "oidc-redirect-url", env = "STACKLAB_OIDC_REDIRECT_URL")]
    pub redirect_url: Option<String>,
    /// The scopes asked for, separated by spaces.
    #[arg(long = "oidc-scopes", env = "STACKLAB_OIDC_SCOPES", default_value = "openid profile email")]
    pub scopes: String,
    /// The claim holding a person's display name (a dotted path reaches into nested claims).
    #[arg(long = "oidc-name-claim", env = "STACKLAB_OIDC_NAME_CLAIM", default_value = "name")]
    pub name_claim: String,
    /// CLAIM=VALUE: the claim whose value is, or lists, VALUE makes someone staff (e.g.
    /// `groups=teachers`, `realm_access.roles=teacher`). Without it nobody signs in as staff.
    #[arg(long = "oidc-staff", env = "STACKLAB_OIDC_STAFF")]
    pub staff: Option<String>,
    /// How the sign-in button names the provider ("Sign in with …").
    #[arg(long = "oidc-label", env = "STACKLAB_OIDC_LABEL", default_value = "your school account")]
    pub label: String,
}

impl OidcArgs {
    /// The provider's settings, `None` when sign-in is off; an error names the flag to fix.
    pub fn settings(&self) -> anyhow::Result<Option<crate::identity::oidc::OidcSettings>> {
        let Some(issuer) = self.issuer.clone() else {
            anyhow::ensure!(
                self.client_id.is_none() && self.redirect_url.is_none() && self.staff.is_none(),
                "the --oidc-* settings need --oidc-issuer (the provider's URL)"
            );
            return Ok(None);
        };
        let needed = |value: &Option<String>, flag: &str| {
            value.clone().filter(|v| !v.trim().is_empty()).ok_or_else(|| anyhow::anyhow!("--oidc-issuer needs {flag} too"))
        };
        let staff = match self.staff.as_deref() {
            None => None,
            Some(rule) => match rule.split_once('=') {
                Some((claim, value)) if !claim.trim().is_empty() && !value.trim().is_empty() => {
                    Some((claim.trim().to_string(), value.trim().to_string()))
                }
                _ => anyhow::bail!("--oidc-staff wants CLAIM=VALUE (e.g. groups=teachers), not {rule:?}"),
            },
        };
        Ok(Some(crate::identity::oidc::OidcSettings {
            issuer,
            client_id: needed(&self.client_id, "--oidc-client-id")?,
            client_secret: self.client_secret.clone().filter(|s| !s.is_empty()),
            redirect_url: needed(&self.redirect_url, "--oidc-redirect-url")?,
            scopes: self.scopes.split_whitespace().map(str::to_string).collect(),
            rules: crate::identity::claims::ClaimRules { name: self.name_claim.clone(), staff },
            label: self.label.clone(),
        }))
    }
}

/// Limits and lifetimes of the learners' sandboxes.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Where sandboxes run: `native` (namespaces on this host; needs root and the lab image) or
    /// `none` (slides and quizzes only: no terminals, no checks).
    #[arg(long = "sandbox-backend", env = "STACKLAB_SANDBOX_BACKEND", value_enum, default_value_t = BackendKind::Native)]
    pub backend: BackendKind,
    /// Memory per sandbox (K, M, G suffixes).
    #[arg(long = "sandbox-memory", env = "STACKLAB_SANDBOX_MEMORY", default_value = "1G", value_parser = parse_size)]
    pub memory: u64,
    /// CPU per sandbox, in cores (0.5 = half a core).
    #[arg(long = "sandbox-cpus", env = "STACKLAB_SANDBOX_CPUS", default_value_t = 1.0)]
    pub cpus: f64,
    /// Processes per sandbox (a fork bomb stops here).
    #[arg(long = "sandbox-pids", env = "STACKLAB_SANDBOX_PIDS", default_value_t = 512)]
    pub pids: u32,
    /// Size of each learner's writable layer; 0 puts it in a plain directory without a limit.
    #[arg(long = "sandbox-disk", env = "STACKLAB_SANDBOX_DISK", default_value = "4G", value_parser = parse_size)]
    pub disk: u64,
    /// A sandbox nobody used for this long is stopped (its files stay).
    #[arg(long = "sandbox-idle", env = "STACKLAB_SANDBOX_IDLE", default_value = "30m", value_parser = humantime::parse_duration)]
    pub idle: std::time::Duration,
    /// A sandbox is stopped this long after it started, unless extended (its files stay).
    #[arg(long = "sandbox-lifetime", env = "STACKLAB_SANDBOX_LIFETIME", default_value = "4h", value_parser = humantime::parse_duration)]
    pub lifetime: std::time::Duration,
    /// A learner with no page of the server open who typed nothing for this long has left: their
    /// step is no longer checked in the background until they come back.
    #[arg(long = "away-after", env = "STACKLAB_AWAY_AFTER", default_value = "10m", value_parser = humantime::parse_duration)]
    pub away_after: std::time::Duration,
    /// At most this many sandboxes run at once; learners beyond wait in line, told their place
    /// and an estimate (default: no limit on this host; on Kubernetes, what the cluster has room
    /// for).
    #[arg(long = "max-sandboxes", env = "STACKLAB_MAX_SANDBOXES", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_running: Option<u32>,
    /// Give learners' sandboxes /dev/kvm even where the kernel predates the fixes for the 2026
    /// KVM escapes or nested virtualization is on (by default they get TCG there; see
    /// server/src/kvm.rs).
    #[arg(long = "kvm-on-vulnerable-host", env = "STACKLAB_KVM_ON_VULNERABLE_HOST")]
    pub kvm_on_vulnerable_host: bool,
    /// `isolated`: loopback only (the default). `outbound`: also `eth0`, NATed out through the
    /// host (needs iptables; the host and other sandboxes stay unreachable).
    #[arg(long = "sandbox-network", env = "STACKLAB_SANDBOX_NETWORK", value_enum, default_value_t = NetworkKind::Isolated)]
    pub network: NetworkKind,
    /// Addresses for sandboxes with outbound networking (a /30 each).
    #[arg(long = "sandbox-outbound-cidr", env = "STACKLAB_SANDBOX_OUTBOUND_CIDR", default_value = "10.213.0.0/16")]
    pub outbound_cidr: String,
    /// The directory under each cgroup hierarchy for this server's sandboxes (one server per
    /// name on a host).
    #[arg(long = "sandbox-cgroup-root", env = "STACKLAB_SANDBOX_CGROUP_ROOT", default_value = "stacklab")]
    pub cgroup_root: String,
    /// Where that directory goes in each hierarchy (default: its top). Under systemd: the cgroup
    /// of deploy/stacklab-sandboxes.service, which delegates it, e.g.
    /// `system.slice/stacklab-sandboxes.service` (the units in deploy/ set it).
    #[arg(long = "sandbox-cgroup-parent", env = "STACKLAB_SANDBOX_CGROUP_PARENT", default_value = "")]
    pub cgroup_parent: String,
    /// First host uid of the ranges the sandboxes' roots map to (65536 per learner).
    #[arg(long = "sandbox-uid-base", env = "STACKLAB_SANDBOX_UID_BASE", default_value_t = 1_000_000_000)]
    pub uid_base: u32,
    /// The Docker backend: the engine's socket (default: DOCKER_HOST, else /var/run/docker.sock).
    #[arg(long = "docker-socket", env = "STACKLAB_DOCKER_SOCKET")]
    pub docker_socket: Option<String>,
    /// The Docker backend: the lab image as Docker knows it (default: `stacklab/lab:<recipe
    /// hash>` of --image, as the scripts import it).
    #[arg(long = "docker-image", env = "STACKLAB_DOCKER_IMAGE")]
    pub docker_image: Option<String>,
    /// The Docker backend: a container runtime to use (default: Sysbox's where the engine has
    /// it, else the engine's default).
    #[arg(long = "docker-runtime", env = "STACKLAB_DOCKER_RUNTIME")]
    pub docker_runtime: Option<String>,
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// The Kubernetes backend's settings (docs/src/backends.md: the Kubernetes backend).
#[derive(Debug, Args)]
pub struct KubeArgs {
    /// A kubeconfig file (default: the service account in a pod, else $KUBECONFIG or
    /// ~/.kube/config).
    #[arg(long = "kube-config", env = "STACKLAB_KUBE_CONFIG")]
    pub kube_config: Option<PathBuf>,
    /// The namespace for sandbox pods (default: the server pod's own, else `stacklab`).
    #[arg(long = "kube-namespace", env = "STACKLAB_KUBE_NAMESPACE")]
    pub kube_namespace: Option<String>,
    /// The lab image as the cluster pulls it (default: `stacklab/lab:<recipe hash>` of --image).
    #[arg(long = "kube-image", env = "STACKLAB_KUBE_IMAGE")]
    pub kube_image: Option<String>,
    #[arg(long = "kube-image-pull-policy", env = "STACKLAB_KUBE_IMAGE_PULL_POLICY", default_value = "IfNotPresent",
          value_parser = ["Always", "IfNotPresent", "Never"])]
    pub kube_image_pull_policy: String,
    /// A RuntimeClass for sandbox pods: gVisor, Kata Containers or Sysbox isolate them from the
    /// node, and then they get the demos' capabilities.
    #[arg(long = "kube-runtime-class", env = "STACKLAB_KUBE_RUNTIME_CLASS")]
    pub kube_runtime_class: Option<String>,
    /// Whether sandbox pods are isolated from the node's root (default: when a runtime class is
    /// given). Say `true` for nodes that run Kubernetes in a user namespace.
    #[arg(long = "kube-isolating", env = "STACKLAB_KUBE_ISOLATING")]
    pub kube_isolating: Option<bool>,
    /// Nodes for sandboxes: `key=value,...`.
    #[arg(long = "kube-node-selector", env = "STACKLAB_KUBE_NODE_SELECTOR", value_parser = parse_node_selector, default_value = "")]
    pub kube_node_selector: std::collections::BTreeMap<String, String>,
    /// Taints sandbox pods tolerate: `key=value:Effect,key:Effect,...`.
    #[arg(long = "kube-tolerations", env = "STACKLAB_KUBE_TOLERATIONS", default_value = "")]
    pub kube_tolerations: String,
    /// The learners' files: `claim` (a PersistentVolumeClaim each, the default storage class),
    /// `claim:CLASS`, or `hostpath:/DIR` (a directory on the node: single-node clusters).
    #[arg(long = "kube-volumes", env = "STACKLAB_KUBE_VOLUMES", default_value = "claim")]
    pub kube_volumes: String,
    /// How long a sandbox pod may take to run (scheduling, pulling the image).
    #[arg(long = "kube-start-timeout", env = "STACKLAB_KUBE_START_TIMEOUT", default_value = "5m", value_parser = humantime::parse_duration)]
    pub kube_start_timeout: std::time::Duration,
}

fn parse_node_selector(text: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| pair.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("{pair:?}: use key=value")))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NetworkKind {
    Isolated,
    Outbound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// Namespaces on this host, made by the server itself.
    Native,
    /// Containers on a Docker Engine (bollard).
    Docker,
    /// Pods on a Kubernetes cluster (kube-rs).
    Kubernetes,
    /// No sandboxes: slides and quizzes only.
    None,
}

/// "512M", "4G", "1.5G" or plain bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&text[..i], text[i..].to_ascii_uppercase()),
        None => (text, String::new()),
    };
    let multiplier: u64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("{text:?}: use a number with K, M, G or T")),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a size"))?;
    if value < 0.0 {
        return Err(format!("{text:?} is negative"));
    }
    Ok((value * multiplier as f64) as u64)
}

/// A path inside the source checkout this binary was built from, unless the working directory
/// has it: so `stacklab serve` works from the checkout and from anywhere on the build machine.
fn default_in_checkout(relative: &str) -> PathBuf {
    let here = PathBuf::from(relative);
    if here.exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_reads_flags() {
        let cli = Cli::parse_from(["stacklab", "serve", "--addr", "127.0.0.1:0", "--data-dir", "/tmp/x"]);
        let Command::Serve(args) = cli.command else { panic!("not serve") };
        assert_eq!(args.addr.port(), 0);
        assert_eq!(args.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(args.sandbox.memory, 1 << 30);
        assert_eq!(args.sandbox.idle, std::time::Duration::from_secs(1800));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5Q").is_err());
    }
}
