//! A short page of Stacklab's own, for what happens outside the app's pages (a preview that cannot
//! be shown, a sign-in that failed): a title, a sentence, and a way back. Everything is escaped,
//! since the sentence may quote a provider.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub fn notice(status: StatusCode, title: &str, said: &str, back: Option<(&str, &str)>) -> Response {
    let link = back.map(|(href, text)| format!("<p><a href=\"{}\">{}</a></p>", escape(href), escape(text))).unwrap_or_default();
    page(status, title, &format!("<p role=\"alert\">{}</p>{link}", escape(said)))
}

/// A page with `title` and `body` (HTML the caller escaped), never cached.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
        lang = app::i18n::lang().tag(),
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], Body::from(html)).into_response()
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_a_provider_says_is_shown_as_text() {
        assert_eq!(super::escape("<script>\"x\" & 'y'</script>"), "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
    }
}
