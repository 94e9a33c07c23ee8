//! The live dashboard: from a learner pressing "Check" to the instructor's dashboard receiving
//! the step's new state (server-sent events), next to the peer of the learner's own check
//! request coming back with the same result. The check runs in a real sandbox.

use std::path::Path;
use std::time::Instant;

use futures::StreamExt;
use serde_json::Value;

use crate::report::Table;
use crate::startup::{BENCH_INSTRUCTOR_TOKEN, Server};
use crate::stats::{Samples, ms};

const CHECKS: usize = 50;
const CODE: &str = "BENCH1";

pub async fn run(bin: &Path, site: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = Server::start_with(
        bin,
        site,
        &["--class-code", CODE, "--sandbox-cgroup-root", "stacklab-bench-dash", "--sandbox-uid-base", "1300000000"],
    )
    .await?;
    let result = measure(&server, table).await;
    // Sandboxes outlive their server by design: stop this one's.
    let stopped = tokio::process::Command::new(bin)
        .args(["stop-sandboxes", "--sandbox-cgroup-root", "stacklab-bench-dash", "--data-dir"])
        .arg(server.data_dir())
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(stopped.success(), "stopping the bench's sandboxes failed");
    result
}

async fn measure(server: &Server, table: &mut Table) -> anyhow::Result<()> {
    let base = format!("http://127.0.0.1:{}", server.port);
    let origin = |b: reqwest::RequestBuilder| b.header("origin", &base);
    let learner = reqwest::Client::builder().cookie_store(true).build()?;
    let joined =
        origin(learner.post(format!("{base}/api/join"))).json(&serde_json::json!({ "code": CODE, "name": "Bench" })).send().await?;
    anyhow::ensure!(joined.status().is_success(), "joining: {}", joined.status());
    let step = format!("{base}/api/labs/netns-veth/steps/netns");
    origin(learner.post(format!("{step}/focus"))).send().await?.error_for_status()?;

    let instructor = reqwest::Client::new();
    let bearer = format!("Bearer {BENCH_INSTRUCTOR_TOKEN}");
    let classes: Value =
        instructor.get(format!("{base}/api/instructor/classes")).header("authorization", &bearer).send().await?.json().await?;
    let class = classes[0]["id"].as_str().ok_or_else(|| anyhow::anyhow!("no class: {classes}"))?.to_string();
    let mut events = instructor
        .get(format!("{base}/api/instructor/classes/{class}/events"))
        .header("authorization", &bearer)
        .send()
        .await?
        .error_for_status()?
        .bytes_stream();

    let mut dashboard = Vec::with_capacity(CHECKS);
    let mut own = Vec::with_capacity(CHECKS);
    let mut pending = String::new();
    for _ in 0..CHECKS {
        let started = Instant::now();
        let seen = async {
            // Each check sends "checking" then "step". A "step" before this check's "checking"
            // is an older event (focusing the step sends one): skip past "checking" first.
            let mut checking = false;
            loop {
                if !checking && let Some(at) = pending.find("\"type\":\"checking\"") {
                    pending.drain(..at + 17);
                    checking = true;
                }
                if checking && let Some(at) = pending.find("\"type\":\"step\"") {
                    pending.drain(..at + 13);
                    return anyhow::Ok(started.elapsed());
                }
                let chunk = events.next().await.ok_or_else(|| anyhow::anyhow!("the dashboard stream ended"))??;
                pending.push_str(&String::from_utf8_lossy(&chunk));
            }
        };
        let answered = async {
            origin(learner.post(format!("{step}/check"))).send().await?.error_for_status()?;
            anyhow::Ok(started.elapsed())
        };
        let (seen, answered) = tokio::try_join!(seen, answered)?;
        dashboard.push(seen);
        own.push(answered);
    }
    let (dashboard, own) = (Samples::new(dashboard), Samples::new(own));
    for p in [50.0, 95.0] {
        table.add(
            &format!("check result on the dashboard p{p}"),
            ms(dashboard.pct(p)),
            &format!("the learner's own check request p{p}"),
            ms(own.pct(p)),
            dashboard.pct(p).as_secs_f64() / own.pct(p).as_secs_f64(),
        );
    }
    Ok(())
}
