//! A terminal recording played back in the page (`app/js/replay.js`, in the terminal bundle):
//! the learner's own, or staff replaying the part of a learner's that led to a step.

use leptos::prelude::*;

use crate::error::AppResult;
use crate::services::RecordingInfo;

/// The signed-in learner's recordings, oldest first.
#[server(endpoint = "my-recordings")]
pub async fn my_recordings() -> AppResult<Vec<RecordingInfo>> {
    let (services, viewer) = crate::services::learner().await?;
    Ok(services.recordings(&viewer.learner_id).await)
}

/// The learner's own recordings: each to play here or download (`asciinema play` reads it).
#[component]
pub fn MyRecordings() -> impl IntoView {
    let list = RwSignal::new(None::<Vec<RecordingInfo>>);
    let playing = RwSignal::new(None::<String>);
    // Read when first opened (never during server rendering).
    let load = move |_| {
        if list.with_untracked(Option::is_none) {
            leptos::task::spawn_local(async move { list.set(Some(my_recordings().await.unwrap_or_default())) });
        }
    };
    view! {
        <details class="my-recordings">
            <summary on:click=load>{t!("recordings-yours")}</summary>
            {move || match list.get() {
                None => view! { <p class="muted">{t!("loading")}</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="muted">{t!("recordings-none")}</p> }.into_any(),
                Some(list) => view! {
                    <ul>
                        {list.into_iter().rev().map(|r| {
                            let play = format!("/api/recordings/{}", r.id);
                            view! {
                                <li class="recording" data-recording=r.id.clone()>
                                    <crate::components::time::LocalTime secs=r.started_at/>
                                    {format!(" · {} · {} ", t!("recording-terminal", tab = r.tab), crate::class::short_bytes(r.bytes))}
                                    <button class="button small secondary" on:click=move |_| playing.set(Some(play.clone()))>{t!("play")}</button>
                                    " "
                                    <a href=format!("/api/recordings/{}?download=1", r.id) download>{t!("download")}</a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            <ReplayPlayer src=playing/>
        </details>
    }
}

/// Plays the asciicast at `src` (nothing while `None`); a new source starts a new player.
#[component]
pub fn ReplayPlayer(#[prop(into)] src: Signal<Option<String>>) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let handle = StoredValue::new_local(None::<js::ReplayHandle>);
        let drop_player = move || {
            handle.update_value(|h| {
                if let Some(h) = h.take() {
                    h.dispose();
                }
            })
        };
        Effect::new(move |_| {
            let src = src.get();
            let Some(element) = host.get() else { return };
            drop_player();
            if let Some(src) = src {
                crate::components::scripts::TERMINAL.when_ready(move || {
                    handle.set_value(Some(js::mount(&element, &src)));
                });
            }
        });
        on_cleanup(drop_player);
    }
    view! { <div class="replay" node_ref=host hidden=move || src.with(Option::is_none)></div> }
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub type ReplayHandle;

        #[wasm_bindgen(js_namespace = StacklabTerminal, js_name = replay)]
        fn replay_js(element: &web_sys::HtmlElement, options: &JsValue) -> ReplayHandle;

        #[wasm_bindgen(method)]
        pub fn dispose(this: &ReplayHandle);
    }

    pub fn mount(element: &web_sys::HtmlDivElement, src: &str) -> ReplayHandle {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"src".into(), &src.into());
        replay_js(element.unchecked_ref(), &options.into())
    }
}
