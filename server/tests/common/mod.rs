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
use server::store::{Role, SqlStore, Store};
use server::web::{self, AppState};
use tokio_util::sync::CancellationToken;

/// The instructor's login token in every test server (also a bearer token for scripts).
pub const INSTRUCTOR_TOKEN: &str = "test-instructor-token-0001";

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

/// Each test's own uid range and cgroup root, so tests running side by side never meet.
fn slot(test: &str) -> u32 {
    test.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 2000
}

/// The cgroup folder (below each hierarchy) of test `test`'s sandboxes.
/// Whether the lab image has the cluster tier (the scripts build it; a missing one fails when
/// STACKLAB_REQUIRE_SANDBOX is set, and skips otherwise).
pub fn cluster_tier_available() -> bool {
    let tiers = server::tiers::detect(std::path::Path::new(&std::env::var_os("STACKLAB_IMAGE").unwrap()));
    match tiers.check(&[labs::Tier::Cluster]) {
        Ok(()) => true,
        Err(why) => {
            assert!(std::env::var("STACKLAB_REQUIRE_SANDBOX").is_err(), "the cluster tier is missing: {why}");
            eprintln!("skipped: {why}");
            false
        }
    }
}

pub fn cgroup_root(test: &str) -> String {
    format!("stacklab-srvtest-{}-{}", std::process::id(), slot(test))
}

fn nix_is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

impl TestServer {
    pub async fn start(test: &str, with_sandboxes: bool) -> Self {
        Self::start_with(test, with_sandboxes, None).await
    }

    /// With room for at most `max_running` sandboxes at once (`--max-sandboxes`).
    pub async fn start_with(test: &str, with_sandboxes: bool, max_running: Option<usize>) -> Self {
        Self::start_sharing(test, with_sandboxes, max_running, Vec::new()).await
    }

    /// With host files bound read-only into every sandbox, beside the server's own.
    pub async fn start_sharing(
        test: &str,
        with_sandboxes: bool,
        max_running: Option<usize>,
        files: Vec<sandbox::native::SharedFile>,
    ) -> Self {
        let data = tempfile::Builder::new().prefix("stacklab-server-test-").tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqlStore::open(&data.path().join("stacklab.db")).await.unwrap());
        let class = store.create_class("Test class", None, &Default::default()).await.unwrap();
        let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")).join("../labs/workshop");
        let course = Arc::new(labs::load::load_course(&root).expect("the workshop loads"));
        let key = Key::generate();
        let shutdown = CancellationToken::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The site (wasm, CSS) and the data directory are apart, as in `serve`.
        let site = data.path().join("site");
        std::fs::create_dir_all(&site).unwrap();
        let mut state = AppState::new(course, store.clone(), key.clone(), &site, addr, shutdown.clone());
        state.instructor = web::instructor::InstructorAccess::start(data.path(), Some(INSTRUCTOR_TOKEN.into()), None).unwrap().0;
        let mut backend = None;
        if with_sandboxes {
            let n = slot(test);
            let native = Arc::new(
                sandbox::native::NativeBackend::open(sandbox::native::NativeConfig {
                    data_dir: data.path().to_path_buf(),
                    image: std::env::var_os("STACKLAB_IMAGE").unwrap().into(),
                    helper: vec![env!("CARGO_BIN_EXE_stacklab").into(), "sandbox-helper".into()],
                    uid_base: 2_000_000_000 + n * 4 * sandbox::native::IDS_PER_SLOT,
                    cgroup_root: cgroup_root(test),
                    cgroup_parent: String::new(),
                    outbound: None,
                    shared_files: [server::cluster::shared_files(), files].concat(),
                    start_limits: Default::default(),
                })
                .unwrap(),
            );
            let policy = Policy {
                limits: sandbox::Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 256, disk_bytes: 256 << 20 },
                // As `serve` gives them: each tier's device the host has.
                devices: [sandbox::Device::Kvm, sandbox::Device::Tun, sandbox::Device::Fuse]
                    .into_iter()
                    .filter(|d| std::path::Path::new(d.path()).exists())
                    .collect(),
                idle: Duration::from_secs(600),
                lifetime: Duration::from_secs(3600),
                network: sandbox::Network::Isolated,
                max_running,
            };
            let sandboxes = Arc::new(Sandboxes::open(native.clone(), policy).await.unwrap());
            state = state
                .with_sandboxes(
                    sandboxes,
                    web::LiveSettings { away_after: server::checks::AWAY_AFTER, data_dir: data.path().to_path_buf() },
                )
                .with_previews(server::previews::PortRange::Any);
            backend = Some(native);
        }
        let app = web::router(state.clone());
        let stop = shutdown.clone();
        // The server's own accept loop, as `serve` runs it (header timeout included).
        tokio::spawn(web::listen::serve(listener, app, async move { stop.cancelled().await }));
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
        let learner = self.store.create_learner(&classes[0].id, name, None).await.unwrap();
        let token = self.store.create_session(Role::Learner, Some(&learner.id), Duration::from_secs(3600)).await.unwrap();
        (learner.id, self.cookie(token))
    }

    /// The `Cookie` header value of a signed-in instructor.
    pub async fn instructor(&self) -> String {
        let token = self.store.create_session(Role::Instructor, None, Duration::from_secs(3600)).await.unwrap();
        self.cookie(token)
    }

    /// The test class's id.
    pub async fn class_id(&self) -> String {
        self.store.classes().await.unwrap()[0].id.clone()
    }

    /// A client that sends `cookie` (and this server's own origin, as a browser would).
    pub fn client(&self, cookie: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if !cookie.is_empty() {
            headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
        }
        headers.insert(reqwest::header::ORIGIN, format!("http://{}", self.addr).parse().unwrap());
        reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// The signed cookie header for a session token.
    pub fn cookie(&self, token: String) -> String {
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(Cookie::new(server::web::auth::COOKIE, token));
        let signed = jar.get(server::web::auth::COOKIE).unwrap();
        format!("{}={}", server::web::auth::COOKIE, signed.value())
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

/// Host pids whose cgroup (in any hierarchy) is below `cgroup_root`: a test's sandboxes.
pub fn processes_in(cgroup_root: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|c| c.contains(cgroup_root)))
        // A sandbox's init, killed, waits as a zombie until the host's init reaps it; on a hybrid
        // host its unified-tree line still names the (deleted) group. Nothing of it runs.
        .filter(|pid| !is_zombie(*pid))
        .collect()
}

fn is_zombie(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) == Some("Z")
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to `path` on this server, as a page of it with `cookie` would open one.
pub async fn ws(server: &TestServer, cookie: &str, path: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = server.ws_url(path).into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    request.headers_mut().insert("origin", server.url("").trim_end_matches('/').parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
    socket
}

/// Reads frames until the terminal output contains `marker`; returns all output seen (text
/// frames as `<<json>>`).
pub async fn read_until(socket: &mut Socket, marker: &str) -> String {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !text.contains(marker) {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {marker:?} in: {text}"))
            .unwrap_or_else(|| {
                let tail: String = text.chars().rev().take(400).collect::<Vec<_>>().into_iter().rev().collect();
                panic!("the socket closed before {marker:?}; the output ended with: {tail}")
            })
            .unwrap();
        match frame {
            Message::Binary(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Message::Text(t) => text.push_str(&format!("<<{t}>>")),
            _ => {}
        }
    }
    text
}

/// The self-test's verdict on another backend than native (`label`): every lab tested passed
/// (its checks failed before the solution and passed after), every lab skipped lacks a tier,
/// and each of `must` was tested.
pub fn assert_self_tested(label: &str, reports: &[(String, server::checks::selftest::LabReport)], must: &[&str]) {
    use server::checks::selftest::LabReport;
    let mut tested = Vec::new();
    for (lab, report) in reports {
        match report {
            LabReport::Tested(steps) => {
                for s in steps {
                    assert!(s.problem.is_none(), "{label}: {lab}/{}: {}", s.step, s.problem.as_deref().unwrap_or_default());
                }
                tested.push(lab.as_str());
            }
            LabReport::Skipped(why) => assert!(why.starts_with("needs the "), "{label}: {lab} skipped for a reason: {why}"),
            LabReport::Broken(why) => panic!("{label}: {lab}: {why}"),
        }
    }
    for must in must {
        assert!(tested.contains(must), "{must} was self-tested on {label}");
    }
}

/// Only the shell tier, as a backend other than native offers it to the self-test.
pub fn shell_tier_only(why_not: &str) -> server::tiers::TierSupport {
    let not_here = || Err(why_not.to_string());
    server::tiers::TierSupport(vec![
        (labs::Tier::Shell, Ok(())),
        (labs::Tier::Vm, not_here()),
        (labs::Tier::Cluster, not_here()),
        (labs::Tier::Containers, not_here()),
        (labs::Tier::Systemd, not_here()),
    ])
}

/// The workshop's labs, as the server loads them.
pub fn workshop() -> labs::load::Course {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")).join("../labs/workshop");
    labs::load::load_course(&root).unwrap()
}

/// The editor's files on whatever backend `sandboxes` runs (the same service the routes call):
/// opened with mode and owner, saved over its version with both kept, a change made meanwhile
/// (as from the terminal) refused as a conflict, a new file made, its folder listed.
pub async fn editor_round_trip(label: &str, sandboxes: &server::sandboxes::Sandboxes, learner: &str) {
    use server::files::{self, FileError};
    let sh = |script: &'static str| async move {
        let out = sandboxes.exec(learner, sandbox::ExecRequest::script(script)).await.unwrap();
        assert!(out.success(), "{label}: {script}: {out:?}");
        out.stdout_text()
    };
    sh("mkdir -p /root/app && printf 'FROM scratch\\n' > /root/app/Dockerfile && chmod 640 /root/app/Dockerfile && chown nobody:nogroup /root/app/Dockerfile").await;
    let opened = files::open(sandboxes, learner, "/root/app/Dockerfile").await.unwrap();
    assert_eq!((opened.text.as_str(), opened.mode.as_str(), opened.owner.as_str()), ("FROM scratch\n", "640", "nobody"), "{label}");
    let saved = files::save(sandboxes, learner, "/root/app/Dockerfile", "FROM debian\n", Some(&opened.version)).await.unwrap();
    assert_eq!(
        sh("cat /root/app/Dockerfile; stat -c '%a %U %G' /root/app/Dockerfile; ls -A /root/app").await,
        "FROM debian\n640 nobody nogroup\nDockerfile\n",
        "{label}"
    );
    sh("echo 'EXPOSE 8080' >> /root/app/Dockerfile").await;
    let stale = files::save(sandboxes, learner, "/root/app/Dockerfile", "FROM alpine\n", Some(&saved)).await;
    assert!(matches!(stale, Err(FileError::Conflict(_))), "{label}: {stale:?}");
    assert_eq!(sh("cat /root/app/Dockerfile").await, "FROM debian\nEXPOSE 8080\n", "{label}: the terminal's change is kept");
    files::save(sandboxes, learner, "/root/app/main.go", "package main\n", None).await.unwrap();
    let names: Vec<String> = files::list(sandboxes, learner, "/root/app").await.unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["Dockerfile", "main.go"], "{label}");
}

/// A sandbox policy for tests of a backend other than native: 1 GiB, one core.
pub fn test_policy() -> server::sandboxes::Policy {
    server::sandboxes::Policy {
        limits: sandbox::Limits { memory_bytes: 1 << 30, cpu_millis: 1000, pids: 512, disk_bytes: 0 },
        devices: Vec::new(),
        idle: std::time::Duration::from_secs(600),
        lifetime: std::time::Duration::from_secs(3600),
        network: Default::default(),
        max_running: None,
    }
}

/// Reads server-sent events from `response` until one named `event` whose data contains
/// `needle`; returns its data.
pub async fn sse_until<B: AsRef<[u8]>>(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<B>> + Unpin),
    event: &str,
    needle: &str,
) -> String {
    let mut buffer = String::new();
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(chunk) = futures::StreamExt::next(stream).await {
            buffer.push_str(&String::from_utf8_lossy(chunk.unwrap().as_ref()));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                let name = frame.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim).unwrap_or("");
                let data: String = frame.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
                if name == event && data.contains(needle) {
                    return data;
                }
            }
        }
        panic!("the stream ended before a {event} event with {needle:?}");
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {event} event with {needle:?}"))
}
