//! `/instructor/classes/:id`: the class live. The matrix of learners × steps updates from the
//! server's event stream; the toolbar messages the class, pre-warms sandboxes, exports grades
//! and edits the class; picking a learner opens the help panel.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::assistants::Assistants;
use super::codes::OneTimeCodes;
use super::lti::Gradebook;
use super::matrix::Matrix;
use super::panel::LearnerPanel;
use super::queue::{EyesOnMe, HelpQueue};
use super::staff::ClassStaff;
use super::times::StepTimesTable;
use super::{ClassEditor, CourseChoices, SignIn, SignOut};
use crate::class::{Dashboard, DashboardEvent, HelpAction, StaffView};
use crate::components::time::LocalTime;
use crate::error::{AppError, AppResult, ErrorNote};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardPage {
    pub dashboard: Dashboard,
    pub choices: CourseChoices,
    /// Who looks: an assistant gets the class without the instructor's controls.
    pub staff: StaffView,
}

#[server(endpoint = "instructor/class-page")]
pub async fn load_dashboard(class: String) -> AppResult<DashboardPage> {
    let (services, staff) = crate::services::staff().await?;
    let dashboard = services.dashboard(&staff, &class).await?;
    Ok(DashboardPage { dashboard, choices: super::course_choices()?, staff })
}

#[server(endpoint = "instructor/act", input = leptos::server_fn::codec::Json)]
pub async fn help(action: HelpAction) -> AppResult<String> {
    let (services, staff) = crate::services::staff().await?;
    services.help(&staff, action).await
}

#[component]
pub fn DashboardRoute() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new_blocking(id, load_dashboard);
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t!("class-loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <DashboardView page/> }.into_any(),
                    Err(AppError::NotInstructor) => view! { <SignIn password_login=false sign_in_with=None/> }.into_any(),
                    Err(error) => view! { <ErrorNote error doing=t!("cannot-load-class")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardView(page: DashboardPage) -> impl IntoView {
    let class_id = page.dashboard.class.id.clone();
    // An assistant gets the class, the queue and the learners' panels, not the instructor's
    // controls (the server refuses them anyway).
    let instructor = page.staff.may_run(&class_id);
    let owner = page.staff.owns(&class_id);
    let dash = RwSignal::new(page.dashboard);
    let selected = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);

    // Live: apply each change; reload the whole picture when a change cannot be applied
    // (a learner this page has not seen) or the stream fell behind.
    let reload = {
        let class_id = class_id.clone();
        move || {
            let class_id = class_id.clone();
            leptos::task::spawn_local(async move {
                if let Ok(page) = load_dashboard(class_id).await {
                    dash.set(page.dashboard);
                }
            });
        }
    };
    let events = format!("/api/instructor/classes/{class_id}/events");
    {
        let reload = reload.clone();
        crate::components::live::listen(events.clone(), "dashboard", move |data| {
            let Ok(event) = serde_json::from_str::<DashboardEvent>(&data) else { return };
            let mut applied = true;
            dash.update(|d| applied = d.apply(event));
            if !applied {
                reload();
            }
        });
    }
    crate::components::live::listen(events, "resync", move |_| reload());

    let act = Callback::new(move |action: HelpAction| {
        status.set(Some(t!("working")));
        leptos::task::spawn_local(async move {
            status.set(Some(help(action).await.unwrap_or_else(|e| e.text())));
        });
    });

    let class = move || dash.with(|d| d.class.clone());
    let message = RwSignal::new(String::new());
    let spares = RwSignal::new(String::from("0"));
    let send_message = {
        let class_id = class_id.clone();
        move |e: leptos::ev::SubmitEvent| {
            e.prevent_default();
            let body = message.get_untracked();
            if body.trim().is_empty() {
                return;
            }
            message.set(String::new());
            act.run(HelpAction::Message { class: class_id.clone(), learner: None, body });
        }
    };
    let prewarm = {
        let class_id = class_id.clone();
        move |e: leptos::ev::SubmitEvent| {
            e.prevent_default();
            match spares.get_untracked().trim().parse::<u32>() {
                Ok(n) => act.run(HelpAction::Prewarm { class: class_id.clone(), spares: n }),
                Err(_) => status.set(Some(t!("spares-not-a-number"))),
            }
        }
    };
    let choices = page.choices;
    let csv = format!("/api/instructor/classes/{class_id}/grades.csv");
    let json = format!("/api/instructor/classes/{class_id}/grades.json");

    let helping = Signal::derive(move || selected.with(Option::is_some));
    view! {
        // Helping one learner puts their panel beside the class (not over it): the toolbar and
        // every learner's row stay in sight on a 1280 x 800 laptop.
        <section class="dashboard" class:helping=helping data-class=class_id.clone()>
            <div class="dashboard-class">
            <div class="title-row">
                <h1>{move || class().name}</h1>
                {instructor.then(|| view! { <a href="/instructor">{t!("classes-all")}</a> })}
                {(!instructor).then(|| view! { <span class="muted staff-name">{t!("assistant-named", name = page.staff.name.clone())}</span> })}
                <SignOut/>
            </div>
            <p class="class-facts">
                {t!("join-code")} " " <code class="join-code">{move || class().join_code}</code>
                " · " {t!("link")} " " <a class="join-link" href=move || format!("/join?code={}", class().join_code)>{move || format!("/join?code={}", class().join_code)}</a>
                " · " <span class="learner-count">{move || class().learners}</span> " " {t!("learners-count")}
                {move || dash.with(|d| d.sandboxes_enabled).then(|| view! { " · " <span class="spares">{move || dash.with(|d| d.spares)}</span> " " {t!("spare-sandboxes")} })}
                {move || class().settings.starts_at.map(|s| view! { " · " {t!("starts-at")} " " <LocalTime secs=s/> })}
                {move || class().settings.ends_at.map(|s| view! { " · " {t!("ends-at")} " " <LocalTime secs=s/> })}
            </p>
            {move || dash.with(|d| d.host_notes.clone()).into_iter().map(|note| view! { <p class="host-note" role="note">{note}</p> }).collect_view()}
            <noscript><p class="error">{t!("dashboard-needs-js")}</p></noscript>
            <div class="toolbar" hidden=!instructor>
                <form class="inline" on:submit=send_message>
                    <label class="visually-hidden" for="class-message">{t!("class-message")}</label>
                    <input id="class-message" placeholder=t!("class-message-placeholder") maxlength="2000" bind:value=message/>
                    <button class="button small" type="submit">{t!("class-message-send")}</button>
                </form>
                {move || dash.with(|d| d.sandboxes_enabled).then(|| view! {
                    <form class="inline" on:submit=prewarm.clone()>
                        <label>{t!("prewarm-roster")} " " <input class="spares-input" type="number" min="0" max="200" bind:value=spares/> " " {t!("prewarm-spares")}</label>
                        <button class="button small secondary" type="submit">{t!("prewarm-start")}</button>
                    </form>
                })}
                <a class="button small secondary" href=csv.clone() download>{t!("grades-csv")}</a>
                <a class="button small secondary" href=json.clone()>"JSON"</a>
                <a class="button small secondary" href=format!("/api/instructor/classes/{class_id}/recordings.zip") download>{t!("recordings-zip")}</a>
                <button class="button small secondary" on:click=move |_| editing.update(|e| *e = !*e)>{t!("class-edit")}</button>
                <EyesOnMe dash act/>
            </div>
            <p class="status" role="status">{move || status.get()}</p>
            {move || editing.get().then(|| {
                let on_saved = Callback::new(move |saved: crate::class::ClassSummary| {
                    editing.set(false);
                    status.set(Some(t!("class-saved", name = saved.name.clone())));
                    dash.update(|d| d.class = saved);
                    // Labs may have changed: the columns come from the server.
                    reload_after_save();
                });
                view! { <div class="card"><ClassEditor existing=Some(class()) choices=choices.clone() on_saved/></div> }
            })}
            {instructor.then(|| view! { <Assistants class=class_id.clone()/> <OneTimeCodes class=class_id.clone()/> })}
            {owner.then(|| view! { <ClassStaff class=class_id.clone()/> })}
            {instructor.then(|| view! { <Gradebook class=class_id.clone()/> })}
            <HelpQueue dash selected act/>
            <Matrix dash selected compact=helping/>
            <Legend compact=helping/>
            <StepTimesTable dash/>
            </div>
            {move || selected.get().map(|learner| view! { <LearnerPanel dash learner selected act instructor/> })}
        </section>
    }
}

/// After the class changed, a full reload gets the new columns.
fn reload_after_save() {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

#[component]
fn Legend(compact: Signal<bool>) -> impl IntoView {
    view! {
        <p class="legend muted">
            <span class="cell-swatch" data-state="done"></span> {t!("legend-done")} " "
            <span class="cell-swatch" data-state="started"></span> {t!("legend-working")} " "
            <span class="cell-swatch" data-state="failing"></span> {t!("legend-failing")} " "
            <span class="cell-swatch" data-state="none"></span> {t!("legend-none")} " "
            {move || if compact.get() { t!("legend-compact") } else { t!("legend-full") }}
        </p>
    }
}
