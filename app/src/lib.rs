//! The Stacklab user interface: every page and component, rendered on the server (`ssr`) and
//! hydrated in the browser (`hydrate`) from the same code.

pub mod class;
pub mod components;
pub mod error;
pub mod lti;
pub mod poll;
pub mod routes;
pub mod services;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use components::help::HelpCorner;
use components::hydration::HydrationMarker;
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
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <TerminalScript options=options.clone()/>
                <EditorScript options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// xterm.js and Stacklab's terminal module, a content-hashed bundle beside the wasm.
#[component]
fn TerminalScript(options: LeptosOptions) -> impl IntoView {
    let src = format!("/{}/terminal.{}.js", options.site_pkg_dir, asset_hash(&options, "terminal").unwrap_or_default());
    view! { <script type="module" src=src></script> }
}

/// Where the editor's bundle (CodeMirror and Stacklab's editor module) is: the page loads it
/// when the learner first opens the editor, not with every page.
#[component]
fn EditorScript(options: LeptosOptions) -> impl IntoView {
    let src = format!("/{}/editor.{}.js", options.site_pkg_dir, asset_hash(&options, "editor").unwrap_or_default());
    view! { <meta name="stacklab-editor" content=src/> }
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
    components::help::HelpOpen::provide();

    view! {
        <Title text="Stacklab"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Stacklab"</a>
                <span class="spacer"></span>
                <HelpCorner/>
                <HydrationMarker/>
            </header>
            <Messages/>
            <main>
                <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
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
