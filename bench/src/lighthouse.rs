//! Lighthouse (npm, driving Debian's Chromium) scores of the lab workbook and a deck, served by
//! the release binary, next to the home page's in the same run.

use std::path::Path;

use anyhow::Context;

use crate::report::Table;
use crate::terminal::BenchServer;

const CHROME_FLAGS: &str = "--headless --no-sandbox --disable-gpu --disable-quic --disable-background-networking --disable-component-update --disable-sync --no-first-run";

/// (performance, accessibility) scores out of 100.
fn scores(url: &str) -> anyhow::Result<(f64, f64)> {
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
    Ok((score("performance"), score("accessibility")))
}

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = BenchServer::start(stacklab).await?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let home = tokio::task::spawn_blocking({
        let url = format!("{base}/");
        move || scores(&url)
    })
    .await??;
    for (what, path) in [("lab workbook page", "/labs/netns-veth"), ("deck (slide 14)", "/decks/bare-metal-to-vms/14")] {
        let url = format!("{base}{path}");
        let (performance, accessibility) = tokio::task::spawn_blocking(move || scores(&url)).await??;
        table.add(
            &format!("Lighthouse performance, {what}"),
            format!("{performance:.0}"),
            "home page",
            format!("{:.0}", home.0),
            performance / home.0,
        );
        table.add(
            &format!("Lighthouse accessibility, {what}"),
            format!("{accessibility:.0}"),
            "home page",
            format!("{:.0}", home.1),
            accessibility / home.1,
        );
    }
    Ok(())
}
