//! Live polls: from a learner's answer leaving to the presenter's histogram counting it (the
//! presenter's event stream), next to the peer of the learner's own answer request coming back.
//! Sixty learners answer one after another in several polls, then all at once.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::report::Table;
use crate::startup::{BENCH_INSTRUCTOR_TOKEN, Server};
use crate::stats::{Samples, ms};

const LEARNERS: usize = 60;
const POLLS: usize = 5;
const CODE: &str = "BENCHPOLL";
const DECK: &str = "containers-to-kubernetes";

/// Reads the presenter's stream until `wanted` is in it.
async fn until<B: AsRef<[u8]>>(
    events: &mut (impl futures::Stream<Item = reqwest::Result<B>> + Unpin),
    text: &mut String,
    wanted: &str,
) -> anyhow::Result<()> {
    while !text.contains(wanted) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .map_err(|_| anyhow::anyhow!("no {wanted:?} on the presenter's stream within 10 s"))?
            .ok_or_else(|| anyhow::anyhow!("the presenter's stream ended"))??;
        text.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
    // What was read up to here is done with.
    let end = text.find(wanted).unwrap_or(0) + wanted.len();
    text.drain(..end);
    Ok(())
}

pub async fn run(bin: &Path, site: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = Server::start_with(bin, site, &["--class-code", CODE, "--sandbox-backend", "none"]).await?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let mut learners = Vec::with_capacity(LEARNERS);
    for i in 0..LEARNERS {
        let client = reqwest::Client::builder().cookie_store(true).build()?;
        let joined = client
            .post(format!("{base}/api/join"))
            .header("origin", &base)
            .json(&serde_json::json!({ "code": CODE, "name": format!("Learner {i}") }))
            .send()
            .await?;
        anyhow::ensure!(joined.status().is_success(), "joining: {}", joined.status());
        learners.push(client);
    }
    let instructor = reqwest::Client::new();
    let bearer = format!("Bearer {BENCH_INSTRUCTOR_TOKEN}");
    let mut events = Box::pin(
        instructor
            .get(format!("{base}/api/decks/{DECK}/polls/events"))
            .header("authorization", &bearer)
            .send()
            .await?
            .error_for_status()?
            .bytes_stream(),
    );
    let mut text = String::new();
    let launch = async |prompt: String| -> anyhow::Result<i64> {
        let poll: serde_json::Value = instructor
            .post(format!("{base}/api/decks/{DECK}/polls"))
            .header("authorization", &bearer)
            .json(&serde_json::json!({ "kind": "choices", "prompt": prompt, "choices": ["Yes", "No", "Almost"] }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        poll["id"].as_i64().ok_or_else(|| anyhow::anyhow!("no poll id: {poll}"))
    };
    let answer = |client: &reqwest::Client, id: i64, choice: usize| {
        client
            .post(format!("{base}/api/polls/{id}/answer"))
            .header("origin", &base)
            .json(&serde_json::json!({ "kind": "choices", "choices": [choice] }))
            .send()
    };

    let (mut histogram, mut request) = (Vec::new(), Vec::new());
    for round in 0..POLLS {
        let id = launch(format!("Round {round}: ready?")).await?;
        until(&mut events, &mut text, &format!("\"id\":{id}")).await?;
        for (i, learner) in learners.iter().enumerate() {
            let started = Instant::now();
            let sent = answer(learner, id, i % 3);
            let wanted = format!("\"poll_id\":{id},\"results\":{{\"answers\":{}", i + 1);
            let seen = async {
                until(&mut events, &mut text, &wanted).await?;
                anyhow::Ok(started.elapsed())
            };
            let answered = async {
                let status = sent.await?.status();
                anyhow::ensure!(status.is_success(), "answering: {status}");
                anyhow::Ok(started.elapsed())
            };
            let (seen, answered) = tokio::try_join!(seen, answered)?;
            histogram.push(seen);
            request.push(answered);
        }
    }

    // All at once, as a class answers when the poll appears.
    let id = launch("All at once: ready?".into()).await?;
    until(&mut events, &mut text, &format!("\"id\":{id}")).await?;
    let started = Instant::now();
    let all = futures::future::try_join_all(learners.iter().enumerate().map(|(i, learner)| {
        let sent = answer(learner, id, i % 3);
        async move {
            let status = sent.await?.status();
            anyhow::ensure!(status.is_success(), "answering: {status}");
            anyhow::Ok(started.elapsed())
        }
    }));
    let complete = async {
        until(&mut events, &mut text, &format!("\"poll_id\":{id},\"results\":{{\"answers\":{LEARNERS}")).await?;
        anyhow::Ok(started.elapsed())
    };
    let (burst, complete) = tokio::try_join!(all, complete)?;
    let slowest = burst.iter().max().copied().unwrap_or_default();

    let (histogram, request) = (Samples::new(histogram), Samples::new(request));
    for p in [50.0, 95.0] {
        table.add(
            &format!("poll answer reaches the presenter's histogram p{p} ({LEARNERS} learners, {POLLS} polls)"),
            ms(histogram.pct(p)),
            &format!("the learner's own answer request p{p}"),
            ms(request.pct(p)),
            histogram.pct(p).as_secs_f64() / request.pct(p).as_secs_f64(),
        );
    }
    table.add(
        &format!("{LEARNERS} answers at once: the histogram counts them all"),
        ms(complete),
        "the slowest of those answer requests",
        ms(slowest),
        complete.as_secs_f64() / slowest.as_secs_f64(),
    );
    drop(server);
    Ok(())
}
