//! One-time join codes on the instructor's dashboard: make a batch, see which were used and by
//! whom, print them or download them as CSV.

use leptos::prelude::*;

use crate::class::OneTimeCodeView;
use crate::error::AppResult;

#[server(endpoint = "instructor/codes")]
pub async fn load_codes(class: String) -> AppResult<Vec<OneTimeCodeView>> {
    let (services, who) = crate::services::staff().await?;
    services.one_time_codes(&who, &class).await
}

#[server(endpoint = "instructor/make-codes")]
pub async fn make_codes(class: String, count: u32) -> AppResult<Vec<OneTimeCodeView>> {
    let (services, who) = crate::services::staff().await?;
    services.make_codes(&who, &class, count).await
}

#[component]
pub fn OneTimeCodes(class: String) -> impl IntoView {
    let codes = RwSignal::new(Vec::<OneTimeCodeView>::new());
    let count = RwSignal::new(String::from("10"));
    let error = RwSignal::new(None::<String>);
    let load = {
        let class = class.clone();
        move || {
            let class = class.clone();
            leptos::task::spawn_local(async move {
                match load_codes(class).await {
                    Ok(list) => codes.set(list),
                    Err(e) => error.set(Some(e.text())),
                }
            });
        }
    };
    let make = {
        let class = class.clone();
        move |e: leptos::ev::SubmitEvent| {
            e.prevent_default();
            let Ok(n) = count.get_untracked().trim().parse::<u32>() else {
                error.set(Some(t!("codes-not-a-number")));
                return;
            };
            let class = class.clone();
            leptos::task::spawn_local(async move {
                match make_codes(class, n).await {
                    Ok(made) => {
                        error.set(None);
                        codes.update(|c| c.extend(made));
                    }
                    Err(e) => error.set(Some(e.text())),
                }
            });
        }
    };
    let csv = format!("/api/instructor/classes/{class}/codes.csv");
    view! {
        // Read when opened: who used which code changes as learners join.
        <details class="one-time-codes" on:toggle=move |_| load()>
            <summary>{t!("codes")}</summary>
            <p class="muted">{t!("codes-intro")}</p>
            <form class="inline" on:submit=make>
                <label>{t!("codes-make-before")} " " <input class="spares-input" type="number" min="1" max="1000" bind:value=count/> " " {t!("codes-make-after")}</label>
                <button class="button small" type="submit">{t!("codes-make")}</button>
                <a class="button small secondary" href=csv download>"CSV"</a>
                <button class="button small secondary" type="button" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    if let Some(w) = web_sys::window() {
                        let _ = w.print();
                    }
                }>{t!("print")}</button>
            </form>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <ul class="code-list">
                <For each=move || codes.get() key=|c| (c.code.clone(), c.used_by.clone()) let:c>
                    <li data-used=c.used_by.is_some().to_string()>
                        <code class="one-time-code">{c.code.clone()}</code>
                        {c.used_by.clone().map(|who| view! { <span class="muted">{format!(" {}", t!("codes-used-by", name = if who.is_empty() { t!("codes-learner-gone") } else { who }))}</span> })}
                    </li>
                </For>
            </ul>
        </details>
    }
}
