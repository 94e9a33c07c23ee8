//! `+++`-fenced TOML front matter, as in Zola and Hugo.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::problem::{Problems, line_of};

/// A Markdown file split into its front matter and body.
pub struct Document<'a> {
    /// The TOML between the fences ("" when there is none).
    pub front: &'a str,
    /// 1-based line of the first front matter line.
    pub front_line: usize,
    pub body: &'a str,
    /// 1-based line where the body starts in the file.
    pub body_line: usize,
    /// The front matter was never closed (already reported).
    pub broken: bool,
}

/// Splits `text` at its `+++` fences. `first_line` is the file line `text` starts on, so that
/// a slice of a bigger file (a slide in a deck) reports lines of the file.
pub fn split<'a>(text: &'a str, first_line: usize, file: &Path, problems: &mut Problems) -> Document<'a> {
    let no_front = Document { front: "", front_line: first_line, body: text, body_line: first_line, broken: false };
    // Leading blank lines before the fence are allowed (slides after a `---`).
    let trimmed = text.trim_start_matches(['\n', '\r', ' ', '\t']);
    let skipped = text.len() - trimmed.len();
    let Some(after_open) = trimmed.strip_prefix("+++") else { return no_front };
    let Some(after_open) = after_open.strip_prefix('\n').or_else(|| after_open.strip_prefix("\r\n")) else {
        return no_front;
    };
    let open_line = first_line + line_of(text, skipped) - 1;
    // Find the closing fence: a line that is exactly `+++`.
    let mut offset = 0;
    for line in after_open.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let front = &after_open[..offset];
            let body = &after_open[offset + line.len()..];
            let body_line = open_line + 1 + front.lines().count() + 1;
            return Document { front, front_line: open_line + 1, body, body_line, broken: false };
        }
        offset += line.len();
    }
    problems.push(file, open_line, "front matter opened with `+++` is never closed by a `+++` line");
    Document { front: "", front_line: first_line, body: "", body_line: first_line, broken: true }
}

/// Parses front matter into `T` (which should `deny_unknown_fields`), reporting a TOML error at
/// the line it points to. Returns `None` after recording a problem.
pub fn parse<T: DeserializeOwned>(doc: &Document<'_>, file: &Path, problems: &mut Problems) -> Option<T> {
    if doc.broken {
        return None;
    }
    match toml::from_str::<T>(doc.front) {
        Ok(value) => Some(value),
        Err(err) => {
            let line = err.span().map(|s| doc.front_line + line_of(doc.front, s.start) - 1).unwrap_or(doc.front_line);
            problems.push(file, line, format!("front matter: {}", err.message()));
            None
        }
    }
}
