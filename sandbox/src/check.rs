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

/// Most bytes of output one reply chunk carries: a chunk and its line go out in one `write`
/// under the pipe's atomic size (4096), so the agent's own lines never cut into one.
pub(crate) const CHUNK: usize = 3072;

/// The descriptor the agent says how each check goes on (its own pipe to the server).
pub(crate) const AGENT_SAYS_FD: i32 = 3;

/// The agent: requests on fd 0, each `<id> <script bytes> <commands bytes>\n<script><commands>`.
/// For each: the check's stdout on fd 1 in chunks (`<id> out <n>\n<n bytes>`, `<id> out 0\n` at
/// its end), its stderr the same way on fd 2 (`err`), and on fd 3 `<id> exited <status>\n` when
/// the check's process has ended, then `<id> end 0\n` when nothing of it is left. One writer per
/// pipe (the agent's own complaints go nowhere): bash writes a line at a time, and two writers
/// would cut into each other's chunks. A check runs in a forked subshell, its own process group
/// (`set -m`); what is left of that group is killed once the check has exited. Two forked readers
/// pass its output on as it comes (a read waits at most 50 ms before passing on what it has), so
/// a process that escaped the group and holds the output open delays nothing but the `end` the
/// server stops waiting for. One check at a time: the server sends the next request after `end`.
/// Lengths are bytes (`LC_ALL=C`); the check runs in the sandbox's locale again.
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
__stacklab_pass_on() {{
    local __stacklab_chunk __stacklab_read
    while :; do
        __stacklab_chunk=
        IFS= read -r -d '' -t 0.05 -N {chunk} __stacklab_chunk
        __stacklab_read=$?
        ((${{#__stacklab_chunk}} == 0)) || printf '%s %s %s\n%s' "$__stacklab_id" "$1" "${{#__stacklab_chunk}}" "$__stacklab_chunk" >&"$2"
        ((__stacklab_read == 0 || __stacklab_read > 128)) || break
    done
    printf '%s %s 0\n' "$__stacklab_id" "$1" >&"$2"
}}
{library}
while IFS=' ' read -r __stacklab_id __stacklab_size __stacklab_log_size; do
    [[ "$__stacklab_id $__stacklab_size $__stacklab_log_size" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] || exit 2
    __stacklab_script= __stacklab_commands=
    ((__stacklab_size == 0)) || IFS= read -r -d '' -N "$__stacklab_size" __stacklab_script || exit 2
    ((__stacklab_log_size == 0)) || IFS= read -r -d '' -N "$__stacklab_log_size" __stacklab_commands || exit 2
    printf '%s' "$__stacklab_commands" > "$__stacklab_log" || exit 3
    exec {{__stacklab_out}}> >(__stacklab_pass_on out 1) || exit 4
    __stacklab_out_pid=$!
    exec {{__stacklab_err}}> >(__stacklab_pass_on err 4) || exit 4
    __stacklab_err_pid=$!
    (
        exec 3>&- 4>&- {{__stacklab_out}}>&- {{__stacklab_err}}>&-
        unset LC_ALL
        export STACKLAB_COMMANDS="$__stacklab_log"
        cd /root 2>/dev/null || cd /
        eval "$__stacklab_script"
    ) >&"$__stacklab_out" 2>&"$__stacklab_err" </dev/null &
    __stacklab_pid=$!
    exec {{__stacklab_out}}>&- {{__stacklab_err}}>&-
    wait "$__stacklab_pid"
    printf '%s exited %s\n' "$__stacklab_id" "$?" >&3
    kill -KILL -- "-$__stacklab_pid"
    wait "$__stacklab_out_pid" "$__stacklab_err_pid"
    printf '%s end 0\n' "$__stacklab_id" >&3
done
"#,
        chunk = CHUNK,
        library = crate::image::CHECK_LIBRARY
    )
}

/// A request to the agent.
pub(crate) fn encode(id: u64, check: &CheckRequest) -> Vec<u8> {
    let mut out = format!("{id} {} {}\n", check.script.len(), check.commands.len()).into_bytes();
    out.extend_from_slice(check.script.as_bytes());
    out.extend_from_slice(&check.commands);
    out
}

/// One line of the agent's reply.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Said {
    /// This many bytes of the stream follow.
    Chunk(usize),
    /// The stream has ended.
    StreamEnd,
    /// The check's process ended, with bash's status for it.
    Exited(i32),
    /// Nothing of the check is left: the agent takes the next.
    End,
}

/// A line of the agent's reply on `stream` (`out`, `err`, or `says`: fd 3). The agent is in the
/// learner's hands: anything but exactly what it should say there for check `id` is an error.
pub(crate) fn parse(line: &[u8], id: u64, stream: &str) -> Result<Said, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not text".to_string())?;
    let text = text.strip_suffix('\n').ok_or("no line end")?;
    let mut words = text.split(' ');
    let (Some(got), Some(what), Some(value), None) = (words.next(), words.next(), words.next(), words.next()) else {
        return Err(format!("{text:?} is not three words"));
    };
    if got != id.to_string() {
        return Err(format!("an answer for check {got:?} while check {id} runs"));
    }
    let number = value.parse::<u32>().map_err(|_| format!("{value:?} is no number"))?;
    match (what, number) {
        (w, 0) if w == stream => Ok(Said::StreamEnd),
        (w, n) if w == stream && n as usize <= CHUNK => Ok(Said::Chunk(n as usize)),
        (w, n) if w == stream => Err(format!("a chunk of {n} bytes, more than {CHUNK}")),
        ("exited", status) if stream == "says" => Ok(Said::Exited(status.min(255) as i32)),
        ("end", 0) if stream == "says" => Ok(Said::End),
        _ => Err(format!("{text:?} on the check's {stream}")),
    }
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
        let bytes = encode(7, &check("echo ü", "1\t0\tls\n"));
        assert_eq!(bytes, "7 7 7\necho ü1\t0\tls\n".as_bytes());
    }

    #[test]
    fn replies_are_read_strictly() {
        assert_eq!(parse(b"3 out 12\n", 3, "out"), Ok(Said::Chunk(12)));
        assert_eq!(parse(b"3 out 0\n", 3, "out"), Ok(Said::StreamEnd));
        assert_eq!(parse(b"3 err 7\n", 3, "err"), Ok(Said::Chunk(7)));
        assert_eq!(parse(b"3 exited 1\n", 3, "says"), Ok(Said::Exited(1)));
        assert_eq!(parse(b"3 end 0\n", 3, "says"), Ok(Said::End));
        for (bad, stream) in [
            (&b"3 out 12"[..], "out"),
            (b"4 out 12\n", "out"),
            (b"3 err 12\n", "out"),
            (b"3 exited 1\n", "out"),
            (b"3 end 0\n", "err"),
            (b"3 end 1\n", "says"),
            (b"3 out 5\n", "says"),
            (b"3 out -1\n", "out"),
            (b"3 out 3073\n", "out"),
            (b"3 out 1 2\n", "out"),
            (b"3 out\n", "out"),
            (b"\xff\n", "out"),
        ] {
            assert!(parse(bad, 3, stream).is_err(), "{:?} was taken on {stream}", String::from_utf8_lossy(bad));
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
