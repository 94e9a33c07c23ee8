//! Scripts must be valid shell: `bash -n` finds syntax errors without running anything. Its
//! "line N" is relative to the script; we report the line in the content file.

use std::io::Write;
use std::process::{Command, Stdio};

/// `None` when `script` parses; else bash's complaint with the line it names, if any.
pub fn syntax_error(script: &str) -> Option<(Option<usize>, String)> {
    let mut child =
        Command::new("bash").args(["-n", "/dev/stdin"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if output.status.success() {
        return None;
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or("syntax error").to_string();
    // "/dev/stdin: line 3: syntax error near unexpected token `fi'"
    let line = first.split("line ").nth(1).and_then(|rest| rest.split(':').next()).and_then(|n| n.trim().parse().ok());
    let message = first.splitn(3, ": ").nth(2).unwrap_or(&first).to_string();
    Some((line, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line() {
        assert_eq!(syntax_error("echo ok\nif true; then\n  echo\n"), Some((Some(4), "syntax error: unexpected end of file".into())));
        assert_eq!(syntax_error("echo fine\n"), None);
        let (line, message) = syntax_error("echo\nfi\n").unwrap();
        assert_eq!(line, Some(2));
        assert!(message.contains("unexpected token"), "{message}");
    }
}
