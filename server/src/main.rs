//! `stacklab`: the one binary an instructor starts. Subcommands are defined in [`cli`].

mod cli;
mod serve;
mod telemetry;
mod web;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    telemetry::init(&cli.log);
    match cli.command {
        cli::Command::Serve(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(serve::run(args))
        }
    }
}
