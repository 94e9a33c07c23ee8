//! Commands and terminals in a Docker sandbox: `docker exec` through bollard, in the shape of
//! its `exec_term` example, plus what the Backend promises on top — a time limit, bounded output,
//! and nothing a check started left running afterwards.
//!
//! Docker has no "kill this exec" call. Every exec is tagged with a marker in its environment,
//! which its children inherit, and the server (on the engine's host, as the local socket implies)
//! ends every process carrying the marker when the command is done or over its limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bollard::Docker;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::{ResizeExecOptionsBuilder, StatsOptionsBuilder};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend::{Error, ExecEnd, ExecOutput, ExecRequest, Shell, ShellControl, ShellRequest, Stats};
use crate::pty::PtySize;

const MARKER: &str = "STACKLAB_EXEC";

fn failed(what: &str, e: bollard::errors::Error) -> Error {
    Error::Backend(format!("{what}: {e}"))
}

/// An error from a call on sandbox `name`'s container: gone (404) or not running (409) is the
/// backend's NotFound, as for the native backend; the rest says what failed.
fn on_sandbox(name: &str, what: &str, e: bollard::errors::Error) -> Error {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code: 404 | 409, .. } => Error::NotFound(name.to_string()),
        e => failed(what, e),
    }
}

fn marker() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Ends every host process whose environment carries `MARKER=<tag>`: an exec and all it
/// started, including what it put in the background.
fn kill_tagged(tag: &str) {
    let needle = format!("{MARKER}={tag}");
    for _ in 0..3 {
        let mut found = false;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
            if environ.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
                found = true;
                // SAFETY: a plain signal to a process we just found.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if !found {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An exec of `argv` as root in /root, attached, tagged with a fresh marker (returned).
fn exec_config(argv: Vec<String>, env: &[(String, String)], tty: bool) -> (ExecConfig, String) {
    let tag = marker();
    let mut env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if tty {
        env.push("TERM=xterm-256color".into());
    }
    env.push(format!("{MARKER}={tag}"));
    let config = ExecConfig {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(tty),
        cmd: Some(argv),
        env: Some(env),
        working_dir: Some("/root".into()),
        ..Default::default()
    };
    (config, tag)
}

pub async fn run(docker: &Docker, container: &str, name: &str, request: ExecRequest) -> Result<ExecOutput, Error> {
    let started = Instant::now();
    let (config, tag) = exec_config(request.argv.clone(), &request.env, false);
    let exec = docker.create_exec(container, config).await.map_err(|e| on_sandbox(name, "creating the command", e))?.id;
    let StartExecResults::Attached { mut output, mut input } =
        docker.start_exec(&exec, None::<StartExecOptions>).await.map_err(|e| failed("starting the command", e))?
    else {
        return Err(Error::Backend("the command started detached".into()));
    };
    let stdin = request.stdin.clone();
    let feed = tokio::spawn(async move {
        let _ = input.write_all(&stdin).await;
        let _ = input.shutdown().await;
    });
    let limit = request.output_limit;
    let read = async {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        while let Some(chunk) = output.next().await {
            match chunk {
                Ok(bollard::container::LogOutput::StdErr { message }) => stderr.extend_from_slice(&message),
                Ok(other) => stdout.extend_from_slice(&other.into_bytes()),
                Err(_) => break,
            }
            if stdout.len() > limit || stderr.len() > limit {
                return (stdout, stderr, true);
            }
        }
        (stdout, stderr, false)
    };
    let outcome = tokio::time::timeout(request.timeout, read).await;
    feed.abort();
    let took = started.elapsed();
    let end = match &outcome {
        Err(_) => Some(ExecEnd::TimedOut),
        Ok((_, _, true)) => Some(ExecEnd::OutputLimit),
        Ok(_) => None,
    };
    // What the command left behind dies with it, unless asked to stay (a tier's daemons).
    if end.is_some() || !request.leave_running {
        let tag = tag.clone();
        let _ = tokio::task::spawn_blocking(move || kill_tagged(&tag)).await;
    }
    if let Some(end) = end {
        return Ok(ExecOutput { end, stdout: Vec::new(), stderr: Vec::new(), took });
    }
    let (mut stdout, mut stderr, _) = outcome.unwrap_or_default();
    stdout.truncate(limit);
    stderr.truncate(limit);
    let code = exit_code(docker, &exec).await;
    Ok(ExecOutput { end: ExecEnd::Exited(code), stdout, stderr, took })
}

/// An exec's exit code once Docker has it.
async fn exit_code(docker: &Docker, exec: &str) -> i32 {
    for _ in 0..100 {
        match docker.inspect_exec(exec).await {
            Ok(i) if i.running == Some(false) => return i.exit_code.unwrap_or(-1) as i32,
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(_) => return -1,
        }
    }
    -1
}

pub async fn shell(docker: &Docker, container: &str, name: &str, request: ShellRequest) -> Result<Shell, Error> {
    let argv = request.argv.clone().unwrap_or_else(|| vec!["/bin/bash".into(), "-l".into()]);
    let (config, tag) = exec_config(argv, &request.env, true);
    let exec = docker.create_exec(container, config).await.map_err(|e| on_sandbox(name, "creating the shell", e))?.id;
    let options = StartExecOptions { tty: true, ..Default::default() };
    let StartExecResults::Attached { mut output, mut input } =
        docker.start_exec(&exec, Some(options)).await.map_err(|e| failed("starting the shell", e))?
    else {
        return Err(Error::Backend("the shell started detached".into()));
    };
    resize(docker, &exec, request.size).await;
    // bollard's streams are not Sync, which the Shell's are: pump them through pipes.
    let (out_ours, out_theirs) = tokio::io::duplex(64 * 1024);
    let (in_ours, in_theirs) = tokio::io::duplex(64 * 1024);
    let (mut out_writer, mut in_reader) = (out_ours, in_theirs);
    tokio::spawn(async move {
        while let Some(Ok(chunk)) = output.next().await {
            if out_writer.write_all(&chunk.into_bytes()).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; 8192];
        loop {
            match in_reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if input.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    Ok(Shell {
        output: Box::pin(out_theirs),
        input: Box::pin(in_ours),
        control: Box::new(DockerShell { docker: Arc::new(docker.clone()), exec, tag }),
    })
}

async fn resize(docker: &Docker, exec: &str, size: PtySize) {
    let options = ResizeExecOptionsBuilder::default().h(i32::from(size.rows)).w(i32::from(size.cols)).build();
    let _ = docker.resize_exec(exec, options).await;
}

struct DockerShell {
    docker: Arc<Docker>,
    exec: String,
    tag: String,
}

#[async_trait]
impl ShellControl for DockerShell {
    fn resize(&self, size: PtySize) -> std::io::Result<()> {
        let (docker, exec) = (self.docker.clone(), self.exec.clone());
        tokio::spawn(async move { resize(&docker, &exec, size).await });
        Ok(())
    }

    async fn wait(&self) -> i32 {
        loop {
            match self.docker.inspect_exec(&self.exec).await {
                Ok(i) if i.running == Some(false) => return i.exit_code.unwrap_or(-1) as i32,
                Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(_) => return -1,
            }
        }
    }

    fn kill(&self) {
        let tag = self.tag.clone();
        tokio::task::spawn_blocking(move || kill_tagged(&tag));
    }
}

pub async fn stats(docker: &Docker, container: &str, name: &str) -> Result<Stats, Error> {
    let options = StatsOptionsBuilder::default().stream(false).one_shot(true).build();
    let mut stream = docker.stats(container, Some(options));
    let s = stream.next().await.ok_or_else(|| Error::Backend("Docker sent no stats".into()))?.map_err(|e| on_sandbox(name, "stats", e))?;
    let memory = s.memory_stats.unwrap_or_default();
    Ok(Stats {
        memory_bytes: memory.usage.unwrap_or(0),
        memory_limit_bytes: memory.limit.unwrap_or(0),
        pids: s.pids_stats.and_then(|p| p.current).unwrap_or(0),
        cpu_usage: Duration::from_nanos(s.cpu_stats.and_then(|c| c.cpu_usage).and_then(|u| u.total_usage).unwrap_or(0)),
        disk_used_bytes: 0,
        disk_total_bytes: 0,
    })
}
