//! `stacklab labs check` on the real content and on a broken tree. Paths are relative to the
//! package (cargo runs tests from there), not baked in at compile time: a target directory shared
//! by two checkouts would point at the other one.

use std::process::Command;

#[test]
fn the_workshop_passes() {
    let out = Command::new(env!("CARGO_BIN_EXE_stacklab")).args(["labs", "check", "../labs/workshop"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok — 2 sessions"), "{stdout}");
}

#[test]
fn the_labs_folder_checks_the_courses_in_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_stacklab")).args(["labs", "check", "../labs/"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("labs/workshop: ok"));
}

/// A course of one session with lab `l`, whose files are `lab` (name, text) pairs.
fn course(lab: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("course.toml"), "title = \"C\"\nsessions = [\"s\"]\n").unwrap();
    std::fs::create_dir_all(root.join("s/labs/l")).unwrap();
    std::fs::write(root.join("s/session.md"), "+++\ntitle = \"S\"\n+++\n").unwrap();
    for (name, text) in lab {
        std::fs::write(root.join("s/labs/l").join(name), text).unwrap();
    }
    dir
}

#[test]
fn a_broken_tree_fails_with_file_and_line() {
    let dir = course(&[("lab.md", "+++\ntitle = \"L\"\nfoo = 1\n+++\n")]);
    let root = dir.path();
    let out = Command::new(env!("CARGO_BIN_EXE_stacklab")).args(["labs", "check"]).arg(root).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = root.join("s/labs/l/lab.md");
    assert!(stderr.contains(&format!("{}:3: front matter: unknown field `foo`", file.display())), "{stderr}");
    assert!(stderr.contains("1 problem(s)"), "{stderr}");
}

#[test]
fn a_translation_that_changes_a_check_fails_the_check() {
    let step = "+++\ntitle = \"S\"\n+++\n```check\ntest -f /tmp/x || fail \"No file\"\n```\n\n```solution\ntouch /tmp/x\n```\n";
    let changed = step.replace("test -f", "test -d").replace("No file", "Keine Datei");
    let dir = course(&[
        ("lab.md", "+++\ntitle = \"L\"\n+++\n"),
        ("lab.de.md", "+++\ntitle = \"L auf Deutsch\"\n+++\n"),
        ("01-one.md", step),
        ("01-one.de.md", &changed),
    ]);
    let root = dir.path();
    let out = Command::new(env!("CARGO_BIN_EXE_stacklab")).args(["labs", "check"]).arg(root).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = root.join("s/labs/l/01-one.de.md");
    assert!(stderr.contains(&format!("{}:4: check block 1 differs from 01-one.md's", file.display())), "{stderr}");
    assert!(stderr.contains("1 problem(s) in translated copies of labs"), "{stderr}");
    // Only the sentence translated: it passes.
    std::fs::write(root.join("s/labs/l/01-one.de.md"), step.replace("No file", "Keine Datei")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stacklab")).args(["labs", "check"]).arg(root).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
