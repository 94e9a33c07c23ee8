//! The terminal pane: tabs of shells in the learner's sandbox. The xterm.js side (connection,
//! reconnects, resizing, the status banner) is `app/js/terminal.js`; this component lays out the
//! tabs and mounts one terminal per tab once the page is live.

use leptos::prelude::*;

use crate::components::editor::{EDITOR_TAB, EditorPane};
use crate::preferences::Preferences;

/// Terminals a learner may open (the server allows as many).
const MAX_TABS: u32 = 8;

/// The terminals, and the editor showing `folders` (the lab's; empty: the learner's home);
/// `recorded`: the learner is told their terminals are recorded; `preferences`: the learner's
/// own (screen reader mode, switched here).
#[component]
pub fn TerminalPane(
    #[prop(optional)] folders: Vec<String>,
    #[prop(optional)] recorded: bool,
    #[prop(optional)] preferences: Preferences,
) -> impl IntoView {
    let tabs = RwSignal::new(vec![1u32]);
    let active = RwSignal::new(1u32);
    let screen_reader = RwSignal::new(preferences.screen_reader);
    view! {
        <section class="terminal-pane" id="terminal" tabindex="-1" aria-label=t!("terminal")>
            <div class="terminal-tabs">
                // Only tabs in the tab list (what a screen reader counts as "tab 2 of 3"); the
                // buttons after it are not tabs.
                <div class="tab-list" role="tablist" aria-label=t!("terminal-tabs")>
                    <For each=move || tabs.get() key=|t| *t let:tab>
                        <button
                            role="tab"
                            class="terminal-tab"
                            data-tab=tab
                            aria-selected=move || (active.get() == tab).to_string()
                            on:click=move |_| active.set(tab)
                        >
                            {t!("terminal-n", n = tab)}
                        </button>
                    </For>
                    <button
                        role="tab"
                        class="terminal-tab editor-tab"
                        aria-selected=move || (active.get() == EDITOR_TAB).to_string()
                        on:click=move |_| active.set(EDITOR_TAB)
                    >
                        {t!("editor")}
                    </button>
                </div>
                <button
                    class="terminal-tab add"
                    title=t!("terminal-open-another")
                    aria-label=t!("terminal-open-another")
                    disabled=move || { tabs.get().len() as u32 >= MAX_TABS }
                    on:click=move |_| {
                        let next = (1..=MAX_TABS).find(|t| !tabs.get().contains(t));
                        if let Some(tab) = next {
                            tabs.update(|t| t.push(tab));
                            active.set(tab);
                        }
                    }
                >
                    "+"
                </button>
                <ScreenReaderSwitch screen_reader/>
                {recorded.then(|| view! {
                    <a class="recording-note" href="/#recordings" title=t!("terminal-recorded-title")>
                        "● " {t!("terminal-recorded")}
                    </a>
                })}
            </div>
            <p id="terminal-keys" class="visually-hidden">{t!("terminal-keys")}</p>
            <div class="terminal-hosts">
                <For each=move || tabs.get() key=|t| *t let:tab>
                    <TerminalHost tab active screen_reader/>
                </For>
                <EditorPane active folders/>
                <noscript>
                    <p class="muted">{t!("terminal-needs-js")}</p>
                </noscript>
            </div>
        </section>
    }
}

/// xterm.js's screen reader mode for the learner's terminals, on or off, remembered with the
/// learner: their output is then also text a screen reader reads, new lines announced.
#[component]
fn ScreenReaderSwitch(screen_reader: RwSignal<bool>) -> impl IntoView {
    let saved = RwSignal::new(None::<crate::error::AppError>);
    let toggle = move |_| {
        let on = !screen_reader.get_untracked();
        screen_reader.set(on);
        #[cfg(feature = "hydrate")]
        js::when_ready(move || js::set_screen_reader(on));
        leptos::task::spawn_local(async move {
            let result = save_preferences(Preferences { screen_reader: on }).await;
            saved.set(result.err());
        });
    };
    view! {
        <button
            class="terminal-tab screen-reader-switch"
            aria-pressed=move || screen_reader.get().to_string()
            title=t!("screen-reader-title")
            on:click=toggle
        >
            {t!("screen-reader-mode")}
        </button>
        {move || saved.get().map(|error| view! { <crate::error::ErrorNote error doing=t!("cannot-save-setting")/> })}
    }
}

/// Saves the learner's whole set of preferences.
#[server(endpoint = "preferences")]
pub async fn save_preferences(preferences: Preferences) -> crate::error::AppResult<()> {
    let (services, viewer) = crate::services::learner().await?;
    services.save_preferences(&viewer.learner_id, preferences).await
}

#[component]
fn TerminalHost(tab: u32, active: RwSignal<u32>, screen_reader: RwSignal<bool>) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let handle = StoredValue::new_local(None::<js::TerminalHandle>);
        Effect::new(move |_| {
            if let Some(element) = host.get()
                && handle.with_value(|h| h.is_none())
            {
                let screen_reader = screen_reader.get_untracked();
                js::when_ready(move || {
                    let options = js::options(tab, None, false);
                    let _ = js_sys::Reflect::set(&options, &"screenReader".into(), &screen_reader.into());
                    handle.set_value(Some(js::mount(&element, &options)));
                });
            }
        });
        // Showing a tab refits its terminal to the pane and focuses it.
        Effect::new(move |_| {
            if active.get() == tab {
                handle.with_value(|h| {
                    if let Some(h) = h {
                        h.focus();
                    }
                });
            }
        });
        on_cleanup(move || {
            handle.update_value(|h| {
                if let Some(h) = h.take() {
                    h.dispose();
                }
            })
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = screen_reader;
    view! {
        <div
            class="terminal-host"
            node_ref=host
            data-tab=tab
            data-status="connecting"
            hidden=move || active.get() != tab
        ></div>
    }
}

/// The instructor's view of a learner's terminal: read-only, or typing once `control` is set
/// (the page asks for confirmation first). Reconnects when the learner, tab or control change.
#[component]
pub fn WatchTerminal(
    #[prop(into)] learner: Signal<String>,
    #[prop(into)] tab: Signal<u32>,
    #[prop(into)] control: Signal<bool>,
) -> impl IntoView {
    let path = Signal::derive(move || format!("/ws/instructor/learners/{}/terminal/{}", learner.get(), tab.get()));
    watched(path, tab, control)
}

/// The terminal the instructor shows the class (spotlight), read-only, on a learner's page.
#[component]
pub fn SpotlightTerminal(tab: u32) -> impl IntoView {
    watched(Signal::derive(|| "/ws/spotlight".to_string()), Signal::derive(move || tab), Signal::derive(|| false))
}

/// Another person's terminal at `path`, shown here; reconnects when the path, tab or control
/// change.
fn watched(path: Signal<String>, tab: Signal<u32>, control: Signal<bool>) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let handle = StoredValue::new_local(None::<js::TerminalHandle>);
        Effect::new(move |_| {
            let (path, tab, control) = (path.get(), tab.get(), control.get());
            let Some(element) = host.get() else { return };
            handle.update_value(|h| {
                if let Some(h) = h.take() {
                    h.dispose();
                }
            });
            js::when_ready(move || {
                let options = js::options(tab, Some(&path), control);
                handle.set_value(Some(js::mount(&element, &options)));
            });
        });
        on_cleanup(move || {
            handle.update_value(|h| {
                if let Some(h) = h.take() {
                    h.dispose();
                }
            })
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (path, tab, control);
    view! { <div class="terminal-host watch" node_ref=host data-status="connecting"></div> }
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub type TerminalHandle;

        #[wasm_bindgen(js_namespace = StacklabTerminal, js_name = mount)]
        fn mount_js(element: &web_sys::HtmlElement, options: &JsValue) -> TerminalHandle;

        #[wasm_bindgen(method)]
        pub fn focus(this: &TerminalHandle);

        /// Screen reader mode on or off in every terminal of the page, and in those opened later.
        #[wasm_bindgen(js_namespace = StacklabTerminal, js_name = setScreenReader)]
        pub fn set_screen_reader(on: bool);

        #[wasm_bindgen(method)]
        pub fn dispose(this: &TerminalHandle);
    }

    pub fn mount(element: &web_sys::HtmlDivElement, options: &JsValue) -> TerminalHandle {
        mount_js(element.unchecked_ref(), options)
    }

    /// A learner's own terminal (`watch` is `None`), or the instructor watching the learner's
    /// terminal at `watch` (a WebSocket path), typing into it when `control` is set.
    pub fn options(tab: u32, watch: Option<&str>, control: bool) -> JsValue {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"tab".into(), &tab.into());
        if let Some(path) = watch {
            let _ = js_sys::Reflect::set(&options, &"path".into(), &path.into());
            let _ = js_sys::Reflect::set(&options, &"watch".into(), &true.into());
            let _ = js_sys::Reflect::set(&options, &"control".into(), &control.into());
        }
        options.into()
    }

    /// Runs `f` once terminal.js has loaded, loading it first if no one has.
    pub fn when_ready(f: impl FnOnce() + 'static) {
        crate::components::scripts::TERMINAL.when_ready(f);
    }
}
