//! Terminal recordings' cost on the keystroke path: the same server, one learner in a class that
//! records terminals (the default) and one in a class that does not, typing in turns (100 keys
//! each, ten rounds), every key timed to its echo. The goal: recording on within 1.1x of off.

use std::path::Path;

use crate::report::Table;
use crate::stats::{Samples, ms};
use crate::terminal::{BenchServer, keystrokes};

const ROUNDS: usize = 10;
const KEYS_PER_ROUND: usize = 100;

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let server = BenchServer::start(stacklab).await?;
    server.make_class("NOREC", serde_json::json!({ "recording_off": true })).await?;
    let mut recorded = server.terminal(&server.join("Recorded").await?).await?;
    let mut unrecorded = server.terminal(&server.join_class("NOREC", "Unrecorded").await?).await?;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        on.extend(keystrokes(&mut recorded, KEYS_PER_ROUND).await?);
        off.extend(keystrokes(&mut unrecorded, KEYS_PER_ROUND).await?);
    }
    let (on, off) = (Samples::new(on), Samples::new(off));
    for p in [50.0, 99.0] {
        table.add(
            &format!("keystroke round trip p{p}, terminal recorded ({} keys)", ROUNDS * KEYS_PER_ROUND),
            ms(on.pct(p)),
            "the same, not recorded (same server, in turns)",
            ms(off.pct(p)),
            on.pct(p).as_secs_f64() / off.pct(p).as_secs_f64(),
        );
    }
    Ok(())
}
