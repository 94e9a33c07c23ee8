//! `stacklab`: the one binary an instructor starts. Subcommands are defined in [`cli`].

use clap::Parser;
use server::commands::{hold, image, labs};
use server::{cli, serve, telemetry};

fn main() -> anyhow::Result<std::process::ExitCode> {
    // The helper must stay single-threaded and quiet: no runtime, no logging. It is run for each
    // sandbox's start, and building the whole command line's parser first would cost it ~1 ms.
    if std::env::args_os().nth(1).is_some_and(|a| a == "sandbox-helper") {
        sandbox::native::builder::main();
    }
    let cli = cli::Cli::parse();
    // Process-wide memory settings, before any thread or SQLite starts.
    server::allocator::settle();
    server::store::page_cache::install();
    telemetry::init(&cli.log);
    match cli.command {
        cli::Command::SandboxHelper => unreachable!("handled above"),
        cli::Command::Labs(command) => labs::run(command),
        cli::Command::Image(command) => image::run(command).map(|()| std::process::ExitCode::SUCCESS),
        cli::Command::HoldSandboxes => hold::run(),
        cli::Command::StopSandboxes { data_dir, cgroup_root, cgroup_parent } => {
            let backend = sandbox::native::NativeBackend::open_for_cleanup(sandbox::native::NativeConfig {
                data_dir,
                image: Default::default(),
                helper: vec!["/proc/self/exe".into(), "sandbox-helper".into()],
                uid_base: 0,
                cgroup_root,
                cgroup_parent,
                // Also removes the outbound rules a server with this cgroup root installed.
                outbound: Some(String::new()),
                shared_files: Vec::new(),
                start_limits: Default::default(),
            })?;
            backend.shutdown_all_blocking();
            Ok(std::process::ExitCode::SUCCESS)
        }
        cli::Command::Serve(args) => {
            raise_open_files();
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(serve::run(*args)).map(|()| std::process::ExitCode::SUCCESS)
        }
    }
}

/// Every learner holds a WebSocket, a PTY and their check agent's pipes open in the server: a
/// lecture hall needs more than the 1,024 open files a login shell allows by default. The soft
/// limit goes up to the hard one (as deploy/stacklab.service sets it anyway).
fn raise_open_files() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        eprintln!("stacklab: could not raise the open files limit from {soft}: {e}");
    }
}
