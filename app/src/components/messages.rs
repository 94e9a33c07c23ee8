//! Messages from the instructor, on every page a learner has open: the unread ones when the page
//! loads, new ones the moment they are sent. Dismissed ones stay dismissed in this browser.

use leptos::prelude::*;

use crate::class::MessageView;

/// The messages after `after` for the signed-in learner; `None` for anyone else.
#[server(endpoint = "learner/messages")]
pub async fn load_messages(after: i64) -> crate::error::AppResult<Option<Vec<MessageView>>> {
    let (services, parts) = crate::services::request().await?;
    let Some(viewer) = services.viewer(&parts).await else { return Ok(None) };
    Ok(Some(services.messages(&viewer.learner_id, after).await))
}

/// Where this browser remembers the last message dismissed.
#[cfg(feature = "hydrate")]
const READ_KEY: &str = "stacklab-read-message";

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[component]
pub fn Messages() -> impl IntoView {
    let messages = RwSignal::new(Vec::<MessageView>::new());
    let learner = RwSignal::new(false);
    // Only in the browser: the server cannot know what this browser has read.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let read = storage().and_then(|s| s.get_item(READ_KEY).ok().flatten()).and_then(|v| v.parse().ok()).unwrap_or(0i64);
        leptos::task::spawn_local(async move {
            if let Ok(Some(list)) = load_messages(read).await {
                // The learner's own, to staff, are in their help thread, not here.
                messages.set(list.into_iter().filter(|m| !m.from_learner).collect());
                learner.set(true);
            }
        });
    });
    let dismiss = move |id: i64| {
        messages.update(|m| m.retain(|x| x.id != id));
        #[cfg(feature = "hydrate")]
        if let Some(s) = storage() {
            let read = s.get_item(READ_KEY).ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0i64);
            let _ = s.set_item(READ_KEY, &read.max(id).to_string());
        }
    };
    view! {
        <div class="messages" aria-live="polite">
            <For each=move || messages.get() key=|m| m.id let:m>
                <div class="message" role="status" data-message=m.id>
                    <strong>{if m.to_class { t!("message-to-class") } else { t!("message-to-you", sender = m.sender()) }}</strong>
                    <p>{m.body.clone()}</p>
                    <button class="dismiss" aria-label=t!("message-dismiss") on:click=move |_| dismiss(m.id)>"×"</button>
                </div>
            </For>
            <Show when=move || learner.get()>
                <MessageStream messages/>
            </Show>
        </div>
    }
}

/// New messages as they are sent (only learners have this stream).
#[component]
fn MessageStream(messages: RwSignal<Vec<MessageView>>) -> impl IntoView {
    crate::components::live::listen("/api/events".into(), "message", move |data| {
        if let Ok(message) = serde_json::from_str::<MessageView>(&data)
            && !message.from_learner
        {
            messages.update(|m| {
                if !m.iter().any(|x| x.id == message.id) {
                    m.push(message);
                }
            });
        }
    });
}
