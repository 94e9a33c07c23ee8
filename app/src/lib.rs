//! The Stacklab user interface: every page and component, rendered on the server (`ssr`) and
//! hydrated in the browser (`hydrate`) from the same code.

#[macro_use]
pub mod i18n;
pub mod class;
pub mod components;
pub mod error;
pub mod lti;
pub mod poll;
pub mod preferences;
pub mod routes;
pub mod services;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use components::help::HelpCorner;
use components::hydration::HydrationMarker;
use components::language::LanguageSwitch;
use components::messages::Messages;
use routes::deck::DeckPage;
use routes::home::HomePage;
use routes::instructor::InstructorPage;
use routes::instructor::dashboard::DashboardRoute;
use routes::join::JoinPage;
use routes::lab::LabPage;
use routes::present::PresentPage;

/// The HTML document around the app; only ever rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = i18n::provide();
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <InlineStylesheet options=options.clone()/>
                <ScriptAddress options=options.clone() key="terminal"/>
                <ScriptAddress options=options.clone() key="editor"/>
                <HydrationScripts options/>
                <script type="application/json" id="stacklab-words" inner_html=i18n::script_words(lang)></script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The whole stylesheet in the head (about 40 KB, 9 KB compressed with the page): as a file of
/// its own it held the first paint back by a round trip, which on a slow phone link was most of
/// what Lighthouse took off the pages (docs/src/benchmarks.md: pages). Client-side navigation
/// never fetches the page again, so no cache is lost.
#[component]
fn InlineStylesheet(options: LeptosOptions) -> impl IntoView {
    view! { <style inner_html=stylesheet(&options)></style> }
}

/// The built stylesheet's text, read once per site (server side only; empty without a site).
fn stylesheet(options: &LeptosOptions) -> std::sync::Arc<str> {
    #[cfg(feature = "ssr")]
    {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock};
        static READ: OnceLock<Mutex<HashMap<String, Arc<str>>>> = OnceLock::new();
        let path = format!("{}/{}", options.site_root, asset_path(options, "css", "stacklab", "css"));
        let mut read = READ.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(css) = read.get(&path) {
            return css.clone();
        }
        // Not kept when missing: a site built after the server started is read then.
        let Ok(css) = std::fs::read_to_string(&path) else { return Arc::from("") };
        read.entry(path).or_insert(Arc::from(css)).clone()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = options;
        std::sync::Arc::from("")
    }
}

/// Where one of the page's own scripts is (`key` in hash.txt: `terminal`, `editor`): a meta tag
/// the app reads when a component first needs the script (components/scripts.rs), so pages
/// without a terminal or an editor never load them.
#[component]
fn ScriptAddress(options: LeptosOptions, key: &'static str) -> impl IntoView {
    let src = format!("/{}", asset_path(&options, key, key, "js"));
    view! { <meta name=format!("stacklab-{key}") content=src/> }
}

/// Where a built file is under the site: `pkg/NAME.HASH.EXT` with the hash scripts/build wrote
/// for `key`, or `pkg/NAME.EXT` in a site built without hashes.
fn asset_path(options: &LeptosOptions, key: &str, name: &str, ext: &str) -> String {
    match asset_hash(options, key) {
        Some(hash) => format!("{}/{name}.{hash}.{ext}", options.site_pkg_dir),
        None => format!("{}/{name}.{ext}", options.site_pkg_dir),
    }
}

/// The content hash scripts/build wrote for `key` in hash.txt (server side only).
fn asset_hash(options: &LeptosOptions, key: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let text = std::fs::read_to_string(options.hash_file.as_ref()).ok()?;
        text.lines().find_map(|l| l.strip_prefix(&format!("{key}: ")).map(|h| h.trim().to_string()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (options, key);
        None
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    i18n::provide();
    components::help::HelpOpen::provide();

    view! {
        <Title text="Stacklab"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Stacklab"</a>
                <span class="spacer"></span>
                <LanguageSwitch/>
                <HelpCorner/>
                <HydrationMarker/>
            </header>
            <Messages/>
            <main>
                <Routes fallback=|| view! { <p class="not-found">{t!("page-not-found")}</p> }>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("join") view=JoinPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("instructor") view=InstructorPage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("instructor"), StaticSegment("classes"), ParamSegment("id"))
                        view=DashboardRoute
                        ssr=SsrMode::Async
                    />
                    <Route path=(StaticSegment("decks"), ParamSegment("id")) view=DeckPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("decks"), ParamSegment("id"), ParamSegment("slide")) view=DeckPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("decks"), ParamSegment("id"), StaticSegment("present")) view=PresentPage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("decks"), ParamSegment("id"), StaticSegment("present"), ParamSegment("slide"))
                        view=PresentPage
                        ssr=SsrMode::Async
                    />
                    <Route path=(StaticSegment("labs"), ParamSegment("id")) view=LabPage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("labs"), ParamSegment("id"), StaticSegment("steps"), ParamSegment("step"))
                        view=LabPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}
