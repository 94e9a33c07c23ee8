//! Logging: `tracing` with an EnvFilter (RUST_LOG wins over `--log-filter`), as text or JSON.

use tracing_subscriber::{EnvFilter, fmt};

use crate::cli::{LogArgs, LogFormat};

pub fn init(args: &LogArgs) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&args.log_filter));
    let builder = fmt().with_env_filter(filter).with_target(true);
    // A second init (tests calling into the binary's modules) is harmless: keep the first.
    let _ = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
