//! Running a step's scripts inside a learner's sandbox: as root there (never on the host), with
//! a time limit and bounded output, the helper library loaded, and the learner's recorded
//! commands available to `ran`. A check that hangs, floods or kills itself is a failed check
//! with a reason, never an error.

use std::time::Duration;

use labs::load::{Script, Step};
use sandbox::{Backend, CHECK_OUTPUT_LIMIT, CheckRequest, ExecEnd, ExecOutput};

use crate::store::{CheckOutcome, CommandRecord};

/// The learner's commands as the check sees them: `started<TAB>status<TAB>command` per line,
/// a leading `sudo` dropped (they are root anyway), newlines in a command made spaces.
pub fn commands_file(commands: &[CommandRecord]) -> Vec<u8> {
    let mut out = String::new();
    for c in commands {
        let mut command = c.command.replace(['\n', '\r'], " ");
        while let Some(rest) = command.strip_prefix("sudo ") {
            command = rest.trim_start().to_string();
        }
        out.push_str(&format!("{}\t{}\t{}\n", c.started_at, c.exit_status, command));
    }
    out.into_bytes()
}

/// Runs one script in sandbox `name`.
pub async fn run_script(
    backend: &dyn Backend,
    name: &str,
    script: &Script,
    commands: &[u8],
    timeout: Duration,
) -> sandbox::Result<ExecOutput> {
    backend.check(name, CheckRequest { script: script.source.clone(), commands: commands.to_vec(), timeout }).await
}

/// What a check's run means for the learner: passed or not, and the reason in words.
pub fn outcome(output: &ExecOutput, timeout: Duration) -> CheckOutcome {
    let took_ms = output.took.as_millis() as i64;
    let last_line = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes).lines().rev().map(str::trim).find(|l| !l.is_empty()).map(|l| l.chars().take(300).collect::<String>())
    };
    let (passed, reason) = match &output.end {
        ExecEnd::Exited(0) => (true, last_line(&output.stdout).unwrap_or_else(|| "Done".into())),
        ExecEnd::Exited(code) => (
            false,
            last_line(&output.stdout)
                .or_else(|| last_line(&output.stderr))
                .unwrap_or_else(|| format!("Not done yet (the check exited with {code})")),
        ),
        ExecEnd::TimedOut => (false, format!("The check did not finish within {} s", timeout.as_secs())),
        ExecEnd::OutputLimit => (false, format!("The check printed more than {} KiB and was stopped", CHECK_OUTPUT_LIMIT / 1024)),
        ExecEnd::Signaled(signal) => (false, format!("The check was killed (signal {signal})")),
    };
    CheckOutcome { passed, reason, took_ms }
}

/// The result of running every check of a step (and its hint checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRun {
    pub outcome: CheckOutcome,
    /// Indexes of the hint checks that succeeded.
    pub hints: Vec<usize>,
}

/// Runs the step's checks (all must pass; the first failure's reason is the step's) and its hint
/// checks. A sandbox error (it stopped meanwhile) is a failed check saying so.
pub async fn run_step(backend: &dyn Backend, name: &str, step: &Step, commands: &[CommandRecord]) -> StepRun {
    let timeout = crate::time_scale::scaled(Duration::from_secs(u64::from(step.timeout)));
    let commands = commands_file(commands);
    let started = std::time::Instant::now();
    let mut outcome = CheckOutcome { passed: true, reason: String::new(), took_ms: 0 };
    for check in &step.checks {
        let this = match run_script(backend, name, check, &commands, timeout).await {
            Ok(output) => self::outcome(&output, timeout),
            Err(e) => CheckOutcome { passed: false, reason: app::t!("srv-check-could-not-run", problem = e.to_string()), took_ms: 0 },
        };
        if !this.passed {
            outcome = this;
            break;
        }
        outcome.reason = this.reason;
    }
    let mut hints = Vec::new();
    if !outcome.passed {
        for (i, hint) in step.hint_checks.iter().enumerate() {
            if let Ok(output) = run_script(backend, name, &hint.script, &commands, timeout).await
                && output.success()
            {
                hints.push(i);
            }
        }
    }
    outcome.took_ms = started.elapsed().as_millis() as i64;
    StepRun { outcome, hints }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_for_ran() {
        let c = |cmd: &str, s| CommandRecord { command: cmd.into(), exit_status: s, started_at: 7, duration_ms: 1 };
        let file = String::from_utf8(commands_file(&[c("sudo ip netns add x", 0), c("for i in 1 2\ndo echo; done", 1)])).unwrap();
        assert_eq!(file, "7\t0\tip netns add x\n7\t1\tfor i in 1 2 do echo; done\n");
    }

    #[test]
    fn reasons() {
        let out = |end, stdout: &str| ExecOutput {
            end,
            stdout: stdout.into(),
            stderr: b"grep: x: No such file".to_vec(),
            took: Duration::from_millis(3),
        };
        let t = Duration::from_secs(10);
        assert_eq!(outcome(&out(ExecEnd::Exited(0), "a\nAll good\n\n"), t).reason, "All good");
        assert_eq!(outcome(&out(ExecEnd::Exited(1), "Create it first\n"), t).reason, "Create it first");
        assert_eq!(outcome(&out(ExecEnd::Exited(1), ""), t).reason, "grep: x: No such file");
        assert_eq!(outcome(&out(ExecEnd::TimedOut, ""), t).reason, "The check did not finish within 10 s");
        assert!(!outcome(&out(ExecEnd::Signaled(9), ""), t).passed);
    }
}
