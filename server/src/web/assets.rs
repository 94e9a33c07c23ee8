//! The built site's `/pkg` (wasm, JavaScript, CSS): content-hashed names, so cached for a year;
//! precompressed `.br`/`.gz` siblings written by the build are served when the browser takes them.

use axum::http::{HeaderValue, Response, StatusCode, header};
use leptos::prelude::LeptosOptions;
use tower::ServiceBuilder;
use tower_http::services::ServeDir;

pub fn pkg_service(options: &LeptosOptions) -> axum::routing::MethodRouter {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    axum::routing::get_service(ServiceBuilder::new().map_response(cache_forever).service(files))
}

/// Only a file that was found may be cached: a 404 cached for a year would outlive the fix.
fn cache_forever<B>(mut response: Response<B>) -> Response<B> {
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    }
    response
}

/// Browsers ask for /favicon.ico whatever the page links; answer with the SVG icon.
pub async fn favicon() -> impl axum::response::IntoResponse {
    (
        [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../../public/favicon.svg"),
    )
}
