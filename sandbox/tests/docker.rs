//! The Docker backend's own promises, on the engine scripts/test starts (with user-namespace
//! remapping): clear errors, a root shell on a real terminal, files kept in the learner's volume
//! across stop and start, containers adopted by a new server process, and nothing left after
//! a wipe. (The escape suite runs against this backend too: STACKLAB_TEST_BACKEND=docker.)

mod common;

use std::time::Duration;

use sandbox::docker::{DockerBackend, DockerConfig, Isolation};
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec, ShellRequest};
use tokio::io::AsyncWriteExt;

fn engine() -> Option<(String, String)> {
    match (std::env::var("STACKLAB_DOCKER_TEST_SOCKET"), std::env::var("STACKLAB_DOCKER_IMAGE")) {
        (Ok(socket), Ok(image)) => Some((socket, image)),
        _ => {
            assert!(std::env::var("STACKLAB_REQUIRE_DOCKER").is_err(), "STACKLAB_DOCKER_TEST_SOCKET and STACKLAB_DOCKER_IMAGE are not set");
            eprintln!("skipped: no Docker engine for tests (scripts/test starts one)");
            None
        }
    }
}

fn config(socket: &str, image: &str, prefix: &str) -> DockerConfig {
    DockerConfig { socket: Some(socket.into()), image: image.into(), prefix: prefix.into(), runtime: None }
}

fn spec(name: &str) -> SandboxSpec {
    SandboxSpec {
        name: name.into(),
        owner: format!("{name}-owner"),
        limits: Limits { memory_bytes: 256 << 20, cpu_millis: 1000, pids: 128, disk_bytes: 0 },
        devices: Vec::new(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

async fn sh(backend: &dyn Backend, name: &str, script: &str) -> String {
    let out = backend.exec(name, ExecRequest::script(script).timeout(Duration::from_secs(20))).await.unwrap();
    assert!(out.success(), "{script}: {out:?}");
    out.stdout_text()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine with the lab image: run with --include-ignored (scripts/test starts one)"]
async fn a_missing_engine_or_image_is_said_clearly() {
    let Some((socket, _)) = engine() else { return };
    let gone = DockerBackend::open(config("unix:///run/stacklab/no-such.sock", "x", "t")).await.err().unwrap().to_string();
    assert!(gone.contains("no Docker socket at /run/stacklab/no-such.sock") && gone.contains("is dockerd running?"), "{gone}");
    let missing = DockerBackend::open(config(&socket, "stacklab/no-such-image:1", "t")).await.err().unwrap().to_string();
    assert!(missing.contains("Docker has no image stacklab/no-such-image:1") && missing.contains("docker import"), "{missing}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine with the lab image: run with --include-ignored (scripts/test starts one)"]
async fn sandboxes_keep_files_are_adopted_and_leave_nothing() {
    let Some((socket, image)) = engine() else { return };
    let prefix = format!("stacklab-dtest-{}", std::process::id());
    let docker = DockerBackend::open(config(&socket, &image, &prefix)).await.unwrap();
    assert_eq!(docker.isolation(), Isolation::UsernsRemap, "the test engine remaps users");

    docker.start(&spec("dk-one")).await.unwrap();
    assert_eq!(sh(&docker, "dk-one", "id -u; hostname").await, "0\ndk-one\n");
    sh(&docker, "dk-one", "echo kept > /root/note").await;

    // A new server process finds the running sandbox by its labels.
    let again = DockerBackend::open(config(&socket, &image, &prefix)).await.unwrap();
    let running = again.running().await.unwrap();
    assert_eq!(running.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["dk-one"]);
    assert_eq!(running[0].spec, spec("dk-one"));
    assert_eq!(sh(&again, "dk-one", "cat /root/note").await, "kept\n");

    // Stopped: gone from Docker; started again: the learner's files are back.
    again.stop("dk-one").await.unwrap();
    assert!(again.exec("dk-one", ExecRequest::script("true")).await.is_err());
    assert!(again.running().await.unwrap().is_empty());
    again.start(&spec("dk-one")).await.unwrap();
    assert_eq!(sh(&again, "dk-one", "cat /root/note").await, "kept\n");

    // A terminal: a real PTY that resizes.
    let mut shell = again.open_shell("dk-one", ShellRequest::default()).await.unwrap();
    shell.input.write_all(b"tty; stty size; echo marker-$((6*7))\n").await.unwrap();
    let text = common::read_until(&mut shell, "marker-42").await;
    assert!(text.contains("/dev/pts/") && text.contains("24 80"), "{text}");
    shell.control.resize(sandbox::PtySize { cols: 132, rows: 50 }).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    shell.input.write_all(b"stty size; echo again-$((6*7))\n").await.unwrap();
    assert!(common::read_until(&mut shell, "again-42").await.contains("50 132"));
    shell.input.write_all(b"exit 3\n").await.unwrap();
    assert_eq!(shell.control.wait().await, 3);

    // A check's background leftovers end with it.
    sh(&again, "dk-one", "sleep 333 >/dev/null 2>&1 & echo started").await;
    assert!(!sh(&again, "dk-one", "ps -eo args").await.contains("sleep 333"), "a check's background job outlived it");

    // Reset: the container and the learner's volume are gone; nothing of this server remains.
    again.wipe("dk-one-owner").await.unwrap();
    again.start(&spec("dk-one")).await.unwrap();
    assert_eq!(sh(&again, "dk-one", "cat /root/note 2>/dev/null || echo fresh").await, "fresh\n");
    again.remove_all().await.unwrap();
    let out = std::process::Command::new("docker")
        .args(["--host", &socket, "ps", "-a", "-q", "--filter", &format!("label=dev.stacklab.server={prefix}")])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty(), "containers left: {}", String::from_utf8_lossy(&out.stdout));
    let out = std::process::Command::new("docker")
        .args(["--host", &socket, "volume", "ls", "-q", "--filter", &format!("label=dev.stacklab.server={prefix}")])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty(), "volumes left: {}", String::from_utf8_lossy(&out.stdout));
}
