//! The instructor's pages: sign-in, the classes (made and changed here), the decks to present,
//! and each class's live dashboard.

mod assistants;
mod codes;
pub mod dashboard;
mod editor;
pub mod lti;
mod matrix;
mod panel;
mod queue;
mod staff;
mod times;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::class::{ClassInput, ClassSummary};
use crate::components::time::LocalTime;
use crate::error::{AppResult, ErrorNote};
pub use editor::ClassEditor;

/// Labs and decks a class may pick, as (id, title).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CourseChoices {
    pub labs: Vec<(String, String)>,
    pub decks: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
pub fn course_choices() -> AppResult<CourseChoices> {
    let course = crate::services::course()?;
    Ok(CourseChoices {
        labs: course.sessions.iter().flat_map(|s| s.labs.iter().map(|l| (l.id.clone(), l.title.clone()))).collect(),
        decks: course.sessions.iter().flat_map(|s| s.decks.iter().map(|d| (d.id.clone(), d.title.clone()))).collect(),
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstructorHome {
    pub signed_in: bool,
    pub password_login: bool,
    /// The school's sign-in service, by the name on its button.
    pub sign_in_with: Option<String>,
    /// The server's administrator (who makes staff accounts).
    pub administrator: bool,
    pub classes: Vec<ClassSummary>,
    pub choices: CourseChoices,
}

#[server(endpoint = "instructor/home")]
pub async fn load_instructor_home() -> AppResult<InstructorHome> {
    let (services, parts) = crate::services::request().await?;
    let who = services.staff(&parts).await;
    let signed_in = who.is_some();
    Ok(InstructorHome {
        signed_in,
        password_login: services.password_login(),
        sign_in_with: services.sign_in_with(),
        administrator: who.as_ref().is_some_and(crate::class::StaffView::is_administrator),
        classes: match &who {
            Some(who) => services.classes(who).await?,
            None => Vec::new(),
        },
        choices: if signed_in { course_choices()? } else { CourseChoices::default() },
    })
}

#[server(endpoint = "instructor/save-class", input = leptos::server_fn::codec::Json)]
pub async fn save_class(id: Option<String>, input: ClassInput) -> AppResult<ClassSummary> {
    let (services, who) = crate::services::teacher().await?;
    services.save_class(&who, id, input).await
}

#[component]
pub fn InstructorPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_instructor_home());
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t!("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(home) if home.signed_in => view! { <InstructorHomeView home/> }.into_any(),
                    Ok(home) => view! { <SignIn password_login=home.password_login sign_in_with=home.sign_in_with/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SignIn(password_login: bool, sign_in_with: Option<String>) -> impl IntoView {
    view! {
        <div class="narrow card">
            <h1>{t!("instructor-sign-in")}</h1>
            {sign_in_with.map(|with| view! {
                <p><a class="button sign-in-with" href="/auth/oidc/start?next=/instructor" rel="external">{t!("sign-in-with", with = with)}</a></p>
            })}
            <p>{t!("instructor-sign-in-intro")}</p>
            <form method="post" action="/instructor/login" class="join-form">
                <label>
                    {t!("instructor-login")} {password_login.then(|| view! { <span class="muted">{format!(" ({})", t!("instructor-login-empty"))}</span> })}
                    <input name="login" autocomplete="username" maxlength="40"/>
                </label>
                <label>{t!("password")} <input type="password" name="password" required autocomplete="current-password"/></label>
                <button class="button" type="submit">{t!("sign-in")}</button>
            </form>
        </div>
    }
}

/// Signing out (of any role): a form, so it works before the page is live.
#[component]
pub fn SignOut() -> impl IntoView {
    view! {
        <form method="post" action="/logout" class="sign-out">
            <button class="button small secondary" type="submit">{t!("sign-out")}</button>
        </form>
    }
}

#[component]
fn InstructorHomeView(home: InstructorHome) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let on_saved = Callback::new(move |class: ClassSummary| navigate(&format!("/instructor/classes/{}", class.id), Default::default()));
    let decks = home.choices.decks.clone();
    view! {
        <section class="instructor">
            <div class="title-row">
                <h1>{t!("instructor")}</h1>
                <SignOut/>
            </div>
            <h2>{t!("classes")}</h2>
            <table class="classes">
                <thead>
                    <tr><th>{t!("class")}</th><th>{t!("join-code")}</th><th>{t!("learners")}</th><th>{t!("starts")}</th></tr>
                </thead>
                <tbody>
                    {home.classes.into_iter().map(|class| view! {
                        <tr data-class=class.id.clone()>
                            <td><a href=format!("/instructor/classes/{}", class.id)>{class.name.clone()}</a></td>
                            <td><code class="join-code">{class.join_code.clone()}</code></td>
                            <td>{class.learners}</td>
                            <td>{class.settings.starts_at.map(|s| view! { <LocalTime secs=s/> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <details class="card new-class">
                <summary>{t!("class-new")}</summary>
                <noscript><p class="muted">{t!("class-new-needs-js")}</p></noscript>
                <ClassEditor existing=None choices=home.choices on_saved/>
            </details>
            <h2>{t!("present")}</h2>
            <ul>
                {decks.into_iter().map(|(id, title)| view! {
                    <li><a href=format!("/decks/{id}/present/1")>{title}</a></li>
                }).collect_view()}
            </ul>
            {home.administrator.then(|| view! { <staff::StaffAccounts/> <lti::LtiSettings/> })}
        </section>
    }
}
