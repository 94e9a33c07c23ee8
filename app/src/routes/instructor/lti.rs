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
                    status.set(Some(format!("{} is registered.", saved.label)));
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
                    status.set(Some(format!("{label} is no longer registered.")));
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
                    status.set(Some(format!("The tool now signs with key {kid}; the one before stays published.")));
                    reload();
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let field = move |label: &'static str, get: fn(&PlatformInput) -> String, set: fn(&mut PlatformInput, String)| {
        view! {
            <label>
                {label}
                <input required prop:value=move || input.with(get) on:input=move |e| input.update(|i| set(i, event_target_value(&e)))/>
            </label>
        }
    };
    view! {
        <details class="lti-settings card">
            <summary>"LMS (LTI 1.3)"</summary>
            {move || setup.get().map(|s| match s.tool {
                None => view! {
                    <p class="muted">"LTI is off: start the server with --public-url (the address people reach it at) to register it in an LMS."</p>
                }.into_any(),
                Some(tool) => view! {
                    <p class="muted">"Give the LMS these when you register Stacklab as an external tool (LTI 1.3):"</p>
                    <dl class="tool-urls">
                        <dt>"Login initiation URL"</dt><dd><code>{tool.login}</code></dd>
                        <dt>"Launch (redirect) URL"</dt><dd><code>{tool.launch}</code></dd>
                        <dt>"Deep linking URL"</dt><dd><code>{tool.deep_link}</code></dd>
                        <dt>"Public keyset (JWKS) URL"</dt><dd><code>{tool.jwks}</code></dd>
                    </dl>
                    <p class="muted">
                        {format!("The tool signs with key {}. ", tool.kid)}
                        <button class="button small secondary" type="button" on:click=rotate>"Rotate the key"</button>
                    </p>
                }.into_any(),
            })}
            <table class="staff-table">
                <caption>"Registered LMSs"</caption>
                <thead><tr><th scope="col">"LMS"</th><th scope="col">"Issuer"</th><th scope="col">"Client id"</th><th scope="col">"Deployments"</th><th scope="col"></th></tr></thead>
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
                                            view! { <span class="muted">"from the registrations file"</span> }.into_any()
                                        } else {
                                            view! {
                                                <button class="button small secondary" type="button" aria-label=format!("Remove {}", p.label)
                                                    on:click=move |_| remove(id.clone(), label.clone())>"Remove"</button>
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
                {field("LMS name", |i| i.label.clone(), |i, v| i.label = v)}
                {field("Issuer (platform id)", |i| i.issuer.clone(), |i, v| i.issuer = v)}
                {field("Client id", |i| i.client_id.clone(), |i, v| i.client_id = v)}
                {field("Authentication request URL", |i| i.login_url.clone(), |i, v| i.login_url = v)}
                {field("Access token URL", |i| i.token_url.clone(), |i, v| i.token_url = v)}
                {field("Public keyset URL", |i| i.jwks_url.clone(), |i, v| i.jwks_url = v)}
                {field("Deployment ids", |i| i.deployments.clone(), |i, v| i.deployments = v)}
                <button class="button small" type="submit">"Register LMS"</button>
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
            status.set(Some("Reading the roster…".into()));
            leptos::task::spawn_local(async move {
                match read_roster(class).await {
                    Ok(added) => {
                        status.set(Some(format!("The roster is read: {added} learners added.")));
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
                .map(|l| format!("{} in {}{}", l.lab, l.platform, if l.graded { " (graded)" } else { "" }))
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
                    (ScoreStatus::Failed, Some(e)) if s.attempts == 1 => format!("failed once, trying again: {e}"),
                    (ScoreStatus::Failed, Some(e)) => format!("failed {} times, trying again: {e}", s.attempts),
                    (status, _) => status.as_str().to_string(),
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
                <summary>"LMS gradebook"</summary>
                <p class="muted">{links}</p>
                <p>
                    <button class="button small secondary" type="button" on:click=refresh.clone()>"Refresh"</button>
                    <button class="button small secondary" type="button" hidden=move || !has_roster() on:click=roster.clone()>
                        "Read the roster"
                    </button>
                </p>
                <table class="staff-table">
                    <thead><tr><th scope="col">"Learner"</th><th scope="col">"Lab"</th><th scope="col">"Score"</th><th scope="col">"Sent to the LMS"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </Show>
        {move || status.get().map(|s| view! { <p class="muted" role="status">{s}</p> })}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}
