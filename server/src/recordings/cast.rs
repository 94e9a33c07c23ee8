//! asciicast v2, asciinema's format (<https://docs.asciinema.org/manual/asciicast/v2/>): a JSON
//! header line, then one JSON array per event, `[seconds, code, data]`, codes `o` (output),
//! `i` (input), `r` (resize, `COLSxROWS`) and `m` (marker, a label). `asciinema play`,
//! `asciinema cat` and asciinema-player read what this writes; the reader here is strict, so the
//! tests hold the writer to the format.
//!
//! A recording on disk is a series of gzip members, one per second of activity (see
//! `recorder`): concatenated members are one valid gzip stream for `zcat`, and a member torn by a
//! crash costs only that second.

use std::io::Read;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub width: u16,
    pub height: u16,
    /// Unix seconds when the recording started.
    pub timestamp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Output,
    Input,
    Resize,
    Marker,
}

impl Code {
    fn letter(self) -> &'static str {
        match self {
            Code::Output => "o",
            Code::Input => "i",
            Code::Resize => "r",
            Code::Marker => "m",
        }
    }

    fn of(letter: &str) -> Option<Self> {
        Some(match letter {
            "o" => Code::Output,
            "i" => Code::Input,
            "r" => Code::Resize,
            "m" => Code::Marker,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Seconds since the header's timestamp.
    pub time: f64,
    pub code: Code,
    pub data: String,
}

impl Event {
    /// The event's line, with its newline.
    pub fn line(&self) -> String {
        // Microseconds, as asciinema writes them: enough for keystrokes, short on disk.
        let data = serde_json::to_string(&self.data).unwrap_or_else(|_| "\"\"".into());
        format!("[{:.6}, \"{}\", {data}]\n", self.time, self.code.letter())
    }
}

impl Header {
    pub fn line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// A whole recording, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Cast {
    pub header: Header,
    pub events: Vec<Event>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {what}")]
pub struct CastError {
    pub line: usize,
    pub what: String,
}

impl Cast {
    /// Reads asciicast v2 strictly: a version-2 header with a size, then events whose times
    /// never go back, with known codes and string data; a resize must be `COLSxROWS`.
    pub fn parse(text: &str) -> Result<Cast, CastError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let err = |line: usize, what: String| CastError { line: line + 1, what };
        let (n, first) = lines.next().ok_or_else(|| err(0, "the recording is empty".into()))?;
        let header: Header = serde_json::from_str(first).map_err(|e| err(n, format!("not an asciicast header: {e}")))?;
        if header.version != 2 {
            return Err(err(n, format!("version {} is not 2", header.version)));
        }
        if header.width == 0 || header.height == 0 {
            return Err(err(n, "the header has no terminal size".into()));
        }
        let mut events = Vec::new();
        let mut last = 0.0;
        for (n, line) in lines {
            let (time, letter, data): (f64, String, String) =
                serde_json::from_str(line).map_err(|e| err(n, format!("not an event [time, code, data]: {e}")))?;
            let code = Code::of(&letter).ok_or_else(|| err(n, format!("unknown event code {letter:?}")))?;
            if !time.is_finite() || time < last {
                return Err(err(n, format!("time {time} goes back (after {last})")));
            }
            if code == Code::Resize && parse_size(&data).is_none() {
                return Err(err(n, format!("a resize is COLSxROWS, not {data:?}")));
            }
            last = time;
            events.push(Event { time, code, data });
        }
        Ok(Cast { header, events })
    }

    /// Everything the terminal showed, in order.
    pub fn output(&self) -> String {
        self.events.iter().filter(|e| e.code == Code::Output).map(|e| e.data.as_str()).collect()
    }

    pub fn to_text(&self) -> String {
        let mut text = self.header.line();
        for event in &self.events {
            text.push_str(&event.line());
        }
        text
    }
}

/// `COLSxROWS`.
pub fn parse_size(data: &str) -> Option<(u16, u16)> {
    let (cols, rows) = data.split_once('x')?;
    Some((cols.parse().ok()?, rows.parse().ok()?))
}

/// A recording's text from its gzip members; a member cut short (a crash while writing it) ends
/// the text at the last whole line before it.
pub fn decompress(bytes: &[u8]) -> String {
    let mut text = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes);
    let mut buf = [0u8; 64 * 1024];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
        }
    }
    let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    text.truncate(whole);
    String::from_utf8_lossy(&text).into_owned()
}

/// Splits a byte stream cut anywhere into valid UTF-8 text: a character cut in two by a chunk
/// boundary waits for its other half; bytes that are not UTF-8 at all become U+FFFD.
#[derive(Default)]
pub struct Utf8Stream {
    carry: Vec<u8>,
}

impl Utf8Stream {
    pub fn feed(&mut self, chunk: &[u8]) -> String {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(chunk);
        let mut text = String::with_capacity(bytes.len());
        let mut rest = &bytes[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    return text;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            text.push('\u{FFFD}');
                            rest = &after[bad..];
                        }
                        None => {
                            // Incomplete at the end: the next chunk finishes it.
                            self.carry = after.to_vec();
                            return text;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back_strictly() {
        let header = Header { version: 2, width: 80, height: 24, timestamp: 1_700_000_000, title: None, env: None };
        let events = vec![
            Event { time: 0.0, code: Code::Output, data: "root@lab:~# ".into() },
            Event { time: 0.5, code: Code::Input, data: "l\u{1b}[A\"".into() },
            Event { time: 0.75, code: Code::Resize, data: "100x30".into() },
            Event { time: 1.0, code: Code::Marker, data: "netns/veth: passed".into() },
        ];
        let cast = Cast { header, events };
        assert_eq!(Cast::parse(&cast.to_text()).unwrap(), cast);
    }

    #[test]
    fn the_strict_reader_says_what_and_where() {
        let head = "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1}\n";
        assert_eq!(Cast::parse(&format!("{head}[1.0, \"o\", \"a\"]\n[0.5, \"o\", \"b\"]\n")).unwrap_err().line, 3);
        assert!(Cast::parse(&format!("{head}[1.0, \"x\", \"a\"]\n")).unwrap_err().what.contains("unknown event code"));
        assert!(Cast::parse(&format!("{head}[1.0, \"r\", \"wide\"]\n")).unwrap_err().what.contains("COLSxROWS"));
        assert!(Cast::parse("{\"version\": 1, \"width\": 80, \"height\": 24, \"timestamp\": 1}\n").is_err());
        assert!(Cast::parse("").is_err());
    }

    #[test]
    fn a_character_cut_by_a_chunk_boundary_is_kept_whole() {
        let text = "héllo ✓ done".as_bytes();
        for cut in 0..text.len() {
            let mut stream = Utf8Stream::default();
            let mut got = stream.feed(&text[..cut]);
            got.push_str(&stream.feed(&text[cut..]));
            assert_eq!(got, "héllo ✓ done", "cut at {cut}");
        }
        assert_eq!(Utf8Stream::default().feed(b"a\xffb"), "a\u{FFFD}b");
    }

    #[test]
    fn a_torn_last_member_loses_only_itself() {
        use std::io::Write;
        let member = |text: &str| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap()
        };
        let mut file = member("{\"version\": 2}\n[0.1, \"o\", \"a\"]\n");
        let second = member("[1.1, \"o\", \"b\"]\n");
        file.extend_from_slice(&second[..second.len() / 2]);
        // Whole lines only, the first second's all there.
        let text = decompress(&file);
        assert!(text.starts_with("{\"version\": 2}\n[0.1, \"o\", \"a\"]\n"), "{text:?}");
        assert!(text.ends_with('\n'));
    }
}
