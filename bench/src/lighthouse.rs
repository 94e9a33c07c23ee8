//! Lighthouse (npm, driving Debian's Chromium) scores of the lab workbook and a deck, served by
//! the release binary, next to the home page's in the same run.

use std::path::Path;

use anyhow::Context;

use crate::report::Table;
use crate::terminal::BenchServer;

const CHROME_FLAGS: &str = "--headless --no-sandbox --disable-gpu --disable-quic --disable-background-networking --disable-component-update --disable-sync --no-first-run";

/// What Lighthouse says of one page: its two scores (out of 100) and the metrics the
/// performance score is made of, in ms (CLS unitless).
struct Report {
    performance: f64,
    accessibility: f64,
    /// First and largest contentful paint, total blocking time, speed index, layout shift.
    metrics: [(&'static str, f64); 5],
}

const METRICS: [&str; 5] =
    ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "speed-index", "cumulative-layout-shift"];

fn report(url: &str) -> anyhow::Result<Report> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/.bin/lighthouse");
    anyhow::ensure!(bin.exists(), "no Lighthouse in bench/node_modules (scripts/bench installs it)");
    let out = tempfile::NamedTempFile::new()?;
    let status = std::process::Command::new(bin)
        .arg(url)
        .args(["--quiet", "--output=json", "--only-categories=performance,accessibility"])
        .arg(format!("--output-path={}", out.path().display()))
        .arg(format!("--chrome-flags={CHROME_FLAGS}"))
        .env("CHROME_PATH", "/usr/bin/chromium")
        .status()
        .context("running lighthouse")?;
    anyhow::ensure!(status.success(), "lighthouse failed on {url}");
    let report: serde_json::Value = serde_json::from_reader(std::fs::File::open(out.path())?)?;
    let score = |c: &str| report["categories"][c]["score"].as_f64().unwrap_or(0.0) * 100.0;
    let metric = |id: &'static str| (id, report["audits"][id]["numericValue"].as_f64().unwrap_or(f64::NAN));
    Ok(Report { performance: score("performance"), accessibility: score("accessibility"), metrics: METRICS.map(metric) })
}

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = BenchServer::start(stacklab).await?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let home = tokio::task::spawn_blocking({
        let url = format!("{base}/");
        move || report(&url)
    })
    .await??;
    for (what, path) in [("lab workbook page", "/labs/netns-veth"), ("deck (slide 14)", "/decks/bare-metal-to-vms/14")] {
        let url = format!("{base}{path}");
        let page = tokio::task::spawn_blocking(move || report(&url)).await??;
        for (score, value, peer) in
            [("performance", page.performance, home.performance), ("accessibility", page.accessibility, home.accessibility)]
        {
            table.add(&format!("Lighthouse {score}, {what}"), format!("{value:.0}"), "home page", format!("{peer:.0}"), value / peer);
        }
        // What the performance score is made of, each next to the home page's.
        for ((id, value), (_, peer)) in page.metrics.iter().zip(home.metrics.iter()) {
            let shown = |v: f64| if *id == "cumulative-layout-shift" { format!("{v:.3}") } else { format!("{v:.0} ms") };
            table.add(&format!("Lighthouse {id}, {what}"), shown(*value), "home page", shown(*peer), value / peer);
        }
    }
    Ok(())
}
