//! Joining a class: a plain HTML form (it works before the page is live, and without
//! JavaScript), posted to `/join`, which signs the learner in and comes back to `next`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppResult;

/// What the join form offers besides the class code.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinChoices {
    /// The school's sign-in service, by the name on its button.
    pub sign_in_with: Option<String>,
    /// Signed in there already (in no class yet): their name, and no name field.
    pub signed_in_as: Option<String>,
}

#[server(endpoint = "join-options")]
pub async fn join_options() -> AppResult<JoinChoices> {
    let (services, parts) = crate::services::request().await?;
    Ok(JoinChoices { sign_in_with: services.sign_in_with(), signed_in_as: services.signed_in_as(&parts).await })
}

#[component]
pub fn JoinForm(
    #[prop(into)] next: String,
    #[prop(optional, into)] error: Option<String>,
    #[prop(optional, into)] code: Option<String>,
) -> impl IntoView {
    let options = Resource::new_blocking(|| (), |_| join_options());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let (next, error, code) = (next.clone(), error.clone(), code.clone());
                Suspend::new(async move {
                    let options = options.await.unwrap_or_default();
                    view! { <JoinFormWith next error code options/> }
                })
            }}
        </Suspense>
    }
}

#[component]
fn JoinFormWith(next: String, error: Option<String>, code: Option<String>, options: JoinChoices) -> impl IntoView {
    let JoinChoices { sign_in_with, signed_in_as } = options;
    let intro = match &signed_in_as {
        Some(name) => t!("join-signed-in-as", name = name),
        None => match &sign_in_with {
            Some(with) => t!("join-intro-sign-in", with = with),
            None => t!("join-intro"),
        },
    };
    let anonymous = signed_in_as.is_none();
    view! {
        <form class="join-form card" method="post" action="/join">
            <h2>{t!("join-the-class")}</h2>
            <p class="muted">{intro}" "{t!("join-recording")}</p>
            {error.filter(|e| !e.is_empty()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <label>
                {t!("join-class-code")}
                <input name="code" required autocomplete="off" autocapitalize="characters" maxlength="12" value=code.unwrap_or_default()/>
            </label>
            {anonymous.then(|| view! {
                <label>
                    {t!("join-your-name")} <input name="name" required maxlength="60" autocomplete="nickname"/>
                </label>
            })}
            <input type="hidden" name="next" value=next/>
            <div class="actions">
                <button class="button" type="submit">{t!("join")}</button>
                // The same form, sent to the sign-in service first: the class code goes along, the
                // name is the service's.
                {sign_in_with.filter(|_| anonymous).map(|with| view! {
                    <button class="button secondary sign-in-with" type="submit" formaction="/auth/oidc/start" formmethod="get" formnovalidate>
                        {t!("sign-in-with", with = with)}
                    </button>
                })}
            </div>
        </form>
    }
}

/// Back in from another browser or another day, with the personal code shown on the home page.
#[component]
pub fn ResumeForm(#[prop(into)] next: String) -> impl IntoView {
    view! {
        <form class="join-form card" method="post" action="/resume">
            <h2>{t!("resume-title")}</h2>
            <p class="muted">{t!("resume-intro")}</p>
            <label>
                {t!("resume-code")} <input name="code" required autocomplete="off" autocapitalize="characters" maxlength="11" placeholder="ABCDE-FGHJK"/>
            </label>
            <input type="hidden" name="next" value=next/>
            <button class="button secondary" type="submit">{t!("resume-continue")}</button>
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
            // The page's one heading for a screen reader's outline; each form has its own below.
            <h1 class="visually-hidden">{t!("join-heading")}</h1>
            {move || view! {
                <JoinForm next=next() error=error().unwrap_or_default() code=code().unwrap_or_default()/>
                <ResumeForm next=next()/>
            }}
        </div>
    }
}
