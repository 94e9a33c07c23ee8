//! The lab workbook page: the lab's text beside the learner's terminal.

use labs::LabView;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::terminal::TerminalPane;
use crate::routes::join::JoinForm;
use crate::services::Viewer;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabPageData {
    pub lab: Option<LabView>,
    pub viewer: Option<Viewer>,
}

#[server(endpoint = "lab/page")]
pub async fn load_lab_page(id: String) -> Result<LabPageData, ServerFnError> {
    let (services, parts) = crate::services::request().await?;
    let course = use_context::<std::sync::Arc<labs::load::Course>>()
        .ok_or_else(|| ServerFnError::new("the course is not loaded"))?;
    Ok(LabPageData { lab: course.lab_view(&id), viewer: services.viewer(&parts).await })
}

#[component]
pub fn LabPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new_blocking(id, load_lab_page);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the lab…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(LabPageData { lab: Some(lab), viewer }) => view! { <Workbook lab viewer/> }.into_any(),
                    Ok(LabPageData { lab: None, .. }) => view! {
                        <p class="not-found">"There is no such lab. " <a href="/">"See all labs"</a></p>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{format!("Cannot load the lab: {e}")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Workbook(lab: LabView, viewer: Option<Viewer>) -> impl IntoView {
    let next = format!("/labs/{}", lab.id);
    view! {
        <div class="workbook">
            <article class="lab-text">
                <p class="crumbs"><a href="/">"Labs"</a> " / " {lab.session_title.clone()}</p>
                <h1>{lab.title.clone()}</h1>
                <p class="lead">{lab.summary.clone()}</p>
                <div class="prose" inner_html=lab.intro_html.clone()></div>
                <ol class="steps">
                    {lab.steps.iter().map(|step| view! {
                        <li class="step">
                            <h2>{step.title.clone()}</h2>
                            <div class="prose" inner_html=step.html.clone()></div>
                        </li>
                    }).collect_view()}
                </ol>
            </article>
            {match viewer {
                Some(_) => view! { <TerminalPane/> }.into_any(),
                None => view! { <aside class="terminal-pane join"><JoinForm next/></aside> }.into_any(),
            }}
        </div>
    }
}
