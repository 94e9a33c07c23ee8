//! The LMS on the instructor's pages: the administrator registers LMSs and reads the URLs to
//! give them; a class's dashboard shows the scores sent to the LMS's gradebook, each sent,
//! pending, or failed with what the LMS said, and reads the course roster.

use leptos::prelude::*;

use crate::error::AppResult;
use crate::lti::{ClassLti, LtiSetup, PlatformInput, PlatformView, ScoreStatus};

#[server(endpoint = "instructor/lti-setup")]
pub async fn load_lti_setup() -> AppResult<LtiSetup> {
    let (services, who) = crate::services::staff().await?;
    services.lti_setup(&who).await
}

#[server(endpoint = "instructor/save-lti-platform", input = leptos::server_fn::codec::Json)]
pub async fn save_lti_platform(input: PlatformInput) -> AppResult<PlatformView> {
    let (services, who) = crate::services::staff().await?;
    services.save_lti_platform(&who, input).await
}

#[server(endpoint = "instructor/remove-lti-platform")]
pub async fn remove_lti_platform(id: String) -> AppResult<()> {
    let (services, who) = crate::services::staff().await?;
    services.remove_lti_platform(&who, &id).await
}

#[server(endpoint = "instructor/rotate-lti-key")]
pub async fn rotate_lti_key() -> AppResult<String> {
    let (services, who) = crate::services::staff().await?;
    services.rotate_lti_key(&who).await
}

#[server(endpoint = "instructor/class-lti")]
pub async fn load_class_lti(class: String) -> AppResult<ClassLti> {
    let (services, who) = crate::services::staff().await?;
    services.class_lti(&who, &class).await
}

#[server(endpoint = "instructor/fill-roster")]
pub async fn read_roster(class: String) -> AppResult<usize> {
    let (services, who) = crate::services::staff().await?;
    services.fill_roster(&who, &class).await
}

/// The LMS registrations and the tool's URLs, for the administrator.
#[component]
pub fn LtiSettings() -> impl IntoView {
    let setup = RwSignal::new(None::<LtiSetup>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let input = RwSignal::new(PlatformInput::default());
    let reload = move || {
        leptos::task::spawn_local(async move {
            match load_lti_setup().await {
                Ok(found) => setup.set(Some(found)),
                Err(e) => error.set(Some(e.text())),
            }
        })
    };
    #[cfg(feature = "hydrate")]
    reload();
    let save = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let typed = input.get_untracked();
        leptos::task::spawn_local(async move {
            match save_lti_platform(typed).await {
                Ok(saved) => {
                    error.set(None);
                    status.set(Some(t!("lti-registered", name = saved.label.clone())));
                    input.set(PlatformInput::default());
                    reload();
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let remove = move |id: String, label: String| {
        leptos::task::spawn_local(async move {
            match remove_lti_platform(id).await {
                Ok(()) => {
                    status.set(Some(t!("lti-unregistered", name = label)));
                    reload();
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let rotate = move |_| {
        leptos::task::spawn_local(async move {
            match rotate_lti_key().await {
                Ok(kid) => {
                    status.set(Some(t!("lti-rotated", kid = kid)));
                    reload();
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let field = move |label: String, get: fn(&PlatformInput) -> String, set: fn(&mut PlatformInput, String)| {
        view! {
            <label>
                {label}
                <input required prop:value=move || input.with(get) on:input=move |e| input.update(|i| set(i, event_target_value(&e)))/>
            </label>
        }
    };
    view! {
        <details class="lti-settings card">
            <summary>{t!("lti")}</summary>
            {move || setup.get().map(|s| match s.tool {
                None => view! {
                    <p class="muted">{t!("lti-off")}</p>
                }.into_any(),
                Some(tool) => view! {
                    <p class="muted">{t!("lti-give")}</p>
                    <dl class="tool-urls">
                        <dt>{t!("lti-login-url")}</dt><dd><code>{tool.login}</code></dd>
                        <dt>{t!("lti-launch-url")}</dt><dd><code>{tool.launch}</code></dd>
                        <dt>{t!("lti-deep-link-url")}</dt><dd><code>{tool.deep_link}</code></dd>
                        <dt>{t!("lti-jwks-url")}</dt><dd><code>{tool.jwks}</code></dd>
                    </dl>
                    <p class="muted">
                        {t!("lti-signs-with", kid = tool.kid.clone())} " "
                        <button class="button small secondary" type="button" on:click=rotate>{t!("lti-rotate")}</button>
                    </p>
                }.into_any(),
            })}
            <table class="staff-table">
                <caption>{t!("lti-registered-lmss")}</caption>
                <thead><tr><th scope="col">"LMS"</th><th scope="col">{t!("lti-issuer")}</th><th scope="col">{t!("lti-client-id")}</th><th scope="col">{t!("lti-deployments")}</th><th scope="col"></th></tr></thead>
                <tbody>
                    <For each=move || setup.get().map(|s| s.platforms).unwrap_or_default() key=|p| p.id.clone() let:p>
                        {
                            let (id, label) = (p.id.clone(), p.label.clone());
                            view! {
                                <tr>
                                    <td>{p.label.clone()}</td>
                                    <td>{p.issuer.clone()}</td>
                                    <td>{p.client_id.clone()}</td>
                                    <td>{p.deployments.join(", ")}</td>
                                    <td>
                                        {if p.from_file {
                                            view! { <span class="muted">{t!("lti-from-file")}</span> }.into_any()
                                        } else {
                                            view! {
                                                <button class="button small secondary" type="button" aria-label=t!("lti-remove", name = p.label.clone())
                                                    on:click=move |_| remove(id.clone(), label.clone())>{t!("remove")}</button>
                                            }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            <form class="inline" on:submit=save>
                {field(t!("lti-name"), |i| i.label.clone(), |i, v| i.label = v)}
                {field(t!("lti-issuer-field"), |i| i.issuer.clone(), |i, v| i.issuer = v)}
                {field(t!("lti-client-id"), |i| i.client_id.clone(), |i, v| i.client_id = v)}
                {field(t!("lti-auth-url"), |i| i.login_url.clone(), |i, v| i.login_url = v)}
                {field(t!("lti-token-url"), |i| i.token_url.clone(), |i, v| i.token_url = v)}
                {field(t!("lti-keyset-url"), |i| i.jwks_url.clone(), |i, v| i.jwks_url = v)}
                {field(t!("lti-deployment-ids"), |i| i.deployments.clone(), |i, v| i.deployments = v)}
                <button class="button small" type="submit">{t!("lti-register")}</button>
            </form>
            {move || status.get().map(|s| view! { <p class="muted" role="status">{s}</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </details>
    }
}

/// The scores sent to the LMS's gradebook for this class, for those who run it.
#[component]
pub fn Gradebook(class: String) -> impl IntoView {
    let found = RwSignal::new(None::<ClassLti>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let load = {
        let class = class.clone();
        move || {
            let class = class.clone();
            leptos::task::spawn_local(async move {
                match load_class_lti(class).await {
                    Ok(lti) => found.set(Some(lti)),
                    Err(e) => error.set(Some(e.text())),
                }
            })
        }
    };
    #[cfg(feature = "hydrate")]
    load();
    let roster = {
        let (class, load) = (class.clone(), load.clone());
        move |_| {
            let (class, load) = (class.clone(), load.clone());
            status.set(Some(t!("lti-reading-roster")));
            leptos::task::spawn_local(async move {
                match read_roster(class).await {
                    Ok(added) => {
                        status.set(Some(t!("lti-roster-read", count = added)));
                        load();
                    }
                    Err(e) => {
                        status.set(None);
                        error.set(Some(e.text()));
                    }
                }
            });
        }
    };
    let refresh = move |_| load();
    let links = move || {
        found.with(|f| {
            f.iter()
                .flat_map(|f| f.links.iter())
                .map(|l| {
                    if l.graded {
                        t!("lti-link-graded", lab = l.lab.clone(), lms = l.platform.clone())
                    } else {
                        t!("lti-link", lab = l.lab.clone(), lms = l.platform.clone())
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    let rows = move || {
        found
            .get()
            .map(|f| f.scores)
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let said = match (s.status, &s.error) {
                    (ScoreStatus::Failed, Some(e)) => t!("lti-score-failed", times = s.attempts, error = e),
                    (ScoreStatus::Sent, _) => t!("lti-score-sent"),
                    (ScoreStatus::Pending, _) => t!("lti-score-pending"),
                    (ScoreStatus::Failed, None) => t!("lti-score-failed-plain"),
                };
                view! {
                    <tr data-learner=s.learner_id.clone() data-status=s.status.as_str()>
                        <td>{s.name}</td>
                        <td>{s.lab}</td>
                        <td>{format!("{} / {}", s.earned, s.possible)}</td>
                        <td>{said}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let has_roster = move || found.with(|f| f.as_ref().is_some_and(|f| f.roster));
    // The panel stays (open or closed, as the teacher left it) while its content reloads.
    view! {
        <Show when=move || found.with(|f| f.as_ref().is_some_and(|f| !f.links.is_empty()))>
            <details class="gradebook card">
                <summary>{t!("lti-gradebook")}</summary>
                <p class="muted">{links}</p>
                <p>
                    <button class="button small secondary" type="button" on:click=refresh.clone()>{t!("refresh")}</button>
                    <button class="button small secondary" type="button" hidden=move || !has_roster() on:click=roster.clone()>
                        {t!("lti-read-roster")}
                    </button>
                </p>
                <table class="staff-table">
                    <thead><tr><th scope="col">{t!("learner")}</th><th scope="col">{t!("lab")}</th><th scope="col">{t!("lti-score")}</th><th scope="col">{t!("lti-sent")}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </Show>
        {move || status.get().map(|s| view! { <p class="muted" role="status">{s}</p> })}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}
