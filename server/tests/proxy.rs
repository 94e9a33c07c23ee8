//! The book's nginx configuration (docs/src/operations.md: running behind a TLS reverse proxy), run for
//! real in front of a test server: nginx from Debian's packages terminates TLS with a throwaway
//! CA's certificate on a loopback port, and a learner joins, types into a terminal over the
//! WebSocket and gets a server-sent event through it. The nginx block is read from docs/src/operations.md,
//! so the documentation is what is tested.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// nginx as Debian installs it.
const NGINX: &str = "/usr/sbin/nginx";

/// The operations page's ```nginx block.
fn documented_config() -> String {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/operations.md")).unwrap();
    let start = page.find("```nginx\n").expect("docs/src/operations.md has an nginx block") + "```nginx\n".len();
    let end = start + page[start..].find("```").unwrap();
    page[start..end].to_string()
}

/// `text` with `from` replaced, which must be there: the operations page changed otherwise.
fn substitute(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the operations page's nginx block no longer has {from:?}: update this test with it");
    text.replace(from, to)
}

/// A throwaway CA and a certificate it signed for 127.0.0.1, with openssl.
fn certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=stacklab test CA",
    ]);
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "site.key", "-out", "site.csr", "-subj", "/CN=127.0.0.1"]);
    std::fs::write(dir.join("site.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "site.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "site.pem",
        "-days",
        "1",
        "-extfile",
        "site.ext",
    ]);
}

/// nginx in the foreground in a process group of its own, stopped on drop: SIGTERM to the
/// group, so the master and its workers all end (a SIGKILL to the master alone would leave the
/// workers listening), and SIGKILL if they do not within a few seconds.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, killpg};
        let group = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = killpg(group, Signal::SIGTERM);
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) && killpg(group, None).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn the_documented_nginx_config_carries_pages_websockets_and_events() {
    if !common::sandboxes_available("proxy") {
        return;
    }
    if !Path::new(NGINX).exists() {
        assert!(std::env::var("STACKLAB_REQUIRE_SANDBOX").is_err(), "nginx is not installed (scripts/install --test installs it)");
        eprintln!("skipped: no nginx");
        return;
    }
    let server = common::TestServer::start("proxy", true).await;
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let d = dir.path().display();
    let site = documented_config();
    let site = substitute(&site, "listen 443 ssl;", &format!("listen 127.0.0.1:{port} ssl;"));
    let site = substitute(&site, "/etc/letsencrypt/live/lab.example.org/fullchain.pem", &format!("{d}/site.pem"));
    let site = substitute(&site, "/etc/letsencrypt/live/lab.example.org/privkey.pem", &format!("{d}/site.key"));
    let site = substitute(&site, "proxy_pass http://127.0.0.1:3000;", &format!("proxy_pass http://{};", server.addr));
    // Around it, what nginx.conf has on a host, with every path in the test's directory.
    let conf = format!(
        "daemon off;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  \
         client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n{site}\n}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let test = Command::new(NGINX).args(["-t", "-p"]).arg(dir.path()).arg("-c").arg(dir.path().join("nginx.conf")).output().unwrap();
    assert!(test.status.success(), "nginx -t: {}", String::from_utf8_lossy(&test.stderr));
    let _nginx = Nginx(
        Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let base = format!("https://127.0.0.1:{port}");
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let client = |origin: bool| {
        let mut headers = reqwest::header::HeaderMap::new();
        if origin {
            headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
        }
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .unwrap()
    };
    let learner = client(true);
    let mut up = false;
    for _ in 0..100 {
        if learner.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "nginx did not come up: {}", std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default());

    // Joining is a state-changing request from the site's own page: the server must see the
    // host the browser saw (port included) to let it through.
    let joined = learner
        .post(format!("{base}/api/join"))
        .json(&serde_json::json!({ "code": server.class_code, "name": "Proxied" }))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200, "{}", joined.text().await.unwrap());
    let cookie = joined
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let page = learner.get(format!("{base}/labs/netns-veth")).send().await.unwrap();
    assert_eq!(page.status(), 200);

    // Server-sent events come through at once (no proxy buffering).
    let mut events = learner.get(format!("{base}/api/events")).send().await.unwrap().bytes_stream();
    let instructor = client(false);
    let said = instructor
        .post(format!("{base}/api/instructor/help"))
        .bearer_auth(common::INSTRUCTOR_TOKEN)
        .json(&serde_json::json!({ "action": "message", "class": server.class_id().await, "learner": null, "body": "through the proxy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(said.status(), 200, "{}", said.text().await.unwrap());
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("through the proxy") {
            seen.push_str(&String::from_utf8_lossy(&events.next().await.expect("the stream stays open").unwrap()));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the message did not come through the proxy: {seen:?}"));

    // The terminal's WebSocket, upgraded through the proxy.
    let roots = {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from_pem_slice(&ca).unwrap()).unwrap();
        roots
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut request = format!("wss://127.0.0.1:{port}/ws/terminal/1?start=1").into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    request.headers_mut().insert("origin", base.parse().unwrap());
    let (mut socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))))
            .await
            .expect("the WebSocket upgrades through the proxy");
    socket.send(Message::Binary(b"echo proxied-$((6*7))\r".to_vec().into())).await.unwrap();
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(15), async {
        while !text.contains("proxied-42") {
            match socket.next().await.expect("open").unwrap() {
                Message::Binary(b) => text.push_str(&String::from_utf8_lossy(&b)),
                Message::Text(t) => text.push_str(&t),
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no echo through the proxy: {text}"));
}
