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

/// An error from a call on sandbox `name`'s container: gone (404) or not running (409) is the
/// backend's NotFound, as for the native backend; the rest says what failed.
fn on_sandbox(name: &str, what: &str, e: bollard::errors::Error) -> Error {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code: 404 | 409, .. } => Error::NotFound(name.to_string()),
        e => Error::docker(what, e),
    }
}

fn marker() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Ends every host process whose environment carries `MARKER=<tag>`: an exec and all it
/// started, including what it put in the background.
///
/// One pass over /proc cannot judge every process. One in the middle of `execve` reads as an
/// empty environment until the kernel has laid out its new stack (a check's `cmd &` is often
/// there when the check ends; see `read_environ` for the other trap), and one killed is listed
/// until it has died. So each pass watches
/// those pids until they settle, and passes repeat while they still find tagged processes,
/// whose children may have forked meanwhile; `GIVE_UP` bounds it for a process stuck in the
/// kernel.
fn kill_tagged(tag: &str) {
    const POLL: Duration = Duration::from_millis(1);
    const GIVE_UP: Duration = Duration::from_secs(2);
    // A process started with no environment at all looks like one whose environment is being
    // laid out; that takes microseconds, so an empty one still empty after this is really empty.
    const BARE: Duration = Duration::from_millis(20);
    let mut scanner = Scanner::new(&format!("{MARKER}={tag}"));
    let started = Instant::now();
    loop {
        let mut found = false;
        let mut watch = Vec::new();
        for (pid, seen) in scanner.processes() {
            if seen == Seen::Tagged {
                found = true;
                kill(pid);
            }
            if seen != Seen::Untagged {
                watch.push((pid, Instant::now()));
            }
        }
        while !watch.is_empty() && started.elapsed() < GIVE_UP {
            std::thread::sleep(POLL);
            watch.retain(|&(pid, since)| match scanner.look(pid) {
                Some(Seen::Tagged) => {
                    found = true;
                    kill(pid);
                    true
                }
                Some(Seen::InFlux) => true,
                Some(Seen::Bare) => since.elapsed() < BARE,
                Some(Seen::Untagged) | None => false,
            });
        }
        if !found || started.elapsed() >= GIVE_UP {
            return;
        }
    }
}

fn kill(pid: i32) {
    // SAFETY: a plain signal to a process just found carrying the marker.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// What one look at a process tells of it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seen {
    Tagged,
    /// Carries another environment, or is a kernel thread or a zombie.
    Untagged,
    /// Alive with no environment laid out: mid-`execve`, or on its way out.
    InFlux,
    /// An empty environment: being laid out by `execve`, or started with none.
    Bare,
}

/// Looks for the environment entry `needle` in host processes.
struct Scanner {
    needle: Vec<u8>,
    /// One buffer for every environ read, grown when an environment does not fit.
    buf: Vec<u8>,
}

impl Scanner {
    fn new(needle: &str) -> Scanner {
        Scanner { needle: needle.as_bytes().to_vec(), buf: vec![0; 64 * 1024] }
    }

    /// Every host process, as seen now.
    fn processes(&mut self) -> Vec<(i32, Seen)> {
        let pids = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        let pids: Vec<i32> = pids.filter_map(|entry| entry.file_name().to_str()?.parse().ok()).collect();
        pids.into_iter().filter_map(|pid| Some((pid, self.look(pid)?))).collect()
    }

    /// Process `pid`; None once it is gone (or is not ours to read).
    ///
    /// An empty read is checked against the process's stat, read after it: if the environment
    /// was laid out in between (the `execve` finished), the environ is read again.
    fn look(&mut self, pid: i32) -> Option<Seen> {
        for _ in 0..3 {
            let n = read_environ(pid, &mut self.buf)?;
            let environ = &self.buf[..n];
            if environ.split(|b| *b == 0).any(|v| v == self.needle) {
                return Some(Seen::Tagged);
            }
            if !environ.is_empty() {
                return Some(Seen::Untagged);
            }
            match Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?.environment() {
                Environment::NotApplicable => return Some(Seen::Untagged),
                Environment::Missing => return Some(Seen::InFlux),
                Environment::Empty => return Some(Seen::Bare),
                Environment::Present => continue,
            }
        }
        Some(Seen::InFlux)
    }
}

/// Reads process `pid`'s environment into `buf` (grown to fit) in one read, and returns its
/// length. One read, because the kernel reads it from the memory the process had when the file
/// was opened: a second read after an `execve` finds that memory gone and ends early, cutting
/// the environment short, maybe of the marker.
fn read_environ(pid: i32, buf: &mut Vec<u8>) -> Option<usize> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(format!("/proc/{pid}/environ")).ok()?;
    loop {
        let n = file.read_at(buf, 0).ok()?;
        if n < buf.len() {
            return Some(n);
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// What `kill_tagged` needs of a `/proc/PID/stat` line.
struct Stat {
    state: char,
    flags: u64,
    env_start: u64,
    env_end: u64,
}

/// A process's environment as its stat shows it.
#[derive(Debug, PartialEq)]
enum Environment {
    /// A kernel thread or a zombie.
    NotApplicable,
    /// `env_end` is 0: `execve` has not laid out the new stack yet, or the memory is gone on the
    /// way out.
    Missing,
    /// `env_start == env_end`: started with none, or `execve` is copying it in.
    Empty,
    Present,
}

impl Stat {
    fn parse(line: &str) -> Option<Stat> {
        // Fields after the command name, which may hold spaces and parentheses; numbered as in
        // proc(5): state is 3, flags 9, env_start 50, env_end 51.
        let (_, rest) = line.rsplit_once(')')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let number = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(Stat { state: fields.first()?.chars().next()?, flags: number(9)?, env_start: number(50)?, env_end: number(51)? })
    }

    fn environment(&self) -> Environment {
        const PF_KTHREAD: u64 = 0x0020_0000;
        if matches!(self.state, 'Z' | 'X' | 'x') || self.flags & PF_KTHREAD != 0 {
            Environment::NotApplicable
        } else if self.env_end == 0 {
            Environment::Missing
        } else if self.env_end == self.env_start {
            Environment::Empty
        } else {
            Environment::Present
        }
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
        docker.start_exec(&exec, None::<StartExecOptions>).await.map_err(|e| Error::docker("starting the command", e))?
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
        docker.start_exec(&exec, Some(options)).await.map_err(|e| Error::docker("starting the shell", e))?
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(needle: &str) -> Vec<i32> {
        Scanner::new(needle).processes().into_iter().filter(|(_, seen)| *seen == Seen::Tagged).map(|(pid, _)| pid).collect()
    }

    #[test]
    fn stat_tells_where_the_environment_is() {
        // The fields after the state, with flags (field 9), env_start and env_end (50, 51) as in
        // a shell, a kernel thread, a process mid-exec, a zombie, one started with an empty
        // environment, and a command name holding spaces and parentheses.
        let environment = |head: &str, flags: u64, env: (u64, u64)| {
            let mut f = vec!["0".to_string(); 49];
            f[9 - 4] = flags.to_string();
            (f[50 - 4], f[51 - 4]) = (env.0.to_string(), env.1.to_string());
            Stat::parse(&format!("{head} {}", f.join(" "))).unwrap().environment()
        };
        assert_eq!(environment("12 (sh) S", 4194560, (140730, 140735)), Environment::Present);
        assert_eq!(environment("2 (kthreadd) S", 2129984, (0, 0)), Environment::NotApplicable);
        assert_eq!(environment("99 (sleep) R", 4194304, (0, 0)), Environment::Missing);
        assert_eq!(environment("99 (sleep) Z", 4194316, (0, 0)), Environment::NotApplicable);
        assert_eq!(environment("40 (env) S", 4194304, (140735, 140735)), Environment::Empty);
        assert_eq!(environment("7 (a) (b) D", 4194304, (0, 0)), Environment::Missing);
        assert!(Stat::parse("garbage").is_none());
    }

    /// What a check leaves: a shell that put a job in the background and exited. The job is
    /// often still inside `execve` when the check ends, where its environment reads empty, half
    /// laid out, or cut short; a chain of three `exec`s makes that likely enough to catch. The
    /// loop this replaced (three scans, done at the first that found nothing) failed this in 5
    /// runs of 6.
    #[test]
    fn kill_tagged_ends_what_a_check_left_in_the_background() {
        let mut tags = Vec::new();
        for _ in 0..200 {
            let tag = marker();
            let check = std::process::Command::new("/bin/sh")
                .args(["-c", "sh -c 'exec sh -c \"exec sh -c \\\"exec sleep 333\\\"\"' >/dev/null 2>&1 & echo started"])
                .env(MARKER, &tag)
                .output()
                .unwrap();
            assert_eq!(check.stdout, b"started\n");
            kill_tagged(&tag);
            tags.push(format!("{MARKER}={tag}"));
        }
        // A job that outlived kill_tagged has finished its exec by now and shows its tag.
        std::thread::sleep(Duration::from_millis(100));
        let left: Vec<i32> = tags.iter().flat_map(|needle| tagged(needle)).collect();
        left.iter().for_each(|&pid| kill(pid));
        assert!(left.is_empty(), "background jobs outlived kill_tagged: {left:?}");
    }

    /// A tagged shell that keeps forking and exec'ing background jobs while it is killed: some
    /// are always mid-exec or still dying.
    #[test]
    fn kill_tagged_ends_a_forking_tree_and_waits_for_it() {
        let tag = marker();
        let mut shell =
            std::process::Command::new("/bin/sh").args(["-c", "while :; do sleep 333 & done"]).env(MARKER, &tag).spawn().unwrap();
        let needle = format!("{MARKER}={tag}");
        let started = Instant::now();
        while tagged(&needle).len() < 20 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        kill_tagged(&tag);
        assert!(!shell.wait().unwrap().success());
        let left = tagged(&needle);
        // The background jobs were reparented away from this test; it cleans up what is left.
        left.iter().for_each(|&pid| kill(pid));
        assert!(left.is_empty(), "tagged processes outlived kill_tagged: {left:?}");
    }
}
