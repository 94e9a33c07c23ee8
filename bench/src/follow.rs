//! Follow mode: from the instructor's "next slide" request leaving to a following learner's
//! page receiving the slide over its event stream, next to the peer of the instructor's own
//! request coming back (the least any change can take).

use std::path::Path;
use std::time::Instant;

use futures::StreamExt;

use crate::report::Table;
use crate::startup::{BENCH_INSTRUCTOR_TOKEN, Server};
use crate::stats::{Samples, ms};

const DECK: &str = "containers-to-kubernetes";
const CHANGES: usize = 100;

pub async fn run(bin: &Path, site: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = Server::start(bin, site).await?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let instructor = reqwest::Client::builder().cookie_store(true).build()?;
    let login = instructor.get(format!("{base}/instructor/login?token={BENCH_INSTRUCTOR_TOKEN}")).send().await?;
    anyhow::ensure!(login.status().is_success() || login.status().is_redirection(), "instructor sign-in: {}", login.status());

    let learner = reqwest::Client::new();
    let mut events = learner.get(format!("{base}/api/decks/{DECK}/live")).send().await?.error_for_status()?.bytes_stream();
    let mut follow = Vec::with_capacity(CHANGES);
    let mut request = Vec::with_capacity(CHANGES);
    for i in 0..CHANGES {
        let slide = 1 + i % 20;
        let started = Instant::now();
        let sent = instructor
            .post(format!("{base}/api/decks/{DECK}/live"))
            .header("origin", &base)
            .json(&serde_json::json!({ "slide": slide }))
            .send();
        // The learner's event may arrive before the instructor's answer: wait for both at once.
        let wanted = format!("\"slide\":{slide}");
        let seen = async {
            let mut text = String::new();
            while !text.contains(&wanted) {
                let chunk = events.next().await.ok_or_else(|| anyhow::anyhow!("the event stream ended"))??;
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
            anyhow::Ok(started.elapsed())
        };
        let answered = async {
            let status = sent.await?.status();
            anyhow::ensure!(status.is_success(), "setting the slide: {status}");
            anyhow::Ok(started.elapsed())
        };
        let (seen, answered) = tokio::try_join!(seen, answered)?;
        follow.push(seen);
        request.push(answered);
    }
    let (follow, request) = (Samples::new(follow), Samples::new(request));
    for p in [50.0, 95.0] {
        table.add(
            &format!("slide reaches a following learner p{p}"),
            ms(follow.pct(p)),
            &format!("instructor's own request p{p}"),
            ms(request.pct(p)),
            follow.pct(p).as_secs_f64() / request.pct(p).as_secs_f64(),
        );
    }
    drop(server);
    Ok(())
}
