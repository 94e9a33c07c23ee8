//! The editor's files through the server, in real sandboxes: open, save (mode and owner kept,
//! atomically), a change made in the terminal meanwhile (by vim) reported as a conflict, binary
//! and large files refused, new files, folders listed, and nobody reaching another learner's.

mod common;

use sandbox::ExecRequest;

async fn sh(server: &common::TestServer, learner: &str, script: &str) -> String {
    let out = server.state.sandboxes.clone().unwrap().exec(learner, ExecRequest::script(script)).await.unwrap();
    assert!(out.success(), "{script}: {out:?}");
    out.stdout_text()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn the_editor_opens_saves_and_notices_changes() {
    if !common::sandboxes_available("files") {
        return;
    }
    let server = common::TestServer::start("files", true).await;
    let (ana, cookie) = server.learner("Ana").await;
    let (_, ben) = server.learner("Ben").await;
    let client = server.client(&cookie);
    let url = |path: &str| server.url(&format!("/api/files?path={path}"));
    sh(&server, &ana, "mkdir -p /root/app && printf 'FROM scratch\\n' > /root/app/Dockerfile && chmod 640 /root/app/Dockerfile && chown nobody:nogroup /root/app/Dockerfile").await;

    let opened: serde_json::Value = client.get(url("/root/app/Dockerfile")).send().await.unwrap().json().await.unwrap();
    assert_eq!(opened["text"], "FROM scratch\n");
    assert_eq!((opened["mode"].as_str(), opened["owner"].as_str()), (Some("640"), Some("nobody")));
    let version = opened["version"].as_str().unwrap().to_string();
    // The instructor's panel says which file the learner has open.
    let instructor = server.client(&server.instructor().await);
    let class = server.class_id().await;
    let dashboard: serde_json::Value =
        instructor.get(server.url(&format!("/api/instructor/classes/{class}/dashboard"))).send().await.unwrap().json().await.unwrap();
    let row = dashboard["learners"].as_array().unwrap().iter().find(|r| r["id"] == ana.as_str()).unwrap().clone();
    assert_eq!(row["sandbox"]["editing"], "/root/app/Dockerfile");

    // Saved over the version it was opened at: the new text, the same mode and owner, no
    // temporary file left beside it.
    let saved =
        client.put(url("/root/app/Dockerfile")).header("if-match", format!("\"{version}\"")).body("FROM debian\n").send().await.unwrap();
    assert_eq!(saved.status(), 200);
    let saved: serde_json::Value = saved.json().await.unwrap();
    assert_ne!(saved["version"].as_str().unwrap(), version);
    assert_eq!(
        sh(&server, &ana, "cat /root/app/Dockerfile; stat -c '%a %U %G' /root/app/Dockerfile; ls -A /root/app").await,
        "FROM debian\n640 nobody nogroup\nDockerfile\n"
    );

    // vim changes it in the terminal; saving over the version the editor holds is refused.
    let mine = saved["version"].as_str().unwrap().to_string();
    sh(&server, &ana, "vim -u NONE -es -c 'normal GoEXPOSE 8080' -c wq /root/app/Dockerfile").await;
    let stale =
        client.put(url("/root/app/Dockerfile")).header("if-match", format!("\"{mine}\"")).body("FROM alpine\n").send().await.unwrap();
    assert_eq!(stale.status(), 409);
    assert!(stale.text().await.unwrap().contains("changed since you opened it"));
    assert_eq!(sh(&server, &ana, "cat /root/app/Dockerfile").await, "FROM debian\nEXPOSE 8080\n", "vim's change is kept");

    // New files: made with If-None-Match, refused when one exists already.
    let new = client.put(url("/root/app/main.go")).header("if-none-match", "*").body("package main\n").send().await.unwrap();
    assert_eq!(new.status(), 200);
    assert_eq!(sh(&server, &ana, "stat -c '%a %U' /root/app/main.go").await, "644 root\n");
    let again = client.put(url("/root/app/main.go")).header("if-none-match", "*").body("x\n").send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(client.put(url("/root/app/main.go")).body("x\n").send().await.unwrap().status(), 428);
    assert_eq!(client.put(url("/nowhere/x.txt")).header("if-none-match", "*").body("x\n").send().await.unwrap().status(), 404);

    // What the editor refuses, and says why.
    sh(
        &server,
        &ana,
        "head -c 64 /dev/urandom > /root/blob; printf 'a\\0b' > /root/nul.txt; head -c 2M /dev/zero | tr '\\0' a > /root/big.txt",
    )
    .await;
    for (path, status, said) in [
        ("/root/blob", 415, "not text"),
        ("/root/nul.txt", 415, "not text"),
        ("/root/big.txt", 413, "2097152 bytes"),
        ("/root/none", 404, "does not exist"),
        ("/root/app", 404, "not a regular file"),
        ("root/app/Dockerfile", 400, "full path"),
    ] {
        let response = client.get(url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert!(response.text().await.unwrap().contains(said), "{path}");
    }

    let listed: serde_json::Value = client.get(server.url("/api/files/list?path=/root/app")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Dockerfile", "main.go"]);

    // Another learner's editor is on their own sandbox; a stranger has none.
    assert_eq!(server.client(&ben).get(url("/root/app/Dockerfile")).send().await.unwrap().status(), 404);
    assert_eq!(server.client("").get(url("/root/app/Dockerfile")).send().await.unwrap().status(), 401);
}

/// The same files on the Docker backend, through its exec (scripts/test starts the engine).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine with the lab image: run with --include-ignored (scripts/test starts one)"]
async fn the_editor_works_on_the_docker_backend() {
    let (Ok(socket), Ok(image)) = (std::env::var("STACKLAB_DOCKER_TEST_SOCKET"), std::env::var("STACKLAB_DOCKER_IMAGE")) else {
        assert!(std::env::var("STACKLAB_REQUIRE_DOCKER").is_err(), "STACKLAB_DOCKER_TEST_SOCKET and STACKLAB_DOCKER_IMAGE are not set");
        eprintln!("skipped: no Docker engine for tests (scripts/test starts one)");
        return;
    };
    let config = sandbox::docker::DockerConfig { socket: Some(socket), image, prefix: "stacklab-files".into(), runtime: None };
    let docker = std::sync::Arc::new(sandbox::docker::DockerBackend::open(config).await.unwrap());
    let sandboxes = server::sandboxes::Sandboxes::open(docker.clone(), common::test_policy()).await.unwrap();
    common::editor_round_trip("docker", &sandboxes, "ana").await;
    docker.remove_all().await.unwrap();
}
