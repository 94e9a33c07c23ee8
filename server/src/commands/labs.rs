//! `stacklab labs check|test`.

use crate::cli::LabsCommand;

pub fn run(command: LabsCommand) -> anyhow::Result<std::process::ExitCode> {
    match command {
        LabsCommand::Check { dir } => Ok(check(&dir)),
        LabsCommand::Test { labs, dir, image } => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(test(labs, &dir, &image))
        }
    }
}

/// `stacklab labs test`: a throwaway native backend (own data dir, cgroup root and uid range).
async fn test(only: Vec<String>, dir: &std::path::Path, image: &std::path::Path) -> anyhow::Result<std::process::ExitCode> {
    // Labs with problems are left out (and reported as broken below); the rest are tested.
    let course = labs::load::load_serving(dir).map_err(|p| anyhow::anyhow!("the content has problems:\n{p}"))?;
    for lab in &only {
        anyhow::ensure!(course.lab(lab).is_some() || course.left_out.iter().any(|l| &l.id == lab), "there is no lab {lab:?}");
    }
    let data = tempfile::Builder::new().prefix("stacklab-selftest-").tempdir()?;
    let kvm = crate::vm::KvmFact::prepare(data.path())?;
    let config = sandbox::native::NativeConfig {
        data_dir: data.path().to_path_buf(),
        image: image.to_path_buf(),
        helper: vec!["/proc/self/exe".into(), "sandbox-helper".into()],
        uid_base: 1_400_000_000,
        cgroup_root: format!("stacklab-selftest-{}", std::process::id()),
        cgroup_parent: String::new(),
        outbound: None,
        shared_files: [
            vec![kvm.shared_file()],
            crate::cluster::shared_files(),
            crate::time_scale::time_scale_file(data.path())?.into_iter().collect(),
        ]
        .concat(),
        start_limits: Default::default(),
    };
    let backend = std::sync::Arc::new(tokio::task::spawn_blocking(move || sandbox::native::NativeBackend::open(config)).await??);
    // As the server does at start: the vm labs need to know whether KVM really works.
    println!("probing KVM (a probe VM boots with a time limit)...");
    crate::vm::probe_into(&*backend, &kvm).await;
    println!("kvm: {}", kvm.read());
    let tiers = crate::tiers::detect(image);
    let limits = sandbox::Limits { memory_bytes: 1 << 30, cpu_millis: 2000, pids: 512, disk_bytes: 512 << 20 };
    let reports = crate::checks::selftest::run(&course, backend.clone(), &tiers, &limits, &only, |line| println!("{line}")).await;
    backend.shutdown_all_blocking();
    println!();
    let summary = Summary::of(&reports, &course.left_out, &course.root, &only);
    for line in &summary.lines {
        println!("{line}");
    }
    println!("{}", summary.totals());
    Ok(if summary.ok() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
}

/// What `labs test` found, in words, and whether that is a success: nothing failed or broke, and
/// every lab asked for by name was tested.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    lines: Vec<String>,
    labs_tested: usize,
    labs_skipped: usize,
    steps_tested: usize,
    steps_untestable: usize,
    failures: usize,
    /// Labs asked for by name that could not be tested at all.
    not_tested: Vec<String>,
}

impl Summary {
    fn of(
        reports: &[(String, crate::checks::selftest::LabReport)],
        left_out: &[labs::load::LeftOut],
        root: &std::path::Path,
        only: &[String],
    ) -> Self {
        use crate::checks::selftest::LabReport;
        let mut summary = Summary::default();
        for left in left_out.iter().filter(|l| only.is_empty() || only.contains(&l.id)) {
            summary.failures += 1;
            summary.lines.push(format!("BROKEN {}", left.note(root)));
        }
        for (lab, report) in reports {
            let (tested, untestable) = report.counts();
            summary.steps_tested += tested;
            summary.steps_untestable += untestable;
            match report {
                LabReport::Tested(steps) => {
                    summary.labs_tested += 1;
                    for s in steps {
                        if let Some(problem) = &s.problem {
                            summary.failures += 1;
                            summary.lines.push(format!("FAILED {lab}/{}: {problem}", s.step));
                        } else if let Some(why) = &s.untestable {
                            summary.lines.push(format!("UNTESTABLE {lab}/{}: {why}", s.step));
                        }
                    }
                    if tested == 0 && only.contains(lab) {
                        summary.not_tested.push(lab.clone());
                    }
                }
                LabReport::Broken(why) => {
                    summary.failures += 1;
                    summary.lines.push(format!("BROKEN {lab}: {why}"));
                }
                LabReport::Skipped(why) => {
                    summary.labs_skipped += 1;
                    summary.lines.push(format!("SKIPPED {lab}: {why}"));
                    if only.contains(lab) {
                        summary.not_tested.push(lab.clone());
                    }
                }
            }
        }
        summary
    }

    fn totals(&self) -> String {
        let mut line = format!(
            "{} lab(s) tested, {} skipped; {} step(s) tested, {} untestable; {} failure(s)",
            self.labs_tested, self.labs_skipped, self.steps_tested, self.steps_untestable, self.failures
        );
        if !self.not_tested.is_empty() {
            line.push_str(&format!("; asked for but not tested: {}", self.not_tested.join(", ")));
        }
        line
    }

    fn ok(&self) -> bool {
        self.failures == 0 && self.not_tested.is_empty()
    }
}

/// Checks the course at `dir`, or, when `dir` holds no course.toml, every course in its
/// subfolders (so `stacklab labs check labs/` checks `labs/workshop`).
fn check(dir: &std::path::Path) -> std::process::ExitCode {
    if dir.join("course.toml").exists() {
        return check_course(dir);
    }
    let mut courses: Vec<_> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.join("course.toml").exists()).collect();
    courses.sort();
    if courses.is_empty() {
        eprintln!("{}: no course.toml here or in its subfolders", dir.display());
        return std::process::ExitCode::FAILURE;
    }
    let failed = courses.iter().filter(|c| check_course(c) != std::process::ExitCode::SUCCESS).count();
    if failed == 0 { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
}

fn check_course(dir: &std::path::Path) -> std::process::ExitCode {
    match labs::load::load_serving(dir) {
        Ok(course) => {
            for warning in course.warnings.iter() {
                eprintln!("warning: {warning}");
            }
            for problem in course.untranslated.iter() {
                eprintln!("{problem}");
            }
            for left in &course.left_out {
                for problem in left.problems.iter() {
                    eprintln!("{problem}");
                }
            }
            let labs: Vec<_> = course.labs().collect();
            let steps: usize = labs.iter().map(|l| l.steps.len()).sum();
            let decks: Vec<_> = course.sessions.iter().flat_map(|s| s.decks.iter()).collect();
            let slides: usize = decks.iter().map(|d| d.slides.len()).sum();
            let warnings = match course.warnings.len() {
                0 => String::new(),
                n => format!(", {n} warning(s)"),
            };
            if !course.untranslated.is_empty() && course.left_out.is_empty() {
                eprintln!(
                    "{}: {} problem(s) in translated copies of labs{warnings}; those copies would not be served (their learners see the original)",
                    dir.display(),
                    course.untranslated.len()
                );
                return std::process::ExitCode::FAILURE;
            }
            if !course.left_out.is_empty() {
                let problems: usize = course.left_out.iter().map(|l| l.problems.len()).sum::<usize>() + course.untranslated.len();
                eprintln!(
                    "{}: {problems} problem(s){warnings}; {} lab(s) would be left out, {} served",
                    dir.display(),
                    course.left_out.len(),
                    labs.len()
                );
                return std::process::ExitCode::FAILURE;
            }
            println!(
                "{}: ok — {} sessions, {} labs ({} steps), {} decks ({} slides), {} quiz questions{warnings}",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::selftest::{LabReport, StepReport};
    use crate::store::CheckOutcome;

    fn step(id: &str, problem: Option<&str>, untestable: Option<&str>) -> StepReport {
        let outcome = CheckOutcome { passed: false, reason: String::new(), took_ms: 0 };
        StepReport {
            step: id.into(),
            before: outcome,
            after: None,
            problem: problem.map(Into::into),
            untestable: untestable.map(Into::into),
            took: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn the_summary_counts_tested_skipped_and_untestable_and_fails_when_asked_labs_were_not_tested() {
        let reports = vec![
            ("kc".to_string(), LabReport::Tested(vec![step("step1", None, Some("no check")), step("step2", None, None)])),
            ("vm".to_string(), LabReport::Skipped("needs the vm tier".into())),
            ("manual".to_string(), LabReport::Tested(vec![step("step1", None, Some("no check"))])),
        ];
        let all = Summary::of(&reports, &[], std::path::Path::new("/c"), &[]);
        assert_eq!(all.totals(), "2 lab(s) tested, 1 skipped; 1 step(s) tested, 2 untestable; 0 failure(s)");
        assert!(all.ok(), "nothing failed and nothing was asked for by name");
        assert!(all.lines.contains(&"UNTESTABLE kc/step1: no check".to_string()), "{:?}", all.lines);
        // Asked for by name, a skipped lab or one with no testable step is a failure of the run.
        let asked = Summary::of(&reports, &[], std::path::Path::new("/c"), &["vm".into(), "manual".into(), "kc".into()]);
        assert!(!asked.ok());
        assert!(asked.totals().ends_with("asked for but not tested: vm, manual"), "{}", asked.totals());
        // A lab left out at load is broken.
        let mut problems = labs::load::Problems::default();
        problems.push(std::path::Path::new("/c/s/labs/x/lab.md"), 2, "unknown field");
        let left = [labs::load::LeftOut { id: "x".into(), folder: "/c/s/labs/x".into(), problems }];
        let broken = Summary::of(&[], &left, std::path::Path::new("/c"), &[]);
        assert_eq!(broken.lines, ["BROKEN The lab in s/labs/x was left out: s/labs/x/lab.md:2: unknown field"]);
        assert!(!broken.ok());
    }
}
