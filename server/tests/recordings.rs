//! Terminal recordings end to end, in a real sandbox: a learner types a step's solution; the
//! recording is asciicast v2 that a strict reader, and `asciinema cat`, read back; the step's
//! markers sit where the step passed; a password typed with echo off is not in it; the step's
//! replay and the class's zip hold it; and a full disk ends the recording, not the terminal.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::SinkExt;
use serde_json::Value;
use server::recordings::cast::{Cast, Code};
use tokio_tungstenite::tungstenite::Message;

use common::read_until;

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

async fn type_line(socket: &mut common::Socket, line: &str) {
    socket.send(Message::Binary(format!("{line}\n").into_bytes().into())).await.unwrap();
}

async fn cast_of(client: &reqwest::Client, url: String) -> Cast {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/x-asciicast"));
    let text = response.text().await.unwrap();
    Cast::parse(&text).unwrap_or_else(|e| panic!("not strict asciicast v2: {e}\n{text}"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_solution_typed_is_recorded_with_its_markers() {
    if !common::sandboxes_available("recordings") {
        return;
    }
    let server = common::TestServer::start("recordings", true).await;
    let (ada, cookie) = server.learner("Ada").await;
    let learner = server.client(&cookie);
    learner.post(server.url("/api/labs/netns-veth/steps/netns/focus")).send().await.unwrap();

    let mut socket = common::ws(&server, &cookie, "/ws/terminal/1?start=1&cols=90&rows=30").await;
    read_until(&mut socket, "attached").await;
    type_line(&mut socket, "echo ready-$((6*7))").await;
    read_until(&mut socket, "ready-42").await;
    // A password prompt: echo off, line mode. What is typed there stays out of the recording.
    type_line(&mut socket, "read -s -p 'Password: ' PW; echo; echo got-${#PW}-chars").await;
    read_until(&mut socket, "Password: ").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    type_line(&mut socket, "hunter2-secret").await;
    read_until(&mut socket, "got-14-chars").await;

    let typed_from = now();
    let solution = server.state.course.lab("netns-veth").unwrap().1.steps[0].solution.clone().unwrap();
    for line in solution.source.lines() {
        type_line(&mut socket, line).await;
    }
    type_line(&mut socket, "echo solution-$((2+3))-typed").await;
    read_until(&mut socket, "solution-5-typed").await;
    let checked: Value = learner.post(server.url("/api/labs/netns-veth/steps/netns/check")).send().await.unwrap().json().await.unwrap();
    assert_eq!(checked["done"], true, "{checked}");
    let passed_by = now();
    // Written once a second.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let list: Vec<Value> = learner.get(server.url("/api/recordings")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().unwrap().to_string();
    let cast = cast_of(&learner, server.url(&format!("/api/recordings/{id}"))).await;
    assert_eq!((cast.header.width, cast.header.height), (90, 30));
    let output = cast.output();
    assert!(output.contains("ready-42") && output.contains("solution-5-typed"), "{output}");
    let input: String = cast.events.iter().filter(|e| e.code == Code::Input).map(|e| e.data.as_str()).collect();
    assert!(input.contains("ip netns add demo-ns"), "typed input is recorded: {input:?}");
    assert!(!input.contains("hunter2"), "echo-off input is not recorded: {input:?}");
    assert!(!output.contains("hunter2"));
    let markers: Vec<(f64, &str)> =
        cast.events.iter().filter(|e| e.code == Code::Marker).map(|e| (cast.header.timestamp as f64 + e.time, e.data.as_str())).collect();
    assert!(markers.iter().any(|(_, m)| *m == "$ ip netns add demo-ns"), "each command marked: {markers:?}");
    let passed = markers.iter().find(|(_, m)| *m == "netns-veth/netns: passed").unwrap_or_else(|| panic!("{markers:?}"));
    assert!((typed_from..=passed_by + 1.0).contains(&passed.0), "passed at {} (typed from {typed_from}, passed by {passed_by})", passed.0);
    let command = markers.iter().find(|(_, m)| *m == "$ ip netns add demo-ns").unwrap();
    assert!(command.0 <= passed.0 && command.0 >= typed_from - 1.0);

    // asciinema's own reader plays it back.
    if std::process::Command::new("asciinema").arg("--version").output().is_ok_and(|o| o.status.success()) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), cast.to_text()).unwrap();
        // It wants a terminal of its own: script(1) gives it one.
        let command = format!("asciinema cat {}", file.path().display());
        let out = std::process::Command::new("script").args(["-q", "-e", "-c", &command, "/dev/null"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("solution-5-typed"));
    } else {
        eprintln!("asciinema is not installed here: read back with the strict reader only");
    }

    // The step's part, from the learner and from staff: starts at the step, holds the solution.
    let part = cast_of(&learner, server.url("/api/labs/netns-veth/steps/netns/replay")).await;
    let part_input: String = part.events.iter().filter(|e| e.code == Code::Input).map(|e| e.data.as_str()).collect();
    assert!(part_input.contains("ip netns add demo-ns"), "{part_input:?}");
    assert!(part.events.iter().any(|e| e.data == "netns-veth/netns: passed"));
    let staff = server.client(&server.instructor().await);
    let seen = cast_of(&staff, server.url(&format!("/api/instructor/learners/{ada}/labs/netns-veth/steps/netns/replay"))).await;
    assert_eq!(seen, part);
    let download = learner.get(server.url(&format!("/api/recordings/{id}?download=1"))).send().await.unwrap();
    assert!(download.headers()["content-disposition"].to_str().unwrap().contains(&format!("{id}.cast")));
    // Another learner's recording is not Ada's to read, nor a made-up path.
    let (_, bob) = server.learner("Bob").await;
    assert_eq!(server.client(&bob).get(server.url(&format!("/api/recordings/{id}"))).send().await.unwrap().status(), 404);
    assert_eq!(learner.get(server.url("/api/recordings/..%2F..%2Fcookie.key")).send().await.unwrap().status(), 404);

    // The class's zip: Ada's recording, as stored.
    let class = server.class_id().await;
    let zip = staff.get(server.url(&format!("/api/instructor/classes/{class}/recordings.zip"))).send().await.unwrap();
    assert_eq!(zip.status(), 200);
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = archive.file_names().filter_map(Result::ok).find(|n| n.ends_with(&format!("{id}.cast.gz"))).unwrap().to_string();
    assert!(name.starts_with(&format!("ada-{ada}/")), "{name}");
    let mut gz = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name(&name).unwrap(), &mut gz).unwrap();
    assert!(Cast::parse(&server::recordings::cast::decompress(&gz)).unwrap().output().contains("solution-5-typed"));

    // The dashboard shows what the recordings take; the grades count the step's failed checks.
    let dash: Value =
        staff.get(server.url(&format!("/api/instructor/classes/{class}/dashboard"))).send().await.unwrap().json().await.unwrap();
    let row = dash["learners"].as_array().unwrap().iter().find(|r| r["id"] == ada.as_str()).unwrap().clone();
    assert!(row["recording_bytes"].as_u64().unwrap() > 0, "{row}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_full_disk_ends_the_recording_not_the_terminal() {
    if !common::sandboxes_available("recordings-full") {
        return;
    }
    let server = common::TestServer::start("recordings-full", true).await;
    let (_, cookie) = server.learner("Ada").await;
    // The recordings' folder on a 64 KiB file system of its own (unmounted at the end).
    let folder = server.data.path().join("recordings");
    std::fs::create_dir_all(&folder).unwrap();
    nix::mount::mount(Some("tmpfs"), &folder, Some("tmpfs"), nix::mount::MsFlags::empty(), Some("size=64k")).unwrap();
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        }
    }
    let _unmount = Unmount(folder.clone());

    let mut socket = common::ws(&server, &cookie, "/ws/terminal/1?start=1&cols=80&rows=24").await;
    read_until(&mut socket, "attached").await;
    // Incompressible output, far more than the file system holds.
    type_line(&mut socket, "head -c 300000 /dev/urandom | base64 -w 200; echo flood-$((1+1))-over").await;
    read_until(&mut socket, "flood-2-over").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Still typing, still answered.
    for i in 0..3 {
        type_line(&mut socket, &format!("echo still-$((100+{i}))")).await;
        read_until(&mut socket, &format!("still-{}", 100 + i)).await;
    }
    let df = nix::sys::statvfs::statvfs(&folder).unwrap();
    assert!(df.blocks_available() < df.blocks() / 4, "the recording did fill the disk");
}
