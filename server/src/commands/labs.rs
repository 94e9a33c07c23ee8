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
    let course = labs::load::load_course(dir).map_err(|p| anyhow::anyhow!("the content has problems:\n{p}"))?;
    for lab in &only {
        anyhow::ensure!(course.lab(lab).is_some(), "there is no lab {lab:?}");
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
    let mut failed = 0;
    for (lab, report) in &reports {
        match report {
            crate::checks::selftest::LabReport::Tested(steps) => {
                for s in steps.iter().filter(|s| s.problem.is_some()) {
                    failed += 1;
                    println!("FAILED {lab}/{}: {}", s.step, s.problem.as_deref().unwrap_or_default());
                }
            }
            crate::checks::selftest::LabReport::Broken(why) => {
                failed += 1;
                println!("BROKEN {lab}: {why}");
            }
            crate::checks::selftest::LabReport::Skipped(_) => {}
        }
    }
    let tested = reports.iter().filter(|(_, r)| matches!(r, crate::checks::selftest::LabReport::Tested(_))).count();
    let skipped = reports.len() - tested;
    println!("{tested} lab(s) tested, {skipped} skipped, {failed} failure(s)");
    Ok(if failed == 0 { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
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
