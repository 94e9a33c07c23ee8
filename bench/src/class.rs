//! The class simulator (`scripts/bench class`; `STACKLAB_CLASS_LEARNERS`, default 60,
//! `STACKLAB_CLASS_MINUTES`, default 10, `STACKLAB_CLASS_PREWARM=1` for a spare sandbox per
//! learner started before they join, `STACKLAB_CLASS_LOCKSTEP=1` for a class typing in step): a
//! release server with native sandboxes, and N learners who join at once, open the netns-veth
//! lab, type its solutions into their terminals at human speed (5 keys a second on average, each
//! learner at a pace of their own: `crate::pace`; every key's echo timed), check each step, answer a quiz question,
//! clean up and go again — while the instructor's dashboard stream is open. The report: errors,
//! keystroke round trip and check latency under the class next to one learner alone on the same
//! server, the time until every sandbox had a prompt next to one alone, and the server's CPU and
//! memory over time (memory at the end next to memory after the first minute, and after warm-up:
//! flat is 1.00x).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::pace::Pace;
use crate::report::Table;
use crate::stats::{Samples, ms};
use crate::terminal::{BenchServer, read_until};

const LAB: &str = "netns-veth";
const QUIZ: &str = "dockershim";
/// The class's first minutes, when the server's memory fills once.
const WARM_UP: Duration = Duration::from_secs(300);
/// An echo or a prompt not back within this is an error of the class.
const ANSWER: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Tally {
    keys: Vec<Duration>,
    checks: Vec<Duration>,
    errors: Vec<String>,
    ready: Vec<Duration>,
    steps_done: usize,
    /// Hands raised (and lowered again) by the class, and poll answers given.
    hands: usize,
    polls: usize,
}

/// What a lecture hall needs of the class (issue 32): no errors, keystrokes that feel local,
/// checks that answer within a second, everyone at a prompt soon after a joint start, and a
/// server whose own memory stops growing once warm.
const KEY_P99: Duration = Duration::from_millis(50);
const CHECK_P99: Duration = Duration::from_secs(1);
const ALL_READY: Duration = Duration::from_secs(5);
/// The server less its bounded caches at the end, next to after warm-up.
const FLAT: f64 = 1.05;

/// One class's run: what the report and the limits are made of.
struct Outcome {
    learners: usize,
    minutes: f64,
    lockstep: bool,
    tally: Tally,
    /// The class's keystroke round trips and check latencies, sorted once (the tally's are
    /// taken out).
    keys: Samples,
    checks: Samples,
    /// Every 30 s: time into the class, server cores, RSS, bounded caches, heap in use (KiB).
    samples: Vec<(Duration, f64, u64, u64, u64)>,
    /// The whole machine's busy cores over the class (server, sandboxes and the bench's learners).
    machine_cores: f64,
    dashboard_events: usize,
    class_time: Duration,
    sandboxes: Option<(SandboxesUse, SandboxesUse)>,
    /// Recordings on disk per learner-hour, and a terminal's scrollback at the end (bytes).
    recordings: Option<(f64, f64)>,
}

impl Outcome {
    /// What the class's rows say it was.
    fn label(&self) -> String {
        format!("{} learners, {} min{}", self.learners, self.minutes, in_lockstep(self.lockstep))
    }

    fn all_ready(&self) -> Duration {
        self.tally.ready.iter().max().copied().unwrap_or_default()
    }

    fn warm(&self) -> (Duration, f64, u64, u64, u64) {
        self.samples.iter().find(|s| s.0 >= Duration::from_secs(60)).or(self.samples.first()).copied().unwrap_or_default()
    }

    fn end(&self) -> (Duration, f64, u64, u64, u64) {
        self.samples.last().copied().unwrap_or_default()
    }

    /// After warm-up: five minutes, or half a shorter class.
    fn warmed(&self) -> (Duration, f64, u64, u64, u64) {
        let end = self.end();
        self.samples.iter().find(|s| s.0 >= WARM_UP.min(end.0 / 2)).copied().unwrap_or(self.warm())
    }

    /// The server's own growth after warm-up (its RSS less the bounded caches): 1.00 is flat.
    fn growth(&self) -> f64 {
        let less = |s: (Duration, f64, u64, u64, u64)| s.2.saturating_sub(s.3) as f64;
        less(self.end()) / less(self.warmed()).max(1.0)
    }

    fn cpu_mean(&self) -> f64 {
        self.samples.iter().map(|s| s.1).sum::<f64>() / self.samples.len().max(1) as f64
    }

    /// The limits this class broke, in words; empty when it held.
    fn broken(&self) -> Vec<String> {
        let mut broken = Vec::new();
        if !self.tally.errors.is_empty() {
            broken.push(format!("{} errors", self.tally.errors.len()));
        }
        let (keys, checks) = (self.keys.pct(99.0), self.checks.pct(99.0));
        if keys >= KEY_P99 {
            broken.push(format!("keystroke p99 {} ≥ {}", ms(keys), ms(KEY_P99)));
        }
        if checks >= CHECK_P99 {
            broken.push(format!("check p99 {} ≥ {}", ms(checks), ms(CHECK_P99)));
        }
        if self.all_ready() > ALL_READY {
            broken.push(format!("last prompt after {}", ms(self.all_ready())));
        }
        if self.growth() > FLAT {
            broken.push(format!("server memory grew {:.2}x after warm-up", self.growth()));
        }
        broken
    }
}

/// The lab's steps as the learners type them: each step's id and its solution's lines.
type Steps = Arc<Vec<(String, Vec<String>)>>;

/// The netns-veth lab's steps.
fn lab_steps() -> anyhow::Result<Steps> {
    let course = crate::workshop::course()?;
    let lab = crate::workshop::lab(&course, LAB)?;
    Ok(Arc::new(
        lab.steps
            .iter()
            .map(|s| {
                let lines = s.solution.as_ref().map(|x| x.source.as_str()).unwrap_or_default();
                (s.id.clone(), lines.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect())
            })
            .collect(),
    ))
}

/// `STACKLAB_CLASS_LOCKSTEP=1`: every learner types every key 200 ms after the last.
fn lockstep() -> bool {
    std::env::var("STACKLAB_CLASS_LOCKSTEP").is_ok_and(|v| v == "1")
}

/// What a row's label adds for a class in lockstep.
fn in_lockstep(lockstep: bool) -> &'static str {
    if lockstep { ", in lockstep" } else { "" }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The peer of every class figure: one learner alone on the same server, the lab once.
async fn alone(server: &Arc<BenchServer>, steps: &Steps) -> anyhow::Result<Tally> {
    let alone = Arc::new(Mutex::new(Tally::default()));
    learner(server.clone(), "Alone".into(), steps.clone(), Pace::lockstep(), Instant::now(), alone.clone()).await;
    let alone = std::mem::take(&mut *alone.lock().unwrap());
    anyhow::ensure!(alone.errors.is_empty(), "one learner alone already fails: {:?}", alone.errors);
    Ok(alone)
}

/// `scripts/bench class`: one class of `STACKLAB_CLASS_LEARNERS` for `STACKLAB_CLASS_MINUTES`,
/// every figure next to one learner alone, and whether the class held the limits.
pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let learners: usize = env_or("STACKLAB_CLASS_LEARNERS", 60);
    let minutes: f64 = env_or("STACKLAB_CLASS_MINUTES", 10.0);
    let steps = lab_steps()?;
    let server = Arc::new(BenchServer::start(stacklab).await?);
    let alone = alone(&server, &steps).await?;
    // A lecture hall's class pre-warmed, as its scheduled pre-warm or the dashboard's "Start
    // sandboxes" does: a spare for every learner, started before they join.
    let prewarmed = std::env::var("STACKLAB_CLASS_PREWARM").is_ok_and(|v| v == "1");
    if prewarmed {
        let started = Instant::now();
        let said = server.prewarm("BENCH", learners).await?;
        eprintln!("  class: pre-warmed {learners} spares in {} ({said})", ms(started.elapsed()));
    }
    let class = class(&server, learners, minutes, lockstep(), &steps).await?;
    report(table, &class, &alone);
    if prewarmed {
        table.add(
            &format!("join to a prompt in every learner's terminal ({learners} at once), the class pre-warmed"),
            ms(class.all_ready()),
            "one learner alone, not pre-warmed",
            ms(alone.ready.first().copied().unwrap_or_default()),
            class.all_ready().as_secs_f64() / alone.ready.first().copied().unwrap_or_default().as_secs_f64(),
        );
    }
    let broken = class.broken();
    table.add(
        &format!("the class held the lecture-hall limits ({})", class.label()),
        if broken.is_empty() { "yes".into() } else { format!("no: {}", broken.join("; ")) },
        "limits: 0 errors; keystroke p99; check p99; every prompt after a joint join; memory after warm-up",
        format!("0; < {}; < {}; ≤ {}; ≤ {FLAT:.2}x", ms(KEY_P99), ms(CHECK_P99), ms(ALL_READY)),
        f64::NAN,
    );
    Ok(())
}

/// `scripts/bench curve`: classes of growing size (`STACKLAB_CURVE_LEARNERS`, default
/// 10,50,100,200, each `STACKLAB_CURVE_MINUTES`, default 3, on a server of its own), then
/// doubling until a limit breaks (at most `STACKLAB_CURVE_MAX`, default 800), then halving the
/// gap twice: the knee is the largest class that held. Prints the curve as a table and writes
/// it as an SVG plot (`STACKLAB_CURVE_SVG`, default docs/src/images/class-curve.svg).
pub async fn curve(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("STACKLAB_CURVE_LEARNERS")
        .unwrap_or_else(|_| "10,50,100,200".into())
        .split(',')
        .map(|n| n.trim().parse().with_context(|| format!("STACKLAB_CURVE_LEARNERS: {n:?} is not a number")))
        .collect::<anyhow::Result<_>>()?;
    let minutes: f64 = env_or("STACKLAB_CURVE_MINUTES", 3.0);
    let most: usize = env_or("STACKLAB_CURVE_MAX", 800);
    let lockstep = lockstep();
    let steps = lab_steps()?;
    let mut alone = {
        let server = Arc::new(BenchServer::start(stacklab).await?);
        alone(&server, &steps).await?
    };
    let mut points: Vec<Outcome> = Vec::new();
    let mut measure = async |learners: usize| -> anyhow::Result<bool> {
        let server = Arc::new(BenchServer::start(stacklab).await?);
        let class = class(&server, learners, minutes, lockstep, &steps).await?;
        let broken = class.broken();
        let held = broken.is_empty();
        eprintln!("  curve: {learners} learners {}", if held { "held".into() } else { format!("broke: {}", broken.join("; ")) });
        points.push(class);
        Ok(held)
    };
    let mut held = 0;
    let mut broke = None;
    for n in sizes {
        if measure(n).await? {
            held = held.max(n);
        } else {
            broke = Some(broke.map_or(n, |b: usize| b.min(n)));
        }
    }
    while broke.is_none() && held > 0 && held < most {
        let n = (held * 2).min(most);
        if measure(n).await? { held = n } else { broke = Some(n) }
    }
    for _ in 0..2 {
        let Some(b) = broke else { break };
        if b.saturating_sub(held) < 20 {
            break;
        }
        let n = (held + b) / 2;
        if measure(n).await? { held = n } else { broke = Some(n) }
    }
    points.sort_by_key(|p| p.learners);
    let (alone_keys, alone_checks) = (Samples::new(std::mem::take(&mut alone.keys)), Samples::new(std::mem::take(&mut alone.checks)));

    let header = ["learners", "server CPU", "machine CPU", "server RSS", "keystroke p99", "check p99", "last prompt", "errors", "held"];
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let broken = p.broken();
            vec![
                p.learners.to_string(),
                format!("{:.2} cores", p.cpu_mean()),
                format!("{:.2} cores", p.machine_cores),
                format!("{:.1} MiB", p.end().2 as f64 / 1024.0),
                ms(p.keys.pct(99.0)),
                ms(p.checks.pct(99.0)),
                ms(p.all_ready()),
                p.tally.errors.len().to_string(),
                if broken.is_empty() { "yes".into() } else { format!("no: {}", broken.join("; ")) },
            ]
        })
        .collect();
    println!(
        "The class curve ({minutes} min a class{}; one learner alone: keystroke p99 {}, check p99 {}, prompt {}):\n",
        in_lockstep(lockstep),
        ms(alone_keys.pct(99.0)),
        ms(alone_checks.pct(99.0)),
        ms(alone.ready.first().copied().unwrap_or_default())
    );
    crate::report::markdown(&header, &rows);
    println!();

    let svg = std::env::var_os("STACKLAB_CURVE_SVG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/images/class-curve.svg"));
    let plotted: Vec<crate::plot::Point> = points
        .iter()
        .map(|p| crate::plot::Point {
            learners: p.learners,
            server_cores: p.cpu_mean(),
            server_mib: p.end().2 as f64 / 1024.0,
            key_p99_ms: p.keys.pct(99.0).as_secs_f64() * 1e3,
            check_p99_ms: p.checks.pct(99.0).as_secs_f64() * 1e3,
        })
        .collect();
    std::fs::write(&svg, crate::plot::class_curve(&plotted, KEY_P99.as_secs_f64() * 1e3, CHECK_P99.as_secs_f64() * 1e3))
        .with_context(|| format!("writing {}", svg.display()))?;
    eprintln!("  curve: plot in {}", svg.display());

    let knee = if broke.is_some() { held.to_string() } else { format!("≥ {held} (every class up to {most} held)") };
    table.add(
        &format!("largest class within the limits on this host (the knee, {minutes}-min classes)"),
        format!("{knee} learners"),
        "the lecture hall asked for",
        "200 learners".into(),
        held as f64 / 200.0,
    );
    if let Some(p) = points.iter().find(|p| p.learners == held) {
        for (what, class, peer) in [
            ("keystroke round trip p99", p.keys.pct(99.0), alone_keys.pct(99.0)),
            ("check latency p99", p.checks.pct(99.0), alone_checks.pct(99.0)),
        ] {
            table.add(
                &format!("{what} at the knee ({held} learners)"),
                ms(class),
                "one learner alone",
                ms(peer),
                class.as_secs_f64() / peer.as_secs_f64(),
            );
        }
    }
    Ok(())
}

/// A class of `learners` on `server` for `minutes`: they join at once, then play the lab round
/// after round while the instructor's dashboard stream is open.
async fn class(server: &Arc<BenchServer>, learners: usize, minutes: f64, lockstep: bool, steps: &Steps) -> anyhow::Result<Outcome> {
    let pid = server.pid().context("the server has no pid")?;
    let dashboard_events = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let dashboard = tokio::spawn(dashboard_stream(server.clone(), dashboard_events.clone()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let sandboxes_before = SandboxesUse::read(true);
    let until = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let started = Instant::now();
    let machine = crate::stats::MachineCpu::now();
    let tasks: Vec<_> = (0..learners)
        .map(|i| {
            let pace = if lockstep { Pace::lockstep() } else { Pace::human(i) };
            tokio::spawn(learner(server.clone(), format!("Learner {i}"), steps.clone(), pace, until, tally.clone()))
        })
        .collect();
    // Server CPU and memory every 30 s while the class runs.
    let mut samples = Vec::new();
    let mut last = (Instant::now(), cpu_ticks(pid)?);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(30).min(until.saturating_duration_since(Instant::now()) + Duration::from_millis(1))).await;
        let now = (Instant::now(), cpu_ticks(pid)?);
        let cores = (now.1 - last.1) as f64 / ticks_per_second() / now.0.duration_since(last.0).as_secs_f64();
        let rss = rss_kib(pid)?;
        let anon = status_kib(pid, "RssAnon:").unwrap_or(0);
        // The two caches that grow to a bound: SQLite's pages and the terminals' scrollback.
        let kib = |bytes: f64| (bytes / 1024.0) as u64;
        let bounded = kib(server.metric("stacklab_sqlite_memory_bytes").await.unwrap_or(0.0))
            + kib(server.metric("stacklab_terminal_scrollback_bytes").await.unwrap_or(0.0));
        // What the server's code holds on the heap, next to what malloc keeps freed.
        let in_use = kib(server.metric("stacklab_heap_bytes{state=\"in_use\"}").await.unwrap_or(0.0));
        let free = kib(server.metric("stacklab_heap_bytes{state=\"free\"}").await.unwrap_or(0.0));
        eprintln!(
            "  class: {:>5.0} s  server CPU {cores:.2} cores  RSS {:.1} MiB (anonymous {:.1} MiB, bounded caches {:.1} MiB, heap in use {:.1} MiB, heap free {:.1} MiB)",
            started.elapsed().as_secs_f64(),
            rss as f64 / 1024.0,
            anon as f64 / 1024.0,
            bounded as f64 / 1024.0,
            in_use as f64 / 1024.0,
            free as f64 / 1024.0
        );
        samples.push((started.elapsed(), cores, rss, bounded, in_use));
        last = now;
    }
    let sandboxes_after = SandboxesUse::read(false);
    let machine_cores = machine.cores_since();
    let class_time = started.elapsed();
    for task in tasks {
        task.await?;
    }
    if dashboard.is_finished() {
        if let Ok(Err(e)) = dashboard.await {
            tally.lock().unwrap().errors.push(format!("the dashboard stream: {e:#}"));
        }
    } else {
        dashboard.abort();
    }
    let dashboard_events = dashboard_events.load(std::sync::atomic::Ordering::Relaxed);
    let mut tally = std::mem::take(&mut *tally.lock().unwrap());
    for e in tally.errors.iter().take(10) {
        eprintln!("  class error: {e}");
    }
    // Terminal recordings on disk per learner and hour, and a terminal's scrollback at the end.
    let recordings = match server.data_dir() {
        Some(data) => {
            let recorded = folder_bytes(&data.join("recordings"));
            let per_hour = recorded as f64 / (learners + 1) as f64 / (class_time.as_secs_f64() / 3600.0);
            let scrollback = server.metric("stacklab_terminal_scrollback_bytes").await.unwrap_or(0.0) / (learners + 1) as f64;
            Some((per_hour, scrollback))
        }
        None => None,
    };
    Ok(Outcome {
        learners,
        minutes,
        lockstep,
        keys: Samples::new(std::mem::take(&mut tally.keys)),
        checks: Samples::new(std::mem::take(&mut tally.checks)),
        tally,
        samples,
        machine_cores,
        dashboard_events,
        class_time,
        sandboxes: sandboxes_before.zip(sandboxes_after),
        recordings,
    })
}

/// The class's rows, each next to one learner alone on the same server or to the class earlier.
fn report(table: &mut Table, class: &Outcome, alone: &Tally) {
    let (learners, tally) = (class.learners, &class.tally);
    let label = class.label();
    table.add(
        &format!("class simulator ({label}): errors"),
        tally.errors.len().to_string(),
        "steps completed by the class; hands raised; polls answered; dashboard events seen",
        format!("{}; {}; {}; {}", tally.steps_done, tally.hands, tally.polls, class.dashboard_events),
        f64::NAN,
    );
    let (keys, keys_alone) = (&class.keys, Samples::new(alone.keys.clone()));
    let (checks, checks_alone) = (&class.checks, Samples::new(alone.checks.clone()));
    for p in [50.0, 99.0] {
        table.add(
            &format!("keystroke round trip p{p} in the class ({label})"),
            ms(keys.pct(p)),
            "one learner alone, same server",
            ms(keys_alone.pct(p)),
            keys.pct(p).as_secs_f64() / keys_alone.pct(p).as_secs_f64(),
        );
    }
    for p in [50.0, 99.0] {
        table.add(
            &format!("check latency p{p} in the class ({label})"),
            ms(checks.pct(p)),
            "one learner alone, same server",
            ms(checks_alone.pct(p)),
            checks.pct(p).as_secs_f64() / checks_alone.pct(p).as_secs_f64(),
        );
    }
    let all_ready = class.all_ready();
    let one_ready = alone.ready.first().copied().unwrap_or_default();
    // The middle learner's wait next to the last one's: a late few, or a slow join for all.
    let ready = Samples::new(tally.ready.clone());
    table.add(
        &format!("join to a prompt, the middle learner ({learners} at once)"),
        ms(ready.pct(50.0)),
        "one learner alone",
        ms(one_ready),
        ready.pct(50.0).as_secs_f64() / one_ready.as_secs_f64(),
    );
    table.add(
        &format!("join to a prompt in every learner's terminal ({learners} at once)"),
        ms(all_ready),
        "one learner alone",
        ms(one_ready),
        all_ready.as_secs_f64() / one_ready.as_secs_f64(),
    );
    let (warm, end) = (class.warm(), class.end());
    // Memory (KiB) next to the same earlier in the class: flat is 1.00x.
    let mut memory = |what: &str, peer: &str, peer_kib: u64, kib: u64| {
        table.add(
            &format!("{what} ({label})"),
            format!("{:.1} MiB", kib as f64 / 1024.0),
            peer,
            format!("{:.1} MiB", peer_kib as f64 / 1024.0),
            kib as f64 / peer_kib.max(1) as f64,
        );
    };
    let minute = "after the first minute";
    memory("server memory (RSS) at the end", minute, warm.2, end.2);
    // SQLite's page caches grow with the database up to their bound (512 KiB per connection), and
    // each terminal's scrollback with its output up to 256 KiB: the rest is the server's own.
    let less = |s: &(Duration, f64, u64, u64, u64)| s.2.saturating_sub(s.3);
    memory("server memory less its bounded caches at the end", minute, less(&warm), less(&end));
    memory("bounded caches (SQLite's heap, terminals' scrollback) at the end", minute, warm.3, end.3);
    // "Flat after warm-up": in the first minutes the sandboxes, connections and SQLite's page
    // buffer fill once (about 0.6 MiB); after that the server's own memory should not move.
    let warmed = class.warmed();
    let after = format!("after warm-up ({} s)", warmed.0.as_secs());
    memory("server memory less its bounded caches at the end", &after, less(&warmed), less(&end));
    // The heap the server's code holds (malloc's own count): growth here is state kept, not
    // fragmentation. It swings by megabytes with the class's rounds, so one sample says little:
    // its low in the second half of the class next to its low in the first (after a minute).
    let half = warm.0 + (end.0.saturating_sub(warm.0)) / 2;
    let low = |from: Duration, to: Duration| class.samples.iter().filter(|s| s.0 >= from && s.0 < to).map(|s| s.4).min().unwrap_or(0);
    let (first, second) = (low(warm.0, half), low(half, end.0 + Duration::from_secs(1)));
    memory("server heap in use, its low in the second half", "its low in the first half, after the first minute", first, second);
    let mean = class.cpu_mean();
    let peak = class.samples.iter().map(|s| s.1).fold(0.0, f64::max);
    table.add(
        &format!("server CPU, mean over the class ({label})"),
        format!("{mean:.2} cores"),
        "peak 30 s",
        format!("{peak:.2} cores"),
        mean / peak,
    );
    table.add(
        &format!("whole machine's CPU, mean over the class ({label})"),
        format!("{:.2} cores", class.machine_cores),
        "the server's own",
        format!("{mean:.2} cores"),
        class.machine_cores / mean,
    );
    // Terminal recordings on disk, per learner and hour of the class, next to what each
    // terminal's scrollback holds in memory at the end (bounded at 256 KiB).
    if let Some((per_hour, scrollback)) = class.recordings {
        table.add(
            &format!("terminal recordings on disk per learner-hour ({label})"),
            format!("{:.0} KiB", per_hour / 1024.0),
            "a terminal's scrollback in memory at the end",
            format!("{:.0} KiB", scrollback / 1024.0),
            per_hour / scrollback.max(1.0),
        );
    }
    // What each learner's sandbox used: the figures a cluster's requests are sized from
    // (docs/src/backends.md: sizing a cluster).
    if let Some((before, after)) = class.sandboxes {
        let per = learners.max(1) as f64;
        let cores = (after.cpu - before.cpu).as_secs_f64() / class.class_time.as_secs_f64() / per;
        table.add(
            &format!("CPU per learner's sandbox, mean over the class ({label})"),
            format!("{cores:.3} cores"),
            "the server's own CPU per learner",
            format!("{:.3} cores", mean / per),
            cores / (mean / per),
        );
        let mib = |b: f64| format!("{:.1} MiB", b / (1 << 20) as f64);
        let server_rss = end.2 as f64 * 1024.0 / per;
        table.add(
            &format!("memory per learner's sandbox, peak of the class ({label})"),
            mib(after.memory_peak as f64 / per),
            "the server's own RSS per learner",
            mib(server_rss),
            after.memory_peak as f64 / per / server_rss,
        );
    }
}

/// Bytes of the files under `dir`.
fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// CPU and memory of all the bench server's sandboxes together: its cgroup root's totals.
#[derive(Clone, Copy)]
struct SandboxesUse {
    cpu: Duration,
    memory_peak: u64,
}

impl SandboxesUse {
    /// `reset`: the peak starts again from now (cgroup v1 only; v2's memory.peak cannot be reset).
    fn read(reset: bool) -> Option<Self> {
        let root = crate::terminal::CGROUP_ROOT;
        let v1 = Path::new("/sys/fs/cgroup/memory").join(root);
        if v1.is_dir() {
            if reset {
                let _ = std::fs::write(v1.join("memory.max_usage_in_bytes"), "0");
            }
            let cpu = std::fs::read_to_string(Path::new("/sys/fs/cgroup/cpuacct").join(root).join("cpuacct.usage")).ok()?;
            let peak = std::fs::read_to_string(v1.join("memory.max_usage_in_bytes")).ok()?;
            return Some(Self { cpu: Duration::from_nanos(cpu.trim().parse().ok()?), memory_peak: peak.trim().parse().ok()? });
        }
        let v2 = Path::new("/sys/fs/cgroup").join(root);
        let stat = std::fs::read_to_string(v2.join("cpu.stat")).ok()?;
        let usec: u64 = stat.lines().find_map(|l| l.strip_prefix("usage_usec "))?.trim().parse().ok()?;
        let peak = std::fs::read_to_string(v2.join("memory.peak")).ok()?;
        Some(Self { cpu: Duration::from_micros(usec), memory_peak: peak.trim().parse().ok()? })
    }
}

/// One learner: join, a terminal, then the lab's solutions typed key by key until `until`
/// (at least once), each step checked, a quiz question answered every round.
async fn learner(server: Arc<BenchServer>, name: String, steps: Steps, mut pace: Pace, until: Instant, tally: Arc<Mutex<Tally>>) {
    if let Err(e) = play(&server, &name, &steps, &mut pace, until, &tally).await {
        tally.lock().unwrap().errors.push(format!("{name}: {e:#}"));
    }
}

async fn play(
    server: &BenchServer,
    name: &str,
    steps: &[(String, Vec<String>)],
    pace: &mut Pace,
    until: Instant,
    tally: &Mutex<Tally>,
) -> anyhow::Result<()> {
    let joined = Instant::now();
    let cookie = server.join(name).await?;
    let mut socket = server.terminal(&cookie).await?;
    tally.lock().unwrap().ready.push(joined.elapsed());
    let client = server.client.clone();
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", server.port);
    let post = |path: String, body: serde_json::Value| {
        client.post(url(&path)).header("cookie", &cookie).header("origin", url("")).json(&body).send()
    };
    loop {
        for (step, lines) in steps {
            let focus = post(format!("/api/labs/{LAB}/steps/{step}/focus"), serde_json::json!({})).await?;
            anyhow::ensure!(focus.status().is_success(), "focus {step}: {}", focus.status());
            for line in lines {
                for byte in line.bytes() {
                    tokio::time::sleep(pace.gap()).await;
                    let sent = Instant::now();
                    socket.send(Message::Binary(vec![byte].into())).await?;
                    read_until(&mut socket, &[byte], ANSWER)
                        .await
                        .with_context(|| format!("the echo of {:?} in {line:?}", byte as char))?;
                    tally.lock().unwrap().keys.push(sent.elapsed());
                }
                socket.send(Message::Binary(b"\r".to_vec().into())).await?;
                read_until(&mut socket, b"# ", ANSWER).await.with_context(|| format!("the prompt after {line:?}"))?;
            }
            // The command log reaches the store a moment after the prompt: like a learner, check
            // again a little later (the auto-check would too).
            let mut tries = 0;
            loop {
                let sent = Instant::now();
                let state: serde_json::Value =
                    post(format!("/api/labs/{LAB}/steps/{step}/check"), serde_json::json!({})).await?.json().await?;
                tally.lock().unwrap().checks.push(sent.elapsed());
                if state["done"] == true {
                    break;
                }
                tries += 1;
                anyhow::ensure!(tries < 10, "{step} not done 10 checks after its solution: {}", state["last_reason"]);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            tally.lock().unwrap().steps_done += 1;
        }
        let answer = post(format!("/api/quiz/{QUIZ}/answer"), serde_json::json!({ "choices": [0] })).await?;
        anyhow::ensure!(answer.status().is_success(), "quiz answer: {}", answer.status());
        // A hand up, and down again: a learner who asked, then found it before anyone came.
        let raised = post("/api/help".into(), serde_json::json!({ "note": format!("{name} is stuck") })).await?;
        anyhow::ensure!(raised.status().is_success(), "raising a hand: {}", raised.status());
        let lowered = client.delete(url("/api/help")).header("cookie", &cookie).header("origin", url("")).send().await?;
        anyhow::ensure!(lowered.status().is_success(), "lowering a hand: {}", lowered.status());
        tally.lock().unwrap().hands += 1;
        // The presenter's poll, if one is open and this learner has not answered it.
        let help: serde_json::Value = client.get(url("/api/help")).header("cookie", &cookie).send().await?.json().await?;
        if let Some(id) = help["poll"]["poll"]["id"].as_i64()
            && help["poll"]["mine"].is_null()
        {
            let answered = post(format!("/api/polls/{id}/answer"), serde_json::json!({ "kind": "choices", "choices": [0] })).await?;
            anyhow::ensure!(answered.status().is_success(), "answering the poll: {}", answered.status());
            tally.lock().unwrap().polls += 1;
        }
        if Instant::now() >= until {
            return Ok(());
        }
    }
}

/// The instructor's live dashboard for the open class, open for the whole class; events seen.
async fn dashboard_stream(server: Arc<BenchServer>, seen: Arc<std::sync::atomic::AtomicUsize>) -> anyhow::Result<()> {
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", server.port);
    let client = server.client.clone();
    let classes: serde_json::Value =
        client.get(url("/api/instructor/classes")).bearer_auth(crate::terminal::BENCH_TOKEN).send().await?.json().await?;
    let class = classes[0]["id"].as_str().context("no class")?.to_string();
    // The presenter asks the class a question: every learner answers it on their next round.
    let poll = client
        .post(url("/api/decks/containers-to-kubernetes/polls"))
        .bearer_auth(crate::terminal::BENCH_TOKEN)
        .json(&serde_json::json!({ "kind": "choices", "prompt": "Ready for the next demo?", "choices": ["Yes", "Not yet"] }))
        .send()
        .await?;
    anyhow::ensure!(poll.status().is_success(), "launching a poll: {}", poll.status());
    let mut events = client
        .get(url(&format!("/api/instructor/classes/{class}/events")))
        .bearer_auth(crate::terminal::BENCH_TOKEN)
        .send()
        .await?
        .bytes_stream();
    while let Some(chunk) = events.next().await {
        seen.fetch_add(String::from_utf8_lossy(&chunk?).matches("\n\n").count(), std::sync::atomic::Ordering::Relaxed);
    }
    anyhow::bail!("the server ended the stream")
}

fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').context("odd /proc stat")?.1.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmRSS:")
}

/// A `/proc/<pid>/status` line in KiB (`VmRSS:`, `RssAnon:`...).
fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with(field)).with_context(|| format!("no {field}"))?;
    Ok(line.split_whitespace().nth(1).with_context(|| format!("odd {field}"))?.parse()?)
}
