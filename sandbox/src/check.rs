//! A step's check as a sandbox runs it: the script, as root from /root with the check library
//! loaded, and the learner's recorded commands for `ran`.
//!
//! Two ways to run one. The one-off way, every backend's: a command (`bash -c` the runner below)
//! started in the sandbox for this check alone. The kept way, the native backend's: a bash kept
//! in the sandbox — the *agent* — that has loaded the library once and runs each check in a
//! forked subshell, so a check costs a fork instead of entering the sandbox and starting bash
//! (see `native/agent.rs`). Both give the script the same environment.

use std::time::Duration;

use crate::backend::{ExecEnd, ExecRequest};

/// Bytes kept of a check's stdout and of its stderr; a check printing more is stopped.
pub const CHECK_OUTPUT_LIMIT: usize = 64 * 1024;

/// One check to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRequest {
    /// The bash script.
    pub script: String,
    /// The learner's commands, as `ran` reads them: `started<TAB>status<TAB>command` per line.
    pub commands: Vec<u8>,
    pub timeout: Duration,
}

impl CheckRequest {
    /// The check as a command of its own (the one-off way).
    pub fn as_exec(&self) -> ExecRequest {
        ExecRequest {
            argv: vec!["/bin/bash".into(), "-c".into(), "eval \"$__STACKLAB_RUNNER\"".into(), "stacklab-check".into()],
            stdin: self.commands.clone(),
            env: vec![("__STACKLAB_RUNNER".into(), runner()), ("__STACKLAB_SCRIPT".into(), self.script.clone())],
            timeout: self.timeout,
            output_limit: CHECK_OUTPUT_LIMIT,
            leave_running: false,
        }
    }
}

/// The one-off runner: reads the learner's commands from stdin into a file for `ran`, loads the
/// library, and runs the script from /root. Bash's own builtins make the file (a new name,
/// `noclobber` opening it exclusively): a fork and exec each for `mktemp` and `cat` cost more CPU
/// than a trivial check. The prelude and the script come in through the environment, not argv:
/// a check's text in its own command line would match the `pgrep -f` it runs (and
/// `kill $(pgrep -f ...)` in a solution would kill the solution itself).
fn runner() -> String {
    format!(
        r#"__stacklab_script=$__STACKLAB_SCRIPT
unset __STACKLAB_SCRIPT __STACKLAB_RUNNER
__stacklab_commands=/tmp/.stacklab-commands.$$.${{SRANDOM:-$RANDOM}}${{SRANDOM:-$RANDOM}}
set -C
{{ mapfile -t __stacklab_lines; if ((${{#__stacklab_lines[@]}})); then printf '%s\n' "${{__stacklab_lines[@]}}"; fi; }} > "$__stacklab_commands" || exit 97
set +C
unset __stacklab_lines
export STACKLAB_COMMANDS="$__stacklab_commands"
trap 'rm -f "$__stacklab_commands"' EXIT
{library}
cd /root 2>/dev/null || cd /
eval "$__stacklab_script"
"#,
        library = crate::image::CHECK_LIBRARY
    )
}

/// The agent's command: its script comes through the environment (see [`runner`] for why).
pub(crate) fn agent_argv() -> Vec<String> {
    ["/bin/bash", "-c", "eval \"$__STACKLAB_AGENT\"", "stacklab-checks"].map(String::from).into()
}

/// Whether a process's arguments are an agent's (it is the server's, not the learner's).
pub(crate) fn is_agent(args: &[impl AsRef<str>]) -> bool {
    let argv = agent_argv();
    args.len() == argv.len() && args.iter().zip(&argv).all(|(a, b)| a.as_ref() == b)
}

/// The descriptor the agent says how each check went on (its own pipe to the server).
pub(crate) const AGENT_SAYS_FD: i32 = 3;

/// The agent: requests on fd 0, each `<id> <mark> <script bytes> <commands bytes>\n<script>
/// <commands>` (`mark`: a fresh random word per check). A check runs in one forked subshell, its
/// own process group (`set -m`), with the server's own pipes as its stdout (fd 1) and stderr
/// (fd 2): no reader of the agent's between them, so a check costs one fork. Its output is told
/// from what came before or after by marks the agent writes on both around it — `\0S<mark>\0`
/// before the fork, `\0E<mark>\0` once the check has exited and what was left of its process
/// group has been killed — and then `<id> exited <status>\n` on fd 3. Whatever the agent itself
/// would complain goes nowhere. One check at a time: the server sends the next request after
/// `exited`. Lengths are bytes (`LC_ALL=C`); the check runs in the sandbox's locale again.
pub(crate) fn agent_script() -> String {
    format!(
        r#"exec 4>&2 2>/dev/null
unset __STACKLAB_AGENT
set -m
LC_ALL=C
__stacklab_log=/run/.stacklab-commands.$$.$SRANDOM$SRANDOM
set -C
: > "$__stacklab_log" || exit 3
set +C
{library}
while IFS=' ' read -r __stacklab_id __stacklab_mark __stacklab_size __stacklab_log_size; do
    [[ "$__stacklab_id $__stacklab_mark $__stacklab_size $__stacklab_log_size" =~ ^[0-9]+\ [0-9a-f]+\ [0-9]+\ [0-9]+$ ]] || exit 2
    __stacklab_script= __stacklab_commands=
    ((__stacklab_size == 0)) || IFS= read -r -d '' -N "$__stacklab_size" __stacklab_script || exit 2
    ((__stacklab_log_size == 0)) || IFS= read -r -d '' -N "$__stacklab_log_size" __stacklab_commands || exit 2
    printf '%s' "$__stacklab_commands" > "$__stacklab_log" || exit 3
    printf '\0S%s\0' "$__stacklab_mark"
    printf '\0S%s\0' "$__stacklab_mark" >&4
    (
        exec 2>&4 3>&- 4>&-
        unset LC_ALL
        export STACKLAB_COMMANDS="$__stacklab_log"
        cd /root 2>/dev/null || cd /
        eval "$__stacklab_script"
    ) </dev/null &
    __stacklab_pid=$!
    wait "$__stacklab_pid"
    __stacklab_status=$?
    kill -KILL -- "-$__stacklab_pid"
    printf '\0E%s\0' "$__stacklab_mark"
    printf '\0E%s\0' "$__stacklab_mark" >&4
    printf '%s exited %s\n' "$__stacklab_id" "$__stacklab_status" >&3
done
"#,
        library = crate::image::CHECK_LIBRARY
    )
}

/// The marks around one check's output (see [`agent_script`]).
pub(crate) fn marks(mark: &str) -> (Vec<u8>, Vec<u8>) {
    (format!("\0S{mark}\0").into_bytes(), format!("\0E{mark}\0").into_bytes())
}

/// What lies between `start` and `end` in `stream` so far: `None` while the end has not come.
/// Anything before `start` is what the learner or an earlier check's last gasp wrote meanwhile.
pub(crate) fn between<'a>(stream: &'a [u8], start: &[u8], end: &[u8]) -> Option<&'a [u8]> {
    let from = find(stream, start)? + start.len();
    let to = find(&stream[from..], end)?;
    Some(&stream[from..from + to])
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A request to the agent.
pub(crate) fn encode(id: u64, mark: &str, check: &CheckRequest) -> Vec<u8> {
    let mut out = format!("{id} {mark} {} {}\n", check.script.len(), check.commands.len()).into_bytes();
    out.extend_from_slice(check.script.as_bytes());
    out.extend_from_slice(&check.commands);
    out
}

/// The agent's line after a check, `<id> exited <status>`, checked against what it should say
/// for check `id` (the agent is in the learner's hands): bash's status for the check.
pub(crate) fn parse_exited(line: &[u8], id: u64) -> Result<i32, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not text".to_string())?;
    let text = text.strip_suffix('\n').ok_or("no line end")?;
    let mut words = text.split(' ');
    let (Some(got), Some("exited"), Some(value), None) = (words.next(), words.next(), words.next(), words.next()) else {
        return Err(format!("{text:?} where the check's exit was due"));
    };
    if got != id.to_string() {
        return Err(format!("an answer for check {got:?} while check {id} runs"));
    }
    value.parse::<u8>().map(i32::from).map_err(|_| format!("{value:?} is no exit status"))
}

/// How a check ended, from bash's status for it: 128 + n is signal n.
pub(crate) fn end_of(status: i32) -> ExecEnd {
    match status {
        129..=192 => ExecEnd::Signaled(status - 128),
        code => ExecEnd::Exited(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(script: &str, commands: &str) -> CheckRequest {
        CheckRequest { script: script.into(), commands: commands.into(), timeout: Duration::from_secs(5) }
    }

    #[test]
    fn a_request_says_its_lengths_in_bytes() {
        let bytes = encode(7, "ab12", &check("echo ü", "1\t0\tls\n"));
        assert_eq!(bytes, "7 ab12 7 7\necho ü1\t0\tls\n".as_bytes());
    }

    #[test]
    fn a_checks_output_is_what_lies_between_its_marks() {
        let (start, end) = marks("ab12");
        assert_eq!(between(b"junk\0Sab12\0hi\n\0Eab12\0", &start, &end), Some(&b"hi\n"[..]));
        assert_eq!(between(b"\0Sab12\0\0Eab12\0", &start, &end), Some(&b""[..]));
        assert_eq!(between(b"\0Sab12\0hi", &start, &end), None, "no end yet");
        assert_eq!(between(b"hi\0Eab12\0", &start, &end), None, "no start");
        // Another check's marks are output like any other.
        assert_eq!(between(b"\0Sab12\0\0Ecd34\0x\0Eab12\0", &start, &end), Some(&b"\0Ecd34\0x"[..]));
    }

    #[test]
    fn the_exit_line_is_read_strictly() {
        assert_eq!(parse_exited(b"3 exited 1\n", 3), Ok(1));
        assert_eq!(parse_exited(b"3 exited 137\n", 3), Ok(137));
        for bad in [&b"3 exited 1"[..], b"4 exited 1\n", b"3 exited 256\n", b"3 exited -1\n", b"3 out 1\n", b"3 exited 1 2\n", b"\xff\n"] {
            assert!(parse_exited(bad, 3).is_err(), "{:?} was taken", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn statuses_past_128_are_signals() {
        assert_eq!(end_of(0), ExecEnd::Exited(0));
        assert_eq!(end_of(1), ExecEnd::Exited(1));
        assert_eq!(end_of(137), ExecEnd::Signaled(9));
        assert_eq!(end_of(255), ExecEnd::Exited(255));
    }

    #[test]
    fn only_the_agents_own_arguments_are_an_agent() {
        assert!(is_agent(&agent_argv()));
        assert!(!is_agent(&["/bin/bash", "-c", "eval \"$__STACKLAB_AGENT\""]));
        assert!(!is_agent(&["/bin/bash", "-l"]));
    }
}
