//! Killercoda scenarios, loaded unchanged: a folder with `index.json` (intro, steps with `text`,
//! `background`, `foreground`, `verify`, finish) and Markdown using `{{exec}}`/`{{copy}}`.
//! A step's `verify` becomes its check and its `background` its setup (the intro's background
//! runs before the first step's). Killercoda has no solutions, so these labs cannot be
//! self-tested; `foreground` scripts (typed into the learner's terminal there) are not run.

use std::path::Path;

use serde::Deserialize;

use super::course::{Lab, Script, Step};
use super::lab::{DEFAULT_TIMEOUT, check_shell};
use super::problem::Problems;
use super::{LabFormat, markdown, read, valid_id};
use crate::model::Tier;

#[derive(Deserialize)]
struct Index {
    title: String,
    #[serde(default)]
    description: String,
    details: Details,
}

#[derive(Deserialize)]
struct Details {
    #[serde(default)]
    intro: Option<Page>,
    #[serde(default)]
    steps: Vec<Page>,
    #[serde(default)]
    finish: Option<Page>,
}

#[derive(Deserialize, Default)]
struct Page {
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    background: Option<String>,
    #[serde(default)]
    verify: Option<String>,
}

pub fn load(dir: &Path, problems: &mut Problems) -> Option<Lab> {
    let index_path = dir.join("index.json");
    let index_text = read(&index_path, problems)?;
    let index: Index = match serde_json::from_str(&index_text) {
        Ok(index) => index,
        Err(e) => {
            problems.push(&index_path, e.line(), format!("not a Killercoda index.json: {e}"));
            return None;
        }
    };
    let id = dir.file_name()?.to_string_lossy().into_owned();
    if !valid_id(&id) {
        problems.push(&index_path, 0, format!("scenario folder name {id:?} is not a valid id: use a-z, 0-9 and '-'"));
    }
    // Where index.json names a file: for messages about that file.
    let line_of_name = |name: &str| index_text.lines().position(|l| l.contains(&format!("\"{name}\""))).map(|i| i + 1).unwrap_or(1);
    let text_of = |name: &Option<String>, problems: &mut Problems| -> Option<(String, std::path::PathBuf)> {
        let name = name.as_ref()?;
        let path = dir.join(name);
        if !path.starts_with(dir) || name.contains("..") {
            problems.push(&index_path, line_of_name(name), format!("{name:?} is outside the scenario folder"));
            return None;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => Some((text, path)),
            Err(e) => {
                problems.push(&index_path, line_of_name(name), format!("{name}: {e}"));
                None
            }
        }
    };
    let script = |text: Option<(String, std::path::PathBuf)>, problems: &mut Problems| -> Option<Script> {
        let (source, file) = text?;
        check_shell(&file, 0, &source, problems);
        Some(Script { source, file, line: 1 })
    };

    let intro = index.details.intro.unwrap_or_default();
    let intro_html = text_of(&intro.text, problems).map(|(t, _)| markdown::render(&t, 1, true).html).unwrap_or_default();
    let intro_background = script(text_of(&intro.background, problems), problems);
    let finish_html =
        index.details.finish.and_then(|f| text_of(&f.text, problems)).map(|(t, _)| markdown::render(&t, 1, true).html).unwrap_or_default();

    let mut steps = Vec::new();
    for (i, page) in index.details.steps.iter().enumerate() {
        let html = text_of(&page.text, problems).map(|(t, _)| markdown::render(&t, 1, true).html).unwrap_or_default();
        let mut setup = script(text_of(&page.background, problems), problems);
        if i == 0 {
            setup = match (intro_background.clone(), setup) {
                (Some(a), Some(b)) => Some(Script { source: format!("{}\n{}", a.source, b.source), ..b }),
                (a, b) => a.or(b),
            };
        }
        let checks: Vec<Script> = script(text_of(&page.verify, problems), problems).into_iter().collect();
        if checks.is_empty() {
            problems.push(&index_path, line_of_name(&page.title), format!("step {} ({:?}) has no verify script", i + 1, page.title));
        }
        steps.push(Step {
            id: format!("step{}", i + 1),
            title: if page.title.is_empty() { format!("Step {}", i + 1) } else { page.title.clone() },
            html,
            points: 1,
            hints: Vec::new(),
            setup,
            checks,
            hint_checks: Vec::new(),
            solution: None,
            timeout: DEFAULT_TIMEOUT,
            quiz: Vec::new(),
            source: index_path.clone(),
        });
    }
    if steps.is_empty() {
        problems.push(&index_path, 1, "this scenario has no steps");
    }
    Some(Lab {
        id,
        title: index.title,
        summary: index.description,
        tiers: vec![Tier::Shell],
        intro_html,
        finish_html,
        steps,
        format: LabFormat::Killercoda,
        source: index_path,
    })
}
