//! The editor's files: opening and saving a file of the learner's sandbox through Stacklab's
//! file routes (the session checked, a script run in the sandbox by the backend's exec, the
//! version hashed, the atomic write) next to the same read and write done by `cat` in the
//! learner's own shell in the sandbox — the floor, with nothing between the learner and the file.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::report::Table;
use crate::stats::{Samples, ms};
use crate::terminal::{BenchServer, read_until};

const ROUNDS: usize = 100;
const WARM_UP: usize = 10;

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = BenchServer::start(stacklab).await?;
    let cookie = server.join("Editor").await?;
    let mut socket = server.terminal(&cookie).await?;
    // A Dockerfile-sized file (about 2 KiB), as the labs' learners edit.
    let make = "mkdir -p /root/app && seq 1 400 | sed 's/^/RUN echo /' | head -c 2048 > /root/app/Dockerfile; echo made-$((40+2))\n";
    socket.send(Message::Binary(make.as_bytes().to_vec().into())).await?;
    read_until(&mut socket, b"made-42", Duration::from_secs(30)).await?;

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/api/files?path=/root/app/Dockerfile", server.port);
    let (mut opens, mut saves) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for i in 0..ROUNDS + WARM_UP {
        let started = Instant::now();
        let opened: serde_json::Value = client.get(&url).header("cookie", &cookie).send().await?.error_for_status()?.json().await?;
        let opened_in = started.elapsed();
        let version = opened["version"].as_str().context("no version")?.to_string();
        let text = format!("{}# round {i}\n", opened["text"].as_str().context("no text")?.lines().take(100).collect::<Vec<_>>().join("\n"));
        let started = Instant::now();
        client
            .put(&url)
            .header("cookie", &cookie)
            .header("origin", format!("http://127.0.0.1:{}", server.port))
            .header("if-match", format!("\"{version}\""))
            .body(text)
            .send()
            .await?
            .error_for_status()?;
        if i >= WARM_UP {
            opens.push(opened_in);
            saves.push(started.elapsed());
        }
    }

    // The peer: the same file read and written by cat in the sandbox, timed by bash itself
    // (EPOCHREALTIME, microseconds).
    let peer = format!(
        "for i in $(seq {n}); do a=$EPOCHREALTIME; cat /root/app/Dockerfile > /dev/null; b=$EPOCHREALTIME; \
         cat /root/app/Dockerfile > /tmp/copy; cat /tmp/copy > /root/app/Dockerfile; c=$EPOCHREALTIME; \
         echo \"${{a/./}} ${{b/./}} ${{c/./}}\"; done | tail -n {ROUNDS} > /tmp/cat-times; echo cat-done-$((40+2))\n",
        n = ROUNDS + WARM_UP
    );
    socket.send(Message::Binary(peer.into_bytes().into())).await?;
    read_until(&mut socket, b"cat-done-42", Duration::from_secs(120)).await?;
    // In seconds, as `read_times` expects ("0.000312,0.000845 ...").
    let print = "echo times: $(awk '{printf \"%.6f,%.6f \", ($2-$1)/1e6, ($3-$2)/1e6}' /tmp/cat-times) :end\n";
    socket.send(Message::Binary(print.as_bytes().to_vec().into())).await?;
    let times = crate::preview::read_times(&mut socket).await?;
    let seconds = |field: usize| -> Vec<Duration> {
        times.split_whitespace().filter_map(|pair| pair.split(',').nth(field)?.parse::<f64>().ok()).map(Duration::from_secs_f64).collect()
    };
    let (cat_reads, cat_writes) = (seconds(0), seconds(1));
    anyhow::ensure!(cat_reads.len() == ROUNDS && cat_writes.len() == ROUNDS, "cat's times: got {} of {ROUNDS}", cat_reads.len());

    for (what, ours, peer_what, theirs) in [
        ("editor open p50 (2 KiB file, browser → server → sandbox)", &opens, "cat in the sandbox, same file", &cat_reads),
        ("editor save p50 (version checked, atomic write)", &saves, "cat > file in the sandbox", &cat_writes),
    ] {
        let (ours, peer) = (Samples::new(ours.clone()), Samples::new(theirs.clone()));
        for p in [50.0, 95.0] {
            let what = what.replace("p50", &format!("p{p}"));
            table.add(&what, ms(ours.pct(p)), peer_what, ms(peer.pct(p)), ours.pct(p).as_secs_f64() / peer.pct(p).as_secs_f64().max(1e-6));
        }
    }
    Ok(())
}
