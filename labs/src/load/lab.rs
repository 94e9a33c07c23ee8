//! A lab in Stacklab's own format: `lab.md` (front matter and introduction), one Markdown file per
//! step (`01-name.md`, in file name order), and an optional `finish.md`.

use std::path::Path;

use serde::Deserialize;

use super::course::{HintCheck, Lab, Script, Step};
use super::markdown::{self, Block, BlockKind};
use super::problem::Problems;
use super::{LabFormat, front_matter, id_from_name, read, shell, translation, valid_id};
use crate::model::Tier;

/// The longest a check may be given to run.
pub const MAX_TIMEOUT: u32 = 60;
pub const DEFAULT_TIMEOUT: u32 = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabFront {
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default = "shell_tier")]
    tiers: Vec<Tier>,
    /// The folders the editor's file tree shows, e.g. `["/root/myapp", "/etc/nginx"]`.
    #[serde(default)]
    editor: Vec<String>,
}

fn shell_tier() -> Vec<Tier> {
    vec![Tier::Shell]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFront {
    title: String,
    #[serde(default = "one")]
    points: u32,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    timeout: Option<u32>,
    #[serde(default)]
    quiz: Vec<String>,
}

fn one() -> u32 {
    1
}

/// The lab in `dir`; problems of its translated copies go to `untranslated` (they do not keep
/// the lab from being served).
pub fn load(dir: &Path, problems: &mut Problems, untranslated: &mut Problems) -> Option<Lab> {
    let path = dir.join("lab.md");
    let text = read(&path, problems)?;
    let doc = front_matter::split(&text, 1, &path, problems);
    let front = front_matter::parse::<LabFront>(&doc, &path, problems)?;
    let id = dir.file_name()?.to_string_lossy().into_owned();
    if !valid_id(&id) {
        problems.push(&path, 0, format!("lab folder name {id:?} is not a valid id: use a-z, 0-9 and '-'"));
    }
    let intro = markdown::render(doc.body, doc.body_line, false);
    for block in &intro.blocks {
        problems.push(&path, block.line, "scripts belong in step files, not in lab.md");
    }
    for (why, line) in &intro.bad_links {
        problems.push(&path, *line, why.clone());
    }
    for folder in front.editor.iter().filter(|f| !f.starts_with('/') || f.contains('\0')) {
        let line = doc.front.lines().position(|l| l.trim_start().starts_with("editor")).map_or(doc.front_line, |i| doc.front_line + i);
        problems.push(&path, line, format!("editor folder {folder:?} is not a full path: start it with /"));
    }
    let finish_path = dir.join("finish.md");
    let finish_html = if finish_path.exists() { markdown::to_html(&read(&finish_path, problems)?) } else { String::new() };

    let mut steps = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !matches!(p.file_name().and_then(|n| n.to_str()), Some("lab.md" | "finish.md" | "README.md")))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).and_then(translation::split_name).is_none())
        .collect();
    files.sort();
    for file in files {
        if let Some(step) = load_step(&file, problems) {
            if steps.iter().any(|s: &Step| s.id == step.id) {
                problems.push(&file, 1, format!("another step of this lab has the id {:?}", step.id));
            }
            steps.push(step);
        }
    }
    if steps.is_empty() {
        problems.push(&path, 0, "this lab has no steps: add 01-<name>.md next to lab.md");
    }
    let mut lab = Lab {
        id,
        title: front.title,
        summary: front.summary,
        tiers: front.tiers,
        intro_html: intro.html,
        finish_html,
        steps,
        setup: None,
        foreground: None,
        finish_setup: None,
        finish_foreground: None,
        editor_folders: front.editor,
        format: LabFormat::Stacklab,
        source: path,
        translations: Default::default(),
    };
    if problems.is_empty() {
        lab.translations = translation::load(dir, &lab, untranslated);
    }
    Some(lab)
}

fn load_step(path: &Path, problems: &mut Problems) -> Option<Step> {
    let text = read(path, problems)?;
    let doc = front_matter::split(&text, 1, path, problems);
    let front = front_matter::parse::<StepFront>(&doc, path, problems)?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    let id = id_from_name(&name);
    if !valid_id(&id) {
        problems.push(path, 0, format!("step file name gives the id {id:?}: use a-z, 0-9 and '-'"));
    }
    let rendered = markdown::render(doc.body, doc.body_line, false);
    for (why, line) in &rendered.bad_links {
        problems.push(path, *line, why.clone());
    }
    let timeout = front.timeout.unwrap_or(DEFAULT_TIMEOUT);
    if timeout == 0 || timeout > MAX_TIMEOUT {
        problems.push(path, doc.front_line, format!("timeout = {timeout}: checks may run 1 to {MAX_TIMEOUT} seconds"));
    }
    let mut step = Step {
        id,
        title: front.title,
        html: rendered.html,
        points: front.points,
        hints: front.hints.iter().map(|h| markdown::to_html(h)).collect(),
        setup: None,
        checks: Vec::new(),
        hint_checks: Vec::new(),
        solution: None,
        reveal_solution: true,
        foreground: None,
        timeout: timeout.clamp(1, MAX_TIMEOUT),
        quiz: front.quiz,
        source: path.to_path_buf(),
    };
    for block in rendered.blocks {
        let script = checked_script(path, &block, problems);
        match block.kind {
            BlockKind::Check => step.checks.push(script),
            BlockKind::Setup if step.setup.is_some() => problems.push(path, block.line, "a step has at most one setup block"),
            BlockKind::Setup => step.setup = Some(script),
            BlockKind::Solution if step.solution.is_some() => problems.push(path, block.line, "a step has at most one solution block"),
            BlockKind::Solution => step.solution = Some(script),
            BlockKind::HintCheck => {
                if block.argument.is_empty() {
                    problems.push(path, block.line, "a hint-check needs its hint after the word: ```hint-check Try --fork.");
                }
                step.hint_checks.push(HintCheck { script, hint_html: markdown::to_html(&block.argument) });
            }
        }
    }
    if step.checks.is_empty() {
        problems.push(path, 1, "this step has no check: add a ```check block that exits 0 once the step is done");
    }
    if step.solution.is_none() {
        problems.push(path, 1, "this step has no solution: add a ```solution block (CI runs it to test the checks)");
    }
    Some(step)
}

/// The block as a script, reporting one that is empty or not valid shell.
pub(super) fn checked_script(path: &Path, block: &Block, problems: &mut Problems) -> Script {
    check_shell(path, block.line, &block.source, problems);
    Script { source: block.source.clone(), file: path.to_path_buf(), line: block.line }
}

/// Reports a script with nothing to run, or one `bash -n` refuses. `fence_line` is the line
/// just before the script's first line.
pub(super) fn check_shell(path: &Path, fence_line: usize, source: &str, problems: &mut Problems) {
    let has_code = source.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#')
    });
    if !has_code {
        problems.push(path, fence_line, "this script is empty");
        return;
    }
    if let Some((line, message)) = shell::syntax_error(source) {
        problems.push(path, fence_line + line.unwrap_or(1), format!("not valid shell: {message}"));
    }
}
