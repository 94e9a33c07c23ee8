//! The real workshop content loads and has the shape the issue asks for; a Killercoda scenario
//! from the fixtures loads unchanged.

use std::path::PathBuf;

use labs::load::{LabFormat, load_course};
use labs::{QuestionKind, Tier};

fn workshop() -> labs::load::Course {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")).join("workshop");
    load_course(&root).unwrap_or_else(|problems| panic!("the workshop has problems:\n{problems}"))
}

#[test]
fn both_sessions_with_decks_quizzes_and_homework() {
    let course = workshop();
    let titles: Vec<&str> = course.sessions.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Bare metal to VMs", "From containers to Kubernetes"]);
    for session in &course.sessions {
        assert!(!session.decks.is_empty(), "{} has a deck", session.title);
        for deck in &session.decks {
            assert!(deck.slides.len() >= 20, "{} has the seed's slides", deck.title);
            let minutes: f32 = deck.slides.iter().filter_map(|s| s.minutes).sum();
            assert!((80.0..=95.0).contains(&minutes), "{}: {minutes} planned minutes", deck.title);
            assert!(deck.slides.iter().filter(|s| !s.notes_html.is_empty()).count() >= 8, "{} has speaker notes", deck.title);
        }
    }
    assert!(course.sessions[1].homework_html.as_ref().is_some_and(|h| h.contains("Homework")));
    // The stories and analogies are in the speaker notes.
    let notes: String = course.sessions.iter().flat_map(|s| &s.decks).flat_map(|d| &d.slides).map(|s| s.notes_html.as_str()).collect();
    for story in ["hotel", "traffic controller", "mystery", "apartments", "triage"] {
        assert!(notes.to_lowercase().contains(story), "notes tell the {story} story");
    }
}

#[test]
fn every_lab_the_workshop_needs() {
    let course = workshop();
    let expected: &[(&str, &[Tier])] = &[
        ("is-this-a-vm", &[Tier::Shell]),
        ("tcg-vs-kvm", &[Tier::Vm]),
        ("linux-is-the-hypervisor", &[Tier::Vm]),
        ("namespaces-from-scratch", &[Tier::Shell]),
        ("netns-veth", &[Tier::Shell]),
        ("cgroup-oom", &[Tier::Shell]),
        ("crictl-basics", &[Tier::Cluster]),
        ("kubectl-run", &[Tier::Cluster]),
    ];
    for (id, tiers) in expected {
        let (_, lab) = course.lab(id).unwrap_or_else(|| panic!("lab {id} exists"));
        assert_eq!(&lab.tiers, tiers, "{id}'s tiers");
        assert!(!lab.steps.is_empty(), "{id} has steps");
        for step in &lab.steps {
            assert!(!step.checks.is_empty(), "{id}/{} has a check", step.id);
            assert!(step.solution.is_some(), "{id}/{} has a solution", step.id);
            assert!(!step.hints.is_empty(), "{id}/{} has hints", step.id);
        }
    }
}

#[test]
fn every_quiz_question_has_a_right_answer() {
    let course = workshop();
    for expected in [
        "docker-hypervisor",
        "type-1-or-2",
        "containers-for-everything",
        "wsl2",
        "dockershim",
        "crio-or-containerd",
        "containers-less-secure",
        "pause-container",
        "k8s-bare-metal",
        "popek-goldberg",
        "x86-problem",
        "type-1-vs-2-traits",
    ] {
        assert!(course.questions.contains_key(expected), "question {expected}");
    }
    for q in course.questions.values() {
        let right = q.choices.iter().filter(|c| c.correct).count();
        assert!(right >= 1, "{} has a right answer", q.id);
        assert!(q.choices.iter().all(|c| !c.explanation_html.is_empty()), "{} explains every answer", q.id);
        if q.kind == QuestionKind::Single {
            assert_eq!(right, 1, "{}", q.id);
        }
    }
}

#[test]
fn a_killercoda_scenario_loads_unchanged() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/killercoda-course");
    let course = load_course(&root).unwrap_or_else(|p| panic!("{p}"));
    let (_, lab) = course.lab("hello-killercoda").unwrap();
    assert_eq!(lab.format, LabFormat::Killercoda);
    assert_eq!(lab.title, "Hello Killercoda");
    assert_eq!(lab.steps.len(), 2);
    assert!(lab.steps[0].checks[0].source.contains("test -f /root/scenario/hello.txt"), "verify became the check");
    assert!(lab.setup.as_ref().unwrap().source.contains("mkdir -p /root/scenario"), "the intro's background is the lab's setup");
    assert!(lab.steps[1].html.contains("data-run-command=\"echo hello &gt; /root/scenario/hello.txt\""), "{}", lab.steps[1].html);
    // Its Run blocks are its solution, so `stacklab labs test` can type them.
    assert_eq!(lab.steps[0].solution.as_ref().unwrap().source, "touch /root/scenario/hello.txt\n");
    assert!(course.warnings.is_empty(), "{}", course.warnings);
}

#[test]
fn the_netns_lab_has_a_german_copy() {
    let course = workshop();
    assert!(course.untranslated.is_empty(), "{}", course.untranslated);
    let view = course.lab_view_in("netns-veth", "de").expect("the netns lab");
    assert!(view.title.contains("Netzwerk-Namespace"), "{}", view.title);
    assert_eq!(view.steps.len(), 4);
    // Every check sentence of the original has its German one.
    for step in &view.steps {
        assert!(!step.reasons.is_empty(), "{} has translated check sentences", step.id);
    }
}
