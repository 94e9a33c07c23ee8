//! The Kubernetes backend against a real cluster: the cluster tier's offline Kubernetes
//! (v1.20, from Debian's sources), which this test starts in an unprivileged native sandbox on
//! this host — so the pods it makes are contained by that sandbox's user namespace, whatever
//! the test does. The server side talks to its API server through a port on the host's
//! loopback forwarded into the sandbox's network namespace.
//!
//! One node serves both parts of the test, one after the other (each node is a whole cluster, and
//! booting one is a good part of a minute of this host's two cores): first pods of the cluster's
//! own `localhost/busybox:1.0` image (quick, and the backend treats every image the same), then
//! the shell tier's content self-test on pods of the lab image itself, which is why the node is
//! made big enough to hold that image.

mod common;

use std::time::Duration;

use sandbox::kubernetes::{KubeBackend, KubeConfig};
use sandbox::{Backend, ExecEnd, ExecRequest, Limits, PtySize, SandboxSpec, ShellRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PREFIX: &str = "stacklab-kt";

/// The sandbox that is the cluster's one node.
const NODE: &str = "kube-node";

fn learner(name: &str) -> SandboxSpec {
    SandboxSpec {
        name: format!("lab-{name}"),
        owner: name.into(),
        limits: Limits { memory_bytes: 64 << 20, cpu_millis: 200, pids: 128, disk_bytes: 0 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

fn posix(s: &str) -> ExecRequest {
    let mut request = ExecRequest::script(s);
    request.argv[0] = "/bin/sh".into();
    request
}

async fn sh(backend: &dyn Backend, name: &str, script: &str) -> String {
    let out = backend.exec(name, posix(script).timeout(Duration::from_secs(30))).await.unwrap();
    assert!(out.success(), "{name}: {script}: {:?}\n{}\n{}", out.end, out.stdout_text(), String::from_utf8_lossy(&out.stderr));
    out.stdout_text()
}

async fn read_until(output: &mut (dyn tokio::io::AsyncRead + Send + Sync + Unpin), marker: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let n = output.read(&mut buf).await.unwrap();
            assert!(n > 0, "the terminal ended before {marker:?}: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains(marker) {
                return;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&seen).into_owned();
    assert!(found.is_ok(), "no {marker:?} on the terminal: {text}");
    text
}

/// `GET /` through a preview connection to `port` in sandbox `name`: what came back, empty
/// when nothing answered. Retried for a moment while the service starts.
async fn preview_get(backend: &dyn Backend, name: &str, port: u16) -> String {
    let mut answer = String::new();
    for _ in 0..20 {
        let mut stream = backend.connect(name, port).await.unwrap();
        stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
        answer.clear();
        let _ = stream.read_to_string(&mut answer).await;
        if answer.starts_with("HTTP/") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    answer
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn sandboxes_and_the_shell_labs_as_pods_on_a_real_cluster() {
    if !common::sandboxes_available("kubernetes") || !common::cluster_tier_available() {
        return;
    }
    // scripts/test packs the lab image as an archive for the second part; the node imports it
    // into an image store made big enough (the image, its unpacked copy and one more per pod:
    // the cluster's snapshotter copies).
    let archive = std::env::var_os("STACKLAB_POD_IMAGE_ARCHIVE");
    if archive.is_none() {
        assert!(
            std::env::var("STACKLAB_REQUIRE_SANDBOX").is_err(),
            "STACKLAB_POD_IMAGE_ARCHIVE is not set (scripts/test packs the lab image)"
        );
        eprintln!("the shell labs on pods skipped: no lab image archive (scripts/test packs one)");
    }
    let inside = "var/lib/stacklab/pod-image.tar";
    let shared: Vec<_> = archive.iter().map(|a| sandbox::native::SharedFile { source: a.into(), target: inside.into() }).collect();
    let server = common::TestServer::start_sharing("kubernetes", true, None, shared).await;
    let native = server.backend.clone().unwrap();
    let size = match archive {
        Some(_) => server::cluster::from_host::NodeSize { memory_bytes: 10 << 30, image_store: Some("8g") },
        None => server::cluster::from_host::NodeSize::SMALL,
    };
    let api = server::cluster::from_host::start_node_sized(native.clone(), NODE, size).await.unwrap();

    sandboxes_as_pods(&native, &api).await;
    if let Some(archive) = archive {
        let image = std::fs::read_to_string(format!("{}.name", archive.to_string_lossy())).unwrap().trim().to_string();
        server::cluster::from_host::import(&native, NODE, &format!("/{inside}")).await.unwrap();
        the_shell_labs_on_pods_of_the_lab_image(&api, &image).await;
    }
    native.stop(NODE).await.unwrap();
    native.wipe(NODE).await.unwrap();
}

/// The backend's whole contract, its RBAC and the server's class logic, on pods of busybox.
async fn sandboxes_as_pods(native: &std::sync::Arc<sandbox::native::NativeBackend>, api: &server::cluster::from_host::FromHost) {
    let port = api.port;
    let admin_text = api.admin.clone();
    let config = || api.config(PREFIX);

    // The repository's RBAC is enough for the backend, and no more: apply it, then run a
    // sandbox as its service account.
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes");
    let apply = |file: &str, extra: &str| {
        let mut request = sandbox::ExecRequest::script(&format!("kubectl apply {extra} -f -")).timeout(Duration::from_secs(60));
        request.stdin = std::fs::read(repo.join(file)).unwrap();
        request
    };
    let out = native.exec(NODE, apply("rbac.yaml", "")).await.unwrap();
    assert!(out.success(), "rbac.yaml: {}", String::from_utf8_lossy(&out.stderr));
    // The deployment itself, checked by the API server without being made (its images are
    // not in this offline cluster).
    let out = native.exec(NODE, apply("stacklab.yaml", "--dry-run=server")).await.unwrap();
    assert!(out.success(), "stacklab.yaml: {}{}", out.stdout_text(), String::from_utf8_lossy(&out.stderr));
    let can = |what: &str| format!("kubectl auth can-i {what} --as=system:serviceaccount:stacklab:stacklab || true");
    for (what, allowed) in [
        ("create pods -n stacklab", "yes"),
        ("create pods/exec -n stacklab", "yes"),
        ("create pods/portforward -n stacklab", "yes"),
        ("list nodes", "yes"),
        ("get secrets -n stacklab", "no"),
        ("create pods -n default", "no"),
        ("delete nodes", "no"),
        ("create rolebindings -n stacklab", "no"),
    ] {
        assert_eq!(sh(&**native, NODE, &can(what)).await.trim(), allowed, "can the server {what}?");
    }
    let token = sh(
        &**native,
        NODE,
        "for i in $(seq 50); do s=$(kubectl -n stacklab get sa stacklab -o 'jsonpath={.secrets[0].name}'); [ -n \"$s\" ] && break; sleep 0.2; done; \
         kubectl -n stacklab get secret \"$s\" -o 'jsonpath={.data.token}' | base64 -d",
    )
    .await;
    let ca = admin_text.lines().find_map(|l| l.trim().strip_prefix("certificate-authority-data:")).unwrap().trim().to_string();
    let as_server = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        as_server.path(),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {ca}\n\
             users:\n- name: stacklab\n  user:\n    token: {token}\ncontexts:\n- name: test\n  context: {{cluster: test, user: stacklab}}\ncurrent-context: test\n"
        ),
    )
    .unwrap();
    let least =
        KubeBackend::open(KubeConfig { kubeconfig: Some(as_server.path().to_path_buf()), namespace: "stacklab".into(), ..config() })
            .await
            .unwrap();
    let carol = learner("carol");
    least.start(&carol).await.unwrap();
    assert_eq!(sh(&least, &carol.name, "hostname").await.trim(), "lab-carol");
    assert!(least.stats(&carol.name).await.is_ok());
    // Web previews: a service on the pod's loopback answers through the port forward; the
    // node's own loopback (where a service listens on another port) is not the pod's.
    let node_serve = "mkdir -p /tmp/node-www && cd /tmp/node-www && echo node-only > index.html && \
        setsid python3 -m http.server 8095 --bind 127.0.0.1 </dev/null >/dev/null 2>&1 &";
    assert!(native.exec(NODE, sandbox::ExecRequest::script(node_serve).leave_running()).await.unwrap().success());
    let serve = "mkdir -p /tmp/www && echo hello-from-the-pod > /tmp/www/index.html && busybox httpd -p 127.0.0.1:8080 -h /tmp/www";
    let out = least.exec(&carol.name, posix(serve).leave_running().timeout(Duration::from_secs(30))).await.unwrap();
    assert!(out.success(), "{out:?}");
    assert!(preview_get(&least, &carol.name, 8080).await.contains("hello-from-the-pod"));
    let other = preview_get(&least, &carol.name, 8095).await;
    assert!(!other.contains("node-only"), "the node's loopback was reached from a preview: {other}");
    assert!(matches!(least.connect("lab-nobody", 8080).await, Err(sandbox::Error::NotFound(_))));
    least.wipe("carol").await.unwrap();
    least.remove_all().await.unwrap();

    let kube = KubeBackend::open(config()).await.unwrap();
    let (ada, bob) = (learner("ada"), learner("bob"));
    let before = kube.capacity(&ada.limits).await.unwrap();
    assert_eq!((before.nodes, before.used), (1, 0), "{before:?}");
    // The sandboxed node's allocatable is the host's (2 cores here): 200m each.
    assert!(before.total >= 2, "{before:?}");
    let (a, b) = tokio::join!(kube.start(&ada), kube.start(&bob));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.backend.as_str(), b.owner.as_str()), ("kubernetes", "bob"));
    assert_eq!(kube.start(&ada).await.unwrap().started_at, a.started_at, "starting a running sandbox returns it as it is");
    let after = kube.capacity(&ada.limits).await.unwrap();
    assert_eq!((after.total, after.used), (before.total, 2), "{after:?}");

    // Checks: exit codes, environment, stdin, time limits, and nothing left behind.
    let out = kube.exec(&ada.name, posix("hostname; echo oops >&2; exit 3")).await.unwrap();
    assert_eq!(
        (out.end.clone(), out.stdout_text().trim(), String::from_utf8_lossy(&out.stderr).trim()),
        (ExecEnd::Exited(3), "lab-ada", "oops")
    );
    let mut with_input = posix("cat; echo \"$GREETING\"; pwd");
    with_input.stdin = b"from stdin\n".to_vec();
    with_input.env = vec![("GREETING".into(), "hello there".into())];
    let out = kube.exec(&ada.name, with_input).await.unwrap();
    assert_eq!(out.stdout_text(), "from stdin\nhello there\n/root\n");
    let out = kube.exec(&ada.name, posix("sleep 45").timeout(Duration::from_secs(2))).await.unwrap();
    assert_eq!(out.end, ExecEnd::TimedOut);
    sh(&kube, &ada.name, "sleep 300 >/dev/null 2>&1 & echo started").await;
    let ps = sh(&kube, &ada.name, "ps").await;
    assert!(!ps.contains("sleep 45") && !ps.contains("sleep 300"), "a check's leftovers still run:\n{ps}");
    let mut output_limit = posix("yes");
    output_limit.output_limit = 1000;
    assert_eq!(kube.exec(&ada.name, output_limit).await.unwrap().end, ExecEnd::OutputLimit);
    let stats = kube.stats(&ada.name).await.unwrap();
    assert!(stats.pids > 0, "{stats:?}");

    // Files: the learner's own, kept across a stop, not seen by another learner.
    sh(&kube, &ada.name, "echo kept > /root/note").await;
    assert_eq!(sh(&kube, &bob.name, "ls -A /root | wc -l").await.trim(), "0", "bob sees nothing of ada's");
    kube.stop(&ada.name).await.unwrap();
    assert!(kube.running().await.unwrap().iter().all(|i| i.name != ada.name));
    assert!(matches!(kube.exec(&ada.name, posix("true")).await, Err(sandbox::Error::NotFound(_))));
    kube.start(&ada).await.unwrap();
    assert_eq!(sh(&kube, &ada.name, "cat /root/note").await, "kept\n");

    // A terminal: a TTY that takes input and follows resizes.
    let shell_request = ShellRequest { size: PtySize { rows: 24, cols: 80 }, argv: Some(vec!["sh".into()]), env: Vec::new() };
    let mut shell = kube.open_shell(&ada.name, shell_request).await.unwrap();
    shell.input.write_all(b"echo $((6*7))x; stty size\n").await.unwrap();
    let seen = read_until(&mut shell.output, "24 80").await;
    assert!(seen.contains("42x"), "{seen}");
    shell.control.resize(PtySize { rows: 50, cols: 132 }).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    shell.input.write_all(b"stty size; exit 5\n").await.unwrap();
    read_until(&mut shell.output, "50 132").await;
    assert_eq!(tokio::time::timeout(Duration::from_secs(20), shell.control.wait()).await.unwrap(), 5);

    // A restarted server adopts the pods, with their specs.
    let again = KubeBackend::open(config()).await.unwrap();
    let mut adopted: Vec<_> = again.running().await.unwrap().into_iter().map(|i| (i.name, i.spec)).collect();
    adopted.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(adopted, vec![(ada.name.clone(), ada.clone()), (bob.name.clone(), bob.clone())]);

    // A reset empties the learner's files.
    again.wipe("ada").await.unwrap();
    again.start(&ada).await.unwrap();
    assert_eq!(sh(&again, &ada.name, "ls -A /root | wc -l").await.trim(), "0", "wiped");

    // The server's side: a class pre-warmed as far as the cluster has room, and a learner
    // beyond it waiting in line until a sandbox ends. Sized so the node holds three of these
    // sandboxes: with Ada's and Bob's pods running, there is room for one more.
    let allocatable = sh(&**native, NODE, "kubectl get nodes -o 'jsonpath={.items[0].status.allocatable.cpu}'").await;
    let millis: u32 = match allocatable.trim().strip_suffix('m') {
        Some(m) => m.parse().unwrap(),
        None => allocatable.trim().parse::<u32>().unwrap() * 1000,
    };
    let third = Limits { cpu_millis: millis / 3, ..learner("x").limits };
    let policy = server::sandboxes::Policy {
        limits: third.clone(),
        devices: Vec::new(),
        idle: Duration::from_secs(600),
        lifetime: Duration::from_secs(3600),
        network: Default::default(),
        max_running: None,
    };
    assert_eq!(again.room(&third).await.unwrap(), Some(1), "three fit, two run");
    let class = std::sync::Arc::new(
        server::sandboxes::Sandboxes::open(std::sync::Arc::new(KubeBackend::open(config()).await.unwrap()), policy).await.unwrap(),
    );
    assert_eq!(class.counts().0, 2, "Ada's and Bob's pods adopted");
    let report = class.prewarm(vec!["dan".into(), "eve".into()], 0, &Default::default()).await;
    assert_eq!((report.started, report.no_room, report.failed.len()), (1, 1, 0), "{report:?}");
    let waiting = if matches!(class.status("dan"), server::sandboxes::Status::Running { .. }) { "eve" } else { "dan" };
    let ensure = tokio::spawn({
        let class = class.clone();
        async move { class.ensure(waiting).await }
    });
    let mut spot = None;
    for _ in 0..100 {
        spot = class.queue_spot(waiting);
        if spot.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let spot = spot.expect("the learner beyond the cluster's room waits in line");
    assert_eq!(spot.position, 1);
    assert!(spot.eta.is_some_and(|eta| eta > Duration::from_secs(500)), "nothing ends before the idle time-out: {spot:?}");
    assert!(!ensure.is_finished());
    let first = if waiting == "eve" { "dan" } else { "eve" };
    class.stop(first).await.unwrap();
    let info = tokio::time::timeout(Duration::from_secs(120), ensure).await.expect("admitted once a pod ended").unwrap().unwrap();
    assert_eq!(info.owner, waiting);
    assert_eq!(sh(&again, &info.name, "hostname").await.trim(), info.name);
    assert_eq!(class.queued(), 0);

    // Removing everything leaves no pod of this server, and no anchor.
    again.remove_all().await.unwrap();
    let left = sh(&**native, NODE, &format!("kubectl get pods,configmaps -l stacklab.dev/server={PREFIX} -o name")).await;
    assert_eq!(left.trim(), "", "left behind: {left}");
}

/// The shell tier's labs, self-tested (setup, checks fail, solution typed into a terminal,
/// checks pass) on pods of the lab image, as production would run them: the node is the
/// cluster tier's Kubernetes in a native sandbox, that is Kubernetes in a user namespace, so
/// the pods get the demos' capabilities (`Isolation::Isolating`).
async fn the_shell_labs_on_pods_of_the_lab_image(api: &server::cluster::from_host::FromHost, image: &str) {
    let kube = std::sync::Arc::new(KubeBackend::open(api.lab_config("stacklab-kl", image)).await.unwrap());
    let course = common::workshop();
    let tiers = common::shell_tier_only("not in the Kubernetes backend's pods");
    let limits = Limits { memory_bytes: 1 << 30, cpu_millis: 1000, pids: 512, disk_bytes: 0 };
    let backend: std::sync::Arc<dyn sandbox::Backend> = kube.clone();
    // Not netns-veth, as on Docker: the runtime mounts the pod's sysfs read-only, its
    // superblock refuses a read-write remount from inside, and the kernel then refuses the
    // read-write sysfs `ip netns exec` mounts for the new namespace ("mount of /sys failed").
    // Sysbox gives pods a read-write sysfs. docs/src/backends.md: the Kubernetes backend.
    let only: Vec<String> = course.labs().filter(|l| l.id != "netns-veth").map(|l| l.id.clone()).collect();
    let reports = server::checks::selftest::run(&course, backend, &tiers, &limits, &only, |line| eprintln!("kubernetes: {line}")).await;
    // The editor's files in a pod of the lab image, through the exec API.
    let sandboxes = server::sandboxes::Sandboxes::open(kube.clone(), common::test_policy()).await.unwrap();
    common::editor_round_trip("kubernetes", &sandboxes, "ana").await;
    kube.remove_all().await.unwrap();
    common::assert_self_tested("kubernetes", &reports, &["is-this-a-vm", "namespaces-from-scratch", "cgroup-oom"]);
}
