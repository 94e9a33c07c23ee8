//! A real server on a loopback port for integration tests: the router, the store (SQLite in a
//! temp dir) and, when this machine can run them, native sandboxes. Tests that need sandboxes
//! need root and `STACKLAB_IMAGE`; scripts/test sets `STACKLAB_REQUIRE_SANDBOX=1` so a missing
//! prerequisite fails instead of skipping.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum_extra::extract::cookie::Key;
use cookie::{Cookie, CookieJar};
use server::sandboxes::{Policy, Sandboxes};
use server::store::{Role, SqliteStore, Store};
use server::web::{self, AppState};
use tokio_util::sync::CancellationToken;

pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub key: Key,
    pub state: AppState,
    pub class_code: String,
    pub backend: Option<Arc<sandbox::native::NativeBackend>>,
    pub shutdown: CancellationToken,
    pub data: tempfile::TempDir,
}

pub fn sandboxes_available(test: &str) -> bool {
    let required = std::env::var("STACKLAB_REQUIRE_SANDBOX").is_ok_and(|v| v == "1");
    let why = if !nix_is_root() {
        Some("needs root")
    } else if std::env::var_os("STACKLAB_IMAGE").is_none() {
        Some("STACKLAB_IMAGE is not set")
    } else {
        None
    };
    match why {
        None => true,
        Some(why) => {
            assert!(!required, "{test}: {why}");
            eprintln!("skipped {test}: {why} (scripts/test runs it)");
            false
        }
    }
}

fn nix_is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

impl TestServer {
    pub async fn start(test: &str, with_sandboxes: bool) -> Self {
        let data = tempfile::Builder::new().prefix("stacklab-server-test-").tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&data.path().join("stacklab.db")).await.unwrap());
        let class = store.create_class("Test class", None).await.unwrap();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../labs/workshop");
        let course = Arc::new(labs::load::load_course(&root).expect("the workshop loads"));
        let key = Key::generate();
        let shutdown = CancellationToken::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut state = AppState::new(course, store.clone(), key.clone(), data.path(), addr, shutdown.clone());
        let mut backend = None;
        if with_sandboxes {
            let n = test.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 2000;
            let native = Arc::new(
                sandbox::native::NativeBackend::open(sandbox::native::NativeConfig {
                    data_dir: data.path().to_path_buf(),
                    image: std::env::var_os("STACKLAB_IMAGE").unwrap().into(),
                    helper: vec![env!("CARGO_BIN_EXE_stacklab").into(), "sandbox-helper".into()],
                    uid_base: 2_000_000_000 + n * 4 * sandbox::native::IDS_PER_SLOT,
                    cgroup_root: format!("stacklab-srvtest-{}-{n}", std::process::id()),
                    outbound: None,
                })
                .unwrap(),
            );
            let policy = Policy {
                limits: sandbox::Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 256, disk_bytes: 256 << 20 },
                devices: Vec::new(),
                idle: Duration::from_secs(600),
                lifetime: Duration::from_secs(3600),
                network: sandbox::Network::Isolated,
            };
            let sandboxes = Arc::new(Sandboxes::open(native.clone(), policy).await.unwrap());
            state = state.with_sandboxes(sandboxes);
            backend = Some(native);
        }
        let app = web::router(state.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .unwrap();
        });
        Self { addr, store, key, state, class_code: class.join_code, backend, shutdown, data }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// A learner in the test class and the `Cookie` header value that logs them in.
    pub async fn learner(&self, name: &str) -> (String, String) {
        let classes = self.store.classes().await.unwrap();
        let learner = self.store.create_learner(&classes[0].id, name).await.unwrap();
        let token = self.store.create_session(Role::Learner, Some(&learner.id), Duration::from_secs(3600)).await.unwrap();
        (learner.id, self.cookie(token))
    }

    /// The signed cookie header for a session token.
    pub fn cookie(&self, token: String) -> String {
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(Cookie::new(server::auth::COOKIE, token));
        let signed = jar.get(server::auth::COOKIE).unwrap();
        format!("{}={}", server::auth::COOKIE, signed.value())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(backend) = &self.backend {
            backend.shutdown_all_blocking();
        }
    }
}
