//! A sandbox's check agent, host side: the bash kept in the sandbox that runs its checks (the
//! script and its protocol: `crate::check`). Entering a sandbox and starting bash for every
//! check cost about three times the CPU of the check's own work under a class's load; the agent
//! enters once, and a check is a fork there.
//!
//! The agent lives in a command group of its own below the learner's (so it counts against their
//! limits, and everything it ever started dies with that group), started at a sandbox's first
//! check. The learner is root beside it and may kill it, stop it, or answer in its place: what it
//! says is read with bounds and checked word by word, and an agent that errs, says anything
//! else, or takes longer than the check's time limit is killed with its whole group and
//! replaced at the next check. A check that leaves a process outside its process group (a
//! daemon, `setsid`) retires its agent too, taking that process with it, as the one-off way's
//! group would.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};

use crate::backend::{ExecEnd, ExecOutput};
use crate::check::{CHECK_OUTPUT_LIMIT, CheckRequest, Said};

/// How long what a check started may hold its output open after it has exited, as for a
/// command of its own (see `NativeBackend::exec`).
const GRACE: Duration = Duration::from_millis(200);

/// A running agent.
pub(super) struct Agent {
    /// Its command group, below the sandboxes' root.
    pub group: String,
    /// nsenter, host side (the agent is its child inside the sandbox); held for `kill_on_drop`.
    _entering: Child,
    requests: ChildStdin,
    replies: BufReader<ChildStdout>,
    errors: BufReader<ChildStderr>,
    /// How each check goes (`crate::check::AGENT_SAYS_FD`).
    says: BufReader<tokio::net::unix::pipe::Receiver>,
    next_id: u64,
}

/// What a sandbox has for checks: an agent, none yet, or one that failed to start (the one-off
/// way is used until `RETRY_AFTER` has passed, rather than paying for a start at every check).
#[derive(Default)]
pub(super) enum Slot {
    #[default]
    None,
    Running(Box<Agent>),
    Failed(Instant),
}

/// How long a sandbox whose agent failed at once runs its checks the one-off way.
pub(super) const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Processes an idle agent's group holds: nsenter and the agent.
pub(super) const IDLE_PROCESSES: usize = 2;

/// A check's output and whether its agent must go (the check left something running that holds
/// its output, or printed past the limit: what it started dies with the agent's group).
pub(super) struct Answer {
    pub output: ExecOutput,
    pub retire: bool,
}

/// Why reading an answer stopped early.
enum Stop {
    Flooded,
    Broken(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Broken(e)
    }
}

impl Agent {
    pub fn new(group: String, mut entering: Child, says: tokio::net::unix::pipe::Receiver) -> io::Result<Self> {
        let missing = || io::Error::other("the agent's pipes were not set up");
        let requests = entering.stdin.take().ok_or_else(missing)?;
        let replies = BufReader::new(entering.stdout.take().ok_or_else(missing)?);
        let errors = BufReader::new(entering.stderr.take().ok_or_else(missing)?);
        Ok(Self { group, _entering: entering, requests, replies, errors, says: BufReader::new(says), next_id: 1 })
    }

    /// Runs one check; the caller bounds the time (and retires the agent past it: a reply cut
    /// off midway leaves it unusable). An error: the agent ended or said something else.
    pub async fn ask(&mut self, check: &CheckRequest) -> io::Result<Answer> {
        let started = Instant::now();
        let id = self.next_id;
        self.next_id += 1;
        self.requests.write_all(&crate::check::encode(id, check)).await?;
        self.requests.flush().await?;
        let (stdout, stderr) = (Mutex::new(Vec::new()), Mutex::new(Vec::new()));
        let exited = Mutex::new(None::<(i32, tokio::time::Instant)>);
        let exit = || *exited.lock().unwrap_or_else(|p| p.into_inner());
        let exited_now = tokio::sync::Notify::new();
        let says = async {
            loop {
                match next(&mut self.says, id, "says").await? {
                    Said::Exited(status) => {
                        *exited.lock().unwrap_or_else(|p| p.into_inner()) = Some((status, tokio::time::Instant::now()));
                        exited_now.notify_one();
                    }
                    Said::End if exit().is_some() => return Ok::<_, Stop>(()),
                    _ => return Err(io::Error::other("the check's end before it exited").into()),
                }
            }
        };
        // Once the check has exited, what it left running may hold its output no longer than
        // `GRACE`.
        let grace = async {
            loop {
                if let Some((_, at)) = exit() {
                    return tokio::time::sleep_until(at + GRACE).await;
                }
                exited_now.notified().await;
            }
        };
        let finished = tokio::select! {
            done = async {
                tokio::try_join!(output(&mut self.replies, id, "out", &stdout), output(&mut self.errors, id, "err", &stderr), says)
            } => Some(done),
            () = grace => None,
        };
        let (end, retire) = match finished {
            Some(Ok(_)) => (None, false),
            Some(Err(Stop::Flooded)) => (Some(ExecEnd::OutputLimit), true),
            Some(Err(Stop::Broken(e))) => return Err(e),
            None => (None, true),
        };
        let end = match (end, exit()) {
            (Some(end), _) => end,
            (None, Some((status, _))) => crate::check::end_of(status),
            (None, None) => return Err(io::Error::other("no exit status")),
        };
        let taken = |m: Mutex<Vec<u8>>| m.into_inner().unwrap_or_else(|p| p.into_inner());
        let (mut stdout, mut stderr) = (taken(stdout), taken(stderr));
        stdout.truncate(CHECK_OUTPUT_LIMIT);
        stderr.truncate(CHECK_OUTPUT_LIMIT);
        Ok(Answer { output: ExecOutput { end, stdout, stderr, took: started.elapsed() }, retire })
    }
}

/// A check's stdout or stderr, chunk by chunk to its end.
async fn output(from: &mut (impl AsyncBufRead + Unpin + Send), id: u64, stream: &str, kept: &Mutex<Vec<u8>>) -> Result<(), Stop> {
    loop {
        match next(from, id, stream).await? {
            Said::Chunk(n) => keep(from, n, kept).await?,
            Said::StreamEnd => return Ok(()),
            _ => unreachable!("parse gives only chunks and their end on out and err"),
        }
    }
}

/// The next line the agent says on `stream`, checked.
async fn next(from: &mut (impl AsyncBufRead + Unpin + Send), id: u64, stream: &str) -> Result<Said, Stop> {
    let line = line(from).await?;
    crate::check::parse(&line, id, stream).map_err(|e| Stop::Broken(io::Error::other(e)))
}

/// Reads a chunk of `n` bytes into `kept`; past the limit, the check is stopped.
async fn keep(from: &mut (impl AsyncBufRead + Unpin + Send), n: usize, kept: &Mutex<Vec<u8>>) -> Result<(), Stop> {
    let mut bytes = vec![0; n];
    from.read_exact(&mut bytes).await?;
    let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
    kept.extend_from_slice(&bytes);
    if kept.len() > CHECK_OUTPUT_LIMIT { Err(Stop::Flooded) } else { Ok(()) }
}

/// A reply line, at most 64 bytes (the longest the agent says is three numbers and a word).
async fn line(from: &mut (impl AsyncBufRead + Unpin + Send)) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    match (&mut *from).take(64).read_until(b'\n', &mut line).await? {
        0 => Err(io::Error::other("the agent ended")),
        _ => Ok(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An agent around a bash on this host (the sandbox's own in the root-only tests).
    fn agent(logs: &std::path::Path) -> Agent {
        let script = crate::check::agent_script().replace("/run/", &format!("{}/", logs.display()));
        let (says, said) = tokio::net::unix::pipe::pipe().unwrap();
        let mut cmd = tokio::process::Command::new("bash");
        cmd.args(&crate::check::agent_argv()[1..])
            .env_clear()
            .env("__STACKLAB_AGENT", script)
            .env("LANG", "C.UTF-8")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        super::super::enter::give_fd(&mut cmd, says.into_blocking_fd().unwrap(), crate::check::AGENT_SAYS_FD);
        let child = cmd.spawn().expect("bash");
        Agent::new("test".into(), child, said).unwrap()
    }

    fn check(script: &str, commands: &str) -> CheckRequest {
        CheckRequest { script: script.into(), commands: commands.into(), timeout: Duration::from_secs(5) }
    }

    #[tokio::test]
    async fn one_agent_runs_check_after_check_each_its_own() {
        let logs = tempfile::tempdir().unwrap();
        let mut agent = agent(logs.path());
        let first = agent.ask(&check("echo hi; echo oops >&2; pass 'All good'", "")).await.unwrap();
        assert_eq!(first.output.end, ExecEnd::Exited(0));
        assert_eq!((first.output.stdout_text().as_str(), &first.output.stderr[..]), ("hi\nAll good\n", &b"oops\n"[..]));
        assert!(!first.retire);
        // The learner's commands for `ran`; the sandbox's locale; no variable of an earlier check.
        let second =
            agent.ask(&check("x=1; ran 'ip netns add' && echo \"$LANG ${LC_ALL:-unset} ü\"", "7\t0\tip netns add red\n")).await.unwrap();
        assert_eq!(second.output.stdout_text(), "C.UTF-8 unset ü\n");
        let third = agent.ask(&check("echo \"${x:-none}\"; fail 'Create it first'", "")).await.unwrap();
        assert_eq!((&third.output.end, third.output.stdout_text().as_str()), (&ExecEnd::Exited(1), "none\nCreate it first\n"));
        // Output larger than a chunk arrives whole.
        let long = agent.ask(&check("head -c 10000 /dev/zero | tr '\\0' x", "")).await.unwrap();
        assert_eq!(long.output.stdout, vec![b'x'; 10000]);
        let killed = agent.ask(&check("kill -KILL $BASHPID", "")).await.unwrap();
        assert_eq!(killed.output.end, ExecEnd::Signaled(9));
    }

    #[tokio::test]
    async fn what_a_check_leaves_behind_is_bounded() {
        let logs = tempfile::tempdir().unwrap();
        let mut agent = agent(logs.path());
        // In its process group: killed once it has exited (its readers would wait for it).
        let background = agent.ask(&check("sleep 302 & echo started", "")).await.unwrap();
        assert_eq!((&background.output.end, background.retire), (&ExecEnd::Exited(0), false));
        let gone = agent.ask(&check("pgrep -f 'sleep 30[2]' || echo gone", "")).await.unwrap();
        assert_eq!(gone.output.stdout_text(), "gone\n");
        // Out of it and holding the output: the answer comes after the grace, and the agent
        // must go (with the process: here, the test ends it).
        // (It says its pid once it is in a session of its own: before, it would die with the
        // check's group.)
        let f = logs.path().join("escaped");
        let script = format!(
            r#"setsid sh -c 'echo $$ > {f}.new && mv {f}.new {f} && exec sleep 303' & until [ -s {f} ]; do :; done; cat {f}"#,
            f = f.display()
        );
        let escaped = agent.ask(&check(&script, "")).await.unwrap();
        assert_eq!((&escaped.output.end, escaped.retire), (&ExecEnd::Exited(0), true));
        let pid: i32 = escaped.output.stdout_text().trim().parse().unwrap();
        // SAFETY: kill(2) on the sleep the check above started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        // A flood stops at the limit.
        let mut agent = self::agent(logs.path());
        let flood = agent.ask(&check("yes", "")).await.unwrap();
        assert_eq!((&flood.output.end, flood.output.stdout.len(), flood.retire), (&ExecEnd::OutputLimit, CHECK_OUTPUT_LIMIT, true));
    }

    #[tokio::test]
    async fn an_agent_that_ends_or_garbles_is_an_error() {
        let logs = tempfile::tempdir().unwrap();
        let mut agent = agent(logs.path());
        assert!(agent.ask(&check("kill -KILL $$", "")).await.is_err(), "the agent itself was killed");
        let mut agent = self::agent(logs.path());
        // The learner, root beside it, writes into its reply pipe.
        assert!(agent.ask(&check("echo '1 out 99999' > /proc/$$/fd/1", "")).await.is_err(), "a garbled reply was taken");
    }
}
