//! The language switch at the top of every page: `GET /language/de?back=/labs/netns` keeps the
//! reader's choice in a cookie (a year, this browser) and sends them back to the page they were
//! on, now in that language. A plain link, so it works before the page is live and without a
//! script.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use app::i18n::{COOKIE, Lang};

use super::AppState;

/// Every request is served in its language: the server's sentences (errors, notices) too.
pub async fn of_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let headers = request.headers().clone();
    app::i18n::in_request_language(&headers, next.run(request)).await
}

pub fn router() -> Router<AppState> {
    Router::new().route("/language/{tag}", get(choose))
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

async fn choose(State(state): State<AppState>, Path(tag): Path<String>, Query(q): Query<Back>, jar: CookieJar) -> Response {
    let Some(lang) = Lang::from_tag(&tag) else {
        let known: Vec<&str> = Lang::ALL.iter().map(|l| l.tag()).collect();
        let said = app::t!("srv-no-language", tag = format!("{tag:?}"), known = known.join(", "));
        return super::notice::notice(StatusCode::NOT_FOUND, &app::t!("srv-no-language-title"), &said, Some(("/", &app::t!("srv-home"))));
    };
    let cookie = Cookie::build((COOKIE, lang.tag()))
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .build();
    (jar.add(cookie), Redirect::to(local_path(q.back.as_deref()))).into_response()
}

/// Where to go back to: a path on this server, never another site ("//evil", "/\evil" and full
/// addresses are the home page).
fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.contains(['\r', '\n']) => p,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn back_stays_on_this_server() {
        assert_eq!(local_path(Some("/labs/netns/steps/2?x=1")), "/labs/netns/steps/2?x=1");
        for away in ["//evil.example/", "/\\evil.example", "https://evil.example/", "labs", "/a\r\nSet-Cookie: x=1"] {
            assert_eq!(local_path(Some(away)), "/", "{away}");
        }
        assert_eq!(local_path(None), "/");
    }
}
