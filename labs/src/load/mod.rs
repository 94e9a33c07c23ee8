//! Reading a content tree from disk into a [`Course`], collecting every [`Problem`] with its
//! `file:line` so an author sees all their mistakes in one run.
//!
//! ```text
//! course.toml                 title, summary, sessions (folders, in order)
//! <session>/session.md        +++ title, summary +++ and an introduction
//! <session>/homework.md       optional
//! <session>/*.deck.md         slides
//! <session>/*.quiz.md         questions
//! <session>/labs/<lab>/       lab.md + one file per step (NN-name.md), or a Killercoda
//!                             scenario (index.json)
//! ```
//! The format is documented for authors in `labs/README.md`.

mod course;
mod deck;
mod front_matter;
mod killercoda;
mod lab;
pub(crate) mod markdown;
/// Text as HTML that shows it as it is (for what instructors type on the spot).
pub use markdown::escape as escape_html;
mod problem;
mod quiz;
mod sections;
mod shell;
mod translation;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use course::*;
pub use problem::{Problem, Problems};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CourseFile {
    title: String,
    #[serde(default)]
    summary: String,
    sessions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionFront {
    title: String,
    #[serde(default)]
    summary: String,
    /// The labs' folder names in teaching order (else in folder name order).
    #[serde(default)]
    labs: Option<Vec<String>>,
}

/// Loads the course rooted at `root` (the folder holding `course.toml`), checking everything
/// `stacklab labs check` checks: any problem, in a lab or not, is an error.
pub fn load_course(root: &Path) -> Result<Course, Problems> {
    let course = load_serving(root)?;
    if course.left_out.is_empty() {
        return Ok(course);
    }
    Err(Problems(course.left_out.into_iter().flat_map(|l| l.problems.0).collect()))
}

/// Loads the course as the server serves it: a lab with problems is left out (in
/// [`Course::left_out`], with them) and the rest is served; a problem outside the labs (the
/// course, a session, a deck, a quiz) is an error.
pub fn load_serving(root: &Path) -> Result<Course, Problems> {
    let mut problems = Problems::default();
    let course_path = root.join("course.toml");
    let Some(text) = read(&course_path, &mut problems) else { return Err(problems) };
    let doc = front_matter::Document { front: &text, front_line: 1, body: "", body_line: 1, broken: false };
    let Some(course) = front_matter::parse::<CourseFile>(&doc, &course_path, &mut problems) else {
        return Err(problems);
    };
    let mut sessions = Vec::new();
    let mut questions = BTreeMap::new();
    let mut labs = Labs::default();
    for id in &course.sessions {
        let dir = root.join(id);
        if !dir.is_dir() {
            let line = text.lines().position(|l| l.contains(&format!("\"{id}\""))).map(|i| i + 1).unwrap_or(1);
            problems.push(&course_path, line, format!("session folder {id:?} does not exist"));
            continue;
        }
        if let Some(session) = load_session(id, &dir, &mut questions, &mut labs, &mut problems) {
            sessions.push(session);
        }
    }
    let mut course = Course {
        root: root.to_path_buf(),
        title: course.title,
        summary: course.summary,
        sessions,
        questions,
        left_out: labs.left_out,
        warnings: labs.warnings,
        untranslated: labs.untranslated,
    };
    check_references(&mut course, &mut problems);
    if problems.is_empty() { Ok(course) } else { Err(problems) }
}

/// What loading the labs found besides the labs.
#[derive(Default)]
struct Labs {
    left_out: Vec<LeftOut>,
    warnings: Problems,
    untranslated: Problems,
}

fn load_session(
    id: &str,
    dir: &Path,
    questions: &mut BTreeMap<String, Question>,
    found: &mut Labs,
    problems: &mut Problems,
) -> Option<Session> {
    let path = dir.join("session.md");
    let text = read(&path, problems)?;
    let doc = front_matter::split(&text, 1, &path, problems);
    let front = front_matter::parse::<SessionFront>(&doc, &path, problems)?;
    let intro_html = markdown::render(doc.body, doc.body_line, false).html;
    let homework_path = dir.join("homework.md");
    let homework_html = homework_path.exists().then(|| read(&homework_path, problems)).flatten().map(|t| markdown::to_html(&t));

    let mut decks = Vec::new();
    for file in sorted_files(dir, ".deck.md") {
        if let Some(deck) = deck::load(&file, problems) {
            decks.push(deck);
        }
    }
    for file in sorted_files(dir, ".quiz.md") {
        for question in quiz::load(&file, problems) {
            if let Some(first) = questions.get(&question.id) {
                problems.push(
                    &question.file,
                    question.line,
                    format!("question id {:?} is already used at {}:{}", question.id, first.file.display(), first.line),
                );
            } else {
                questions.insert(question.id.clone(), question);
            }
        }
    }
    let mut labs = Vec::new();
    let mut left_out = Vec::new();
    for lab_dir in sorted_subdirs(&dir.join("labs")) {
        let mut lab_problems = Problems::default();
        let loaded = if lab_dir.join("index.json").exists() {
            killercoda::load(&lab_dir, &mut lab_problems, &mut found.warnings)
        } else {
            lab::load(&lab_dir, &mut lab_problems, &mut found.untranslated)
        };
        match loaded {
            Some(lab) if lab_problems.is_empty() => labs.push(lab),
            _ => {
                let id = lab_folder_id(&lab_dir);
                left_out.push(id.clone());
                found.left_out.push(LeftOut { id, folder: lab_dir, problems: lab_problems });
            }
        }
    }
    if let Some(order) = &front.labs {
        labs = in_teaching_order(labs, &left_out, order, &path, &doc, problems);
    }
    Some(Session { id: id.to_string(), title: front.title, summary: front.summary, intro_html, homework_html, decks, labs })
}

/// The labs in the order `session.md` lists them; every lab folder listed once, nothing else.
fn in_teaching_order(
    mut labs: Vec<Lab>,
    left_out: &[String],
    order: &[String],
    path: &Path,
    doc: &front_matter::Document<'_>,
    problems: &mut Problems,
) -> Vec<Lab> {
    let line_of =
        |id: &str| doc.front.lines().position(|l| l.contains(&format!("\"{id}\""))).map_or(doc.front_line, |i| doc.front_line + i);
    let mut ordered = Vec::with_capacity(labs.len());
    for (i, id) in order.iter().enumerate() {
        if order[..i].contains(id) {
            problems.push(path, line_of(id), format!("lab {id:?} is listed twice in `labs`"));
        } else if let Some(at) = labs.iter().position(|l| &l.id == id) {
            ordered.push(labs.remove(at));
        } else if !left_out.contains(id) {
            problems.push(path, line_of(id), format!("`labs` lists {id:?}, but there is no lab folder labs/{id}"));
        }
    }
    for lab in &labs {
        let line = doc.front.lines().position(|l| l.trim_start().starts_with("labs")).map_or(doc.front_line, |i| doc.front_line + i);
        problems.push(path, line, format!("lab folder labs/{} is missing from `labs` (list every lab, in teaching order)", lab.id));
    }
    ordered.extend(labs);
    ordered
}

/// Ids unique across the course, and every quiz a slide or step names exists. A lab that
/// breaks either is left out.
fn check_references(course: &mut Course, problems: &mut Problems) {
    let mut labs: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut decks: BTreeMap<&str, &Path> = BTreeMap::new();
    for session in &mut course.sessions {
        let mut kept = Vec::with_capacity(session.labs.len());
        for lab in std::mem::take(&mut session.labs) {
            let mut lab_problems = Problems::default();
            if let Some(first) = labs.get(&lab.id) {
                lab_problems.push(&lab.source, 1, format!("lab id {:?} is already used by {}", lab.id, first.display()));
            }
            for step in &lab.steps {
                for id in &step.quiz {
                    if !course.questions.contains_key(id) {
                        lab_problems.push(&step.source, 1, format!("quiz question {id:?} does not exist"));
                    }
                }
            }
            if lab_problems.is_empty() {
                labs.insert(lab.id.clone(), lab.source.clone());
                kept.push(lab);
            } else {
                let folder = lab.source.parent().map(Path::to_path_buf).unwrap_or_default();
                course.left_out.push(LeftOut { id: lab.id, folder, problems: lab_problems });
            }
        }
        session.labs = kept;
    }
    for session in &course.sessions {
        for deck in &session.decks {
            if let Some(first) = decks.insert(&deck.id, &deck.source) {
                problems.push(&deck.source, 1, format!("deck id {:?} is already used by {}", deck.id, first.display()));
            }
            for slide in &deck.slides {
                for (key, id) in [("quiz", &slide.quiz), ("poll", &slide.poll)] {
                    if let Some(id) = id
                        && !course.questions.contains_key(id)
                    {
                        problems.push(&deck.source, slide.line, format!("{key} = {id:?}: there is no such quiz question"));
                    }
                }
            }
        }
    }
}

/// The id a lab folder gives its lab (for a lab left out, which has none).
fn lab_folder_id(dir: &Path) -> String {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if dir.join("index.json").exists() { killercoda::id_from_folder(&name) } else { name }
}

fn read(path: &Path, problems: &mut Problems) -> Option<String> {
    match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(err) => {
            problems.push(path, 0, format!("cannot read: {err}"));
            None
        }
    }
}

fn sorted_subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

fn sorted_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(suffix)))
        .collect();
    files.sort();
    files
}

/// An id from a file or folder name: `02-hostname.md` -> `hostname`.
fn id_from_name(name: &str) -> String {
    let stem = name.split('.').next().unwrap_or(name);
    let without_number = stem.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(['-', '_']);
    if without_number.is_empty() { stem.to_string() } else { without_number.to_string() }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests;
