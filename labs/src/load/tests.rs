//! Broken content trees, one mistake each, and the exact `file:line` messages they get.

use std::path::Path;

use super::*;

/// A course with one session, one lab of one step, one deck and one quiz, all valid; each test
/// overwrites one file with a mistake.
fn tree(overrides: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(&str, &str)> = vec![
        ("course.toml", "title = \"Course\"\nsessions = [\"s1\"]\n"),
        ("s1/session.md", "+++\ntitle = \"Session\"\n+++\nIntro.\n"),
        ("s1/intro.deck.md", "+++\ntitle = \"Deck\"\n+++\n# One\n---\n+++\nminutes = 2\nquiz = \"q1\"\n+++\n# Two\nNote:\nSay this.\n"),
        ("s1/basics.quiz.md", "+++\nid = \"q1\"\n+++\nWhat?\n\n- [ ] A\n  > No.\n- [x] B\n  > Yes.\n"),
        ("s1/labs/first/lab.md", "+++\ntitle = \"First\"\n+++\nIntro.\n"),
        (
            "s1/labs/first/01-make-file.md",
            "+++\ntitle = \"Make a file\"\npoints = 2\n+++\nDo it.\n\n```sh run\ntouch /tmp/x\n```\n\n```check\ntest -f /tmp/x || { echo \"No /tmp/x yet\"; exit 1; }\n```\n\n```solution\ntouch /tmp/x\n```\n",
        ),
    ];
    for (path, content) in files.iter().chain(overrides.iter()) {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }
    dir
}

/// The problems, as `relative/path:line: message` lines.
fn problems_of(dir: &Path) -> Vec<String> {
    match load_course(dir) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .iter()
            .map(|p| {
                let file = p.file.strip_prefix(dir).unwrap_or(&p.file).display().to_string();
                if p.line == 0 { format!("{file}: {}", p.message) } else { format!("{file}:{}: {}", p.line, p.message) }
            })
            .collect(),
    }
}

#[test]
fn the_valid_tree_loads() {
    let dir = tree(&[]);
    let course = load_course(dir.path()).unwrap();
    let lab = &course.sessions[0].labs[0];
    assert_eq!(lab.steps[0].id, "make-file");
    assert_eq!(lab.steps[0].checks[0].line, 11);
    assert_eq!(lab.steps[0].points, 2);
    let deck = &course.sessions[0].decks[0];
    assert_eq!(deck.slides.len(), 2);
    assert_eq!(deck.slides[1].minutes, Some(2.0));
    assert!(deck.slides[1].notes_html.contains("Say this."));
    assert!(!deck.slides[1].html.contains("Say this."));
    let q = &course.questions["q1"];
    assert_eq!(q.kind, crate::model::QuestionKind::Single);
    assert!(q.choices[1].correct && !q.choices[0].correct);
    assert!(q.choices[0].explanation_html.contains("No."));
    assert_eq!(q.score(&[1]).points, 1);
    assert_eq!(q.score(&[0]).points, 0);
    // The browser's view carries neither the answer nor the explanations.
    let view = serde_json::to_string(&q.view()).unwrap();
    assert!(!view.contains("Yes.") && !view.contains("correct"), "{view}");
}

#[test]
fn unknown_key() {
    let dir = tree(&[("s1/labs/first/lab.md", "+++\ntitle = \"First\"\ncolour = \"blue\"\n+++\n")]);
    assert_eq!(
        problems_of(dir.path()),
        vec!["s1/labs/first/lab.md:3: front matter: unknown field `colour`, expected one of `title`, `summary`, `tiers`, `editor`"]
    );
}

#[test]
fn editor_folders_are_full_paths() {
    let dir = tree(&[("s1/labs/first/lab.md", "+++\ntitle = \"First\"\neditor = [\"/root/app\", \"etc/nginx\"]\n+++\n")]);
    assert_eq!(problems_of(dir.path()), vec!["s1/labs/first/lab.md:3: editor folder \"etc/nginx\" is not a full path: start it with /"]);
    let dir = tree(&[("s1/labs/first/lab.md", "+++\ntitle = \"First\"\neditor = [\"/root/app\", \"/etc/nginx\"]\n+++\n")]);
    let course = load_course(dir.path()).unwrap();
    assert_eq!(course.lab_view("first").unwrap().editor_folders, ["/root/app", "/etc/nginx"]);
}

#[test]
fn unknown_tier() {
    let dir = tree(&[("s1/labs/first/lab.md", "+++\ntitle = \"First\"\ntiers = [\"shell\", \"mainframe\"]\n+++\n")]);
    let problems = problems_of(dir.path());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("s1/labs/first/lab.md:3: front matter: unknown variant `mainframe`"), "{problems:?}");
}

#[test]
fn missing_files() {
    let dir = tree(&[("course.toml", "title = \"Course\"\nsessions = [\"s1\", \"s2\"]\n")]);
    assert_eq!(problems_of(dir.path()), vec!["course.toml:2: session folder \"s2\" does not exist"]);
    std::fs::remove_file(dir.path().join("s1/session.md")).unwrap();
    let problems = problems_of(dir.path());
    assert!(problems[0].starts_with("s1/session.md: cannot read: No such file"), "{problems:?}");
}

#[test]
fn empty_check() {
    let dir = tree(&[(
        "s1/labs/first/01-make-file.md",
        "+++\ntitle = \"Make a file\"\n+++\n\n```check\n# nothing here yet\n```\n\n```solution\ntouch /tmp/x\n```\n",
    )]);
    assert_eq!(problems_of(dir.path()), vec!["s1/labs/first/01-make-file.md:5: this script is empty"]);
}

#[test]
fn step_without_check_or_solution() {
    let dir = tree(&[("s1/labs/first/01-make-file.md", "+++\ntitle = \"Make a file\"\n+++\nJust text.\n")]);
    assert_eq!(
        problems_of(dir.path()),
        vec![
            "s1/labs/first/01-make-file.md:1: this step has no check: add a ```check block that exits 0 once the step is done",
            "s1/labs/first/01-make-file.md:1: this step has no solution: add a ```solution block (CI runs it to test the checks)",
        ]
    );
}

#[test]
fn invalid_shell_is_reported_at_its_line() {
    let dir = tree(&[(
        "s1/labs/first/01-make-file.md",
        "+++\ntitle = \"Make a file\"\n+++\n\n```check\necho start\nif true; then\n  echo missing fi\n```\n\n```solution\ntouch /tmp/x\n```\n",
    )]);
    assert_eq!(problems_of(dir.path()), vec!["s1/labs/first/01-make-file.md:9: not valid shell: syntax error: unexpected end of file"]);
}

#[test]
fn quiz_without_correct_answer() {
    let dir = tree(&[("s1/basics.quiz.md", "+++\nid = \"q1\"\n+++\nWhat?\n\n- [ ] A\n- [ ] B\n")]);
    assert_eq!(problems_of(dir.path()), vec!["s1/basics.quiz.md:4: question \"q1\" has no correct answer: mark one with - [x]"]);
}

#[test]
fn duplicate_ids() {
    let dir = tree(&[("s1/more.quiz.md", "+++\nid = \"q1\"\n+++\nAgain?\n\n- [x] A\n- [ ] B\n")]);
    let problems = problems_of(dir.path());
    assert_eq!(
        problems,
        vec![
            "s1/more.quiz.md:4: question id \"q1\" is already used at {}:4"
                .replace("{}", &dir.path().join("s1/basics.quiz.md").display().to_string())
        ]
    );
}

#[test]
fn unknown_quiz_reference() {
    let dir = tree(&[("s1/intro.deck.md", "+++\ntitle = \"Deck\"\n+++\n+++\nquiz = \"nope\"\n+++\n# One\n")]);
    assert_eq!(problems_of(dir.path()), vec!["s1/intro.deck.md:7: quiz = \"nope\": there is no such quiz question"]);
    let dir = tree(&[("s1/intro.deck.md", "+++\ntitle = \"Deck\"\n+++\n+++\npoll = \"q9\"\n+++\n# One\n")]);
    assert_eq!(problems_of(dir.path()), vec!["s1/intro.deck.md:7: poll = \"q9\": there is no such quiz question"]);
    let dir = tree(&[("s1/intro.deck.md", "+++\ntitle = \"Deck\"\n+++\n+++\npoll = \"q1\"\n+++\n# One\n")]);
    assert!(problems_of(dir.path()).is_empty(), "q1 is the tree's question");
}

#[test]
fn unclosed_front_matter() {
    let dir = tree(&[("s1/labs/first/lab.md", "+++\ntitle = \"First\"\n")]);
    assert_eq!(problems_of(dir.path()), vec!["s1/labs/first/lab.md:1: front matter opened with `+++` is never closed by a `+++` line"]);
}

#[test]
fn killercoda_scenario_loads_and_verify_becomes_the_check() {
    let dir = tree(&[
        (
            "s1/labs/kc-basics/index.json",
            r#"{
  "title": "Killercoda basics",
  "description": "A scenario in Killercoda's format",
  "details": {
    "intro": { "text": "intro.md", "background": "setup.sh" },
    "steps": [
      { "title": "Create a file", "text": "step1/text.md", "verify": "step1/verify.sh" },
      { "title": "Change directory", "text": "step2/text.md", "verify": "step2/verify.sh", "background": "step2/background.sh" }
    ],
    "finish": { "text": "finish.md" }
  },
  "backend": { "imageid": "ubuntu" }
}"#,
        ),
        ("s1/labs/kc-basics/intro.md", "Welcome. Run `uname -a`{{exec}}.\n"),
        ("s1/labs/kc-basics/setup.sh", "mkdir -p /root/work\n"),
        ("s1/labs/kc-basics/step1/text.md", "Create it:\n\n```\ntouch /root/work/hello\n```{{exec}}\n"),
        ("s1/labs/kc-basics/step1/verify.sh", "test -f /root/work/hello\n"),
        ("s1/labs/kc-basics/step2/text.md", "Copy `cd /root/work`{{copy}}.\n"),
        ("s1/labs/kc-basics/step2/verify.sh", "#!/bin/bash\ntest -d /root/work\n"),
        ("s1/labs/kc-basics/step2/background.sh", "true\n"),
        ("s1/labs/kc-basics/finish.md", "Done!\n"),
    ]);
    let course = load_course(dir.path()).unwrap();
    let (_, lab) = course.lab("kc-basics").unwrap();
    assert_eq!(lab.format, LabFormat::Killercoda);
    assert_eq!(lab.steps.len(), 2);
    assert_eq!(lab.steps[0].checks[0].source, "test -f /root/work/hello\n");
    assert!(lab.setup.as_ref().unwrap().source.contains("mkdir -p /root/work"), "the intro's background is the lab's");
    assert!(lab.steps[0].html.contains("data-run-command=\"touch /root/work/hello\""));
    assert!(lab.intro_html.contains("data-run-command=\"uname -a\""));
    assert!(lab.steps[1].html.contains("copyable"));
    assert_eq!(lab.finish_html.trim(), "<p>Done!</p>");
    assert_eq!(lab.steps[0].solution.as_ref().unwrap().source, "touch /root/work/hello\n", "its Run blocks are its solution");
    assert!(!lab.steps[0].reveal_solution);
    assert!(lab.steps[1].solution.is_none(), "a copy block is no solution");
}

/// A scenario as Killercoda authors write them: a folder name with underscores, steps without
/// verify, foreground scripts, assets, fields and markers Stacklab has no counterpart for.
#[test]
fn killercoda_scenario_as_written_loads_with_warnings() {
    let dir = tree(&[
        (
            "s1/labs/01_Users_and_Groups/index.json",
            r#"{
  "title": "Users and groups",
  "description": "Who is who",
  "difficulty": "beginner",
  "time": "10",
  "details": {
    "intro": { "text": "intro.md", "foreground": "intro/foreground.sh", "background": "intro/background.sh" },
    "steps": [
      { "title": "Look around", "text": "step1/text.md", "foreground": "step1/foreground.sh" },
      { "title": "Add a user", "text": "step2/text.md", "verify": "step2/verify.sh", "code": "unused.sh" }
    ],
    "finish": { "text": "finish.md", "background": "finish/background.sh" },
    "assets": { "host01": [ { "file": "conf/*.yaml", "target": "~/conf", "chmod": "+w" } ] }
  },
  "backend": { "imageid": "ubuntu" },
  "interface": { "layout": "ide" }
}"#,
        ),
        ("s1/labs/01_Users_and_Groups/intro.md", "Welcome.\n"),
        ("s1/labs/01_Users_and_Groups/intro/foreground.sh", "clear\n"),
        ("s1/labs/01_Users_and_Groups/intro/background.sh", "groupadd staff\n"),
        (
            "s1/labs/01_Users_and_Groups/step1/text.md",
            "Who are you? `id`{{exec}}\n\nOpen [it]({{TRAFFIC_HOST1_80}}), not {{TRAFFIC_HOST2_80}}, and {{exec T2}}.\n",
        ),
        ("s1/labs/01_Users_and_Groups/step1/foreground.sh", "cd /tmp\n"),
        ("s1/labs/01_Users_and_Groups/step2/text.md", "Add one:\n\n```\nuseradd ada\n```{{exec interrupt}}\n\n{{nonsense}}\n"),
        ("s1/labs/01_Users_and_Groups/step2/verify.sh", "id ada\n"),
        ("s1/labs/01_Users_and_Groups/finish.md", "Done.\n"),
        ("s1/labs/01_Users_and_Groups/finish/background.sh", "true\n"),
        ("s1/labs/01_Users_and_Groups/assets/conf/app.yaml", "name: app\n"),
        ("s1/labs/01_Users_and_Groups/assets/conf/skip.json", "{}\n"),
    ]);
    let course = load_course(dir.path()).unwrap();
    let (_, lab) = course.lab("01-users-and-groups").expect("an id derived from the folder name");
    assert_eq!(lab.title, "Users and groups");
    assert_eq!(lab.summary, "Who is who (beginner · 10 minutes)");
    let (look, add) = (&lab.steps[0], &lab.steps[1]);
    assert!(look.is_manual() && look.points == 0, "no verify: the learner moves on, for no points");
    assert!(!add.is_manual() && add.points == 1);
    assert_eq!(lab.foreground.as_deref(), Some("clear\n"), "the intro's foreground is typed when the lab starts");
    assert_eq!(look.foreground.as_deref(), Some("cd /tmp\n"));
    assert_eq!(lab.finish_setup.as_ref().unwrap().source, "true\n", "the finish page's background runs once every step is done");
    let setup = &lab.setup.as_ref().unwrap().source;
    assert!(setup.contains("base64 -d > \"$HOME\"'/conf'/'app.yaml'") && setup.contains("chmod +w"), "{setup}");
    assert!(!setup.contains("skip.json"));
    assert!(setup.find("base64").unwrap() < setup.find("groupadd staff").unwrap(), "assets before the intro's background");
    assert_eq!(look.solution.as_ref().unwrap().source, "id\n");
    assert_eq!(add.solution.as_ref().unwrap().source, "useradd ada\n");
    assert!(add.html.contains("data-run-interrupt"), "{}", add.html);
    assert!(look.html.contains(r#"<a href="/preview/80/" class="preview-link""#), "{}", look.html);
    let warnings: Vec<String> = course
        .warnings
        .iter()
        .map(|p| format!("{}:{}: {}", p.file.strip_prefix(dir.path()).unwrap().display(), p.line, p.message))
        .collect();
    let lab_dir = "s1/labs/01_Users_and_Groups";
    assert_eq!(
        warnings,
        [
            format!("{lab_dir}/index.json:10: `details.steps[1].code` is not a Killercoda field Stacklab knows: ignored"),
            format!(
                "{lab_dir}/step1/text.md:3: step 1: {{{{TRAFFIC_HOST2_80}}}}: Stacklab gives the learner one host: only HOST1's ports have previews; left as text"
            ),
            format!(
                "{lab_dir}/step1/text.md:3: step 1: {{{{exec T2}}}}: Stacklab gives the learner one terminal on one host: the command runs there"
            ),
            format!("{lab_dir}/step2/text.md:7: step 2: {{{{nonsense}}}}: not a marker Stacklab knows: left as text"),
        ]
    );
}

/// One broken lab does not take the course down: the server serves the rest and says what was
/// left out; `labs check` (the strict load) still fails.
#[test]
fn a_broken_lab_is_left_out_and_the_rest_is_served() {
    let dir = tree(&[
        ("s1/labs/broken/lab.md", "+++\ntitle = \"Broken\"\nnope = 1\n+++\n"),
        ("s1/labs/kc/index.json", "{ \"title\": \"KC\", \"details\": { \"steps\": [ { \"text\": \"missing.md\" } ] } }"),
        ("s1/labs/disks/index.json", "{ \"title\": \"LVM\", \"details\": { \"steps\": [ { \"text\": \"s.md\" } ] } }"),
        ("s1/labs/disks/s.md", "Label the disk:\n\n```\nlsblk\nparted -s /dev/vdb mklabel gpt\n```{{exec}}\n"),
        ("s1/session.md", "+++\ntitle = \"Session\"\nlabs = [\"broken\", \"disks\", \"first\", \"kc\"]\n+++\nIntro.\n"),
    ]);
    let course = load_serving(dir.path()).unwrap();
    let ids: Vec<&str> = course.labs().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["first"]);
    let left: Vec<String> = course.left_out.iter().map(|l| l.folder.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["broken", "disks", "kc"]);
    // A scenario that needs a disk says so, where it uses it.
    let disk = course.left_out[1].problems.0[0].shown_from(dir.path());
    assert_eq!(
        disk,
        "s1/labs/disks/s.md:5: uses the block device /dev/vdb: Stacklab's sandboxes have no disk of their own, so this scenario cannot run here"
    );
    assert!(course.left_out[2].problems.iter().any(|p| p.message.contains("missing.md")), "{:?}", course.left_out[2].problems);
    assert!(load_course(dir.path()).is_err());
}

/// Wherever a scenario touches a disk (its finish page's scripts and a step's foreground too),
/// it is refused the same way, at that place.
#[test]
fn a_block_device_anywhere_in_a_scenario_is_found() {
    for (field, file) in [("foreground", "fg.sh"), ("finish", "finish.sh")] {
        let index = if field == "finish" {
            r#"{ "title": "D", "details": { "steps": [ { "text": "s.md" } ], "finish": { "text": "f.md", "background": "finish.sh" } } }"#
        } else {
            r#"{ "title": "D", "details": { "steps": [ { "text": "s.md", "foreground": "fg.sh" } ] } }"#
        };
        let script = format!("s1/labs/disks/{file}");
        let dir = tree(&[
            ("s1/labs/disks/index.json", index),
            ("s1/labs/disks/s.md", "Look around.\n"),
            ("s1/labs/disks/f.md", "Done.\n"),
            (script.as_str(), "set -e\nvgcreate data /dev/sdb\n"),
            ("s1/session.md", "+++\ntitle = \"Session\"\nlabs = [\"disks\", \"first\"]\n+++\nIntro.\n"),
        ]);
        let course = load_serving(dir.path()).unwrap();
        let problem = course.left_out.first().unwrap_or_else(|| panic!("{field}: not left out")).problems.0[0].shown_from(dir.path());
        assert!(problem.starts_with(&format!("s1/labs/disks/{file}:2: uses the block device /dev/sdb")), "{field}: {problem}");
    }
}

#[test]
fn killercoda_missing_file() {
    let dir = tree(&[(
        "s1/labs/kc/index.json",
        "{\n  \"title\": \"KC\",\n  \"details\": {\n    \"steps\": [ { \"title\": \"One\", \"text\": \"step1/text.md\", \"verify\": \"step1/verify.sh\" } ]\n  }\n}\n",
    )]);
    let problems = problems_of(dir.path());
    assert!(problems.iter().any(|p| p.starts_with("s1/labs/kc/index.json:4: step1/text.md: No such file")), "{problems:?}");
}

#[test]
fn labs_follow_the_order_session_md_gives() {
    let second = ("s1/labs/second/lab.md", "+++\ntitle = \"Second\"\n+++\nIntro.\n");
    let second_step = ("s1/labs/second/01-x.md", "+++\ntitle = \"X\"\n+++\nDo.\n\n```check\ntrue\n```\n\n```solution\ntrue\n```\n");
    let ordered = ("s1/session.md", "+++\ntitle = \"Session\"\nlabs = [\"second\", \"first\"]\n+++\nIntro.\n");
    let dir = tree(&[second, second_step, ordered]);
    let course = load_course(dir.path()).unwrap();
    let ids: Vec<&str> = course.sessions[0].labs.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["second", "first"]);
    // Without the list: folder name order.
    let dir = tree(&[second, second_step]);
    let ids: Vec<String> = load_course(dir.path()).unwrap().sessions[0].labs.iter().map(|l| l.id.clone()).collect();
    assert_eq!(ids, ["first", "second"]);
}

#[test]
fn a_lab_order_must_name_every_lab_once() {
    let second = ("s1/labs/second/lab.md", "+++\ntitle = \"Second\"\n+++\nIntro.\n");
    let second_step = ("s1/labs/second/01-x.md", "+++\ntitle = \"X\"\n+++\nDo.\n\n```check\ntrue\n```\n\n```solution\ntrue\n```\n");
    let missing = ("s1/session.md", "+++\ntitle = \"Session\"\nlabs = [\n  \"first\",\n  \"third\",\n  \"first\",\n]\n+++\nIntro.\n");
    let dir = tree(&[second, second_step, missing]);
    assert_eq!(
        problems_of(dir.path()),
        vec![
            "s1/session.md:5: `labs` lists \"third\", but there is no lab folder labs/third",
            "s1/session.md:4: lab \"first\" is listed twice in `labs`",
            "s1/session.md:3: lab folder labs/second is missing from `labs` (list every lab, in teaching order)",
        ]
    );
}

/// The valid tree's lab with a German copy: `lab.de.md` and its one step's copy, each file
/// replaceable by a test.
fn translated(overrides: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files = vec![
        ("s1/labs/first/lab.de.md", "+++\ntitle = \"Erstes\"\n+++\nEinleitung.\n"),
        (
            "s1/labs/first/01-make-file.de.md",
            "+++\ntitle = \"Eine Datei anlegen\"\n+++\nMachen Sie es.\n\n```sh run\ntouch /tmp/x\n```\n\n```check\ntest -f /tmp/x || { echo \"No /tmp/x yet\"; exit 1; }\n```\n\n```solution\ntouch /tmp/x\n```\n",
        ),
    ];
    files.extend_from_slice(overrides);
    tree(&files)
}

/// The translated copies' problems, as `relative/path:line: message` lines.
fn untranslated(dir: &Path) -> Vec<String> {
    let course = load_course(dir).unwrap_or_else(|p| panic!("{p}"));
    course.untranslated.iter().map(|p| p.shown_from(dir)).collect()
}

#[test]
fn a_translated_copy_is_served_with_the_originals_scripts() {
    let dir = translated(&[]);
    let course = load_course(dir.path()).unwrap();
    assert!(course.untranslated.is_empty(), "{}", course.untranslated);
    let lab = &course.sessions[0].labs[0];
    // The copy is not a step of its own.
    assert_eq!(lab.steps.len(), 1);
    let view = course.lab_view_in("first", "de").unwrap();
    assert_eq!(view.title, "Erstes");
    assert_eq!(view.steps[0].title, "Eine Datei anlegen");
    assert!(view.steps[0].html.contains("Machen Sie es."));
    assert_eq!(course.lab_view_in("first", "fr").unwrap().title, "First");
    assert_eq!(course.outline_in("de").sessions[0].labs[0].title, "Erstes");
}

#[test]
fn a_copy_that_changes_what_runs_is_reported_and_not_served() {
    let changed = "+++\ntitle = \"T\"\npoints = 5\n+++\n```check\ntest -f /tmp/y\n```\n\n```solution\ntouch /tmp/x\n```\n";
    let dir = translated(&[("s1/labs/first/01-make-file.de.md", changed)]);
    assert_eq!(
        untranslated(dir.path()),
        [
            "s1/labs/first/01-make-file.de.md:2: points differs from 01-make-file.md's: a translation keeps the original's",
            "s1/labs/first/01-make-file.de.md:5: check block 1 differs from 01-make-file.md's: apart from its pass/fail sentences, scripts are not translated",
        ]
    );
    let course = load_course(dir.path()).unwrap();
    assert_eq!(course.lab_view_in("first", "de").unwrap().title, "First", "the original is shown");
}

#[test]
fn a_copy_missing_a_step_or_with_a_stray_step_is_reported() {
    let dir = translated(&[("s1/labs/first/02-extra.de.md", "+++\ntitle = \"X\"\n+++\n")]);
    std::fs::remove_file(dir.path().join("s1/labs/first/01-make-file.de.md")).unwrap();
    assert_eq!(
        untranslated(dir.path()),
        [
            "s1/labs/first/01-make-file.de.md: step \"make-file\" has no \"de\" copy: add 01-make-file.de.md",
            "s1/labs/first/02-extra.de.md: no step of this lab is the original of 02-extra.de.md: name it after a step file (NN-name.de.md)",
        ]
    );
    let dir = tree(&[("s1/labs/first/01-make-file.fr.md", "+++\ntitle = \"X\"\n+++\n")]);
    assert_eq!(
        untranslated(dir.path()),
        ["s1/labs/first/01-make-file.fr.md: a \"fr\" copy of this lab needs lab.fr.md too (its title and introduction)"]
    );
}

#[test]
fn a_copys_check_sentences_and_hints_are_its_own() {
    let original = "+++\ntitle = \"Make a file\"\npoints = 2\nhints = [\"Use touch.\"]\n+++\n```check\ntest -f /tmp/x || fail \"No /tmp/x yet\"\npass \"There it is\"\n```\n\n```solution\ntouch /tmp/x\n```\n";
    let copy = "+++\ntitle = \"Eine Datei\"\nhints = [\"Mit touch.\"]\n+++\n```check\ntest -f /tmp/x || fail \"Noch kein /tmp/x\"\npass \"Da ist sie\"\n```\n\n```solution\ntouch /tmp/x\n```\n";
    let dir = translated(&[("s1/labs/first/01-make-file.md", original), ("s1/labs/first/01-make-file.de.md", copy)]);
    let course = load_course(dir.path()).unwrap();
    assert!(course.untranslated.is_empty(), "{}", course.untranslated);
    let (_, lab) = course.lab("first").unwrap();
    assert_eq!(lab.reason_in("make-file", "de", "No /tmp/x yet").as_deref(), Some("Noch kein /tmp/x"));
    assert_eq!(lab.hint_in("make-file", "de", &lab.steps[0].hints[0]).unwrap(), "<p>Mit touch.</p>\n");
    assert_eq!(course.lab_view_in("first", "de").unwrap().steps[0].reason("There it is".into()), "Da ist sie");
    // One hint too many is not a translation.
    let dir = translated(&[
        ("s1/labs/first/01-make-file.md", original),
        ("s1/labs/first/01-make-file.de.md", &copy.replace("[\"Mit touch.\"]", "[\"a\", \"b\"]")),
    ]);
    assert_eq!(
        untranslated(dir.path()),
        ["s1/labs/first/01-make-file.de.md:2: 2 hint(s), 01-make-file.md has 1: translate each hint, add none"]
    );
}
