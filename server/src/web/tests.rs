use std::path::PathBuf;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use super::*;

async fn state(site: &std::path::Path) -> AppState {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")).join("../labs/workshop");
    let course = labs::load::load_course(&root).expect("the workshop content loads");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/test.txt"), "asset").unwrap();
    let store = Arc::new(crate::store::SqlStore::memory().await.unwrap());
    AppState::new(Arc::new(course), store, Key::generate(), site, "127.0.0.1:0".parse().unwrap(), CancellationToken::new())
}

async fn get(uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    // Each request its own site folder: tests run in parallel and rewrite the file.
    let site = tempfile::tempdir().unwrap();
    let response = router(state(site.path()).await).oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 10 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn home_page_lists_sessions_and_labs_server_side() {
    let (status, _, html) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Bare metal to VMs"), "{html}");
    assert!(html.contains("From containers to Kubernetes"));
    assert!(html.contains("Is this a VM?"));
    assert!(html.contains("data-testid=\"hydration\""));
}

#[tokio::test]
async fn health_answers() {
    let (status, _, body) = get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok");
}

#[tokio::test]
async fn assets_are_cached_but_misses_are_not() {
    let (status, headers, body) = get("/pkg/test.txt").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "asset");
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");

    let (status, headers, _) = get("/pkg/missing.wasm").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers.get("cache-control").is_none());
}

#[tokio::test]
async fn unknown_page_is_404() {
    let (status, _, _) = get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
