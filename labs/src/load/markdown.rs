//! Markdown to HTML (pulldown-cmark), with the workbook's own code blocks taken out:
//! `check`, `setup`, `solution` and `hint-check <hint>` blocks become scripts, and a code block
//! marked `run` (` ```sh run `) gets a "Run in terminal" button. Everything keeps its `file:line`.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

use super::problem::line_of;
use crate::chrome;

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
    /// `preview:` and `open:` links that cannot work, with why and their lines.
    pub bad_links: Vec<(String, usize)>,
}

/// Renders `text` (which starts at `first_line` of its file) to HTML, pulling out the special
/// blocks. `exec_markers` also turns Killercoda's `{{exec}}`/`{{copy}}` markers into buttons.
pub fn render(text: &str, first_line: usize, exec_markers: bool) -> Rendered {
    if exec_markers {
        let text = traffic_links(&killercoda_fences(text));
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

/// What Killercoda's traffic marker `inside` (`TRAFFIC_HOST1_8080`, `TRAFFIC_SELECTOR`) links to:
/// the preview of that port of the learner's sandbox, or the page of all their ports. `None` for
/// any other marker (a second host's port among them: Stacklab gives a learner one host).
pub fn traffic_link(inside: &str) -> Option<String> {
    if inside == "TRAFFIC_SELECTOR" {
        return Some("preview:".into());
    }
    let port: u16 = inside.strip_prefix("TRAFFIC_HOST1_")?.parse().ok().filter(|p| *p > 0)?;
    Some(format!("preview:{port}/"))
}

/// Killercoda's traffic markers as preview links; the URL scheme some authors write before one
/// goes with it (`https://{{TRAFFIC_HOST1_80}}/path`).
fn traffic_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{TRAFFIC_") {
        let Some(len) = rest[start..].find("}}") else { break };
        match traffic_link(&rest[start + 2..start + len]) {
            Some(link) => {
                let before = &rest[..start];
                let before = before.strip_suffix("https://").or_else(|| before.strip_suffix("http://")).unwrap_or(before);
                out.push_str(before);
                let after = &rest[start + len + 2..];
                // `preview:80/` followed by the author's own `/path`: one slash.
                if after.starts_with('/') { out.push_str(link.trim_end_matches('/')) } else { out.push_str(&link) }
            }
            None => out.push_str(&rest[..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
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

/// Where a `preview:` link (`preview:8080/path`, or `preview:` alone for the page of every port)
/// goes on this server, or why it cannot.
pub fn preview_href(link: &str) -> Option<Result<String, String>> {
    let rest = link.strip_prefix("preview:")?;
    if rest.is_empty() {
        return Some(Ok("/preview".into()));
    }
    let (port, path) = rest.split_once('/').unwrap_or((rest, ""));
    Some(match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(format!("/preview/{port}/{path}")),
        _ => Err(format!("{link:?}: a preview link names a port from 1 to 65535, as in preview:8080/")),
    })
}

/// The opening tag of a workbook link (`preview:PORT/path`, `open:/absolute/path`), or why the
/// link cannot work; `None` for any other link.
fn workbook_link(dest: &str, title: &str) -> Option<Result<String, String>> {
    let title = if title.is_empty() { String::new() } else { format!(" title=\"{}\"", escape(title)) };
    if let Some(path) = dest.strip_prefix("open:") {
        // A file for the editor tab: the page's script opens it there.
        return Some(if path.starts_with('/') && !path.contains('\0') {
            Ok(format!("<a href=\"#editor\" class=\"open-file\" data-open-file=\"{}\"{title}>", escape(path)))
        } else {
            Err(format!("{dest:?}: an open link names a file by its full path, as in open:/root/myapp/Dockerfile"))
        });
    }
    // A tab of its own: the workbook stays where it is.
    preview_href(dest).map(|href| {
        href.map(|href| format!("<a href=\"{}\" class=\"preview-link\" target=\"_blank\" rel=\"noopener\"{title}>", escape(&href)))
    })
}

fn render_inner(text: &str, first_line: usize, exec_markers: bool) -> Rendered {
    let mut blocks = Vec::new();
    let mut runs = Vec::new();
    let mut bad_links = Vec::new();
    // Inside a workbook link, whose end is written by hand too (links do not nest).
    let mut in_workbook_link = false;
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
            Event::Start(Tag::Link { dest_url, title, .. }) if let Some(link) = workbook_link(&dest_url, &title) => {
                match link {
                    Ok(tag) => events.push(Event::Html(CowStr::from(tag))),
                    Err(why) => {
                        bad_links.push((why, line));
                        events.push(Event::Html(CowStr::from("<a>")));
                    }
                }
                in_workbook_link = true;
            }
            Event::End(TagEnd::Link) if in_workbook_link => {
                events.push(Event::Html(CowStr::from("</a>")));
                in_workbook_link = false;
            }
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Rendered { html, blocks, runs, bad_links }
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
                "<button type=\"button\" class=\"run button small\" {}{}",
                run_attributes(command, run),
                chrome::ENGLISH.fragments()[0]
            ),
        ),
        Some(Marker::Copy) => (
            " class=\"copyable\"",
            format!(
                "<button type=\"button\" class=\"copy button small\" {}{}",
                run_attributes(command, Marker::Copy),
                chrome::ENGLISH.fragments()[1]
            ),
        ),
        None => ("", String::new()),
    };
    format!("<pre{pre_class}><code{class}>{}</code>{button}</pre>\n", escape(source))
}

fn inline_code_html(code: &str, action: Marker) -> String {
    match action {
        Marker::Run { .. } => {
            format!("<code class=\"runnable\" {}{}{}</code>", run_attributes(code, action), chrome::ENGLISH.fragments()[2], escape(code))
        }
        Marker::Copy => {
            format!("<code class=\"copyable\" {}{}{}</code>", run_attributes(code, action), chrome::ENGLISH.fragments()[3], escape(code))
        }
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
    fn preview_links_open_the_learners_service_in_a_tab() {
        let r = render("[Open your app](preview:8080/hello \"The app\") and [ports](preview:)\n\n[bad](preview:http)\n", 3, false);
        assert!(
            r.html.contains(
                r#"<a href="/preview/8080/hello" class="preview-link" target="_blank" rel="noopener" title="The app">Open your app</a>"#
            ),
            "{}",
            r.html
        );
        assert!(r.html.contains(r#"<a href="/preview" class="preview-link" target="_blank" rel="noopener">ports</a>"#), "{}", r.html);
        assert!(r.html.contains("<a>bad</a>"), "{}", r.html);
        assert_eq!(r.bad_links.len(), 1);
        assert_eq!(r.bad_links[0].1, 5);
        assert!(r.bad_links[0].0.contains("preview:8080/"), "{:?}", r.bad_links);
    }

    #[test]
    fn open_links_open_a_file_in_the_editor() {
        let r = render("Edit [the Dockerfile](open:/root/myapp/Dockerfile).\n\n[bad](open:myapp/x)\n", 1, false);
        assert!(
            r.html.contains(r##"<a href="#editor" class="open-file" data-open-file="/root/myapp/Dockerfile">the Dockerfile</a>"##),
            "{}",
            r.html
        );
        assert_eq!(r.bad_links.len(), 1);
        assert!(r.bad_links[0].0.contains("full path"), "{:?}", r.bad_links);
    }

    #[test]
    fn killercoda_traffic_markers_are_preview_links() {
        let text =
            "[Apache]({{TRAFFIC_HOST1_1234}}) [docs](https://{{TRAFFIC_HOST1_80}}/docs) [ports]({{TRAFFIC_SELECTOR}}) {{TRAFFIC_HOST2_80}}";
        let r = render(text, 1, true);
        assert!(r.html.contains(r#"href="/preview/1234/""#), "{}", r.html);
        assert!(r.html.contains(r#"href="/preview/80/docs""#), "{}", r.html);
        assert!(r.html.contains(r#"href="/preview""#), "{}", r.html);
        assert!(r.html.contains("{{TRAFFIC_HOST2_80}}"), "another host's port is left as text: {}", r.html);
    }

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
