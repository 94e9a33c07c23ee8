//! `stacklab-bench`: every figure is measured next to a peer in the same run and reported as a
//! ratio, because these machines are noisy and absolute numbers alone mislead. Prints one table.
//!
//! Run through `scripts/bench`, which builds the release binary and the site first.

mod backends;
mod checks;
mod class;
mod cluster;
mod containers;
mod dashboard;
mod editor;
mod follow;
mod http;
mod lighthouse;
mod native;
mod pace;
mod plot;
mod poll;
mod preview;
mod recording;
mod report;
mod sandboxes;
mod site;
mod startup;
mod stats;
mod terminal;
mod vm;
mod workshop;

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "stacklab-bench")]
struct Args {
    /// The release `stacklab` binary to measure.
    #[arg(long, env = "STACKLAB_BIN")]
    stacklab: PathBuf,
    /// The built site (holding `pkg/` and `hash.txt`).
    #[arg(long, env = "STACKLAB_SITE_ROOT")]
    site: PathBuf,
    /// Only run the benches whose name contains one of these words.
    only: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|w| name.contains(w.as_str()));
    let mut table = report::Table::default();

    if wanted("site") {
        site::run(&args.site, &mut table)?;
    }
    if wanted("startup") {
        startup::run(&args.stacklab, &args.site, &mut table).await?;
    }
    if wanted("http") {
        http::run(&args.stacklab, &args.site, &mut table).await?;
    }
    if wanted("follow") {
        follow::run(&args.stacklab, &args.site, &mut table).await?;
    }
    if wanted("poll") {
        poll::run(&args.stacklab, &args.site, &mut table).await?;
    }
    if wanted("dashboard") {
        dashboard::run(&args.stacklab, &args.site, &mut table).await?;
    }
    if wanted("sandbox") {
        sandboxes::run(&args.stacklab, &mut table).await?;
    }
    if wanted("terminal") {
        terminal::run(&args.stacklab, &mut table).await?;
    }
    if wanted("recording") {
        recording::run(&args.stacklab, &mut table).await?;
    }
    if wanted("preview") {
        preview::run(&args.stacklab, &mut table).await?;
    }
    if wanted("editor") {
        editor::run(&args.stacklab, &mut table).await?;
    }
    if wanted("check") {
        checks::run(&args.stacklab, &mut table).await?;
    }
    if wanted("vm") {
        vm::run(&args.stacklab, &mut table).await?;
    }
    // One run measures both: each next to the native backend.
    if wanted("backends docker kubernetes") {
        backends::run(&args.stacklab, &mut table).await?;
    }
    if wanted("systemd") {
        backends::systemd(&args.stacklab, &mut table).await?;
    }
    if wanted("cluster") {
        cluster::run(&args.stacklab, &mut table).await?;
    }
    if wanted("containers") {
        containers::run(&args.stacklab, &mut table).await?;
    }
    // Not in a plain `scripts/bench`: ten minutes of a whole class, `scripts/bench class`.
    if args.only.iter().any(|w| w == "class") {
        class::run(&args.stacklab, &mut table).await?;
    }
    // Nor is the curve of classes of growing size, up to the knee: `scripts/bench curve`.
    if args.only.iter().any(|w| w == "curve") {
        class::curve(&args.stacklab, &mut table).await?;
    }
    if wanted("lighthouse") {
        lighthouse::run(&args.stacklab, &mut table).await?;
    }
    table.print();
    Ok(())
}
