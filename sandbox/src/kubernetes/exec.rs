//! Commands and terminals in a pod: the exec API (through kube-rs), plus what the Backend
//! promises on top of it — a time limit, bounded output, an environment and a working
//! directory, and nothing a check started left running afterwards.
//!
//! The exec API has no environment, no working directory and (before the v5 protocol of
//! Kubernetes 1.30) no way to close stdin, and ending the connection does not end the
//! command. So every command runs under a small POSIX sh wrapper, in the pod, which takes all of
//! it as arguments: it feeds stdin from base64, exports a fresh marker, runs the command, and
//! then ends every process whose environment carries the marker (unless asked to leave them
//! running). A command over its limit is ended the same way, by a second exec.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, AttachedProcess, TerminalSize};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

use crate::backend::{Error, ExecEnd, ExecOutput, ExecRequest, Shell, ShellControl, ShellRequest, Stats};
use crate::pty::PtySize;

use super::pod::CONTAINER;

const MARKER: &str = "STACKLAB_EXEC";

/// `sh -c WRAP stacklab-exec TAG STDIN_BASE64 LEAVE_RUNNING ENV... -- ARGV...`
const WRAP: &str = r#"tag=$1; stdin=$2; leave=$3; shift 3
while [ "$1" != "--" ]; do export "$1"; shift; done; shift
cd /root 2>/dev/null || cd /
export STACKLAB_EXEC="$tag"
if [ -n "$stdin" ]; then printf '%s' "$stdin" | base64 -d | "$@"; else "$@" </dev/null; fi
code=$?
unset STACKLAB_EXEC
[ "$leave" = 1 ] || end_tagged "$tag"
exit $code"#;

/// `sh -c END stacklab-end TAG`: ends every process carrying the marker. The ending shell
/// itself does not carry it. A process inside `execve` shows no environment for a moment (a
/// check's `cmd &` is often there when the check ends), so the scans go on until two in a row,
/// a moment apart, find nothing (bounded; the Docker backend's `kill_tagged` says more).
const END: &str = r#"end_tagged() {
  clean=0; scans=0
  while [ "$clean" -lt 2 ] && [ "$scans" -lt 50 ]; do
    scans=$((scans + 1)); clean=$((clean + 1))
    for p in /proc/[0-9]*; do
      if tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "STACKLAB_EXEC=$1"; then kill -9 "${p#/proc/}" 2>/dev/null; clean=0; fi
    done
    [ "$clean" -ge 2 ] || sleep 0.02
  done
}"#;

fn marker() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn wrapped(tag: &str, request_env: &[(String, String)], stdin: &[u8], leave_running: bool, argv: &[String]) -> Vec<String> {
    let mut out = vec!["/bin/sh".to_string(), "-c".into(), format!("{END}\n{WRAP}"), "stacklab-exec".into(), tag.into()];
    out.push(base64::engine::general_purpose::STANDARD.encode(stdin));
    out.push(if leave_running { "1" } else { "0" }.into());
    out.extend(request_env.iter().map(|(k, v)| format!("{k}={v}")));
    out.push("--".into());
    out.extend(argv.iter().cloned());
    out
}

/// An error from the exec API on pod `pod` of sandbox `name`: a pod that is gone or not
/// running is the backend's NotFound, as for the other backends.
pub fn on_sandbox(name: &str, what: &str, e: kube::Error) -> Error {
    match &e {
        kube::Error::Api(s) if s.code == 404 => Error::NotFound(name.to_string()),
        kube::Error::UpgradeConnection(_) => Error::NotFound(name.to_string()),
        _ => Error::kubernetes(what, e),
    }
}

/// Ends every process of the command tagged `tag` in `pod`.
pub async fn end_tagged(pods: &Api<Pod>, pod: &str, tag: &str) {
    let argv = vec!["/bin/sh".to_string(), "-c".into(), format!("{END}\nend_tagged \"$1\""), "stacklab-end".into(), tag.into()];
    let params = AttachParams::default().container(CONTAINER).stdin(false).stdout(true).stderr(true);
    if let Ok(mut process) = pods.exec(pod, argv, &params).await
        && let Some(status) = process.take_status()
    {
        let _ = tokio::time::timeout(Duration::from_secs(10), status).await;
    }
}

/// The exit code in an exec's final status: Success is 0, a NonZeroExitCode carries its code.
fn exit_code(status: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>) -> i32 {
    let Some(status) = status else { return -1 };
    if status.status.as_deref() == Some("Success") {
        return 0;
    }
    status
        .details
        .and_then(|d| d.causes)
        .and_then(|causes| causes.into_iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
        .and_then(|c| c.message)
        .and_then(|m| m.parse().ok())
        .unwrap_or(-1)
}

async fn read_bounded(reader: Option<impl AsyncRead + Unpin>, limit: usize) -> (Vec<u8>, bool) {
    let Some(mut reader) = reader else { return (Vec::new(), false) };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return (out, false),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > limit {
                    return (out, true);
                }
            }
        }
    }
}

pub async fn run(pods: &Api<Pod>, pod: &str, name: &str, request: ExecRequest) -> Result<ExecOutput, Error> {
    let started = Instant::now();
    let tag = marker();
    let argv = wrapped(&tag, &request.env, &request.stdin, request.leave_running, &request.argv);
    let params = AttachParams::default().container(CONTAINER).stdin(false).stdout(true).stderr(true);
    let mut process = pods.exec(pod, argv, &params).await.map_err(|e| on_sandbox(name, "starting the command", e))?;
    let status = process.take_status().ok_or_else(|| Error::Backend("the exec has no status".into()))?;
    let limit = request.output_limit;
    let (stdout, stderr) = (process.stdout(), process.stderr());
    // Either stream over the limit ends the reading at once; else both are read to their end.
    let read = async {
        let (mut out_read, mut err_read) = (Box::pin(read_bounded(stdout, limit)), Box::pin(read_bounded(stderr, limit)));
        let (mut out, mut err) = (None, None);
        loop {
            tokio::select! {
                (o, over) = &mut out_read, if out.is_none() => { if over { return (o, Vec::new(), true) } out = Some(o) }
                (e, over) = &mut err_read, if err.is_none() => { if over { return (Vec::new(), e, true) } err = Some(e) }
            }
            if out.is_some() && err.is_some() {
                return (out.unwrap_or_default(), err.unwrap_or_default(), false);
            }
        }
    };
    let outcome = tokio::time::timeout(request.timeout, read).await;
    let took = started.elapsed();
    let end = match &outcome {
        Err(_) => Some(ExecEnd::TimedOut),
        Ok((_, _, true)) => Some(ExecEnd::OutputLimit),
        Ok(_) => None,
    };
    if let Some(end) = end {
        process.abort();
        end_tagged(pods, pod, &tag).await;
        return Ok(ExecOutput { end, stdout: Vec::new(), stderr: Vec::new(), took });
    }
    let (mut stdout, mut stderr, _) = outcome.unwrap_or_default();
    stdout.truncate(limit);
    stderr.truncate(limit);
    let code = exit_code(tokio::time::timeout(Duration::from_secs(10), status).await.ok().flatten());
    Ok(ExecOutput { end: ExecEnd::Exited(code), stdout, stderr, took })
}

pub async fn shell(pods: &Api<Pod>, pod: &str, name: &str, request: ShellRequest) -> Result<Shell, Error> {
    let argv = request.argv.clone().unwrap_or_else(|| vec!["/bin/bash".into(), "-l".into()]);
    let tag = marker();
    let mut env = request.env.clone();
    env.push(("TERM".into(), "xterm-256color".into()));
    env.push((MARKER.into(), tag.clone()));
    // A terminal's command is exec'd in place of the wrapper: the marker is in its
    // environment from the start, so `kill` finds everything the learner ran in it.
    // The size is set here too: the API server's resize message travels apart from stdin, and
    // the first command a learner types could otherwise see a terminal of 0 rows.
    let size = format!("stty rows {} cols {} 2>/dev/null; ", request.size.rows, request.size.cols);
    let script = format!("{size}cd /root 2>/dev/null; exec env \"$@\"");
    let mut command = vec!["/bin/sh".to_string(), "-c".into(), script, "stacklab-shell".into()];
    command.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    command.extend(argv);
    let params = AttachParams::interactive_tty().container(CONTAINER);
    let mut process = pods.exec(pod, command, &params).await.map_err(|e| on_sandbox(name, "starting the shell", e))?;
    let mut resize = process.terminal_size().ok_or_else(|| Error::Backend("the exec has no terminal".into()))?;
    let _ = resize.try_send(TerminalSize { width: request.size.cols, height: request.size.rows });
    let input = process.stdin().ok_or_else(|| Error::Backend("the exec has no stdin".into()))?;
    let output = process.stdout().ok_or_else(|| Error::Backend("the exec has no stdout".into()))?;
    let status = process.take_status().ok_or_else(|| Error::Backend("the exec has no status".into()))?;
    let (done_tx, done_rx) = watch::channel(None);
    tokio::spawn(async move {
        let _ = done_tx.send(Some(exit_code(status.await)));
    });
    Ok(Shell {
        output: Box::pin(output),
        input: Box::pin(input),
        control: Box::new(PodShell {
            pods: pods.clone(),
            pod: pod.to_string(),
            tag,
            resize: Mutex::new(resize),
            done: done_rx,
            process: Arc::new(Mutex::new(Some(process))),
        }),
    })
}

struct PodShell {
    pods: Api<Pod>,
    pod: String,
    tag: String,
    resize: Mutex<futures::channel::mpsc::Sender<TerminalSize>>,
    done: watch::Receiver<Option<i32>>,
    /// Kept so the connection lives as long as the shell.
    process: Arc<Mutex<Option<AttachedProcess>>>,
}

#[async_trait]
impl ShellControl for PodShell {
    fn resize(&self, size: PtySize) -> std::io::Result<()> {
        let mut sender = self.resize.lock().unwrap_or_else(|e| e.into_inner());
        sender.try_send(TerminalSize { width: size.cols, height: size.rows }).map_err(|e| std::io::Error::other(e.to_string()))
    }

    async fn wait(&self) -> i32 {
        let mut done = self.done.clone();
        match done.wait_for(Option::is_some).await {
            Ok(code) => code.unwrap_or(-1),
            Err(_) => -1,
        }
    }

    fn kill(&self) {
        let (pods, pod, tag, process) = (self.pods.clone(), self.pod.clone(), self.tag.clone(), self.process.clone());
        tokio::spawn(async move {
            end_tagged(&pods, &pod, &tag).await;
            if let Some(p) = process.lock().unwrap_or_else(|e| e.into_inner()).take() {
                p.abort();
            }
        });
    }
}

/// The pod's own cgroup, read from inside it (cgroup v1 or v2): no metrics server needed.
const STATS: &str = r#"m=/sys/fs/cgroup
if [ -f $m/memory.current ]; then
  echo "mem $(cat $m/memory.current) $(cat $m/memory.max)"
  echo "cpu $(awk '/^usage_usec/ {print $2 * 1000}' $m/cpu.stat)"
else
  echo "mem $(cat $m/memory/memory.usage_in_bytes) $(cat $m/memory/memory.limit_in_bytes)"
  echo "cpu $(cat $m/cpuacct/cpuacct.usage 2>/dev/null || cat $m/cpu,cpuacct/cpuacct.usage)"
fi
echo "pids $(ls -d /proc/[0-9]* | wc -l)"
echo "disk $(df -kP /root | awk 'NR==2 {print $3 * 1024, $2 * 1024}')""#;

pub async fn stats(pods: &Api<Pod>, pod: &str, name: &str) -> Result<Stats, Error> {
    let out = run(pods, pod, name, super::posix(STATS)).await?;
    let text = out.stdout_text();
    let field = |key: &str, i: usize| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().nth(i))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(Stats {
        memory_bytes: field("mem ", 0),
        memory_limit_bytes: field("mem ", 1),
        pids: field("pids ", 0),
        cpu_usage: Duration::from_nanos(field("cpu ", 0)),
        disk_used_bytes: field("disk ", 0),
        disk_total_bytes: field("disk ", 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_runs_a_command_with_its_environment_stdin_and_exit_code() {
        let argv = wrapped(
            "t1",
            &[("A".into(), "b c".into())],
            b"hello\n",
            false,
            &["/bin/sh".into(), "-c".into(), "cat; echo \"$A\"; exit 3".into()],
        );
        let out = std::process::Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\nb c\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn the_wrapper_ends_what_the_command_left_behind() {
        let pidfile = tempfile::NamedTempFile::new().unwrap();
        // A chain of execs keeps the job inside `execve` as the wrapper ends it, now and then.
        let script = format!("sh -c 'exec sh -c \"exec sleep 300\"' & echo $! > {}", pidfile.path().display());
        let argv = wrapped(&marker(), &[], b"", false, &["/bin/sh".into(), "-c".into(), script]);
        let out = std::process::Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
        assert!(out.status.success());
        let pid: i32 = std::fs::read_to_string(pidfile.path()).unwrap().trim().parse().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // Reaped by the wrapper's shell or gone: either way no longer a live process.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(state.is_empty() || state.split_whitespace().nth(2) == Some("Z"), "the background sleep still runs: {state}");
    }
}
