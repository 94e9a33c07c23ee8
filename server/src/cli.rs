//! Command line and environment configuration. Every flag can also be set through the
//! environment variable named next to it (`--help` lists them), which is how systemd units and
//! containers configure the server.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "stacklab", version, about = "A self-hosted lab workbook for teaching the stack from bare metal to Kubernetes")]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the workbook to a class.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log filter in `tracing` EnvFilter syntax; RUST_LOG is read too.
    #[arg(long, global = true, env = "STACKLAB_LOG", default_value = "info,tower_http=info")]
    pub log_filter: String,
    /// `text` for people, `json` for log collectors.
    #[arg(long, global = true, env = "STACKLAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "STACKLAB_ADDR", default_value = "0.0.0.0:3000")]
    pub addr: SocketAddr,
    /// The content tree to serve (the folder holding `course.toml`).
    #[arg(long, env = "STACKLAB_LABS", default_value_os_t = default_in_checkout("labs/workshop"))]
    pub labs: PathBuf,
    /// The built site (wasm, JavaScript, CSS) that `scripts/build` writes.
    #[arg(long, env = "STACKLAB_SITE_ROOT", default_value_os_t = default_in_checkout("target/site"))]
    pub site_root: PathBuf,
    /// Where learners' files, the database and sandboxes' state live.
    #[arg(long, env = "STACKLAB_DATA_DIR", default_value = "/var/lib/stacklab")]
    pub data_dir: PathBuf,
    /// Seconds to wait for open connections after SIGTERM/Ctrl-C before exiting anyway.
    #[arg(long, env = "STACKLAB_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace: u64,
}

/// A path inside the source checkout this binary was built from, unless the working directory
/// has it: so `stacklab serve` works from the checkout and from anywhere on the build machine.
fn default_in_checkout(relative: &str) -> PathBuf {
    let here = PathBuf::from(relative);
    if here.exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_reads_flags() {
        let cli = Cli::parse_from(["stacklab", "serve", "--addr", "127.0.0.1:0", "--data-dir", "/tmp/x"]);
        let Command::Serve(args) = cli.command;
        assert_eq!(args.addr.port(), 0);
        assert_eq!(args.data_dir, PathBuf::from("/tmp/x"));
    }
}
