//! A deck: `<name>.deck.md`, slides separated by `---` lines. A slide may open with its own
//! `+++` front matter (`minutes`, `quiz`, `poll`, `class`) and end with speaker notes after a line that
//! says `Note:`.

use std::path::Path;

use serde::Deserialize;

use super::course::{Deck, Slide};
use super::markdown;
use super::problem::Problems;
use super::{front_matter, id_from_name, read, sections, valid_id};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeckFront {
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlideFront {
    #[serde(default)]
    minutes: Option<f32>,
    #[serde(default)]
    quiz: Option<String>,
    /// A quiz question launched as a live poll when the presenter reaches this slide.
    #[serde(default)]
    poll: Option<String>,
    #[serde(default)]
    class: Option<String>,
}

pub fn load(path: &Path, problems: &mut Problems) -> Option<Deck> {
    let text = read(path, problems)?;
    let doc = front_matter::split(&text, 1, path, problems);
    let front = front_matter::parse::<DeckFront>(&doc, path, problems)?;
    let id = id_from_name(&path.file_name()?.to_string_lossy());
    if !valid_id(&id) {
        problems.push(path, 0, format!("deck file name gives the id {id:?}: use a-z, 0-9 and '-'"));
    }
    let mut slides = Vec::new();
    for (chunk, line) in sections::split(doc.body, doc.body_line) {
        if chunk.trim().is_empty() {
            continue;
        }
        let slide_doc = front_matter::split(&chunk, line, path, problems);
        let slide_front: SlideFront = if slide_doc.front.is_empty() {
            SlideFront { minutes: None, quiz: None, poll: None, class: None }
        } else {
            match front_matter::parse(&slide_doc, path, problems) {
                Some(f) => f,
                None => continue,
            }
        };
        if let Some(m) = slide_front.minutes
            && !(0.0..=180.0).contains(&m)
        {
            problems.push(path, slide_doc.front_line, format!("minutes = {m}: a slide takes 0 to 180 minutes"));
        }
        let (content, notes) = split_notes(slide_doc.body);
        let rendered = markdown::render(content, slide_doc.body_line, false);
        for block in &rendered.blocks {
            problems.push(path, block.line, "scripts belong in lab steps, not in slides");
        }
        slides.push(Slide {
            html: rendered.html,
            notes_html: notes.map(markdown::to_html).unwrap_or_default(),
            minutes: slide_front.minutes,
            quiz: slide_front.quiz,
            poll: slide_front.poll,
            class: slide_front.class,
            line: slide_doc.body_line,
        });
    }
    if slides.is_empty() {
        problems.push(path, 0, "this deck has no slides");
    }
    Some(Deck { id, title: front.title, slides, source: path.to_path_buf() })
}

/// The slide's content and its speaker notes (after a line `Note:` or `Notes:`).
fn split_notes(body: &str) -> (&str, Option<&str>) {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        if t == "Note:" || t == "Notes:" {
            return (&body[..offset], Some(&body[offset + line.len()..]));
        }
        offset += line.len();
    }
    (body, None)
}
