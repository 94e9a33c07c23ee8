//! `stacklab labs check|test`.

use crate::cli::LabsCommand;

pub fn run(command: LabsCommand) -> anyhow::Result<std::process::ExitCode> {
    match command {
        LabsCommand::Check { dir } => Ok(check(&dir)),
    }
}

fn check(dir: &std::path::Path) -> std::process::ExitCode {
    match labs::load::load_course(dir) {
        Ok(course) => {
            let labs: Vec<_> = course.labs().collect();
            let steps: usize = labs.iter().map(|l| l.steps.len()).sum();
            let decks: Vec<_> = course.sessions.iter().flat_map(|s| s.decks.iter()).collect();
            let slides: usize = decks.iter().map(|d| d.slides.len()).sum();
            println!(
                "{}: ok — {} sessions, {} labs ({} steps), {} decks ({} slides), {} quiz questions",
                dir.display(),
                course.sessions.len(),
                labs.len(),
                steps,
                decks.len(),
                slides,
                course.questions.len()
            );
            std::process::ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in problems.iter() {
                eprintln!("{problem}");
            }
            eprintln!("{} problem(s) in {}", problems.len(), dir.display());
            std::process::ExitCode::FAILURE
        }
    }
}
