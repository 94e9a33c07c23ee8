//! Quiz questions: `<name>.quiz.md`, questions separated by `---` lines. Each opens with `+++`
//! front matter (`id`, optional `points` and `kind`), then the question, then a task list whose
//! checked items are the right answers, each followed by an indented `>` explanation:
//!
//! ```markdown
//! +++
//! id = "docker-hypervisor"
//! +++
//! Is Docker a hypervisor?
//!
//! - [ ] Yes
//!   > It runs no guest kernel...
//! - [x] No
//!   > Right: ...
//! ```

use std::path::Path;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use serde::Deserialize;

use super::course::{Choice, Question};
use super::markdown;
use super::problem::{Problems, line_of};
use super::{front_matter, read, sections, valid_id};
use crate::model::QuestionKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFront {
    id: String,
    #[serde(default = "one")]
    points: u32,
    #[serde(default)]
    kind: Option<QuestionKind>,
}

fn one() -> u32 {
    1
}

pub fn load(path: &Path, problems: &mut Problems) -> Vec<Question> {
    let Some(text) = read(path, problems) else { return Vec::new() };
    let mut questions = Vec::new();
    for (chunk, line) in sections::split(&text, 1) {
        if chunk.trim().is_empty() {
            continue;
        }
        let doc = front_matter::split(&chunk, line, path, problems);
        if doc.front.is_empty() {
            problems.push(path, line, "a question starts with +++ front matter giving its id");
            continue;
        }
        let Some(front) = front_matter::parse::<QuestionFront>(&doc, path, problems) else { continue };
        if !valid_id(&front.id) {
            problems.push(path, doc.front_line, format!("question id {:?}: use a-z, 0-9 and '-'", front.id));
        }
        if let Some(question) = parse_question(front, doc.body, doc.body_line, path, problems) {
            questions.push(question);
        }
    }
    questions
}

fn parse_question(front: QuestionFront, body: &str, body_line: usize, path: &Path, problems: &mut Problems) -> Option<Question> {
    // The prompt is everything before the task list; each item is a choice.
    let mut prompt_end = body.len();
    let mut choices: Vec<(bool, String, String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut in_item: Option<(bool, usize, usize)> = None; // (checked, start, line)
    let mut quote: Option<usize> = None;
    for (event, range) in Parser::new_ext(body, markdown::options()).into_offset_iter() {
        match event {
            Event::Start(Tag::List(_)) if depth == 0 => {
                prompt_end = prompt_end.min(range.start);
                depth += 1;
            }
            Event::Start(Tag::List(_)) => depth += 1,
            Event::End(TagEnd::List(_)) => depth = depth.saturating_sub(1),
            Event::Start(Tag::Item) if depth == 1 => in_item = Some((false, range.start, body_line + line_of(body, range.start) - 1)),
            Event::TaskListMarker(checked) if depth == 1 => {
                if let Some((_, _, line)) = in_item {
                    // The choice's text starts after the "[x]".
                    in_item = Some((checked, range.end, line));
                }
            }
            Event::Start(Tag::BlockQuote(_)) if in_item.is_some() && quote.is_none() => quote = Some(range.start),
            Event::End(TagEnd::Item) if depth == 1 => {
                if let Some((checked, start, line)) = in_item.take() {
                    let end = quote.unwrap_or(range.end);
                    let text = body[start..end].trim().to_string();
                    let explanation = quote
                        .map(|q| {
                            body[q..range.end].lines().map(|l| l.trim_start().trim_start_matches('>').trim()).collect::<Vec<_>>().join("\n")
                        })
                        .unwrap_or_default();
                    choices.push((checked, text, explanation, line));
                }
                quote = None;
            }
            _ => {}
        }
    }
    let prompt = body[..prompt_end].trim();
    if prompt.is_empty() {
        problems.push(path, body_line, format!("question {:?} has no question text", front.id));
    }
    if choices.len() < 2 {
        problems.push(path, body_line, format!("question {:?} needs at least two answers as a task list (- [ ] / - [x])", front.id));
        return None;
    }
    let correct = choices.iter().filter(|c| c.0).count();
    if correct == 0 {
        problems.push(path, body_line, format!("question {:?} has no correct answer: mark one with - [x]", front.id));
    }
    let kind = match front.kind {
        Some(QuestionKind::Single) if correct > 1 => {
            problems.push(path, body_line, format!("question {:?} is single choice but marks {correct} answers correct", front.id));
            QuestionKind::Single
        }
        Some(kind) => kind,
        None if correct > 1 => QuestionKind::Multiple,
        None => QuestionKind::Single,
    };
    for (_, text, _, line) in &choices {
        if text.is_empty() {
            problems.push(path, *line, "an answer has no text");
        }
    }
    Some(Question {
        id: front.id,
        prompt_html: markdown::to_html(prompt),
        kind,
        choices: choices
            .into_iter()
            .map(|(correct, text, explanation, _)| Choice {
                html: inline_html(&text),
                correct,
                explanation_html: markdown::to_html(&explanation),
            })
            .collect(),
        points: front.points,
        file: path.to_path_buf(),
        line: body_line,
    })
}

/// An answer's Markdown as inline HTML (no wrapping paragraph).
fn inline_html(text: &str) -> String {
    let html = markdown::to_html(text);
    let trimmed = html.trim();
    trimmed.strip_prefix("<p>").and_then(|h| h.strip_suffix("</p>")).unwrap_or(trimmed).to_string()
}
