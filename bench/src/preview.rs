//! Web previews: a request from the browser to a learner's web server through Stacklab's
//! preview (the listener, the session check, a connection made in the sandbox's network
//! namespace, the proxy) next to the same request made with `curl` inside the sandbox, where
//! the server is on the loopback.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::report::Table;
use crate::stats::{Samples, ms};
use crate::terminal::{BenchServer, read_until};

const REQUESTS: usize = 200;

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = BenchServer::start(stacklab).await?;
    let cookie = server.join("Previewer").await?;
    let mut socket = server.terminal(&cookie).await?;
    let start = "mkdir -p /tmp/site && echo hello > /tmp/site/index.html && \
                 (cd /tmp/site && setsid python3 -m http.server 8080 >/dev/null 2>&1 &); echo started-$((40+2))\n";
    socket.send(Message::Binary(start.as_bytes().to_vec().into())).await?;
    read_until(&mut socket, b"started-42", Duration::from_secs(30)).await?;

    let main = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let ports: serde_json::Value = main.get(format!("{base}/api/preview/ports")).header("cookie", &cookie).send().await?.json().await?;
        if ports["listening"].as_array().is_some_and(|l| l.iter().any(|p| p == 8080)) {
            let opened = main.get(format!("{base}/preview/8080/")).header("cookie", &cookie).send().await?;
            break opened.headers().get("location").context("no preview location")?.to_str()?.to_string();
        }
        anyhow::ensure!(Instant::now() < deadline, "the web server in the sandbox never listened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // A browser keeps its connection to the preview open: so does this client.
    let browser = reqwest::Client::new();
    let mut through = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS + 20 {
        let started = Instant::now();
        let body = browser.get(&url).header("cookie", &cookie).send().await?.error_for_status()?.text().await?;
        anyhow::ensure!(body == "hello\n", "the preview answered {body:?}");
        // The first requests warm up (the listener's first connection, python's first answers).
        if i >= 20 {
            through.push(started.elapsed());
        }
    }

    // The peer: curl in the sandbox, the times printed by curl itself.
    let curl = format!(
        "for i in $(seq {}); do curl -s -o /dev/null -w '%{{time_total}}\\n' localhost:8080/; done | tail -n {REQUESTS} > /tmp/curl-times; \
         echo curl-done-$((40+2))\n",
        REQUESTS + 20
    );
    socket.send(Message::Binary(curl.into_bytes().into())).await?;
    read_until(&mut socket, b"curl-done-42", Duration::from_secs(120)).await?;
    let print = "echo times: $(tr '\\n' ' ' < /tmp/curl-times) :end\n";
    socket.send(Message::Binary(print.as_bytes().to_vec().into())).await?;
    let times = read_times(&mut socket).await?;
    let inside: Vec<Duration> = times.split_whitespace().filter_map(|t| t.parse::<f64>().ok()).map(Duration::from_secs_f64).collect();
    anyhow::ensure!(inside.len() == REQUESTS, "curl's times: got {} of {REQUESTS}", inside.len());

    let (ours, peer) = (Samples::new(through), Samples::new(inside));
    for p in [50.0, 95.0] {
        table.add(
            &format!("web preview request p{p} ({REQUESTS} GETs, browser → preview → sandbox)"),
            ms(ours.pct(p)),
            "curl in the sandbox, same server",
            ms(peer.pct(p)),
            ours.pct(p).as_secs_f64() / peer.pct(p).as_secs_f64(),
        );
    }
    Ok(())
}

/// The times the `echo times: ... :end` line printed. Its command as typed echoes first; the
/// output is the line whose times are numbers (they start with "0").
pub async fn read_times(socket: &mut crate::terminal::Socket) -> anyhow::Result<String> {
    use futures::StreamExt;
    let mut text = String::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next()).await.context("the terminal went silent")? {
            Some(Ok(Message::Binary(bytes))) => {
                text.push_str(&String::from_utf8_lossy(&bytes));
                if let Some((_, output)) = text.split_once("times: 0")
                    && let Some((times, _)) = output.split_once(":end")
                {
                    return Ok(format!("0{times}"));
                }
            }
            Some(Ok(_)) => {}
            _ => anyhow::bail!("the terminal closed"),
        }
    }
}
