//! The language switch in the top bar: a link per language the UI ships in, each named in its
//! own language; the server keeps the choice (server/src/web/language.rs) and sends the reader
//! back to this page.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::{self, Lang};

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let location = use_location();
    let current = i18n::lang();
    let back = move || format!("{}{}", location.pathname.get(), location.search.get());
    let links = Lang::ALL.map(|lang| {
        if lang == current {
            view! { <span class="current" lang=lang.tag() aria-current="true">{lang.name()}</span> }.into_any()
        } else {
            let href = move || format!("/language/{}?back={}", lang.tag(), encode(&back()));
            // rel="external": the router must not take the click; the server sets the cookie.
            view! { <a href=href rel="external" hreflang=lang.tag() lang=lang.tag()>{lang.name()}</a> }.into_any()
        }
    });
    view! { <nav class="language" aria-label=t!("language-switch")>{links.into_iter().collect_view()}</nav> }
}

/// A path as a query value: everything but unreserved characters and `/` percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_with_a_query_survives_as_one_value() {
        assert_eq!(super::encode("/labs/netns?tab=2&x=é"), "/labs/netns%3Ftab%3D2%26x%3D%C3%A9");
    }
}
