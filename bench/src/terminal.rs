//! The terminal through the real server binary: keystroke round trip (browser → WebSocket → PTY
//! → echo → browser) next to a raw local PTY echo and to the peers' stack (node-pty and ws), and
//! output throughput next to the same output read straight from a local PTY and through that stack.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::report::Table;
use crate::stats::{Samples, ms};

const KEYSTROKES: usize = 1000;
/// Output for the throughput figure.
const FLOOD_BYTES: u64 = 20_000_000;

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The instructor token of the benches' servers (the class simulator opens the dashboard).
pub const BENCH_TOKEN: &str = "bench-instructor-token";

/// The bench server's directory in each cgroup hierarchy: its sandboxes' totals.
pub const CGROUP_ROOT: &str = "stacklab-bench-srv";

/// A `stacklab serve` of its own (data dir, cgroup root, uid range), stopped on drop; or, with
/// `STACKLAB_BENCH_SERVER=127.0.0.1:PORT` and `STACKLAB_BENCH_SERVER_PID`, a server already
/// running (a test host's systemd service, with the bench's class code and instructor token),
/// which it leaves running.
pub struct BenchServer {
    /// Held for its drop: stops the server and its sandboxes.
    _own: Option<Own>,
    pub port: u16,
    pid: Option<u32>,
    /// One HTTP client for every request the bench makes of this server, each learner a clone
    /// of it: making a client loads the host's root certificates (about 3 ms of CPU here), which in a
    /// class of 200 joining at once was the bench's own load beside the server's.
    pub client: reqwest::Client,
}

struct Own {
    child: tokio::process::Child,
    data: tempfile::TempDir,
    stacklab: std::path::PathBuf,
}

impl BenchServer {
    pub async fn start(stacklab: &Path) -> anyhow::Result<Self> {
        if let Ok(addr) = std::env::var("STACKLAB_BENCH_SERVER") {
            let port = addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).context("STACKLAB_BENCH_SERVER: HOST:PORT")?;
            let pid = std::env::var("STACKLAB_BENCH_SERVER_PID").ok().and_then(|p| p.parse().ok());
            anyhow::ensure!(matches!(crate::http::get(port, "/healthz").await, Ok((200, _))), "no server answers on {addr}");
            return Ok(Self { _own: None, port, pid, client: reqwest::Client::new() });
        }
        let port = crate::http::free_port()?;
        let data = tempfile::Builder::new().prefix("stacklab-bench-srv-").tempdir()?;
        let child = tokio::process::Command::new(stacklab)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--class-code", "BENCH", "--instructor-token", BENCH_TOKEN])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--sandbox-cgroup-root", CGROUP_ROOT, "--sandbox-uid-base", "1300000000"])
            .env("STACKLAB_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting stacklab serve")?;
        for _ in 0..400 {
            if let Ok((200, _)) = crate::http::get(port, "/healthz").await {
                let pid = child.id();
                let client = reqwest::Client::new();
                return Ok(Self { _own: Some(Own { child, data, stacklab: stacklab.to_path_buf() }), port, pid, client });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        anyhow::bail!("stacklab serve did not come up")
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Joins the class as `name`; the session cookie.
    /// A figure from the server's `/metrics` (the instructor's scrape), e.g.
    /// `stacklab_sqlite_memory_bytes`.
    pub async fn metric(&self, name: &str) -> anyhow::Result<f64> {
        let text = self
            .client
            .get(format!("http://127.0.0.1:{}/metrics", self.port))
            .bearer_auth(BENCH_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let line = text.lines().find(|l| l.split_whitespace().next() == Some(name)).with_context(|| format!("no {name} in /metrics"))?;
        Ok(line.split_whitespace().nth(1).context("no value")?.parse()?)
    }

    pub async fn join(&self, name: &str) -> anyhow::Result<String> {
        self.join_class("BENCH", name).await
    }

    /// The server's data directory, when this bench started the server.
    pub fn data_dir(&self) -> Option<&Path> {
        self._own.as_ref().map(|o| o.data.path())
    }

    /// Makes a class (the instructor's API) with these settings; its join code.
    pub async fn make_class(&self, code: &str, settings: serde_json::Value) -> anyhow::Result<()> {
        let response = self
            .client
            .post(format!("http://127.0.0.1:{}/api/instructor/classes", self.port))
            .bearer_auth(BENCH_TOKEN)
            .json(&serde_json::json!({ "name": code, "code": code, "settings": settings }))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "making class {code}: {}", response.text().await?);
        Ok(())
    }

    /// Starts `spares` sandboxes for the class with `code` to hand to learners as they join
    /// (the instructor's "Start sandboxes"); what the server said once they all run.
    pub async fn prewarm(&self, code: &str, spares: usize) -> anyhow::Result<String> {
        let base = format!("http://127.0.0.1:{}", self.port);
        let classes: Vec<serde_json::Value> = self
            .client
            .get(format!("{base}/api/instructor/classes"))
            .bearer_auth(BENCH_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let class = classes
            .iter()
            .find(|c| c["join_code"] == code)
            .and_then(|c| c["id"].as_str())
            .with_context(|| format!("no class with code {code}"))?;
        let response = self
            .client
            .post(format!("{base}/api/instructor/help"))
            .bearer_auth(BENCH_TOKEN)
            .json(&serde_json::json!({ "action": "prewarm", "class": class, "spares": spares }))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "pre-warming class {code}: {}", response.text().await?);
        Ok(response.text().await?)
    }

    /// Joins the class with `code` as `name`; the session cookie.
    pub async fn join_class(&self, code: &str, name: &str) -> anyhow::Result<String> {
        let response = self
            .client
            .post(format!("http://127.0.0.1:{}/api/join", self.port))
            .json(&serde_json::json!({ "code": code, "name": name }))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "join failed: {}", response.status());
        let cookie = response.headers().get("set-cookie").context("no cookie")?.to_str()?;
        Ok(cookie.split(';').next().unwrap_or_default().to_string())
    }

    pub async fn terminal(&self, cookie: &str) -> anyhow::Result<Socket> {
        let mut request = format!("ws://127.0.0.1:{}/ws/terminal/1?start=1", self.port).into_client_request()?;
        request.headers_mut().insert("cookie", cookie.parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
        read_until(&mut socket, b"# ", Duration::from_secs(60)).await?;
        Ok(socket)
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::process::Command::new(&self.stacklab)
            .args(["stop-sandboxes", "--sandbox-cgroup-root", CGROUP_ROOT])
            .arg("--data-dir")
            .arg(self.data.path())
            .env("STACKLAB_LOG", "error")
            .status();
    }
}

/// A terminal's WebSocket as the bench drives it: keys in, output out. Stacklab's carries raw
/// bytes in binary frames; the peers' (`Terminado`) JSON in text frames.
pub trait Frames {
    async fn send_keys(&mut self, keys: &[u8]) -> anyhow::Result<()>;
    /// The output a frame carries (empty for a frame of another kind); `None` once closed.
    async fn output(&mut self) -> anyhow::Result<Option<Vec<u8>>>;
}

impl Frames for Socket {
    async fn send_keys(&mut self, keys: &[u8]) -> anyhow::Result<()> {
        Ok(self.send(Message::Binary(keys.to_vec().into())).await?)
    }

    async fn output(&mut self) -> anyhow::Result<Option<Vec<u8>>> {
        match self.next().await {
            Some(Ok(Message::Binary(bytes))) => Ok(Some(bytes.to_vec())),
            Some(Ok(_)) => Ok(Some(Vec::new())),
            Some(Err(e)) => anyhow::bail!("terminal: {e}"),
            None => Ok(None),
        }
    }
}

/// A terminal speaking terminado's frames (JupyterLab's): `["stdin", text]` in, `["stdout",
/// text]` out.
pub struct Terminado(pub Socket);

impl Frames for Terminado {
    async fn send_keys(&mut self, keys: &[u8]) -> anyhow::Result<()> {
        let frame = serde_json::json!(["stdin", String::from_utf8_lossy(keys)]).to_string();
        Ok(self.0.send(Message::Text(frame.into())).await?)
    }

    async fn output(&mut self) -> anyhow::Result<Option<Vec<u8>>> {
        match self.0.next().await {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<(String, serde_json::Value)>(&text) {
                Ok((kind, serde_json::Value::String(data))) if kind == "stdout" => Ok(Some(data.into_bytes())),
                _ => Ok(Some(Vec::new())),
            },
            Some(Ok(_)) => Ok(Some(Vec::new())),
            Some(Err(e)) => anyhow::bail!("terminal: {e}"),
            None => Ok(None),
        }
    }
}

/// Types `n` keys one at a time, each timed until its echo (the line is cleared every 100).
pub async fn keystrokes(terminal: &mut impl Frames, n: usize) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        if i % 100 == 0 {
            terminal.send_keys(b"\x15").await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            while let Ok(Ok(Some(_))) = tokio::time::timeout(Duration::from_millis(5), terminal.output()).await {}
        }
        let started = Instant::now();
        terminal.send_keys(b"x").await?;
        loop {
            match terminal.output().await? {
                Some(bytes) if bytes.contains(&b'x') => break,
                Some(_) => continue,
                None => anyhow::bail!("terminal closed"),
            }
        }
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Reads terminal output until `marker` shows, failing when the terminal is silent for `wait`;
/// the bytes read.
pub async fn read_until(terminal: &mut impl Frames, marker: &[u8], wait: Duration) -> anyhow::Result<usize> {
    let mut tail: Vec<u8> = Vec::new();
    let mut total = 0;
    loop {
        let output = tokio::time::timeout(wait, terminal.output()).await.with_context(|| format!("terminal silent for {wait:?}"))??;
        let Some(bytes) = output else { anyhow::bail!("terminal closed") };
        total += bytes.len();
        tail.extend_from_slice(&bytes);
        if tail.windows(marker.len()).any(|w| w == marker) {
            return Ok(total);
        }
        if tail.len() > 4096 {
            tail.drain(..tail.len() - 256);
        }
    }
}

/// The peers' terminal stack (`bench/peer/pty-ws.js`: node-pty and ws under Node), stopped on
/// drop; its terminal, at the prompt.
async fn peer_terminal() -> anyhow::Result<(tokio::process::Child, Terminado)> {
    let port = crate::http::free_port()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peer/pty-ws.js");
    let mut child = tokio::process::Command::new("node")
        .arg(&script)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting node (bench/peer/pty-ws.js)")?;
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().context("no stdout")?);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), tokio::io::AsyncBufReadExt::read_line(&mut stdout, &mut line))
        .await
        .context("the peer did not listen within 30 s")??;
    anyhow::ensure!(line.trim() == "listening", "the peer said {line:?} (are bench/node_modules installed?)");
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/")).await?;
    let mut terminal = Terminado(socket);
    read_until(&mut terminal, b"# ", Duration::from_secs(30)).await?;
    Ok((child, terminal))
}

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = BenchServer::start(stacklab).await?;
    let cookie = server.join("Bench").await?;
    let mut socket = server.terminal(&cookie).await?;
    let (_node, mut peer_terminal) = peer_terminal().await?;

    let through_stacklab = Samples::new(keystrokes(&mut socket, KEYSTROKES).await?);
    socket.send_keys(b"\x15").await?;
    let through_peer = Samples::new(keystrokes(&mut peer_terminal, KEYSTROKES).await?);
    peer_terminal.send_keys(b"\x15").await?;
    let local = Samples::new(tokio::task::spawn_blocking(local_pty_echo).await??);
    for p in [50.0, 99.0] {
        let ours = through_stacklab.pct(p);
        table.add(
            &format!("keystroke round trip p{p} ({KEYSTROKES} keys, WebSocket→PTY→echo)"),
            ms(ours),
            "raw local PTY echo",
            ms(local.pct(p)),
            ours.as_secs_f64() / local.pct(p).as_secs_f64(),
        );
        table.add(
            &format!("keystroke round trip p{p}, against the peers' terminal stack"),
            ms(ours),
            "node-pty + ws (Educates'; terminado's frames)",
            ms(through_peer.pct(p)),
            ours.as_secs_f64() / through_peer.pct(p).as_secs_f64(),
        );
    }

    // Throughput: base64 of zeros, read as fast as the client can.
    let ours = flood(&mut socket).await?;
    let peer = flood(&mut peer_terminal).await?;
    let local = tokio::task::spawn_blocking(local_pty_throughput).await??;
    table.add(
        "terminal output throughput",
        format!("{ours:.1} MB/s"),
        "same output from a local PTY",
        format!("{local:.1} MB/s"),
        ours / local,
    );
    table.add(
        "terminal output throughput, against the peers' terminal stack",
        format!("{ours:.1} MB/s"),
        "node-pty + ws (Educates'; terminado's frames)",
        format!("{peer:.1} MB/s"),
        ours / peer,
    );
    Ok(())
}

/// MB/s of `FLOOD_BYTES` of base64 printed in the terminal, as the client reads it.
async fn flood(terminal: &mut impl Frames) -> anyhow::Result<f64> {
    let command = format!("head -c {FLOOD_BYTES} /dev/zero | base64 -w 100; echo flood-$((20+22))\n");
    tokio::time::sleep(Duration::from_millis(100)).await;
    while let Ok(Ok(Some(_))) = tokio::time::timeout(Duration::from_millis(50), terminal.output()).await {}
    let started = Instant::now();
    terminal.send_keys(command.as_bytes()).await?;
    let bytes = read_until(terminal, b"flood-42", Duration::from_secs(60)).await?;
    Ok(bytes as f64 / started.elapsed().as_secs_f64() / 1e6)
}

/// The kernel's own echo on a PTY with nothing else in the way.
fn local_pty_echo() -> anyhow::Result<Vec<Duration>> {
    let pty = nix::pty::openpty(None, None)?;
    let mut master = std::fs::File::from(pty.master);
    let _slave = pty.slave; // held open: the line discipline echoes while a slave is open
    let mut samples = Vec::with_capacity(KEYSTROKES);
    let mut buf = [0u8; 256];
    for i in 0..KEYSTROKES {
        if i % 100 == 0 {
            master.write_all(b"\n")?;
            drain(&mut master)?;
        }
        let started = Instant::now();
        master.write_all(b"x")?;
        loop {
            let n = master.read(&mut buf)?;
            if buf[..n].contains(&b'x') {
                break;
            }
        }
        samples.push(started.elapsed());
    }
    Ok(samples)
}

fn drain(master: &mut std::fs::File) -> anyhow::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let ready = {
            let mut fds = [nix::poll::PollFd::new(std::os::fd::AsFd::as_fd(&*master), nix::poll::PollFlags::POLLIN)];
            nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(20u16))?
        };
        if ready == 0 || master.read(&mut buf)? == 0 {
            return Ok(());
        }
    }
}

/// The same flood into a local PTY, read from its master.
fn local_pty_throughput() -> anyhow::Result<f64> {
    let pty = nix::pty::openpty(None, None)?;
    let slave = pty.slave;
    let started = Instant::now();
    let mut child = std::process::Command::new("sh")
        .args(["-c", &format!("head -c {FLOOD_BYTES} /dev/zero | base64 -w 100")])
        .stdout(Stdio::from(slave.try_clone()?))
        .stderr(Stdio::null())
        .spawn()?;
    drop(slave);
    let mut master = std::fs::File::from(pty.master);
    let mut total = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break, // EIO once the child and its slave are gone
            Ok(n) => total += n,
        }
    }
    child.wait()?;
    Ok(total as f64 / started.elapsed().as_secs_f64() / 1e6)
}
