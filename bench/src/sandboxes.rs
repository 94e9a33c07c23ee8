//! Native sandboxes against `docker run` of the same image on the same machine: start to first
//! command answered (and stopped again), start to a shell prompt, 30 at once, memory per idle
//! sandbox. The Docker peer needs a dockerd (scripts/bench starts one) and the image imported
//! as `STACKLAB_DOCKER_IMAGE`; without them those rows say why they are missing.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use sandbox::native::NativeBackend;
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec};

use crate::report::Table;
use crate::stats::{Samples, ms};

const RUNS: usize = 50;
const AT_ONCE: usize = 30;

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let data = tempfile::Builder::new().prefix("stacklab-bench-").tempdir()?;
    let backend = crate::native::open(stacklab, data.path(), "stacklab-bench", 1_800_000_000, Vec::new())?;
    let docker = std::env::var("STACKLAB_DOCKER_IMAGE").ok();
    let result = measure(&backend, docker.as_deref(), table).await;
    backend.shutdown_all_blocking();
    result
}

fn spec(i: usize) -> SandboxSpec {
    SandboxSpec {
        name: format!("bench-{i}"),
        owner: format!("bench-{i}"),
        limits: Limits { memory_bytes: 512 << 20, cpu_millis: 1000, pids: 256, disk_bytes: 256 << 20 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

async fn measure(backend: &NativeBackend, docker: Option<&str>, table: &mut Table) -> anyhow::Result<()> {
    // Each learner's layer is made once (mkfs); measure sandboxes, not first-time set-up.
    for i in 0..AT_ONCE {
        backend.start(&spec(i)).await?;
        backend.stop(&spec(i).name).await?;
    }

    // 1. start -> `echo ready` answered -> stopped, next to `docker run --rm ... echo ready`.
    let mut native = Vec::new();
    let mut peer = Vec::new();
    let mut starts = Vec::new();
    let mut phases: Vec<Vec<sandbox::native::Phase>> = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let s = spec(0);
        backend.start(&s).await?;
        starts.push(started.elapsed());
        phases.push(backend.last_start_phases());
        let out = backend.exec(&s.name, ExecRequest::script("echo ready")).await?;
        anyhow::ensure!(out.stdout_text() == "ready\n", "unexpected output {:?}", out.stdout_text());
        backend.stop(&s.name).await?;
        native.push(started.elapsed());
        if let Some(image) = docker {
            let started = Instant::now();
            docker_run(image, &["bash", "-c", "echo ready"]).await?;
            peer.push(started.elapsed());
        }
    }
    let (native, peer) = (Samples::new(native), Samples::new(peer));
    for p in [50.0, 95.0] {
        row(
            table,
            &format!("sandbox start → command answered → stopped, p{p} ({RUNS} runs)"),
            native.pct(p),
            docker.map(|_| peer.pct(p)),
            "docker run --rm (same image)",
        );
    }

    start_phases(table, Samples::new(starts), &phases).await?;

    // 2. start -> login shell prompt on a terminal (the learner's first view).
    let prompt = crate::backends::start_to_prompt(backend, &spec(1), &sandbox::ShellRequest::default(), RUNS).await?;
    let peer_prompt = if let Some(image) = docker {
        let mut v = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            docker_run(image, &["bash", "-lic", "true"]).await?;
            v.push(started.elapsed());
        }
        Some(Samples::new(v).p50())
    } else {
        None
    };
    row(
        table,
        &format!("sandbox start → shell prompt on a terminal, p50 ({RUNS} runs)"),
        prompt.p50(),
        peer_prompt,
        "docker run --rm bash -li (p50 of 10)",
    );
    row(table, &format!("sandbox start → shell prompt on a terminal, p95 ({RUNS} runs)"), prompt.pct(95.0), None, "-");

    // Of that, the terminal's own part: opening one in a running sandbox until the prompt,
    // next to the same login bash in a chroot on a host terminal (no namespaces to enter).
    backend.start(&spec(1)).await?;
    let mut terminal = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let shell = crate::backends::at_prompt(backend, &spec(1).name, sandbox::ShellRequest::default()).await?;
        terminal.push(started.elapsed());
        shell.control.kill();
    }
    backend.stop(&spec(1).name).await?;
    let rootfs = std::env::var_os("STACKLAB_IMAGE").map(|i| Path::new(&i).join("rootfs"));
    let bare = match &rootfs {
        Some(rootfs) => {
            let rootfs = rootfs.clone();
            Some(tokio::task::spawn_blocking(move || bare_login_shell(&rootfs, RUNS)).await??.p50())
        }
        None => None,
    };
    row(
        table,
        &format!("  a terminal in a running sandbox → its prompt, p50 ({RUNS} runs)"),
        Samples::new(terminal).p50(),
        bare,
        "the lab image's bash -l chrooted on a host terminal, p50",
    );

    // 3. 30 at once: until every one has answered; then memory per idle sandbox, as charged
    // to each one's memory cgroup (page cache included), after a moment of rest.
    let started = Instant::now();
    let starts = (0..AT_ONCE).map(|i| async move {
        let s = spec(i);
        backend.start(&s).await?;
        backend.exec(&s.name, ExecRequest::script("true")).await?;
        anyhow::Ok(())
    });
    for r in futures::future::join_all(starts).await {
        r?;
    }
    let all_native = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut native_mem = 0;
    for i in 0..AT_ONCE {
        native_mem += backend.stats(&spec(i).name).await?.memory_bytes;
    }
    let native_mem = native_mem / AT_ONCE as u64;
    for i in 0..AT_ONCE {
        backend.stop(&spec(i).name).await?;
    }
    let (all_docker, docker_mem) = match docker {
        Some(image) => {
            let started = Instant::now();
            let runs = (0..AT_ONCE).map(|i| async move {
                docker_cli(&["run", "-d", "--network", "none", "--name", &format!("stacklab-bench-{i}"), image, "sleep", "infinity"])
                    .await?;
                docker_cli(&["exec", &format!("stacklab-bench-{i}"), "true"]).await
            });
            let results = futures::future::join_all(runs).await;
            let took = started.elapsed();
            tokio::time::sleep(Duration::from_secs(2)).await;
            let mut mem = 0;
            for i in 0..AT_ONCE {
                mem += docker_memory(&format!("stacklab-bench-{i}")).await.unwrap_or(0);
            }
            for i in 0..AT_ONCE {
                let _ = docker_cli(&["rm", "-f", &format!("stacklab-bench-{i}")]).await;
            }
            for r in results {
                r?;
            }
            (Some(took), Some(mem / AT_ONCE as u64))
        }
        None => (None, None),
    };
    row(table, &format!("{AT_ONCE} sandboxes started at once, until all answer"), all_native, all_docker, "30 × docker run -d + exec");
    let peer_mem = docker_mem.map(mib).unwrap_or_else(|| "-".into());
    let ratio = docker_mem.map(|d| native_mem as f64 / d as f64).unwrap_or(f64::NAN);
    table.add("memory per idle sandbox (its cgroup)", mib(native_mem), "idle docker container (its cgroup)", peer_mem, ratio);
    Ok(())
}

/// Memory charged to a container's cgroup (v1 or v2, cgroupfs driver).
async fn docker_memory(name: &str) -> anyhow::Result<u64> {
    let out = tokio::process::Command::new("docker").args(["inspect", "-f", "{{.Id}}", name]).output().await?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    for path in [
        format!("/sys/fs/cgroup/memory/docker/{id}/memory.usage_in_bytes"),
        format!("/sys/fs/cgroup/docker/{id}/memory.current"),
        format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.current"),
    ] {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(text.trim().parse()?);
        }
    }
    anyhow::bail!("no memory cgroup found for container {name}")
}

/// Where a start's time goes: the whole `start` next to the floor (the same namespaces made by
/// `unshare` around a process exec'd in them, no filesystem), then each phase's p50 next to the
/// whole start's, as its share.
async fn start_phases(table: &mut Table, starts: Samples, phases: &[Vec<sandbox::native::Phase>]) -> anyhow::Result<()> {
    let mut floor = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = tokio::process::Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "--uts", "--ipc", "--net", "--cgroup", "--pid", "--fork", "/bin/true"])
            .stdin(Stdio::null())
            .output()
            .await
            .context("running unshare")?;
        anyhow::ensure!(out.status.success(), "unshare: {}", String::from_utf8_lossy(&out.stderr).trim());
        floor.push(started.elapsed());
    }
    let whole = starts.p50();
    row(
        table,
        &format!("sandbox start (the backend's start), p50 ({RUNS} runs)"),
        whole,
        Some(Samples::new(floor).p50()),
        "bare unshare of the same namespaces + exec, p50",
    );
    let Some(first) = phases.first() else { return Ok(()) };
    for (i, phase) in first.iter().enumerate() {
        let samples: Vec<Duration> =
            phases.iter().filter_map(|run| run.get(i).filter(|p| p.step == phase.step)).map(|p| Duration::from_micros(p.micros)).collect();
        let p50 = Samples::new(samples).p50();
        table.add(
            &format!("  start phase: {}, p50", phase.step),
            ms(p50),
            "the whole start, p50",
            ms(whole),
            p50.as_secs_f64() / whole.as_secs_f64(),
        );
    }
    Ok(())
}

/// The lab image's login bash, chrooted into `rootfs` on a terminal of the host's, from its start
/// to its prompt, `runs` times: what bash itself takes, with no namespace or cgroup to enter.
fn bare_login_shell(rootfs: &Path, runs: usize) -> anyhow::Result<Samples> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let pty = nix::pty::openpty(None, None)?;
        let started = Instant::now();
        let mut cmd = std::process::Command::new("chroot");
        cmd.arg(rootfs).args(["/bin/bash", "-l"]).env_clear().current_dir(rootfs.join("root"));
        for (key, value) in [("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), ("HOME", "/root"), ("TERM", "xterm-256color"), ("LANG", "C.UTF-8")]
        {
            cmd.env(key, value);
        }
        cmd.stdin(Stdio::from(pty.slave.try_clone()?))
            .stdout(Stdio::from(pty.slave.try_clone()?))
            .stderr(Stdio::from(pty.slave.try_clone()?));
        // SAFETY: setsid and an ioctl on descriptor 0, both async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().context("chroot into the lab image")?;
        drop(pty.slave);
        let mut master = std::fs::File::from(pty.master);
        let (mut seen, mut buf) = (Vec::new(), [0u8; 1024]);
        while !seen.ends_with(b"# ") {
            let mut fds = [nix::poll::PollFd::new(std::os::fd::AsFd::as_fd(&master), nix::poll::PollFlags::POLLIN)];
            anyhow::ensure!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(10_000u16))? > 0, "no prompt from the chrooted bash");
            let n = master.read(&mut buf)?;
            anyhow::ensure!(n > 0, "the chrooted bash ended before its prompt");
            seen.extend_from_slice(&buf[..n]);
        }
        samples.push(started.elapsed());
        let _ = child.kill();
        child.wait()?;
    }
    Ok(Samples::new(samples))
}

fn row(table: &mut Table, what: &str, value: Duration, peer: Option<Duration>, peer_name: &str) {
    match peer {
        Some(p) => table.add(what, ms(value), peer_name, ms(p), value.as_secs_f64() / p.as_secs_f64()),
        None => table.add(what, ms(value), if peer_name == "-" { "-" } else { "no dockerd: peer not measured" }, "-".into(), f64::NAN),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

async fn docker_run(image: &str, cmd: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["run", "--rm", "--network", "none", image];
    args.extend_from_slice(cmd);
    docker_cli(&args).await
}

async fn docker_cli(args: &[&str]) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("docker").args(args).stdin(Stdio::null()).output().await.context("running docker")?;
    anyhow::ensure!(out.status.success(), "docker {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    Ok(())
}
