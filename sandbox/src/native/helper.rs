//! The helper process a backend keeps: started at the first sandbox's start, it then builds each
//! sandbox asked of it (a plan per line in, a reply per line out; `builder::main`). A fresh
//! helper per sandbox cost ~2 ms of a ~12 ms start in `exec` alone: the server's binary carries
//! some 69,000 relocations for the loader to apply, and every one of them touches a page.

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
    /// One request at a time; `None` until the first, and after a helper that failed.
    running: tokio::sync::Mutex<Option<Running>>,
}

struct Running {
    /// Held for `kill_on_drop`.
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Helper {
    pub fn new(program: Vec<OsString>) -> Self {
        Self { program, running: tokio::sync::Mutex::new(None) }
    }

    /// Sends `request` (one line of JSON) and returns the helper's reply line. A helper that does
    /// not answer within `within`, or has gone, is killed and forgotten: the next request starts
    /// another.
    pub async fn ask(&self, request: &str, within: Duration) -> io::Result<String> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            *running = Some(self.start()?);
        }
        let helper = running.as_mut().expect("started above");
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
            *running = None;
        }
        answer
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> Helper {
        Helper::new(vec!["/bin/sh".into(), "-c".into(), script.into()])
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
    async fn no_helper_configured_is_an_error_not_a_panic() {
        let helper = Helper::new(Vec::new());
        assert!(helper.ask("a", Duration::from_secs(1)).await.unwrap_err().to_string().contains("no helper configured"));
    }
}
