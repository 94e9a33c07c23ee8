//! Joining a class: a plain HTML form (it works before the page is live, and without
//! JavaScript), posted to `/join`, which signs the learner in and comes back to `next`.

use leptos::prelude::*;

#[component]
pub fn JoinForm(
    #[prop(into)] next: String,
    #[prop(optional, into)] error: Option<String>,
    #[prop(optional, into)] code: Option<String>,
) -> impl IntoView {
    view! {
        <form class="join-form card" method="post" action="/join">
            <h2>"Join the class"</h2>
            <p class="muted">"Your instructor has the class code. No account, no password. Your instructor may record your terminal sessions (you will see it beside your terminal)."</p>
            {error.filter(|e| !e.is_empty()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <label>
                "Class code"
                <input name="code" required autocomplete="off" autocapitalize="characters" maxlength="12" value=code.unwrap_or_default()/>
            </label>
            <label>
                "Your name" <input name="name" required maxlength="60" autocomplete="nickname"/>
            </label>
            <input type="hidden" name="next" value=next/>
            <button class="button" type="submit">"Join"</button>
        </form>
    }
}

/// Back in from another browser or another day, with the personal code shown on the home page.
#[component]
pub fn ResumeForm(#[prop(into)] next: String) -> impl IntoView {
    view! {
        <form class="join-form card" method="post" action="/resume">
            <h2>"Continue where you were"</h2>
            <p class="muted">"Joined before? Your resume code brings back your progress and files."</p>
            <label>
                "Resume code" <input name="code" required autocomplete="off" autocapitalize="characters" maxlength="11" placeholder="ABCDE-FGHJK"/>
            </label>
            <input type="hidden" name="next" value=next/>
            <button class="button secondary" type="submit">"Continue"</button>
        </form>
    }
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_else(|| "/".into()));
    let error = move || query.with(|q| q.get("error"));
    let code = move || query.with(|q| q.get("code"));
    view! {
        <div class="narrow">
            {move || view! {
                <JoinForm next=next() error=error().unwrap_or_default() code=code().unwrap_or_default()/>
                <ResumeForm next=next()/>
            }}
        </div>
    }
}
