//! The instructor's start page: sign in, the classes' join codes, the decks to present. (The
//! live dashboard comes with the class issue.)

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstructorHome {
    pub signed_in: bool,
    pub password_login: bool,
    pub classes: Vec<(String, String)>,
    pub decks: Vec<(String, String)>,
}

#[server(endpoint = "instructor/home")]
pub async fn load_instructor_home() -> Result<InstructorHome, ServerFnError> {
    let (services, parts) = crate::services::request().await?;
    let signed_in = services.is_instructor(&parts).await;
    let course = crate::services::course()?;
    Ok(InstructorHome {
        signed_in,
        password_login: services.password_login(),
        classes: if signed_in { services.class_codes().await } else { Vec::new() },
        decks: course.sessions.iter().flat_map(|s| s.decks.iter().map(|d| (d.id.clone(), d.title.clone()))).collect(),
    })
}

#[component]
pub fn InstructorPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_instructor_home());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(home) if home.signed_in => view! {
                        <section class="instructor">
                            <h1>"Instructor"</h1>
                            <h2>"Classes"</h2>
                            <ul class="class-codes">
                                {home.classes.into_iter().map(|(name, code)| view! {
                                    <li><strong>{name}</strong> " — join code " <code class="join-code">{code}</code></li>
                                }).collect_view()}
                            </ul>
                            <h2>"Present"</h2>
                            <ul>
                                {home.decks.into_iter().map(|(id, title)| view! {
                                    <li><a href=format!("/decks/{id}/present/1")>{title}</a></li>
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Ok(home) => view! {
                        <div class="narrow card">
                            <h1>"Instructor sign-in"</h1>
                            <p>"Open the login link the server printed in its log when it started."</p>
                            {home.password_login.then(|| view! {
                                <form method="post" action="/instructor/login" class="join-form">
                                    <label>"Or the password" <input type="password" name="password" required autocomplete="current-password"/></label>
                                    <button class="button" type="submit">"Sign in"</button>
                                </form>
                            })}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
