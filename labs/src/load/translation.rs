//! Translated copies of a lab, beside its files: `lab.de.md`, `01-netns.de.md`, `finish.de.md`.
//! A copy carries the words (titles, summary, text, hints); what runs stays the original's, so
//! every check, setup and solution block, every step's points, timeout and quiz, must be the
//! original's as written. A copy that differs, or that misses a step, is not served (learners of
//! its language see the original) and `stacklab labs check` reports it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::course::{Lab, LabText, Step, StepText};
use super::markdown::{self, BlockKind};
use super::problem::Problems;
use super::{front_matter, read};
use crate::model::Tier;

/// `01-netns.de.md` -> (`01-netns`, `de`): a file of a translated copy, by the language tag
/// before `.md` (two or three lowercase letters).
pub fn split_name(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_suffix(".md")?;
    let (base, lang) = stem.rsplit_once('.')?;
    let tag = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
    (tag && !base.is_empty()).then_some((base, lang))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabFront {
    title: String,
    #[serde(default)]
    summary: String,
    /// Allowed so a copy can be the original's file translated, but must be the original's.
    #[serde(default)]
    tiers: Option<Vec<Tier>>,
    #[serde(default)]
    editor: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFront {
    title: String,
    #[serde(default)]
    points: Option<u32>,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    timeout: Option<u32>,
    #[serde(default)]
    quiz: Option<Vec<String>>,
}

/// Every translated copy of `lab` found in `dir` that matches it; the problems of those that do
/// not go to `problems`.
pub fn load(dir: &Path, lab: &Lab, problems: &mut Problems) -> BTreeMap<String, LabText> {
    let mut by_lang: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for path in std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some((_, lang)) = split_name(&name) {
            by_lang.entry(lang.to_string()).or_default().push(path);
        }
    }
    let mut copies = BTreeMap::new();
    for (lang, files) in by_lang {
        let mut found = Problems::default();
        if let Some(text) = load_copy(dir, lab, &lang, &files, &mut found)
            && found.is_empty()
        {
            copies.insert(lang, text);
        }
        problems.0.extend(found.0);
    }
    copies
}

fn load_copy(dir: &Path, lab: &Lab, lang: &str, files: &[PathBuf], problems: &mut Problems) -> Option<LabText> {
    let path = dir.join(format!("lab.{lang}.md"));
    if !path.exists() {
        problems.push(&files[0], 0, format!("a {lang:?} copy of this lab needs lab.{lang}.md too (its title and introduction)"));
        return None;
    }
    let text = read(&path, problems)?;
    let doc = front_matter::split(&text, 1, &path, problems);
    let front = front_matter::parse::<LabFront>(&doc, &path, problems)?;
    if front.tiers.as_ref().is_some_and(|t| *t != lab.tiers) {
        problems.push(&path, doc.front_line, "tiers differ from lab.md's: a translation keeps the original's");
    }
    if front.editor.as_ref().is_some_and(|e| *e != lab.editor_folders) {
        problems.push(&path, doc.front_line, "editor folders differ from lab.md's: a translation keeps the original's");
    }
    let intro_html = markdown::render(doc.body, doc.body_line, false).html;
    let finish = dir.join(format!("finish.{lang}.md"));
    let finish_html = if finish.exists() {
        markdown::to_html(&read(&finish, problems)?)
    } else {
        if !lab.finish_html.is_empty() {
            problems.push(&finish, 0, format!("finish.md has no {lang:?} copy: add finish.{lang}.md"));
        }
        String::new()
    };
    // Every step's copy, and no copy of a step that does not exist.
    let mut steps = Vec::with_capacity(lab.steps.len());
    for step in &lab.steps {
        let copy = translated_path(&step.source, lang);
        if copy.exists() {
            steps.push(load_step(&copy, step, problems)?);
        } else {
            let name = copy.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            problems.push(&copy, 0, format!("step {:?} has no {lang:?} copy: add {name}", step.id));
        }
    }
    let known: Vec<PathBuf> = lab.steps.iter().map(|s| translated_path(&s.source, lang)).collect();
    for file in files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let own = [format!("lab.{lang}.md"), format!("finish.{lang}.md")].contains(&name);
        if !own && !known.contains(file) {
            problems.push(file, 0, format!("no step of this lab is the original of {name}: name it after a step file (NN-name.{lang}.md)"));
        }
    }
    Some(LabText { title: front.title, summary: front.summary, intro_html, finish_html, steps })
}

/// `…/01-netns.md` -> `…/01-netns.de.md`.
fn translated_path(original: &Path, lang: &str) -> PathBuf {
    let stem = original.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    original.with_file_name(format!("{stem}.{lang}.md"))
}

fn load_step(path: &Path, original: &Step, problems: &mut Problems) -> Option<StepText> {
    let text = read(path, problems)?;
    let doc = front_matter::split(&text, 1, path, problems);
    let front = front_matter::parse::<StepFront>(&doc, path, problems)?;
    let source = original.source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut differs =
        |what: &str| problems.push(path, doc.front_line, format!("{what} differs from {source}'s: a translation keeps the original's"));
    if front.points.is_some_and(|p| p != original.points) {
        differs("points");
    }
    if front.timeout.is_some_and(|t| t != original.timeout) {
        differs("timeout");
    }
    if front.quiz.as_ref().is_some_and(|q| *q != original.quiz) {
        differs("quiz");
    }
    if front.hints.len() != original.hints.len() {
        problems.push(
            path,
            doc.front_line,
            format!("{} hint(s), {source} has {}: translate each hint, add none", front.hints.len(), original.hints.len()),
        );
    }
    let rendered = markdown::render(doc.body, doc.body_line, false);
    // The scripts, in order, as the original has them: what the learner's sandbox runs.
    let scripts = |kind: BlockKind| rendered.blocks.iter().filter(move |b| b.kind == kind).map(|b| (b.line, b.source.trim()));
    let expected: [(BlockKind, &str, Vec<&str>); 4] = [
        (BlockKind::Check, "check", original.checks.iter().map(|s| s.source.trim()).collect()),
        (BlockKind::Setup, "setup", original.setup.iter().map(|s| s.source.trim()).collect()),
        (BlockKind::Solution, "solution", original.solution.iter().map(|s| s.source.trim()).collect()),
        (BlockKind::HintCheck, "hint-check", original.hint_checks.iter().map(|h| h.script.source.trim()).collect()),
    ];
    let mut reasons = Vec::new();
    for (kind, name, want) in expected {
        let got: Vec<(usize, &str)> = scripts(kind).collect();
        if got.len() != want.len() {
            problems.push(path, 1, format!("{} {name} block(s), {source} has {}: a translation keeps every script", got.len(), want.len()));
            continue;
        }
        for (i, ((line, text), original)) in got.iter().zip(&want).enumerate() {
            // A check's `pass "…"` and `fail "…"` sentences are the learner's to read: they may
            // be translated; the rest of every script is the original's as written.
            let (ours, theirs) = (said(text), said(original));
            let same = if kind == BlockKind::Check { ours.0 == theirs.0 && ours.1.len() == theirs.1.len() } else { text == original };
            if !same {
                let what = if kind == BlockKind::Check { "apart from its pass/fail sentences, " } else { "" };
                problems.push(path, *line, format!("{name} block {} differs from {source}'s: {what}scripts are not translated", i + 1));
            } else if kind == BlockKind::Check {
                reasons.extend(theirs.1.into_iter().zip(ours.1).filter(|(a, b)| a != b));
            }
        }
    }
    let hint_checks = rendered.blocks.iter().filter(|b| b.kind == BlockKind::HintCheck).map(|b| markdown::to_html(&b.argument)).collect();
    Some(StepText {
        title: front.title,
        html: rendered.html,
        hints: front.hints.iter().map(|h| markdown::to_html(h)).collect(),
        hint_checks,
        reasons,
    })
}

/// A check script with the sentences of its `pass "…"` and `fail "…"` calls (double or single
/// quoted, without `$` in them) taken out: the script with each sentence as `"…"`, and the
/// sentences in order.
fn said(script: &str) -> (String, Vec<String>) {
    let mut shape = String::with_capacity(script.len());
    let mut sentences = Vec::new();
    let mut rest = script;
    while let Some(at) = rest.find(['p', 'f']) {
        let (before, from) = rest.split_at(at);
        shape.push_str(before);
        let word = ["pass ", "fail "].into_iter().find(|w| from.starts_with(w));
        let at_word_start = shape.is_empty() || shape.ends_with(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&' | '(' | '{'));
        let quoted = word.filter(|_| at_word_start).and_then(|w| {
            let text = from[w.len()..].trim_start();
            let quote = text.chars().next().filter(|q| *q == '"' || *q == '\'')?;
            let end = text[1..].find(quote)?;
            let sentence = &text[1..1 + end];
            (!sentence.contains(['$', '`', '\\'])).then(|| (w, from.len() - text.len(), sentence, end + 2))
        });
        match quoted {
            Some((w, skip, sentence, len)) => {
                shape.push_str(w);
                shape.push_str("\"…\"");
                sentences.push(sentence.to_string());
                rest = &from[skip + len..];
            }
            None => {
                shape.push_str(&from[..1]);
                rest = &from[1..];
            }
        }
    }
    shape.push_str(rest);
    (shape, sentences)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_checks_sentences_are_its_only_words() {
        let (shape, said) = super::said("ip netns list | grep -qw demo || fail \"Create it: ip netns add demo\"\npass 'It is there'");
        assert_eq!(shape, "ip netns list | grep -qw demo || fail \"…\"\npass \"…\"");
        assert_eq!(said, ["Create it: ip netns add demo", "It is there"]);
        // A sentence with an expansion is code: it must stay as written.
        let (shape, said) = super::said("fail \"no $name\"");
        assert_eq!((shape.as_str(), said.len()), ("fail \"no $name\"", 0));
        // Not a call: part of another word.
        assert_eq!(super::said("surpass \"x\"").1.len(), 0);
    }

    #[test]
    fn a_copy_is_named_by_its_language() {
        assert_eq!(super::split_name("01-netns.de.md"), Some(("01-netns", "de")));
        assert_eq!(super::split_name("lab.fr.md"), Some(("lab", "fr")));
        assert_eq!(super::split_name("01-netns.md"), None);
        assert_eq!(super::split_name("02-v1.2.md"), None);
        assert_eq!(super::split_name("notes.DE.md"), None);
    }
}
