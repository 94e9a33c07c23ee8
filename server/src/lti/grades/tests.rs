//! Lab scores from step states and quiz answers, without a store.

use std::path::PathBuf;

use labs::load::{Choice, LabFormat, Script};

use super::*;

fn step(id: &str, points: u32, quiz: &[&str]) -> labs::load::Step {
    let check = Script { source: "true".into(), file: PathBuf::from("lab.md"), line: 1 };
    labs::load::Step {
        id: id.into(),
        points,
        quiz: quiz.iter().map(|q| q.to_string()).collect(),
        ..labs::load::Step::checked_by(check, 10)
    }
}

fn lab() -> Lab {
    Lab {
        id: "netns".into(),
        title: "Network namespaces".into(),
        summary: String::new(),
        tiers: Vec::new(),
        intro_html: String::new(),
        finish_html: String::new(),
        steps: vec![step("create", 4, &[]), step("veth", 4, &["why-veth"])],
        setup: None,
        foreground: None,
        finish_setup: None,
        finish_foreground: None,
        editor_folders: Vec::new(),
        format: LabFormat::Stacklab,
        source: PathBuf::from("labs/netns"),
        translations: Default::default(),
    }
}

fn questions() -> BTreeMap<String, Question> {
    let choice = |correct| Choice { html: String::new(), correct, explanation_html: String::new() };
    let q = Question {
        id: "why-veth".into(),
        prompt_html: String::new(),
        kind: labs::QuestionKind::Single,
        choices: vec![choice(true), choice(false)],
        points: 2,
        file: PathBuf::from("q.md"),
        line: 1,
    };
    BTreeMap::from([(q.id.clone(), q)])
}

fn done(step: &str) -> StepState {
    StepState {
        lab_id: "netns".into(),
        step_id: step.into(),
        done: true,
        started_at: 0,
        done_at: Some(1),
        attempts: 1,
        failures: 0,
        same_failures: 0,
        last_check_at: Some(1),
        last_passed: Some(true),
        last_reason: None,
        hints_revealed: 0,
        solution_shown: false,
    }
}

fn answer(points: i64) -> QuizAnswer {
    QuizAnswer { question_id: "why-veth".into(), choices: vec![0], latest: None, correct: points > 0, points, attempts: 1 }
}

#[test]
fn a_lab_scores_its_done_steps_and_its_first_answers_out_of_all_its_points() {
    let (lab, questions) = (lab(), questions());
    let nothing = lab_score(&lab, &questions, &[], &[]);
    assert_eq!((nothing.earned, nothing.possible, nothing.activity), (0, 10, "Initialized"));
    let one = lab_score(&lab, &questions, &[done("create")], &[]);
    assert_eq!((one.earned, one.activity, one.grading), (4, "InProgress", "FullyGraded"));
    let both_steps = lab_score(&lab, &questions, &[done("create"), done("veth")], &[]);
    assert_eq!((both_steps.earned, both_steps.activity), (8, "InProgress"), "the question is still unanswered");
    let all = lab_score(&lab, &questions, &[done("create"), done("veth")], &[answer(2)]);
    assert_eq!((all.earned, all.possible, all.activity), (10, 10, "Completed"));
    let wrong = lab_score(&lab, &questions, &[done("create"), done("veth")], &[answer(0)]);
    assert_eq!((wrong.earned, wrong.activity), (8, "Completed"), "a wrong first answer is done, with no points");
}

#[test]
fn states_of_other_labs_do_not_count() {
    let mut other = done("create");
    other.lab_id = "cgroups".into();
    assert_eq!(lab_score(&lab(), &questions(), &[other], &[]).earned, 0);
}

#[test]
fn retries_wait_longer_each_time_up_to_five_minutes() {
    let waits: Vec<u64> = (0..8).map(|n| backoff(n).as_secs()).collect();
    assert_eq!(waits, vec![5, 10, 20, 40, 80, 160, 300, 300]);
    assert_eq!(backoff(1000).as_secs(), 300);
}
