//! Markdown to HTML (pulldown-cmark), with the workbook's own code blocks taken out:
//! `check`, `setup`, `solution` and `hint-check <hint>` blocks become scripts, and a code block
//! marked `run` (` ```sh run `) gets a "Run in terminal" button. Everything keeps its `file:line`.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

use super::problem::line_of;

pub fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_FOOTNOTES | Options::ENABLE_GFM
}

/// A script from a special code block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    /// What follows the kind in the info string (the hint of a `hint-check`).
    pub argument: String,
    pub source: String,
    /// Line of the opening fence in the file.
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Check,
    Setup,
    Solution,
    HintCheck,
}

impl BlockKind {
    fn from_word(word: &str) -> Option<Self> {
        match word {
            "check" => Some(Self::Check),
            "setup" => Some(Self::Setup),
            "solution" => Some(Self::Solution),
            "hint-check" => Some(Self::HintCheck),
            _ => None,
        }
    }
}

pub struct Rendered {
    pub html: String,
    pub blocks: Vec<Block>,
}

/// Renders `text` (which starts at `first_line` of its file) to HTML, pulling out the special
/// blocks. `exec_markers` also turns Killercoda's `{{exec}}`/`{{copy}}` markers into buttons.
pub fn render(text: &str, first_line: usize, exec_markers: bool) -> Rendered {
    if exec_markers {
        let text = killercoda_fences(text);
        return render_inner(&text, first_line, true);
    }
    render_inner(text, first_line, false)
}

/// Killercoda closes a runnable code block with "```{{exec}}", which CommonMark does not take
/// as a closing fence: rewrite it to a plain fence and mark the opening one `run` (line count
/// unchanged, so lines stay right).
fn killercoda_fences(text: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut open: Option<usize> = None;
    for i in 0..lines.len() {
        let trimmed = lines[i].trim().to_string();
        match open {
            None if trimmed.starts_with("```") => open = Some(i),
            Some(start) if trimmed.starts_with("```") => {
                let rest = trimmed.trim_start_matches('`');
                if rest.is_empty() {
                    open = None;
                } else if matches!(rest, "{{exec}}" | "{{execute}}" | "{{exec interrupt}}") {
                    lines[i] = lines[i].replace(rest, "");
                    lines[start].push_str(" run");
                    open = None;
                } else if rest == "{{copy}}" {
                    lines[i] = lines[i].replace(rest, "");
                    open = None;
                }
            }
            _ => {}
        }
    }
    lines.join("\n")
}

fn render_inner(text: &str, first_line: usize, exec_markers: bool) -> Rendered {
    let mut blocks = Vec::new();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut parser = Parser::new_ext(text, options()).into_offset_iter().peekable();
    while let Some((event, range)) = parser.next() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match &kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                let mut source = String::new();
                for (e, _) in parser.by_ref() {
                    match e {
                        Event::Text(t) => source.push_str(&t),
                        Event::End(TagEnd::CodeBlock) => break,
                        _ => {}
                    }
                }
                let mut words = info.trim().splitn(2, char::is_whitespace);
                let first = words.next().unwrap_or("");
                let rest = words.next().unwrap_or("").trim().to_string();
                if let Some(kind) = BlockKind::from_word(first) {
                    blocks.push(Block { kind, argument: rest, source, line: first_line + line_of(text, range.start) - 1 });
                    continue;
                }
                let run = info.split_whitespace().any(|w| w == "run");
                let language = if first == "run" { "" } else { first };
                events.push(Event::Html(CowStr::from(code_block_html(language, &source, run))));
            }
            Event::Code(code) if exec_markers => {
                // Killercoda's inline `cmd`{{exec}} and `text`{{copy}}.
                let marker = match parser.peek() {
                    Some((Event::Text(t), _)) if t.starts_with("{{exec}}") || t.starts_with("{{execute}}") => Some("exec"),
                    Some((Event::Text(t), _)) if t.starts_with("{{copy}}") => Some("copy"),
                    _ => None,
                };
                match marker {
                    Some(marker) => {
                        let (next, _) = parser.next().expect("peeked");
                        events.push(Event::Html(CowStr::from(inline_code_html(&code, marker == "exec"))));
                        if let Event::Text(t) = next {
                            let rest = t.trim_start_matches("{{exec}}").trim_start_matches("{{execute}}").trim_start_matches("{{copy}}");
                            if !rest.is_empty() {
                                events.push(Event::Text(CowStr::from(rest.to_string())));
                            }
                        }
                    }
                    None => events.push(Event::Code(code)),
                }
            }
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Rendered { html, blocks }
}

/// Markdown to HTML, with no special blocks expected (hints, explanations, notes).
pub fn to_html(text: &str) -> String {
    render(text, 1, false).html
}

fn code_block_html(language: &str, source: &str, run: bool) -> String {
    let class = if language.is_empty() { String::new() } else { format!(" class=\"language-{}\"", escape(language)) };
    let button = if run {
        let command = source.trim_end_matches('\n');
        format!(
            "<button type=\"button\" class=\"run button small\" data-run-command=\"{}\" title=\"Type this into your terminal\">Run</button>",
            escape(command)
        )
    } else {
        String::new()
    };
    format!("<pre{}><code{class}>{}</code>{button}</pre>\n", if run { " class=\"runnable\"" } else { "" }, escape(source))
}

fn inline_code_html(code: &str, run: bool) -> String {
    if run {
        format!(
            "<code class=\"runnable\" data-run-command=\"{0}\" role=\"button\" tabindex=\"0\" title=\"Run in terminal\">{0}</code>",
            escape(code)
        )
    } else {
        format!("<code class=\"copyable\">{}</code>", escape(code))
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_blocks_are_extracted_with_their_lines() {
        let text = "Intro\n\n```sh run\nhostname\n```\n\n```check\ntest -f /x\n```\n\n```hint-check Use --fork.\nran unshare\n```\n";
        let r = render(text, 10, false);
        assert_eq!(r.blocks.len(), 2);
        assert_eq!(r.blocks[0].kind, BlockKind::Check);
        assert_eq!(r.blocks[0].line, 16);
        assert_eq!(r.blocks[0].source, "test -f /x\n");
        assert_eq!(r.blocks[1].kind, BlockKind::HintCheck);
        assert_eq!(r.blocks[1].argument, "Use --fork.");
        assert!(r.html.contains("data-run-command=\"hostname\""), "{}", r.html);
        assert!(!r.html.contains("test -f"), "scripts never reach the page");
    }

    #[test]
    fn killercoda_markers() {
        let text = "Run `ls -l`{{exec}} and copy `key`{{copy}}.\n\n```\nuname -a\n```{{exec}}\n";
        let r = render(text, 1, true);
        assert!(r.html.contains("data-run-command=\"ls -l\""), "{}", r.html);
        assert!(r.html.contains("class=\"copyable\">key<"), "{}", r.html);
        assert!(r.html.contains("data-run-command=\"uname -a\""), "{}", r.html);
        assert!(!r.html.contains("{{"), "{}", r.html);
    }

    #[test]
    fn ascii_diagrams_stay_monospace() {
        let r = render("```\n┌──┐\n│VM│\n└──┘\n```\n", 1, false);
        assert!(r.html.starts_with("<pre><code>┌──┐"), "{}", r.html);
    }
}
