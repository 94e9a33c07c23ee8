//! Sandboxes start, answer, keep the learner's files, and go away completely.

mod common;

use sandbox::{Backend, ShellRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread")]
async fn starts_and_runs_commands_as_root_with_its_own_hostname() {
    let Some(h) = common::harness("starts_and_runs") else { return };
    h.start("lab-smoke").await;
    let out = h.ok("lab-smoke", "id -u; hostname; cat /etc/hostname; echo $HOME; pwd").await;
    assert_eq!(out, "0\nlab-smoke\nlab-smoke\n/root\n/root\n");
}
