//! A visible sign that the page has hydrated: until then buttons do nothing, so learners (and
//! browser tests) can tell a server-rendered page from a live one.

use leptos::prelude::*;

#[component]
pub fn HydrationMarker() -> impl IntoView {
    let live = RwSignal::new(false);
    // Effects only run in the browser, after hydration.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
        live.set(true);
    });
    view! {
        <span
            class="hydration"
            class:live=move || live.get()
            data-testid="hydration"
            title=move || if live.get() { t!("page-live-title") } else { t!("page-loading-title") }
        >
            {move || if live.get() { t!("page-live") } else { t!("page-loading") }}
        </span>
    }
}
