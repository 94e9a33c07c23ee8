//! The content self-test: for every lab this host can run, in a fresh sandbox, step by step —
//! the setup runs, the checks must FAIL, the solution is typed into a real terminal (so the shell
//! integration records it, as it would a learner's typing), and then the checks must PASS. A lab
//! needing a tier this host lacks is reported as skipped with the reason, never as passed. A step
//! that cannot be tested (no check, as a Killercoda step without `verify`; or nothing to type)
//! is reported as untestable, never as passed; what it offers to type is typed all the same, as
//! a learner would, so the steps after it find what it made.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use labs::Tier;
use labs::load::{Course, Lab};
use sandbox::{Backend, Limits, SandboxSpec, ShellRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::runner;
use crate::store::{CheckOutcome, CommandRecord};
use crate::terminals::integration::Integration;
use crate::tiers::TierSupport;

/// How long one step's solution may take to type and run.
const SOLUTION_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    pub step: String,
    pub before: CheckOutcome,
    pub after: Option<CheckOutcome>,
    /// What went wrong, if anything.
    pub problem: Option<String>,
    /// Why the step could not be tested (it was not, and did not pass either).
    pub untestable: Option<String>,
    pub took: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabReport {
    Tested(Vec<StepReport>),
    Skipped(String),
    /// The lab could not even be set up (its sandbox did not start).
    Broken(String),
}

impl LabReport {
    /// Steps (tested, untestable) of a tested lab.
    pub fn counts(&self) -> (usize, usize) {
        match self {
            LabReport::Tested(steps) => {
                let untestable = steps.iter().filter(|s| s.untestable.is_some()).count();
                (steps.len() - untestable, untestable)
            }
            _ => (0, 0),
        }
    }

    pub fn passed(&self) -> bool {
        match self {
            LabReport::Tested(steps) => steps.iter().all(|s| s.problem.is_none()),
            LabReport::Skipped(_) => true,
            LabReport::Broken(_) => false,
        }
    }
}

/// Self-tests the labs of `course` named in `only` (all if empty), one after another.
pub async fn run(
    course: &Course,
    backend: Arc<dyn Backend>,
    tiers: &TierSupport,
    limits: &Limits,
    only: &[String],
    mut progress: impl FnMut(&str),
) -> Vec<(String, LabReport)> {
    let mut reports = Vec::new();
    for lab in course.labs().filter(|l| only.is_empty() || only.contains(&l.id)) {
        let report = if let Err(why) = tiers.check(&lab.tiers) {
            LabReport::Skipped(why)
        } else if lab.steps.iter().all(|s| untestable(s).is_some()) {
            LabReport::Skipped("no step has both a check and a solution: nothing to test".into())
        } else {
            progress(&format!("{}: testing {} steps", lab.id, lab.steps.len()));
            test_lab(lab, backend.clone(), limits, &mut progress).await
        };
        match &report {
            LabReport::Skipped(why) => progress(&format!("{}: skipped — {why}", lab.id)),
            LabReport::Broken(why) => progress(&format!("{}: BROKEN — {why}", lab.id)),
            LabReport::Tested(steps) => {
                let failed = steps.iter().filter(|s| s.problem.is_some()).count();
                let (tested, untestable) = report.counts();
                progress(&format!("{}: {} of {tested} tested steps pass, {untestable} untestable", lab.id, tested - failed));
            }
        }
        reports.push((lab.id.clone(), report));
    }
    reports
}

/// Why `step` cannot be tested, if it cannot.
fn untestable(step: &labs::load::Step) -> Option<String> {
    if step.is_manual() {
        Some("no check (the learner marks it done)".into())
    } else if step.solution.is_none() {
        Some("no solution to type".into())
    } else {
        None
    }
}

/// Runs a setup script; one that fails makes the lab broken.
async fn run_setup(backend: &dyn Backend, name: &str, setup: &labs::load::Script) -> Result<(), String> {
    match runner::run_script(backend, name, setup, &[], crate::time_scale::scaled(Duration::from_secs(60))).await {
        Ok(o) if o.success() => Ok(()),
        Ok(o) => Err(format!("{}: setup failed: {}", setup.at(), String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("{}: setup could not run: {e}", setup.at())),
    }
}

/// Types `text` into the terminal and waits until the shell has run it all (a marker it prints).
async fn type_and_wait(
    input: &mut (impl AsyncWriteExt + Unpin),
    screen: &Arc<Mutex<Screen>>,
    text: &str,
    marker: &str,
) -> Result<Result<(), String>, String> {
    let typed = format!("{}\nprintf '%s%s\\n' '{marker}' \"$((40+2))\"\n", text.trim_end());
    input.write_all(typed.as_bytes()).await.map_err(|e| format!("typing into the terminal: {e}"))?;
    Ok(wait_for(screen, &format!("{marker}42"), crate::time_scale::scaled(SOLUTION_TIMEOUT)).await)
}

/// What the terminal has shown and the commands it recorded, filled by a reader task.
#[derive(Default)]
struct Screen {
    text: String,
    commands: Vec<CommandRecord>,
    ended: bool,
}

async fn test_lab(lab: &Lab, backend: Arc<dyn Backend>, limits: &Limits, progress: &mut impl FnMut(&str)) -> LabReport {
    let nonce: u32 = rand::random::<u32>() % 1_000_000;
    let owner = format!("selftest-{nonce}");
    let spec = SandboxSpec {
        name: format!("selftest-{}-{nonce}", lab.id.chars().take(40).collect::<String>().trim_end_matches('-')),
        owner: owner.clone(),
        limits: limits.clone(),
        devices: [sandbox::Device::Kvm, sandbox::Device::Tun, sandbox::Device::Fuse]
            .into_iter()
            .filter(|d| std::path::Path::new(d.path()).exists())
            .collect(),
        network: Default::default(),
        init: crate::sandboxes::init_for(&lab.tiers),
    };
    let report = match backend.start(&spec).await {
        Ok(_) => {
            if lab.tiers.contains(&Tier::Cluster) {
                progress(&format!("{}: starting the sandbox's cluster", lab.id));
            }
            match crate::tiers::prepare(&*backend, &spec.name, &lab.tiers).await {
                Err(e) => LabReport::Broken(e),
                Ok(()) => match test_steps(lab, &*backend, &spec.name, progress).await {
                    Ok(steps) => LabReport::Tested(steps),
                    Err(e) => LabReport::Broken(e),
                },
            }
        }
        Err(e) => LabReport::Broken(format!("the sandbox did not start: {e}")),
    };
    let _ = backend.stop(&spec.name).await;
    let _ = backend.wipe(&owner).await;
    report
}

async fn test_steps(lab: &Lab, backend: &dyn Backend, name: &str, progress: &mut impl FnMut(&str)) -> Result<Vec<StepReport>, String> {
    let shell = backend.open_shell(name, ShellRequest::default()).await.map_err(|e| format!("no terminal: {e}"))?;
    let sandbox::Shell { mut output, mut input, control } = shell;
    let screen = Arc::new(Mutex::new(Screen::default()));
    let reader = {
        let screen = screen.clone();
        tokio::spawn(async move {
            let mut integration = Integration::default();
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match output.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let records = integration.feed(&buf[..n], crate::terminals::Typist::Learner).into_iter().map(|(record, _)| record);
                        let mut s = screen.lock().unwrap_or_else(|p| p.into_inner());
                        s.text.push_str(&String::from_utf8_lossy(&buf[..n]));
                        s.commands.extend(records);
                    }
                }
            }
            screen.lock().unwrap_or_else(|p| p.into_inner()).ended = true;
        })
    };
    // The shell is ready once it has printed its first prompt.
    wait_for(&screen, "# ", crate::time_scale::scaled(Duration::from_secs(20)))
        .await
        .map_err(|e| format!("the shell never showed a prompt: {e}"))?;

    if let Some(setup) = &lab.setup {
        run_setup(backend, name, setup).await?;
    }
    if let Some(foreground) = &lab.foreground
        && let Err(e) = type_and_wait(&mut input, &screen, foreground, "__stacklab_lab_foreground_").await?
    {
        return Err(format!("{}: the lab's foreground script did not finish: {e}", lab.source.display()));
    }
    let mut reports = Vec::new();
    for (i, step) in lab.steps.iter().enumerate() {
        let started = Instant::now();
        if let Some(setup) = &step.setup {
            run_setup(backend, name, setup).await?;
        }
        if let Some(foreground) = &step.foreground
            && let Err(e) = type_and_wait(&mut input, &screen, foreground, &format!("__stacklab_step_{i}_foreground_")).await?
        {
            return Err(format!("{}: the step's foreground script did not finish: {e}", step.source.display()));
        }
        let commands = screen.lock().unwrap_or_else(|p| p.into_inner()).commands.clone();
        let before = runner::run_step(backend, name, step, &commands).await.outcome;
        let mut report = StepReport {
            step: step.id.clone(),
            before: before.clone(),
            after: None,
            problem: None,
            untestable: untestable(step),
            took: Duration::ZERO,
        };
        if before.passed && !step.is_manual() && report.untestable.is_none() {
            report.problem = Some(format!("{}: the checks pass before the solution ran (\"{}\")", step.source.display(), before.reason));
        }
        if let Some(solution) = &step.solution
            && let Err(e) = type_and_wait(&mut input, &screen, &solution.source, &format!("__stacklab_step_{i}_done_")).await?
        {
            report.problem = Some(format!("{}: the solution did not finish: {e}", solution.at()));
            report.took = started.elapsed();
            reports.push(report);
            break;
        }
        if report.untestable.is_none() {
            let commands = screen.lock().unwrap_or_else(|p| p.into_inner()).commands.clone();
            let after = runner::run_step(backend, name, step, &commands).await.outcome;
            if !after.passed && report.problem.is_none() {
                let check = step.checks.first().map(|c| c.at()).unwrap_or_default();
                report.problem = Some(format!("{check}: the checks fail after the solution ran: \"{}\"", after.reason));
            }
            report.after = Some(after);
        }
        report.took = started.elapsed();
        let verdict = match (&report.problem, &report.untestable) {
            (Some(_), _) => "FAILED".to_string(),
            (None, Some(why)) => format!("untestable: {why}"),
            (None, None) => "ok".to_string(),
        };
        progress(&format!("  {:<28} {verdict}  ({} ms)", step.id, report.took.as_millis()));
        reports.push(report);
    }
    if reports.len() == lab.steps.len() {
        if let Some(setup) = &lab.finish_setup {
            run_setup(backend, name, setup).await?;
        }
        if let Some(foreground) = &lab.finish_foreground
            && let Err(e) = type_and_wait(&mut input, &screen, foreground, "__stacklab_finish_foreground_").await?
        {
            return Err(format!("{}: the lab's finish foreground script did not finish: {e}", lab.source.display()));
        }
    }
    control.kill();
    reader.abort();
    Ok(reports)
}

/// Waits until the terminal has shown `needle`.
async fn wait_for(screen: &Arc<Mutex<Screen>>, needle: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        {
            let s = screen.lock().unwrap_or_else(|p| p.into_inner());
            if s.text.contains(needle) {
                return Ok(());
            }
            if s.ended {
                return Err(format!("the shell ended; it last showed: {}", tail(&s.text)));
            }
            if Instant::now() > deadline {
                return Err(format!("nothing after {} s; the terminal last showed: {}", timeout.as_secs(), tail(&s.text)));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn tail(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.len().saturating_sub(300);
    chars[start..].iter().collect::<String>().replace(['\r', '\x1b'], "")
}
