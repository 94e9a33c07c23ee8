//! Time to first byte of the home page (server-side rendering from the loaded course) over 200
//! requests, next to `/healthz` (a route that renders nothing) on the same server.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::report::Table;
use crate::startup::Server;
use crate::stats::{Samples, ms};

const REQUESTS: usize = 200;

pub async fn run(bin: &Path, site: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = Server::start(bin, site).await?;
    // Warm up: first renders fill caches that a class would have filled within seconds.
    for _ in 0..20 {
        get(server.port, "/").await?;
    }
    let mut home = Vec::with_capacity(REQUESTS);
    let mut health = Vec::with_capacity(REQUESTS);
    // Interleaved, so both see the same machine noise.
    for _ in 0..REQUESTS {
        home.push(get(server.port, "/").await?.1);
        health.push(get(server.port, "/healthz").await?.1);
    }
    let (home, health) = (Samples::new(home), Samples::new(health));
    for p in [50.0, 95.0] {
        table.add(
            &format!("home page TTFB p{p}"),
            ms(home.pct(p)),
            &format!("/healthz TTFB p{p}"),
            ms(health.pct(p)),
            home.pct(p).as_secs_f64() / health.pct(p).as_secs_f64(),
        );
    }
    drop(server);
    Ok(())
}

/// One `GET` on a fresh loopback connection: status and time to the first response byte.
pub async fn get(port: u16, path: &str) -> anyhow::Result<(u16, Duration)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let started = Instant::now();
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await?;
    let ttfb = started.elapsed();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await?;
    let head = String::from_utf8_lossy(&rest[..rest.len().min(16)]);
    // "HTTP/1.1 200 OK": the first byte was 'H', so the status starts at index 8 of `rest`.
    let status = head.get(8..11).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, ttfb))
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
