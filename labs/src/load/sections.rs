//! Splitting a file into sections at lines that are exactly `---` (outside code blocks): the
//! slides of a deck, the questions of a quiz file.

/// Each section's text and the file line it starts on.
pub fn split(text: &str, first_line: usize) -> Vec<(String, usize)> {
    let mut sections = Vec::new();
    let mut current = String::new();
    let mut start = first_line;
    let mut fence: Option<String> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        let marker = trimmed.trim_start();
        if let Some(open) = &fence {
            if marker.starts_with(open.as_str()) && marker.trim_start_matches(open.chars().next().unwrap_or('`')).is_empty() {
                fence = None;
            }
        } else if marker.starts_with("```") || marker.starts_with("~~~") {
            let ch = marker.chars().next().unwrap_or('`');
            let len = marker.chars().take_while(|c| *c == ch).count();
            fence = Some(std::iter::repeat_n(ch, len).collect());
        } else if trimmed == "---" {
            sections.push((std::mem::take(&mut current), start));
            start = first_line + i + 1;
            continue;
        }
        current.push_str(line);
    }
    sections.push((current, start));
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_code_only() {
        let text = "one\n---\ntwo\n```\n---\n```\n---\nthree\n";
        let s = split(text, 5);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0], ("one\n".to_string(), 5));
        assert_eq!(s[1], ("two\n```\n---\n```\n".to_string(), 7));
        assert_eq!(s[2], ("three\n".to_string(), 12));
    }
}
