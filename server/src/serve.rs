//! `stacklab serve`: load the content, build the web app, listen, and shut down gracefully.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cli::{BackendKind, ServeArgs};
use crate::sandboxes::{Policy, Sandboxes};
use crate::store::{SqlStore, Store};
use crate::web::auth;
use crate::web::{self, AppState};

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // A lab with problems is left out and the rest served; the instructor sees why on the
    // dashboard. A problem outside the labs (course, session, deck, quiz) stops the start.
    let course = match labs::load::load_serving(&args.labs) {
        Ok(course) => course,
        Err(problems) => {
            for problem in problems.iter() {
                tracing::error!("{problem}");
            }
            bail!("the content in {} has {} problem(s); fix them and start again", args.labs.display(), problems.len());
        }
    };
    for warning in course.warnings.iter() {
        tracing::warn!("{warning}");
    }
    for problem in course.untranslated.iter() {
        tracing::error!("{problem} (this translated copy is not served)");
    }
    let content_notes: Vec<String> = course.left_out.iter().map(|l| l.note(&course.root)).collect();
    for note in &content_notes {
        tracing::error!("{note}");
    }
    tracing::info!(labs = %args.labs.display(), sessions = course.sessions.len(), left_out = course.left_out.len(), "content loaded");

    // Checked before anything starts: a typo in the registrations file stops here, naming it.
    let lti = args.lti.settings()?;
    let shutdown = CancellationToken::new();
    let (sandboxes, host_notes) = open_sandboxes(&args).await?;
    if let Some(s) = &sandboxes {
        s.spawn_reaper(Duration::from_secs(15), shutdown.clone());
    }
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let db = args.database.clone().unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("stacklab.db").display()));
    // The URL may hold a password: only its scheme and place go to errors and logs.
    let shown =
        db.split_once('@').map_or(db.clone(), |(scheme, place)| format!("{}://…@{place}", scheme.split("://").next().unwrap_or("")));
    let store: Arc<dyn Store> = Arc::new(SqlStore::open_url(&db).await.with_context(|| format!("opening the database {shown}"))?);
    tracing::info!(database = %shown, "store open");
    let key = auth::load_or_create_key(&args.data_dir).context("the cookie key")?;
    ensure_a_class(&*store, args.class_code.as_deref()).await?;
    let purged = store.purge_expired_sessions().await?;
    tracing::debug!(purged, "expired sessions deleted");
    let mut state = AppState::new(Arc::new(course), store.clone(), key, &args.site_root, args.addr, shutdown.clone());
    state.host_notes = Arc::new([content_notes, host_notes].concat());
    if let Some(settings) = args.oidc.settings()? {
        // A provider reached over HTTPS means the server is too: its cookies say so.
        state.secure_cookies |= settings.redirect_url.starts_with("https://");
        let oidc = Arc::new(crate::identity::oidc::Oidc::new(settings)?);
        tokio::spawn({
            let oidc = oidc.clone();
            async move { oidc.probe().await }
        });
        state.oidc = Some(oidc);
    }
    if let Some((public_url, platforms)) = lti {
        state.secure_cookies |= public_url.starts_with("https://");
        for platform in &platforms {
            store.save_lti_platform(platform, true).await.with_context(|| format!("--lti-platforms: {}", platform.label))?;
        }
        let lti = crate::lti::Lti::new(store.clone(), &public_url).await.context("the LTI tool's keys")?;
        tracing::info!(platforms = platforms.len(), jwks = %lti.url("/lti/jwks"), "LTI 1.3 tool on");
        tokio::spawn(crate::lti::grades::follow(lti.clone(), state.course.clone(), state.updates.clone()));
        tokio::spawn(crate::lti::grades::deliver(lti.clone(), shutdown.clone()));
        state.lti = Some(lti);
    }
    if let Some(sandboxes) = sandboxes {
        // Sandboxes from the last run: spares stay spares, learners get their class's lifetime.
        let mut learners = std::collections::HashSet::new();
        for class in store.classes().await? {
            learners.extend(store.learners(&class.id).await?.into_iter().map(|l| l.id));
        }
        sandboxes.adopt_spares(&learners);
        state = state
            .with_sandboxes(sandboxes, web::LiveSettings { away_after: args.sandbox.away_after, data_dir: args.data_dir.clone() })
            .with_previews(args.preview_ports.clone());
        for class in store.classes().await? {
            web::instructor::apply_terms(&state, &class).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    let (access, token) = crate::web::instructor::InstructorAccess::start(
        &args.data_dir,
        args.instructor_token.clone(),
        args.instructor_password.as_deref(),
    )?;
    state.instructor = access;
    let host = if args.addr.ip().is_unspecified() { "localhost".to_string() } else { args.addr.ip().to_string() };
    tracing::info!("instructor: http://{host}:{}/instructor/login?token={token}", args.addr.port());
    if let Some(progress) = &state.progress {
        progress.spawn_timer(crate::checks::RECHECK_EVERY, shutdown.clone());
        web::instructor::schedule::spawn(state.clone(), shutdown.clone());
    }
    let app = web::router(state);

    let listener = TcpListener::bind(args.addr).await.with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    tracing::info!("listening on http://{local}");

    let server = web::listen::serve(listener, app, wait_then_cancel(shutdown.clone()));
    let grace = Duration::from_secs(args.shutdown_grace);
    tokio::select! {
        () = server => {}
        () = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("connections still open {grace:?} after the shutdown signal; exiting anyway");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Until the instructor makes classes, there is one open class whose code is in the log.
async fn ensure_a_class(store: &dyn Store, code: Option<&str>) -> anyhow::Result<()> {
    let existing = match code {
        Some(code) => store.class_by_code(code).await?,
        None => store.classes().await?.into_iter().next(),
    };
    let class = match existing {
        Some(class) => class,
        None => store.create_class("Open class", code, &Default::default()).await?,
    };
    tracing::info!(class = %class.name, "learners join with code {}", class.join_code);
    Ok(())
}

/// The sandbox backend the flags ask for, with a clear error when this host cannot run it; and
/// what the instructor should know about this host's sandboxes.
async fn open_sandboxes(args: &ServeArgs) -> anyhow::Result<(Option<Arc<Sandboxes>>, Vec<String>)> {
    let cpu_millis = (args.sandbox.cpus * 1000.0).round() as u32;
    let host_has = |d: &sandbox::Device| std::path::Path::new(d.path()).exists();
    let kvm = crate::kvm::judge(&crate::kvm::HostKvm::read(), args.sandbox.kvm_on_vulnerable_host);
    let mut notes = Vec::new();
    if host_has(&sandbox::Device::Kvm)
        && args.sandbox.backend != BackendKind::Kubernetes
        && let Some(note) = &kvm.note
    {
        tracing::warn!("{note}");
        notes.push(note.clone());
    }
    let policy = Policy {
        limits: sandbox::Limits { memory_bytes: args.sandbox.memory, cpu_millis, pids: args.sandbox.pids, disk_bytes: args.sandbox.disk },
        // Every tier's device, where the host has it (a class's sandboxes get those of its
        // labs' tiers): /dev/kvm for VMs where it is safe to give, tun for their network, fuse
        // for rootless container storage.
        devices: [sandbox::Device::Kvm, sandbox::Device::Tun, sandbox::Device::Fuse]
            .into_iter()
            .filter(|d| host_has(d) && (*d != sandbox::Device::Kvm || kvm.give))
            .collect(),
        idle: args.sandbox.idle,
        lifetime: args.sandbox.lifetime,
        network: match args.sandbox.network {
            crate::cli::NetworkKind::Isolated => sandbox::Network::Isolated,
            crate::cli::NetworkKind::Outbound => sandbox::Network::Outbound,
        },
        max_running: args.sandbox.max_running.map(|n| n as usize),
    };
    let backend: Arc<dyn sandbox::Backend> = match args.sandbox.backend {
        BackendKind::None => {
            tracing::warn!("sandboxes are off (--sandbox-backend none): no terminals, no checks");
            return Ok((None, Vec::new()));
        }
        BackendKind::Docker => {
            let image = match &args.sandbox.docker_image {
                Some(image) => image.clone(),
                None => sandbox::image::LabImage::open(&args.image)?.tag(),
            };
            let config = sandbox::docker::DockerConfig {
                socket: args.sandbox.docker_socket.clone(),
                image,
                prefix: args.sandbox.cgroup_root.clone(),
                runtime: args.sandbox.docker_runtime.clone(),
            };
            let backend = sandbox::docker::DockerBackend::open(config).await.context("opening the Docker backend")?;
            tracing::info!(isolation = ?backend.isolation(), "docker sandboxes ready");
            Arc::new(backend)
        }
        BackendKind::Kubernetes => {
            let config = crate::kubernetes::config(args)?;
            let (namespace, isolation) = (config.namespace.clone(), config.pods.isolation);
            let backend = sandbox::kubernetes::KubeBackend::open(config).await.context("opening the Kubernetes backend")?;
            tracing::info!(%namespace, ?isolation, "kubernetes sandboxes ready");
            Arc::new(backend)
        }
        BackendKind::Native => {
            let fact = crate::vm::KvmFact::prepare(&args.data_dir).context("preparing the KVM probe's file")?;
            let kvm_given = kvm.give;
            let config = sandbox::native::NativeConfig {
                data_dir: args.data_dir.clone(),
                image: args.image.clone(),
                // The helper is this very binary, whatever replaced it on disk since.
                helper: vec!["/proc/self/exe".into(), "sandbox-helper".into()],
                uid_base: args.sandbox.uid_base,
                cgroup_root: args.sandbox.cgroup_root.clone(),
                cgroup_parent: args.sandbox.cgroup_parent.clone(),
                outbound: (args.sandbox.network == crate::cli::NetworkKind::Outbound).then(|| args.sandbox.outbound_cidr.clone()),
                shared_files: [
                    vec![fact.shared_file()],
                    crate::cluster::shared_files(),
                    crate::time_scale::time_scale_file(&args.data_dir).context("writing the time scale")?.into_iter().collect(),
                ]
                .concat(),
                start_limits: Default::default(),
            };
            let backend = tokio::task::spawn_blocking(move || sandbox::native::NativeBackend::open(config))
                .await?
                .context("the native sandbox backend cannot start (or run with --sandbox-backend none)")?;
            tracing::info!(
                image = %backend.image().dir().display(),
                cgroup = backend.cgroup_version(),
                "native sandboxes ready"
            );
            let backend = Arc::new(backend);
            // In the background: where KVM hangs, the probe takes its whole time limit.
            if kvm_given {
                let probing = backend.clone();
                tokio::spawn(async move { crate::vm::probe_into(&*probing, &fact).await });
            } else {
                fact.write("unusable the server gives sandboxes no KVM on this host (see its log or the dashboard)")?;
            }
            backend
        }
    };
    Ok((Some(Arc::new(Sandboxes::open(backend, policy).await?)), notes))
}

/// Resolves on SIGTERM or Ctrl-C, after cancelling `token` so long-lived connections (terminal
/// WebSockets, live updates) close themselves instead of holding the shutdown open.
async fn wait_then_cancel(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
        () = token.cancelled() => {},
    }
    tracing::info!("shutting down");
    token.cancel();
}
