//! Cross-site request forgery and WebSocket hijacking: a request that changes something (or opens
//! a WebSocket) must come from a page of this server. Browsers say where a request comes from in
//! `Origin` (and `Sec-Fetch-Site`); anything else is refused. Non-browser clients that send
//! neither header are let through: they hold no victim's cookie.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Where other sites post by design: an LMS's LTI login initiation and launch. Each proves itself
/// otherwise (a launch is a token the LMS signed, for a state issued here and used once).
const POSTED_FROM_ELSEWHERE: [&str; 2] = ["/lti/login", "/lti/launch"];

pub async fn same_origin(request: Request, next: Next) -> Response {
    if posted_from_elsewhere(&request) {
        return next.run(request).await;
    }
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let websocket = request.headers().get(header::UPGRADE).is_some();
    if (changes_state || websocket) && !from_this_site(&request) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    next.run(request).await
}

fn posted_from_elsewhere(request: &Request) -> bool {
    POSTED_FROM_ELSEWHERE.contains(&request.uri().path()) && request.headers().get(header::UPGRADE).is_none()
}

fn from_this_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && (site == "cross-site" || site == "same-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    // "http://host:port" or "https://host:port" must name this very host.
    origin.split_once("://").map(|(_, rest)| rest) == Some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request {
        request_to("/api/join", method, headers)
    }

    fn request_to(path: &str, method: Method, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn origins() {
        assert!(from_this_site(&request(Method::POST, &[("host", "lab:3000"), ("origin", "http://lab:3000")])));
        assert!(!from_this_site(&request(Method::POST, &[("host", "lab:3000"), ("origin", "http://evil.example")])));
        assert!(!from_this_site(&request(Method::POST, &[("host", "lab:3000"), ("origin", "http://lab:3000.evil")])));
        assert!(!from_this_site(&request(Method::POST, &[("host", "lab:3000"), ("sec-fetch-site", "cross-site")])));
        assert!(from_this_site(&request(Method::POST, &[("host", "lab:3000")])));
    }

    #[test]
    fn only_the_lms_entries_take_posts_from_other_sites() {
        let lms = [("host", "lab:3000"), ("origin", "https://moodle.school.test"), ("sec-fetch-site", "cross-site")];
        assert!(posted_from_elsewhere(&request_to("/lti/launch", Method::POST, &lms)));
        assert!(posted_from_elsewhere(&request_to("/lti/login", Method::POST, &lms)));
        assert!(!posted_from_elsewhere(&request_to("/lti/deep-link", Method::POST, &lms)), "the choice is posted from our own page");
        assert!(!posted_from_elsewhere(&request_to("/lti/launch/../api/join", Method::POST, &lms)));
        assert!(!posted_from_elsewhere(&request_to("/lti/launch", Method::GET, &[("upgrade", "websocket")])));
    }
}
