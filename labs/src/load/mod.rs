//! Reading a content tree from disk into a [`Course`], collecting every [`Problem`] with its
//! `file:line`.

mod front_matter;
mod problem;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::{CourseOutline, LabSummary, SessionOutline, Tier};
pub use problem::{Problem, Problems};

/// A whole course as the server holds it (with everything the browser must not see).
#[derive(Clone, Debug)]
pub struct Course {
    pub root: PathBuf,
    pub title: String,
    pub summary: String,
    pub sessions: Vec<Session>,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub labs: Vec<Lab>,
}

#[derive(Clone, Debug)]
pub struct Lab {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub tiers: Vec<Tier>,
    pub source: PathBuf,
}

impl Course {
    /// The lab `id` as its page shows it.
    pub fn lab_view(&self, id: &str) -> Option<crate::model::LabView> {
        self.sessions.iter().find_map(|s| {
            s.labs.iter().find(|l| l.id == id).map(|l| crate::model::LabView {
                id: l.id.clone(),
                title: l.title.clone(),
                summary: l.summary.clone(),
                session_title: s.title.clone(),
                tiers: l.tiers.clone(),
                intro_html: String::new(),
                steps: Vec::new(),
            })
        })
    }

    /// The public outline the home page lists.
    pub fn outline(&self) -> CourseOutline {
        CourseOutline {
            title: self.title.clone(),
            summary: self.summary.clone(),
            sessions: self
                .sessions
                .iter()
                .map(|s| SessionOutline {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    summary: s.summary.clone(),
                    labs: s
                        .labs
                        .iter()
                        .map(|l| LabSummary {
                            id: l.id.clone(),
                            title: l.title.clone(),
                            summary: l.summary.clone(),
                            tiers: l.tiers.clone(),
                            steps: 0,
                            points: 0,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabFront {
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default = "default_tiers")]
    tiers: Vec<Tier>,
}

fn default_tiers() -> Vec<Tier> {
    vec![Tier::Shell]
}

/// Loads the course rooted at `root` (the folder holding `course.toml`).
pub fn load_course(root: &Path) -> Result<Course, Problems> {
    let mut problems = Problems::default();
    let course_path = root.join("course.toml");
    let Some(text) = read(&course_path, &mut problems) else { return Err(problems) };
    let doc = front_matter::Document { front: &text, front_line: 1, body: "", body_line: 1 };
    let Some(course) = front_matter::parse::<CourseFile>(&doc, &course_path, &mut problems) else {
        return Err(problems);
    };
    let mut sessions = Vec::new();
    for id in &course.sessions {
        let dir = root.join(id);
        if let Some(session) = load_session(id, &dir, &mut problems) {
            sessions.push(session);
        }
    }
    if problems.is_empty() {
        Ok(Course { root: root.to_path_buf(), title: course.title, summary: course.summary, sessions })
    } else {
        Err(problems)
    }
}

fn load_session(id: &str, dir: &Path, problems: &mut Problems) -> Option<Session> {
    let path = dir.join("session.md");
    let text = read(&path, problems)?;
    let doc = front_matter::split(&text, 1, &path, problems);
    let front = front_matter::parse::<SessionFront>(&doc, &path, problems)?;
    let mut labs = Vec::new();
    for lab_dir in sorted_subdirs(&dir.join("labs")) {
        if let Some(lab) = load_lab(&lab_dir, problems) {
            labs.push(lab);
        }
    }
    Some(Session { id: id.to_string(), title: front.title, summary: front.summary, labs })
}

fn load_lab(dir: &Path, problems: &mut Problems) -> Option<Lab> {
    let path = dir.join("lab.md");
    let text = read(&path, problems)?;
    let doc = front_matter::split(&text, 1, &path, problems);
    let front = front_matter::parse::<LabFront>(&doc, &path, problems)?;
    let id = dir.file_name()?.to_string_lossy().into_owned();
    Some(Lab { id, title: front.title, summary: front.summary, tiers: front.tiers, source: path })
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
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}
