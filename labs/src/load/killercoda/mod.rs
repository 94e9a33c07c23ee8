//! Killercoda scenarios as their authors wrote them: a folder with `index.json` (intro, steps
//! with `text`, `background`, `foreground`, `verify`, finish, assets) and Markdown using
//! `{{exec}}`/`{{copy}}`.
//!
//! What each part becomes:
//! - a step's `verify` is its check; a step without one is done when the learner says so
//!   ("Next"), for no points, as on Killercoda;
//! - `background` is the step's setup, run as root in the sandbox when the learner reaches it;
//!   the assets and the intro's are the lab's, run before whichever step comes first;
//! - `foreground` is typed into the learner's terminal when they reach the step; the intro's
//!   when they start the lab;
//! - the finish page's `background` runs, and its `foreground` is typed, once every step is done;
//! - the commands the text offers to run (`{{exec}}`) are the step's solution, so
//!   `stacklab labs test` can type them and expect the verify to pass.
//!
//! Every field and marker Killercoda documents is either used or reported as a warning with
//! its `file:line`; nothing is dropped silently.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::course::{Lab, Script, Step};
use super::lab::{DEFAULT_TIMEOUT, check_shell};
use super::problem::{Problems, line_of};
use super::{LabFormat, markdown, read};
use crate::model::Tier;

mod assets;

#[derive(Deserialize)]
struct Index {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    difficulty: Option<String>,
    #[serde(default)]
    time: Option<String>,
    details: Details,
    #[serde(default)]
    backend: Option<Backend>,
    #[serde(default)]
    interface: Option<Interface>,
}

#[derive(Deserialize)]
struct Details {
    #[serde(default)]
    intro: Option<Page>,
    #[serde(default)]
    steps: Vec<Page>,
    #[serde(default)]
    finish: Option<Page>,
    #[serde(default)]
    assets: Option<assets::Assets>,
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
    foreground: Option<String>,
    #[serde(default)]
    verify: Option<String>,
}

#[derive(Deserialize)]
struct Backend {
    #[serde(default)]
    imageid: Option<String>,
}

#[derive(Deserialize)]
struct Interface {
    #[serde(default)]
    layout: Option<String>,
}

/// The fields of `index.json` Killercoda documents (its scenario-examples), for warnings about
/// the rest.
enum Shape {
    Any,
    Object(&'static [(&'static str, Shape)]),
    List(&'static Shape),
}

const PAGE: Shape = Shape::Object(&[
    ("title", Shape::Any),
    ("text", Shape::Any),
    ("background", Shape::Any),
    ("foreground", Shape::Any),
    ("verify", Shape::Any),
]);
const ASSET: Shape = Shape::Object(&[("file", Shape::Any), ("target", Shape::Any), ("chmod", Shape::Any)]);
const INDEX: Shape = Shape::Object(&[
    ("title", Shape::Any),
    ("description", Shape::Any),
    ("difficulty", Shape::Any),
    ("time", Shape::Any),
    (
        "details",
        Shape::Object(&[
            ("intro", PAGE),
            ("steps", Shape::List(&PAGE)),
            ("finish", PAGE),
            ("assets", Shape::Object(&[("host01", Shape::List(&ASSET))])),
        ]),
    ),
    ("backend", Shape::Object(&[("imageid", Shape::Any)])),
    ("interface", Shape::Object(&[("layout", Shape::Any)])),
]);

/// The images Killercoda's `ubuntu` stands for here: a shell in the lab image.
const SHELL_IMAGES: [&str; 3] = ["ubuntu", "ubuntu-4GB", "debian"];

/// Loads the scenario in `dir`; `problems` keep the lab out, `warnings` do not.
pub fn load(dir: &Path, problems: &mut Problems, warnings: &mut Problems) -> Option<Lab> {
    let index_path = dir.join("index.json");
    let index_text = read(&index_path, problems)?;
    let index: Index = match serde_json::from_str(&index_text) {
        Ok(index) => index,
        Err(e) => {
            problems.push(&index_path, e.line(), format!("not a Killercoda index.json: {e}"));
            return None;
        }
    };
    let value: Value = serde_json::from_str(&index_text).ok()?;
    let field_line = |name: &str| line_of_text(&index_text, &format!("\"{name}\""));
    unknown_fields(&value, &INDEX, "", &mut |name: &str, path: String| {
        warnings.push(&index_path, field_line(name), format!("`{path}` is not a Killercoda field Stacklab knows: ignored"))
    });
    let id = id_from_folder(&dir.file_name()?.to_string_lossy());

    let scenario = Scenario { dir, index_path: &index_path, index_text: &index_text };
    let mut tiers = scenario.tiers(&index, warnings);
    // Stacklab's terminal pane always has an editor tab beside the terminals: the IDE layouts
    // are that.
    if let Some(layout) =
        index.interface.as_ref().and_then(|i| i.layout.as_deref()).filter(|l| !["terminal", "ide", "vscode", "editor"].contains(l))
    {
        warnings.push(
            &index_path,
            field_line("layout"),
            format!("`interface.layout` {layout:?}: Stacklab shows the text beside its terminals and editor"),
        );
    }
    let assets = match &index.details.assets {
        Some(a) => assets::script(a, dir, &index_path, field_line("assets"), problems),
        None => None,
    };

    let intro = index.details.intro.unwrap_or_default();
    let intro_text = scenario.page_text(&intro.text, "intro", problems, warnings);
    let intro_background = scenario.script(&intro.background, problems);
    let intro_foreground = scenario.script(&intro.foreground, problems);
    let finish = index.details.finish.unwrap_or_default();
    let finish_text = scenario.page_text(&finish.text, "finish", problems, warnings);
    let finish_background = scenario.script(&finish.background, problems);
    let finish_foreground = scenario.script(&finish.foreground, problems);

    let mut steps = Vec::new();
    // Every Run command of every page, with its file and line; and the steps' foregrounds.
    let mut runs: Vec<(PathBuf, usize, String)> = Vec::new();
    let mut add_runs = |text: &PageText| {
        if let Some(file) = &text.file {
            runs.extend(text.runs.iter().map(|(command, line)| (file.clone(), *line, command.clone())));
        }
    };
    add_runs(&intro_text);
    add_runs(&finish_text);
    let mut foregrounds: Vec<Script> = Vec::new();
    for (i, page) in index.details.steps.iter().enumerate() {
        let text = scenario.page_text(&page.text, &format!("step {}", i + 1), problems, warnings);
        add_runs(&text);
        let setup = scenario.script(&page.background, problems);
        let foreground = scenario.script(&page.foreground, problems).map(|s| {
            foregrounds.push(s.clone());
            s.source
        });
        let checks: Vec<Script> = scenario.script(&page.verify, problems).into_iter().collect();
        let solution = (!text.runs.is_empty()).then(|| Script {
            source: text.runs.iter().map(|(command, _)| format!("{command}\n")).collect(),
            file: text.file.clone().unwrap_or_else(|| index_path.clone()),
            line: text.runs[0].1,
        });
        steps.push(Step {
            id: format!("step{}", i + 1),
            title: if page.title.is_empty() { format!("Step {}", i + 1) } else { page.title.clone() },
            html: text.html,
            // A step without verify has a "Next" button on Killercoda: no points to win.
            points: u32::from(!checks.is_empty()),
            hints: Vec::new(),
            setup,
            checks,
            hint_checks: Vec::new(),
            solution,
            // The solution is the step's own Run buttons: nothing to reveal.
            reveal_solution: false,
            foreground,
            timeout: DEFAULT_TIMEOUT,
            quiz: Vec::new(),
            source: index_path.clone(),
        });
    }
    if steps.is_empty() {
        problems.push(&index_path, field_line("details"), "this scenario has no steps");
    }
    // Scripts from files start at their line 1; each Run command at its own line.
    let files = [&intro_background, &intro_foreground, &finish_background, &finish_foreground]
        .into_iter()
        .flatten()
        .chain(&foregrounds)
        .chain(steps.iter().flat_map(|s| s.setup.iter().chain(&s.checks)));
    let mut places: Vec<(&Path, usize, &str)> = files.map(|s| (s.file.as_path(), s.line, s.source.as_str())).collect();
    places.extend(runs.iter().map(|(file, line, command)| (file.as_path(), *line, command.as_str())));
    if let Some((file, line, device)) =
        places.iter().find_map(|(file, first, text)| block_device(text).map(|(at, d)| (file, first + at - 1, d)))
    {
        problems.push(
            file,
            line,
            format!("uses the block device {device}: Stacklab's sandboxes have no disk of their own, so this scenario cannot run here"),
        );
    }
    // Killercoda's hosts run systemd: a scenario that drives services gets it as its init.
    if places.iter().any(|(_, _, text)| uses_systemd(text)) {
        tiers.push(Tier::Systemd);
    }
    let about: Vec<String> = [index.difficulty, index.time.map(|t| format!("{t} minutes").replace("minutes minutes", "minutes"))]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let summary = match (index.description.trim(), about.is_empty()) {
        (d, true) => d.to_string(),
        ("", false) => about.join(" · "),
        (d, false) => format!("{d} ({})", about.join(" · ")),
    };
    Some(Lab {
        id,
        title: index.title,
        summary,
        tiers,
        intro_html: intro_text.html,
        finish_html: finish_text.html,
        steps,
        // Whichever step the learner opens first, the assets and the intro's background are
        // there (Killercoda runs them when the scenario starts).
        setup: concat([assets, intro_background]),
        foreground: intro_foreground.map(|s| s.source),
        finish_setup: finish_background,
        finish_foreground: finish_foreground.map(|s| s.source),
        editor_folders: Vec::new(),
        translations: Default::default(),
        format: LabFormat::Killercoda,
        source: index_path,
    })
}

/// A page's text as HTML, with the commands it offers to run and the file it came from.
#[derive(Default)]
struct PageText {
    html: String,
    runs: Vec<(String, usize)>,
    file: Option<PathBuf>,
}

/// The scenario being read, for resolving and reading the files `index.json` names.
struct Scenario<'a> {
    dir: &'a Path,
    index_path: &'a Path,
    index_text: &'a str,
}

impl Scenario<'_> {
    /// Where `index.json` names a file: for messages about that file.
    fn line_of_name(&self, name: &str) -> usize {
        line_of_text(self.index_text, &format!("\"{name}\""))
    }

    /// The file `name` (relative to the scenario folder), read.
    fn file(&self, name: &Option<String>, problems: &mut Problems) -> Option<(String, PathBuf)> {
        let name = name.as_ref()?;
        let path = self.dir.join(name);
        if Path::new(name).is_absolute() || name.split(['/', '\\']).any(|part| part == "..") {
            problems.push(self.index_path, self.line_of_name(name), format!("{name:?} is outside the scenario folder"));
            return None;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => Some((text, path)),
            Err(e) => {
                problems.push(self.index_path, self.line_of_name(name), format!("{name}: {e}"));
                None
            }
        }
    }

    fn script(&self, name: &Option<String>, problems: &mut Problems) -> Option<Script> {
        let (source, file) = self.file(name, problems)?;
        check_shell(&file, 0, &source, problems);
        Some(Script { source, file, line: 1 })
    }

    /// A page's Markdown rendered, its markers with no counterpart here reported.
    fn page_text(&self, name: &Option<String>, page: &str, problems: &mut Problems, warnings: &mut Problems) -> PageText {
        let Some((text, file)) = self.file(name, problems) else { return PageText::default() };
        unsupported_markers(&text, &file, page, warnings);
        let rendered = markdown::render(&text, 1, true);
        PageText { html: rendered.html, runs: rendered.runs, file: Some(file) }
    }

    /// The tiers `backend.imageid` asks for.
    fn tiers(&self, index: &Index, warnings: &mut Problems) -> Vec<Tier> {
        let Some(image) = index.backend.as_ref().and_then(|b| b.imageid.as_deref()) else { return vec![Tier::Shell] };
        let line = self.line_of_name("imageid");
        if SHELL_IMAGES.contains(&image) {
            return vec![Tier::Shell];
        }
        if image.starts_with("kubernetes") {
            if image.contains("2node") {
                warnings.push(
                    self.index_path,
                    line,
                    format!("backend {image:?}: the learner's cluster has one node (Stacklab's cluster tier)"),
                );
            }
            return vec![Tier::Cluster];
        }
        warnings.push(
            self.index_path,
            line,
            format!("backend {image:?} is not one Stacklab knows: the scenario runs in the lab image's shell"),
        );
        vec![Tier::Shell]
    }
}

/// Joins scripts in order (the first's place names the whole).
fn concat<const N: usize>(scripts: [Option<Script>; N]) -> Option<Script> {
    let present: Vec<Script> = scripts.into_iter().flatten().collect();
    let first = present.first()?.clone();
    Some(Script { source: present.iter().map(|s| format!("{}\n", s.source.trim_end_matches('\n'))).collect(), ..first })
}

/// Warns about each `{{...}}` in `text` that is not an action Stacklab performs.
fn unsupported_markers(text: &str, file: &Path, page: &str, warnings: &mut Problems) {
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        let inside = &rest[start + 2..start + len];
        let line = line_of(text, offset + start);
        let why = match markdown::marker(inside) {
            Some(_) if inside.split_whitespace().any(|w| markdown::is_place(w) && !matches!(w, "T1" | "HOST1")) => {
                Some("Stacklab gives the learner one terminal on one host: the command runs there")
            }
            Some(_) => None,
            None if markdown::traffic_link(inside).is_some() => None,
            None if inside.starts_with("TRAFFIC_") => {
                Some("Stacklab gives the learner one host: only HOST1's ports have previews; left as text")
            }
            None => Some("not a marker Stacklab knows: left as text"),
        };
        if let Some(why) = why {
            warnings.push(file, line, format!("{page}: {{{{{inside}}}}}: {why}"));
        }
        offset += start + len + 2;
        rest = &text[offset..];
    }
}

/// Calls `warn` with each key of `value` that `shape` does not have (and its dotted path).
fn unknown_fields(value: &Value, shape: &Shape, path: &str, warn: &mut dyn FnMut(&str, String)) {
    match (shape, value) {
        (Shape::Object(fields), Value::Object(map)) => {
            for (key, inner) in map {
                let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match fields.iter().find(|(name, _)| name == key) {
                    Some((_, shape)) => unknown_fields(inner, shape, &here, warn),
                    None => warn(key, here),
                }
            }
        }
        (Shape::List(shape), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                unknown_fields(item, shape, &format!("{path}[{i}]"), warn);
            }
        }
        _ => {}
    }
}

/// The first disk device a script names (`/dev/vdb`, `/dev/sdb1`, `/dev/nvme0n1`), with its line.
fn block_device(script: &str) -> Option<(usize, String)> {
    for (i, line) in script.lines().enumerate() {
        for (at, _) in line.match_indices("/dev/") {
            let name: String = line[at + 5..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            let disk = ["vd", "sd", "xvd", "hd"]
                .iter()
                .any(|p| name.strip_prefix(p).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_lowercase())))
                || name.starts_with("nvme");
            if disk {
                return Some((i + 1, format!("/dev/{name}")));
            }
        }
    }
    None
}

/// Whether a script runs `systemctl` or `journalctl` (as a command word, not inside another).
fn uses_systemd(script: &str) -> bool {
    script.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '/')).any(|word| {
        let command = word.rsplit('/').next().unwrap_or(word);
        command == "systemctl" || command == "journalctl"
    })
}

fn line_of_text(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(1, |at| line_of(text, at))
}

/// A lab id from any folder name: `01_users_and_groups` -> `01-users-and-groups`.
pub fn id_from_folder(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let mut id: String = id.trim_end_matches('-').chars().take(64).collect();
    id.truncate(id.trim_end_matches('-').len());
    if id.is_empty() { "scenario".to_string() } else { id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_any_folder_name() {
        assert_eq!(id_from_folder("01_users_and_groups"), "01-users-and-groups");
        assert_eq!(id_from_folder("My Scenario (v2)"), "my-scenario-v2");
        assert_eq!(id_from_folder("__"), "scenario");
        assert_eq!(id_from_folder(&"a_".repeat(40)).len(), 63);
    }

    #[test]
    fn disks_are_found_in_scripts() {
        assert_eq!(block_device("lsblk\nparted -s /dev/vdb mklabel gpt\n"), Some((2, "/dev/vdb".into())));
        assert_eq!(block_device("pvcreate /dev/sdb1"), Some((1, "/dev/sdb1".into())));
        assert_eq!(block_device("ls /dev/nvme0n1"), Some((1, "/dev/nvme0n1".into())));
        assert_eq!(block_device("echo hi > /dev/null; cat /dev/shm/x; ls /dev/sda-not"), Some((1, "/dev/sda".into())));
        assert_eq!(block_device("echo > /dev/null && ls /dev/stdin /dev/vhost-net /dev/serial"), None);
    }

    #[test]
    fn services_are_found_in_scripts() {
        assert!(uses_systemd("apt install -y nginx\nsystemctl status nginx"));
        assert!(uses_systemd("/usr/bin/journalctl -u nginx | grep -q Started"));
        assert!(uses_systemd("sudo systemctl restart ssh"));
        assert!(!uses_systemd("cat /etc/systemd/system.conf; echo my-systemctl-notes"));
    }
}
