//! A sandbox's check agent, host side: the bash kept in the sandbox that runs its checks (the
//! script and its protocol: `crate::check`). Entering a sandbox and starting bash for every
//! check cost about three times the CPU of the check's own work under a class's load; the agent
//! enters once, and a check is one fork there.
//!
//! The agent lives in a command group of its own below the learner's (so it counts against their
//! limits, and everything it ever started dies with that group), started at a sandbox's first
//! check. The learner is root beside it and may kill it, stop it, or answer in its place: what it
//! says is read with bounds and checked word by word, and an agent that errs, says anything
//! else, or takes longer than the check's time limit is killed with its whole group and
//! replaced at the next check. A check that leaves a process outside its process group (a
//! daemon, `setsid`) retires its agent too (the backend counts the group's processes), taking
//! that process with it, as the one-off way's group would.

use std::io;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;

use super::spawn::{Child, Pipes};

use crate::backend::{ExecEnd, ExecOutput};
use crate::check::{CHECK_OUTPUT_LIMIT, CheckRequest};

/// A running agent.
pub(super) struct Agent {
    /// Its command group, below the sandboxes' root.
    pub group: String,
    /// The agent's process (the server's child); held to be killed when dropped.
    _process: Child,
    requests: pipe::Sender,
    stdout: pipe::Receiver,
    stderr: pipe::Receiver,
    /// How each check went (`crate::check::AGENT_SAYS_FD`).
    says: BufReader<pipe::Receiver>,
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

/// Processes an idle agent's group holds: the agent.
pub(super) const IDLE_PROCESSES: usize = 1;

/// A check's output and whether its agent must go (the check printed past the limit, and is
/// still running: it dies with the agent's group).
pub(super) struct Answer {
    pub output: ExecOutput,
    pub retire: bool,
}

/// Why reading an answer stopped early.
enum Stop {
    /// The first bytes of the stream that went past the limit, and whether it was stdout.
    Flooded(Vec<u8>, bool),
    Broken(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Broken(e)
    }
}

impl Agent {
    pub fn new(group: String, process: Child, pipes: Pipes, says: pipe::Receiver) -> Self {
        let Pipes { stdin: requests, stdout, stderr } = pipes;
        Self { group, _process: process, requests, stdout, stderr, says: BufReader::new(says), next_id: 1 }
    }

    /// Runs one check; the caller bounds the time (and retires the agent past it: an answer cut
    /// off midway leaves it unusable). An error: the agent ended or said something else.
    pub async fn ask(&mut self, check: &CheckRequest) -> io::Result<Answer> {
        let started = Instant::now();
        let id = self.next_id;
        self.next_id += 1;
        let mark = format!("{:016x}", rand::random::<u64>());
        let (start, end) = crate::check::marks(&mark);
        self.requests.write_all(&crate::check::encode(id, &mark, check)).await?;
        self.requests.flush().await?;
        let says = async {
            let status = crate::check::parse_exited(&line(&mut self.says).await?, id).map_err(io::Error::other)?;
            Ok::<_, Stop>(status)
        };
        let done = tokio::try_join!(output(&mut self.stdout, &start, &end, true), output(&mut self.stderr, &start, &end, false), says);
        let answer = |end, stdout, stderr, retire| Answer { output: ExecOutput { end, stdout, stderr, took: started.elapsed() }, retire };
        match done {
            Ok((mut stdout, mut stderr, status)) => {
                let over = stdout.len() > CHECK_OUTPUT_LIMIT || stderr.len() > CHECK_OUTPUT_LIMIT;
                stdout.truncate(CHECK_OUTPUT_LIMIT);
                stderr.truncate(CHECK_OUTPUT_LIMIT);
                let end = if over { ExecEnd::OutputLimit } else { crate::check::end_of(status) };
                Ok(answer(end, stdout, stderr, false))
            }
            Err(Stop::Flooded(kept, true)) => Ok(answer(ExecEnd::OutputLimit, kept, Vec::new(), true)),
            Err(Stop::Flooded(kept, false)) => Ok(answer(ExecEnd::OutputLimit, Vec::new(), kept, true)),
            Err(Stop::Broken(e)) => Err(e),
        }
    }
}

/// A check's stdout or stderr: what comes between its marks on that pipe. More than the limit
/// stops reading (the caller kills the check); so does more than the limit of anything else
/// before its start mark.
async fn output(from: &mut (impl AsyncRead + Unpin + Send), start: &[u8], end: &[u8], stdout: bool) -> Result<Vec<u8>, Stop> {
    let mut seen = Vec::new();
    let mut chunk = vec![0; 16 * 1024];
    loop {
        let n = from.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::other("the agent ended").into());
        }
        seen.extend_from_slice(&chunk[..n]);
        if let Some(output) = crate::check::between(&seen, start, end) {
            return Ok(output.to_vec());
        }
        match crate::check::find(&seen, start) {
            None if seen.len() > CHECK_OUTPUT_LIMIT + start.len() => {
                return Err(io::Error::other("more than the output limit before the check began").into());
            }
            Some(at) if seen.len() - (at + start.len()) > CHECK_OUTPUT_LIMIT + end.len() => {
                let from = at + start.len();
                return Err(Stop::Flooded(seen[from..from + CHECK_OUTPUT_LIMIT].to_vec(), stdout));
            }
            _ => {}
        }
    }
}

/// A line the agent says, at most 64 bytes (`<id> exited <status>`).
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
        let (says, said) = pipe::pipe().unwrap();
        let mut cmd = super::super::spawn::Spawn::new("/bin/bash", &crate::check::agent_argv()[1..]).unwrap();
        cmd.env("__STACKLAB_AGENT", &script).unwrap().env("LANG", "C.UTF-8").unwrap();
        let pipes = cmd.pipes().unwrap();
        cmd.give(says.into_blocking_fd().unwrap(), crate::check::AGENT_SAYS_FD);
        let child = cmd.spawn().expect("bash");
        Agent::new("test".into(), child, pipes, said)
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
        // Output larger than one read of the pipe arrives whole.
        let long = agent.ask(&check("head -c 10000 /dev/zero | tr '\\0' x", "")).await.unwrap();
        assert_eq!(long.output.stdout, vec![b'x'; 10000]);
        let killed = agent.ask(&check("kill -KILL $BASHPID", "")).await.unwrap();
        assert_eq!(killed.output.end, ExecEnd::Signaled(9));
    }

    #[tokio::test]
    async fn what_a_check_leaves_behind_is_bounded() {
        let logs = tempfile::tempdir().unwrap();
        let mut agent = agent(logs.path());
        // In its process group: killed once it has exited.
        let background = agent.ask(&check("sleep 302 & echo started", "")).await.unwrap();
        assert_eq!((&background.output.end, background.retire), (&ExecEnd::Exited(0), false));
        let gone = agent.ask(&check("pgrep -f 'sleep 30[2]' || echo gone", "")).await.unwrap();
        assert_eq!(gone.output.stdout_text(), "gone\n");
        // Out of it and holding the output: that delays nothing (the backend, counting the
        // agent's group's processes, retires the agent with it; here, the test ends it).
        // (It says its pid once it is in a session of its own: before, it would die with the
        // check's group.)
        let f = logs.path().join("escaped");
        let script = format!(
            r#"setsid sh -c 'echo $$ > {f}.new && mv {f}.new {f} && exec sleep 303' & until [ -s {f} ]; do :; done; cat {f}"#,
            f = f.display()
        );
        let escaped = agent.ask(&check(&script, "")).await.unwrap();
        assert_eq!(&escaped.output.end, &ExecEnd::Exited(0));
        let pid: i32 = escaped.output.stdout_text().trim().parse().unwrap();
        // SAFETY: kill(2) on the sleep the check above started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let after = agent.ask(&check("echo next", "")).await.unwrap();
        assert_eq!(after.output.stdout_text(), "next\n");
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
        // The learner, root beside it, writes into the pipe it answers on.
        assert!(agent.ask(&check("echo garbage > /proc/$$/fd/3", "")).await.is_err(), "a garbled answer was taken");
        // What they write into the output pipes between checks is not the next check's.
        let mut agent = self::agent(logs.path());
        let first = agent.ask(&check("echo $$", "")).await.unwrap();
        let pid = first.output.stdout_text().trim().to_string();
        // (Right after saying `exited` bash may still hold the answer pipe on fd 1, where it put
        // it for that line: wait for its stdout to be back, as a learner's write would land.)
        let fd = |n| std::fs::read_link(format!("/proc/{pid}/fd/{n}")).unwrap();
        while fd(1) == fd(3) {
            std::thread::yield_now();
        }
        std::fs::write(format!("/proc/{pid}/fd/1"), "between checks\n").unwrap();
        let second = agent.ask(&check("pass second", "")).await.unwrap();
        assert_eq!(second.output.stdout_text(), "second\n");
    }
}
