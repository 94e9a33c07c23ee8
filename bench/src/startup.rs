//! Server cold start: from spawning `stacklab serve` to its first 200 for `/`, next to the peer
//! of spawning the same binary for `--version` (what any process start costs here).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::http::{free_port, get};
use crate::report::Table;
use crate::stats::{Samples, ms};

const RUNS: usize = 10;

pub async fn run(bin: &Path, site: &Path, table: &mut Table) -> anyhow::Result<()> {
    let mut serve = Vec::new();
    let mut version = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let status = tokio::process::Command::new(bin).arg("--version").stdout(Stdio::null()).status().await?;
        anyhow::ensure!(status.success(), "stacklab --version failed");
        version.push(started.elapsed());

        let server = Server::start(bin, site).await?;
        serve.push(server.ready_after);
    }
    let (serve, version) = (Samples::new(serve), Samples::new(version));
    table.add(
        "server cold start to first 200 (p50)",
        ms(serve.p50()),
        "process start: stacklab --version",
        ms(version.p50()),
        serve.p50().as_secs_f64() / version.p50().as_secs_f64(),
    );
    Ok(())
}

/// The instructor token of every bench server (loopback only, gone with the server).
pub const BENCH_INSTRUCTOR_TOKEN: &str = "bench-instructor-token-0001";

/// A `stacklab serve` on a free loopback port with a throwaway data dir; killed on drop.
pub struct Server {
    /// Held for `kill_on_drop`.
    _child: tokio::process::Child,
    pub port: u16,
    pub ready_after: Duration,
    _data: TempDir,
}

impl Server {
    /// A server as `stacklab serve` starts by default (native sandboxes, from `STACKLAB_IMAGE`).
    pub async fn start(bin: &Path, site: &Path) -> anyhow::Result<Self> {
        Self::start_with(bin, site, &[]).await
    }

    /// A server with these extra `serve` arguments.
    pub async fn start_with(bin: &Path, site: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        let port = free_port()?;
        let data = TempDir::new()?;
        let started = Instant::now();
        let child = tokio::process::Command::new(bin)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(&data.0)
            .arg("--site-root")
            .arg(site)
            .args(["--instructor-token", BENCH_INSTRUCTOR_TOKEN])
            .args(extra)
            .env("STACKLAB_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start stacklab serve")?;
        let deadline = started + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = get(port, "/").await {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "stacklab serve did not answer within 30 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(Self { _child: child, port, ready_after: started.elapsed(), _data: data })
    }

    pub fn data_dir(&self) -> &Path {
        &self._data.0
    }
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("stacklab-bench-{}-{}", std::process::id(), free_port()?));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
