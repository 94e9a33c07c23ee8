//! The shell integration's side channel: the sandbox's bash prints `ESC ] 6973 ; run ; <command,
//! its control characters and % percent-escaped> BEL` before running a command and
//! `ESC ] 6973 ; end ; <status> BEL` before the next prompt (`sandbox/image/files/shell-integration.bash`). Terminals ignore unknown OSC
//! sequences, so the browser never shows them; the server reads them here to record what the
//! learner ran.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;

use super::Typist;
use crate::store::CommandRecord;

const PREFIX: &[u8] = b"\x1b]6973;";
/// A sequence longer than this is not ours (or is garbage): dropped.
const MAX_SEQUENCE: usize = 64 * 1024;

#[derive(Default)]
pub struct Integration {
    /// Inside a sequence: its body so far.
    body: Option<Vec<u8>>,
    /// The end of the last chunk, when it could be the start of a sequence's prefix.
    carry: Vec<u8>,
    running: Option<(String, Instant, SystemTime, Typist)>,
    /// Commands started since `take_started` was last called.
    started: Vec<String>,
}

impl Integration {
    /// Feeds terminal output; returns the commands that finished in it, each with who typed it:
    /// `typist` is whoever typed last when this output came (the Enter that started a command
    /// is what made its start marker appear).
    pub fn feed(&mut self, chunk: &[u8], typist: Typist) -> Vec<(CommandRecord, Typist)> {
        let mut finished = Vec::new();
        // The common case, output with no escape at all, costs one scan.
        if self.body.is_none() && self.carry.is_empty() && !chunk.contains(&0x1b) {
            return finished;
        }
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(chunk);
        let mut rest = &data[..];
        loop {
            if let Some(body) = &mut self.body {
                match rest.iter().position(|&b| b == 0x07) {
                    Some(end) => {
                        body.extend_from_slice(&rest[..end]);
                        let body = self.body.take().unwrap_or_default();
                        self.sequence(&body, typist, &mut finished);
                        rest = &rest[end + 1..];
                    }
                    None => {
                        body.extend_from_slice(rest);
                        if body.len() > MAX_SEQUENCE {
                            self.body = None;
                        }
                        return finished;
                    }
                }
            }
            match find(rest, PREFIX) {
                Some(start) => {
                    rest = &rest[start + PREFIX.len()..];
                    self.body = Some(Vec::new());
                }
                None => {
                    // A prefix cut in two by the chunk boundary: keep its first part.
                    for keep in (1..PREFIX.len()).rev() {
                        if rest.len() >= keep && PREFIX.starts_with(&rest[rest.len() - keep..]) {
                            self.carry = rest[rest.len() - keep..].to_vec();
                            break;
                        }
                    }
                    return finished;
                }
            }
        }
    }

    /// The commands that started in what was fed since the last call.
    pub fn take_started(&mut self) -> Vec<String> {
        std::mem::take(&mut self.started)
    }

    fn sequence(&mut self, body: &[u8], typist: Typist, finished: &mut Vec<(CommandRecord, Typist)>) {
        let text = String::from_utf8_lossy(body);
        let command = if let Some(escaped) = body.strip_prefix(b"run;") {
            Some(String::from_utf8_lossy(&unescape(escaped)).into_owned())
        } else {
            // What shells whose integration was loaded before 2026-12 still say.
            text.strip_prefix("start;").map(|encoded| {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            })
        };
        if let Some(command) = command {
            if !command.trim().is_empty() {
                self.started.push(command.trim().to_string());
            }
            self.running = Some((command, Instant::now(), SystemTime::now(), typist));
        } else if let Some(status) = text.strip_prefix("end;")
            && let Some((command, started, wall, typed_by)) = self.running.take()
        {
            let command = command.trim().to_string();
            if !command.is_empty() {
                let record = CommandRecord {
                    command,
                    exit_status: status.trim().parse().unwrap_or(-1),
                    started_at: wall.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
                    duration_ms: started.elapsed().as_millis() as i64,
                };
                finished.push((record, typed_by));
            }
        }
    }
}

/// A command line as the integration escapes it: `%XX` is the byte XX (control characters and
/// `%` itself); anything else is itself.
fn unescape(escaped: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(escaped.len());
    let mut i = 0;
    while i < escaped.len() {
        if escaped[i] == b'%'
            && let (Some(hi), Some(lo)) = (escaped.get(i + 1).and_then(|&b| hex(b)), escaped.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(escaped[i]);
            i += 1;
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(cmd: &str) -> Vec<u8> {
        format!("\x1b]6973;run;{}\x07", cmd.replace('%', "%25").replace('\x07', "%07").replace('\x1b', "%1B")).into_bytes()
    }

    #[test]
    fn control_characters_and_percent_come_back_from_their_escapes() {
        let line = "printf '\x1b[1m%s\x07' 100% %zz %4";
        let mut i = Integration::default();
        i.feed(&start(line), Typist::Learner);
        assert_eq!(i.take_started(), vec![line.to_string()]);
        assert_eq!(unescape(b"%41%0a%%25%g1%"), b"A\n%%%g1%".to_vec(), "only %XX is an escape");
    }

    #[test]
    fn shells_started_before_the_escapes_are_still_heard() {
        let mut i = Integration::default();
        let old = format!("\x1b]6973;start;{}\x07\x1b]6973;end;2\x07", base64::engine::general_purpose::STANDARD.encode("ls /nowhere"));
        let done = i.feed(old.as_bytes(), Typist::Learner);
        assert_eq!((done[0].0.command.as_str(), done[0].0.exit_status), ("ls /nowhere", 2));
    }

    #[test]
    fn records_commands_even_when_cut_anywhere() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"root@lab:~# ");
        stream.extend(start("unshare --uts --fork bash"));
        stream.extend_from_slice(b"output\r\n");
        stream.extend_from_slice(b"\x1b]6973;end;0\x07root@lab:~# ");
        stream.extend(start("false"));
        stream.extend_from_slice(b"\x1b]6973;end;1\x07\x1b]6973;end;0\x07");
        // Every way of cutting the stream in two gives the same two commands.
        for cut in 0..stream.len() {
            let mut i = Integration::default();
            let mut got = i.feed(&stream[..cut], Typist::Learner);
            got.extend(i.feed(&stream[cut..], Typist::Learner));
            let summary: Vec<(String, i32)> = got.into_iter().map(|(c, _)| (c.command, c.exit_status)).collect();
            assert_eq!(summary, vec![("unshare --uts --fork bash".to_string(), 0), ("false".to_string(), 1)], "cut at {cut}");
        }
    }

    #[test]
    fn an_end_without_a_start_is_an_empty_line() {
        let mut i = Integration::default();
        assert!(i.feed(b"\x1b]6973;end;0\x07", Typist::Learner).is_empty());
    }

    #[test]
    fn a_command_belongs_to_whoever_started_it() {
        let mut i = Integration::default();
        // The instructor's Enter starts it; the learner types while it runs.
        assert!(i.feed(&start("ip netns add x"), Typist::Instructor).is_empty());
        let done = i.feed(b"\x1b]6973;end;0\x07", Typist::Learner);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].1, Typist::Instructor);
    }
}
