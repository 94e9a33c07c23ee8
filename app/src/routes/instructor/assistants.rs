//! The class's teaching assistants, on the instructor's dashboard: add one by name (their login
//! link is shown once, to pass on), remove one (their sessions end).

use leptos::prelude::*;

use crate::class::AssistantView;
use crate::error::AppResult;

#[server(endpoint = "instructor/assistants")]
pub async fn load_assistants(class: String) -> AppResult<Vec<AssistantView>> {
    let (services, who) = crate::services::staff().await?;
    services.assistants(&who, &class).await
}

#[server(endpoint = "instructor/add-assistant")]
pub async fn add_assistant(class: String, name: String) -> AppResult<AssistantView> {
    let (services, who) = crate::services::staff().await?;
    services.add_assistant(&who, &class, &name).await
}

#[server(endpoint = "instructor/remove-assistant")]
pub async fn remove_assistant(id: String) -> AppResult<()> {
    let (services, who) = crate::services::staff().await?;
    services.remove_assistant(&who, &id).await
}

#[component]
pub fn Assistants(class: String) -> impl IntoView {
    let list = RwSignal::new(Vec::<AssistantView>::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // In the browser only: the server renders the list empty (the links are secrets anyway).
    #[cfg(feature = "hydrate")]
    {
        let class = class.clone();
        leptos::task::spawn_local(async move {
            if let Ok(found) = load_assistants(class).await {
                list.set(found);
            }
        });
    }
    let add = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (class, who) = (class.clone(), name.get_untracked());
        leptos::task::spawn_local(async move {
            match add_assistant(class, who).await {
                Ok(added) => {
                    error.set(None);
                    name.set(String::new());
                    list.update(|l| l.push(added));
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let remove = move |id: String| {
        leptos::task::spawn_local(async move {
            match remove_assistant(id.clone()).await {
                Ok(()) => list.update(|l| l.retain(|a| a.id != id)),
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    view! {
        <details class="assistants">
            <summary>{t!("assistants")}</summary>
            <p class="muted">
                {t!("assistants-intro")}
            </p>
            <ul class="assistant-list">
                <For each=move || list.get() key=|a| (a.id.clone(), a.link.is_some()) let:a>
                    {
                        let id = a.id.clone();
                        let link = a.link.clone().map(|path| {
                            #[cfg(feature = "hydrate")]
                            let path = web_sys::window().and_then(|w| w.location().origin().ok()).map(|o| format!("{o}{path}")).unwrap_or(path);
                            view! {
                                <input class="assistant-link" type="text" readonly value=path aria-label=t!("assistant-link", name = a.name.clone())/>
                                <span class="muted">" " {t!("assistant-link-once")}</span>
                            }
                        });
                        view! {
                            <li data-assistant=a.id.clone()>
                                <strong>{a.name.clone()}</strong>
                                " "
                                {link}
                                " "
                                <button class="button small secondary" on:click=move |_| remove(id.clone())>{t!("remove")}</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="inline" on:submit=add>
                <label class="visually-hidden" for="assistant-name">{t!("assistant-name")}</label>
                <input id="assistant-name" placeholder=t!("assistant-name") maxlength="60" bind:value=name/>
                <button class="button small" type="submit">{t!("assistant-add")}</button>
            </form>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </details>
    }
}
