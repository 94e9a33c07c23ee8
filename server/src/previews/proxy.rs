//! One request from a browser to a learner's service, over a connection already made inside
//! the learner's sandbox (`Backend::connect`): HTTP/1.1 to the service, WebSockets (and any
//! other upgrade) spliced through once the service agrees to switch. Stacklab's own cookies
//! (the session's, `stacklab`, and share links', `stacklab-share-…`) never reach the service,
//! and the service cannot set them.

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Request, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;
use sandbox::Connection;

use super::Held;

/// Headers that describe one hop, not the request: a proxy does not pass them on (RFC 9110
/// 7.6.1). `Connection` and `Upgrade` are put back for an upgrade.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The service closed the connection or answered something that is not HTTP.
    #[error("the service did not answer HTTP: {0}")]
    NotHttp(hyper::Error),
}

/// Sends `request` to the service on `stream` and returns its answer. `cookie` is the name of
/// Stacklab's cookie; `held` keeps the preview counted as in use while an upgraded connection
/// lives.
pub async fn forward(stream: Connection, mut request: Request<Body>, cookie: &str, held: Held) -> Result<Response<Body>, ProxyError> {
    let upgrade = request.headers().get(header::UPGRADE).cloned();
    // The browser's HTTP version is this hop's; the service is spoken to in HTTP/1.1, and its
    // answer (HTTP/1.0 from some small servers) goes back in the browser's version.
    let version = request.version();
    *request.version_mut() = Version::HTTP_11;
    let browser_side = upgrade.is_some().then(|| hyper::upgrade::on(&mut request));
    scrub_request(request.headers_mut(), cookie, upgrade.as_ref());

    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(ProxyError::NotHttp)?;
    tokio::spawn(async move {
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!("preview connection: {e}");
        }
    });
    let mut response = sender.send_request(request).await.map_err(ProxyError::NotHttp)?;

    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(browser_side) = browser_side
    {
        let service_side = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            let _held = held;
            let (Ok(browser), Ok(service)) = tokio::join!(browser_side, service_side) else { return };
            let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(browser), &mut TokioIo::new(service)).await;
        });
        scrub_response(response.headers_mut(), cookie, true);
    } else {
        scrub_response(response.headers_mut(), cookie, false);
    }
    *response.version_mut() = version;
    Ok(response.map(Body::new))
}

/// The request as the service sees it: no hop-by-hop headers (but the upgrade asked for), and
/// no Stacklab cookie among the browser's cookies.
fn scrub_request(headers: &mut HeaderMap, cookie: &str, upgrade: Option<&HeaderValue>) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    if let Some(upgrade) = upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, upgrade.clone());
    }
    let kept: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && !stacklabs(cookie_name(pair), cookie))
        .map(str::to_string)
        .collect();
    headers.remove(header::COOKIE);
    if !kept.is_empty()
        && let Ok(value) = HeaderValue::from_str(&kept.join("; "))
    {
        headers.insert(header::COOKIE, value);
    }
}

/// The answer as the browser sees it: a `Set-Cookie` for Stacklab's cookie is dropped (a
/// service must not log its viewer out, or in as someone else).
fn scrub_response(headers: &mut HeaderMap, cookie: &str, upgraded: bool) {
    let set: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| v.to_str().map_or(true, |v| !stacklabs(cookie_name(v), cookie)))
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for value in set {
        headers.append(header::SET_COOKIE, value);
    }
    if !upgraded {
        for name in &HOP_BY_HOP {
            headers.remove(name);
        }
    }
}

/// Whether the cookie `name` is Stacklab's: `cookie` itself or `cookie-…`.
fn stacklabs(name: &str, cookie: &str) -> bool {
    name.strip_prefix(cookie).is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// The name in `name=value` (or in a `Set-Cookie` value).
fn cookie_name(pair: &str) -> &str {
    pair.split_once('=').map_or(pair, |(name, _)| name).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacklab_cookie_is_taken_out_of_requests() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("theme=dark; stacklab=signed-token"));
        headers.append(header::COOKIE, HeaderValue::from_static("stacklab=again;app=1; stacklab-share-20001=token; stacklabs=kept"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, x-secret"));
        scrub_request(&mut headers, "stacklab", None);
        assert_eq!(headers.get_all(header::COOKIE).iter().collect::<Vec<_>>(), ["theme=dark; app=1; stacklabs=kept"]);
        assert!(headers.get(header::CONNECTION).is_none());

        let mut only = HeaderMap::new();
        only.insert(header::COOKIE, HeaderValue::from_static("stacklab=x"));
        scrub_request(&mut only, "stacklab", None);
        assert!(only.get(header::COOKIE).is_none());
    }

    #[test]
    fn upgrades_are_asked_for_again() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        let websocket = HeaderValue::from_static("websocket");
        scrub_request(&mut headers, "stacklab", Some(&websocket));
        assert_eq!(headers[header::CONNECTION], "upgrade");
        assert_eq!(headers[header::UPGRADE], "websocket");
    }

    #[test]
    fn services_cannot_set_stacklab_cookie() {
        let mut headers = HeaderMap::new();
        headers.append(header::SET_COOKIE, HeaderValue::from_static("stacklab=forged; Path=/"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("session=app; HttpOnly"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static(" stacklab =spaced"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("stacklab-share-20001=chosen-by-the-app"));
        scrub_response(&mut headers, "stacklab", false);
        assert_eq!(headers.get_all(header::SET_COOKIE).iter().collect::<Vec<_>>(), ["session=app; HttpOnly"]);
    }
}
