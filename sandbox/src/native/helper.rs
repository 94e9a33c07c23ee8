//! The helper processes a backend keeps: each started at the first start that needs it, it then
//! builds each sandbox asked of it (a plan per line in, a reply per line out; `builder::main`). A
//! fresh helper per sandbox cost ~2 ms of a ~12 ms start in `exec` alone: the server's binary
//! carries some 69,000 relocations for the loader to apply, and every one of them touches a page.
//! A helper builds one sandbox at a time; a backend keeps a few, so a class joining at once is
//! built side by side.

use std::ffi::OsString;
use std::io;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The helper's command (`helper` is its program and arguments), with nothing of the server's
/// environment.
pub fn command(helper: &[OsString]) -> io::Result<std::process::Command> {
    let (program, args) = helper.split_first().ok_or_else(|| io::Error::other("no helper configured"))?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).env_clear();
    Ok(cmd)
}

pub struct Helper {
    program: Vec<OsString>,
    /// Each helper answers one request at a time; `None` until its first, and after it failed.
    slots: Vec<tokio::sync::Mutex<Option<Running>>>,
    /// One permit a slot: whoever holds one finds a slot free.
    free: tokio::sync::Semaphore,
}

struct Running {
    /// Held for `kill_on_drop`.
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Helper {
    /// Up to `count` helpers (at least one).
    pub fn new(program: Vec<OsString>, count: usize) -> Self {
        let count = count.max(1);
        Self { program, slots: (0..count).map(|_| tokio::sync::Mutex::new(None)).collect(), free: tokio::sync::Semaphore::new(count) }
    }

    /// Waits for a helper with nothing to do (the caller times the wait apart from the build).
    pub async fn idle_one(&self) -> Idle<'_> {
        let permit = self.free.acquire().await.expect("the semaphore is never closed");
        let slot =
            self.slots.iter().find_map(|slot| slot.try_lock().ok()).expect("a permit holder finds a slot free: as many permits as slots");
        Idle { helper: self, slot, _permit: permit }
    }

    fn start(&self) -> io::Result<Running> {
        let mut cmd = tokio::process::Command::from(command(&self.program)?);
        // Its stderr is the server's: a panic in there lands in the server's log.
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("running the helper {}: {e}", self.program[0].to_string_lossy())))?;
        let stdin = child.stdin.take().ok_or_else(|| io::Error::other("the helper has no stdin"))?;
        let stdout = BufReader::new(child.stdout.take().ok_or_else(|| io::Error::other("the helper has no stdout"))?);
        Ok(Running { _child: child, stdin, stdout })
    }
}

/// A helper reserved for one request.
pub struct Idle<'a> {
    helper: &'a Helper,
    slot: tokio::sync::MutexGuard<'a, Option<Running>>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Idle<'_> {
    /// Sends `request` (one line of JSON) and returns the helper's reply line. A helper that does
    /// not answer within `within`, or has gone, is killed and forgotten: the next request in its
    /// slot starts another.
    pub async fn ask(mut self, request: &str, within: Duration) -> io::Result<String> {
        if self.slot.is_none() {
            *self.slot = Some(self.helper.start()?);
        }
        let helper = self.slot.as_mut().expect("started above");
        let answer = tokio::time::timeout(within, async {
            helper.stdin.write_all(format!("{request}\n").as_bytes()).await?;
            helper.stdin.flush().await?;
            let mut line = String::new();
            match helper.stdout.read_line(&mut line).await? {
                0 => Err(io::Error::other("the helper ended without a reply")),
                _ => Ok(line),
            }
        })
        .await
        .unwrap_or_else(|_| Err(io::Error::other(format!("the helper did not answer within {} s", within.as_secs()))));
        if answer.is_err() {
            *self.slot = None;
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Helper {
        async fn ask(&self, request: &str, within: Duration) -> io::Result<String> {
            self.idle_one().await.ask(request, within).await
        }
    }

    fn shell(script: &str) -> Helper {
        Helper::new(vec!["/bin/sh".into(), "-c".into(), script.into()], 1)
    }

    #[tokio::test]
    async fn one_helper_answers_request_after_request() {
        let helper = shell("n=0; while read line; do n=$((n+1)); echo \"$n:$line\"; done");
        assert_eq!(helper.ask("a", Duration::from_secs(5)).await.unwrap(), "1:a\n");
        assert_eq!(helper.ask("b", Duration::from_secs(5)).await.unwrap(), "2:b\n", "the same process");
    }

    #[tokio::test]
    async fn a_helper_that_ended_is_replaced_at_the_next_request() {
        let helper = shell("read line; echo \"once:$line\"");
        assert_eq!(helper.ask("a", Duration::from_secs(5)).await.unwrap(), "once:a\n");
        let gone = helper.ask("b", Duration::from_secs(5)).await.unwrap_err();
        assert!(gone.to_string().contains("without a reply") || gone.kind() == io::ErrorKind::BrokenPipe, "{gone}");
        assert_eq!(helper.ask("c", Duration::from_secs(5)).await.unwrap(), "once:c\n", "a new helper");
    }

    #[tokio::test]
    async fn a_silent_helper_is_killed_after_the_limit_and_replaced() {
        let helper = shell("read line; case $line in slow) sleep 30;; *) echo \"fast:$line\";; esac");
        let silent = helper.ask("slow", Duration::from_millis(200)).await.unwrap_err();
        assert!(silent.to_string().contains("did not answer within"), "{silent}");
        assert_eq!(helper.ask("x", Duration::from_secs(5)).await.unwrap(), "fast:x\n");
    }

    #[tokio::test]
    async fn two_helpers_answer_side_by_side() {
        // Each helper waits until it has seen the other's request (a file each), so one helper
        // taking both requests in turn would never answer.
        let dir = tempfile::tempdir().unwrap();
        let script = format!(
            "read line; touch {d}/$line; while [ $(ls {d} | wc -l) -lt 2 ]; do sleep 0.01; done; echo \"done:$line\"",
            d = dir.path().display()
        );
        let helper = Helper::new(vec!["/bin/sh".into(), "-c".into(), script.into()], 2);
        let within = Duration::from_secs(10);
        let (a, b) = tokio::join!(helper.ask("a", within), helper.ask("b", within));
        assert_eq!((a.unwrap(), b.unwrap()), ("done:a\n".to_string(), "done:b\n".to_string()));
    }

    #[tokio::test]
    async fn no_helper_configured_is_an_error_not_a_panic() {
        let helper = Helper::new(Vec::new(), 1);
        assert!(helper.ask("a", Duration::from_secs(1)).await.unwrap_err().to_string().contains("no helper configured"));
    }
}
