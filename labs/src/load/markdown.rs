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
    /// The commands the text offers to run in the terminal, in order, with their lines.
    pub runs: Vec<(String, usize)>,
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

/// What a Killercoda marker (`{{exec}}`, `{{copy}}`, ...) asks of the text before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// Type it into the terminal: Ctrl-C first (`interrupt`), Enter after (unless `no-newline`).
    Run {
        interrupt: bool,
        enter: bool,
    },
    Copy,
}

/// The marker `inside` names (the text between `{{` and `}}`): `exec`/`execute` with any of
/// `interrupt`, `no-newline` and a terminal or host (`T1`, `HOST1`; Stacklab has one of each),
/// or `copy`. Anything else (`TRAFFIC_HOST1_80`, ...) is not an action on the text.
pub fn marker(inside: &str) -> Option<Marker> {
    let mut words = inside.split_whitespace();
    match words.next()? {
        "copy" => words.next().is_none().then_some(Marker::Copy),
        "exec" | "execute" => {
            let (mut interrupt, mut enter) = (false, true);
            for word in words {
                match word {
                    "interrupt" => interrupt = true,
                    "no-newline" => enter = false,
                    w if is_place(w) => {}
                    _ => return None,
                }
            }
            Some(Marker::Run { interrupt, enter })
        }
        _ => None,
    }
}

/// `T1`, `T2`, `HOST1`: which terminal or host a Killercoda command goes to.
pub fn is_place(word: &str) -> bool {
    ["T", "HOST"].iter().any(|p| word.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
}

/// The marker at the start of `text` (`{{...}}`) with its length in bytes.
fn leading_marker(text: &str) -> Option<(Marker, usize)> {
    let inside = text.strip_prefix("{{")?;
    let end = inside.find("}}")?;
    Some((marker(&inside[..end])?, end + 4))
}

/// Killercoda closes a runnable code block with "```{{exec}}", which CommonMark does not take
/// as a closing fence: rewrite it to a plain fence and put the marker on the opening one
/// (` ```sh run interrupt `; line count unchanged, so lines stay right).
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
                    continue;
                }
                let Some((found, _)) = leading_marker(rest).filter(|(_, len)| rest[*len..].trim().is_empty()) else { continue };
                lines[i] = lines[i].replace(rest, "");
                match found {
                    Marker::Run { interrupt, enter } => {
                        lines[start].push_str(" run");
                        if interrupt {
                            lines[start].push_str(" interrupt");
                        }
                        if !enter {
                            lines[start].push_str(" no-newline");
                        }
                    }
                    Marker::Copy => lines[start].push_str(" copy"),
                }
                open = None;
            }
            _ => {}
        }
    }
    lines.join("\n")
}

fn render_inner(text: &str, first_line: usize, exec_markers: bool) -> Rendered {
    let mut blocks = Vec::new();
    let mut runs = Vec::new();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut parser = Parser::new_ext(text, options()).into_offset_iter().peekable();
    while let Some((event, range)) = parser.next() {
        let line = first_line + line_of(text, range.start) - 1;
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
                    blocks.push(Block { kind, argument: rest, source, line });
                    continue;
                }
                let has = |word: &str| info.split_whitespace().any(|w| w == word);
                let action = if has("run") {
                    // Its first line is the one after the fence.
                    runs.push((source.trim_end_matches('\n').to_string(), line + 1));
                    Some(Marker::Run { interrupt: has("interrupt"), enter: !has("no-newline") })
                } else if has("copy") {
                    Some(Marker::Copy)
                } else {
                    None
                };
                // A language may carry Killercoda's line highlights (`yaml{2,5}`): not a class.
                let language = first.split('{').next().unwrap_or("");
                let language = if ["run", "copy"].contains(&language) { "" } else { language };
                events.push(Event::Html(CowStr::from(code_block_html(language, &source, action))));
            }
            Event::Code(code) if exec_markers => {
                // Killercoda's inline `cmd`{{exec}} and `text`{{copy}}.
                let found = match parser.peek() {
                    Some((Event::Text(t), _)) => leading_marker(t),
                    _ => None,
                };
                match found {
                    Some((action, len)) => {
                        let (next, _) = parser.next().expect("peeked");
                        if matches!(action, Marker::Run { .. }) {
                            runs.push((code.to_string(), line));
                        }
                        events.push(Event::Html(CowStr::from(inline_code_html(&code, action))));
                        if let Event::Text(t) = next
                            && t.len() > len
                        {
                            events.push(Event::Text(CowStr::from(t[len..].to_string())));
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
    Rendered { html, blocks, runs }
}

/// Markdown to HTML, with no special blocks expected (hints, explanations, notes).
pub fn to_html(text: &str) -> String {
    render(text, 1, false).html
}

/// How the page's script runs a command: the `data-` attributes of its element.
fn run_attributes(command: &str, action: Marker) -> String {
    match action {
        Marker::Run { interrupt, enter } => format!(
            "data-run-command=\"{}\"{}{}",
            escape(command),
            if interrupt { " data-run-interrupt" } else { "" },
            if enter { "" } else { " data-run-no-newline" }
        ),
        Marker::Copy => format!("data-copy-text=\"{}\"", escape(command)),
    }
}

fn code_block_html(language: &str, source: &str, action: Option<Marker>) -> String {
    let class = if language.is_empty() { String::new() } else { format!(" class=\"language-{}\"", escape(language)) };
    let command = source.trim_end_matches('\n');
    let (pre_class, button) = match action {
        Some(run @ Marker::Run { .. }) => (
            " class=\"runnable\"",
            format!(
                "<button type=\"button\" class=\"run button small\" {} title=\"Type this into your terminal\">Run</button>",
                run_attributes(command, run)
            ),
        ),
        Some(Marker::Copy) => (
            " class=\"copyable\"",
            format!(
                "<button type=\"button\" class=\"copy button small\" {} title=\"Copy to the clipboard\">Copy</button>",
                run_attributes(command, Marker::Copy)
            ),
        ),
        None => ("", String::new()),
    };
    format!("<pre{pre_class}><code{class}>{}</code>{button}</pre>\n", escape(source))
}

fn inline_code_html(code: &str, action: Marker) -> String {
    match action {
        Marker::Run { .. } => {
            format!(
                "<code class=\"runnable\" {} role=\"button\" tabindex=\"0\" title=\"Run in terminal\">{}</code>",
                run_attributes(code, action),
                escape(code)
            )
        }
        Marker::Copy => format!(
            "<code class=\"copyable\" {} role=\"button\" tabindex=\"0\" title=\"Copy\">{}</code>",
            run_attributes(code, action),
            escape(code)
        ),
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
        assert!(r.html.contains("data-copy-text=\"key\""), "{}", r.html);
        assert_eq!(r.runs, [("ls -l".to_string(), 1), ("uname -a".to_string(), 4)]);
        assert!(r.html.contains("data-run-command=\"uname -a\""), "{}", r.html);
        assert!(!r.html.contains("{{"), "{}", r.html);
    }

    #[test]
    fn ascii_diagrams_stay_monospace() {
        let r = render("```\n┌──┐\n│VM│\n└──┘\n```\n", 1, false);
        assert!(r.html.starts_with("<pre><code>┌──┐"), "{}", r.html);
    }
}
