//! The lab workbook: the steps with their live state, the current step's instructions (with
//! "Run" buttons), its check result, hints, solution and quiz — beside the learner's terminal.
//! Rendered complete on the server (useful before the page is live); live afterwards through
//! server-sent events, so steps turn green as the learner works.

use labs::LabView;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::{Deserialize, Serialize};

use crate::components::live;
use crate::components::ports::PortsMenu;
use crate::components::quiz::QuizCard;
use crate::components::terminal::TerminalPane;
use crate::components::tier_status::TierStatusLine;
use crate::error::{AppResult, ErrorNote};
use crate::routes::join::JoinForm;
use crate::services::{QuizResult, StepProgress, TierStatus, Viewer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabPageData {
    pub lab: Option<LabView>,
    pub viewer: Option<Viewer>,
    pub progress: Vec<StepProgress>,
    pub quiz: Vec<QuizResult>,
}

#[server(endpoint = "lab/page")]
pub async fn load_lab_page(id: String) -> AppResult<LabPageData> {
    let (services, parts) = crate::services::request().await?;
    let course = crate::services::course()?;
    let lang = crate::i18n::lang();
    let lab = course.lab_view_in(&id, lang.tag()).map(|mut lab| {
        for html in [&mut lab.intro_html, &mut lab.finish_html].into_iter().chain(lab.steps.iter_mut().map(|s| &mut s.html)) {
            *html = crate::i18n::lab_chrome(lang, html);
        }
        lab
    });
    let viewer = services.viewer(&parts).await;
    let (progress, quiz) = match (&viewer, &lab) {
        (Some(v), Some(l)) => {
            let questions: Vec<String> = l.steps.iter().flat_map(|s| s.quiz.iter().map(|q| q.id.clone())).collect();
            let progress = services.lab_progress(&v.learner_id, &id).await.unwrap_or_default();
            (progress.into_iter().map(|p| in_language(&id, p)).collect(), services.quiz_results(&v.learner_id, &questions).await)
        }
        _ => (Vec::new(), Vec::new()),
    };
    Ok(LabPageData { lab, viewer, progress, quiz })
}

/// A step's revealed hints in the words of the lab's translated copy for the request's language.
#[cfg(feature = "ssr")]
fn in_language(lab: &str, mut progress: StepProgress) -> StepProgress {
    let (Ok(course), lang) = (crate::services::course(), crate::i18n::lang()) else { return progress };
    if let Some((_, lab)) = course.lab(lab) {
        if let Some(copy) = progress.last_reason.as_deref().and_then(|r| lab.reason_in(&progress.step_id, lang.tag(), r)) {
            progress.last_reason = Some(copy);
        }
        for html in &mut progress.hints {
            if let Some(copy) = lab.hint_in(&progress.step_id, lang.tag(), html) {
                *html = copy;
            }
            *html = crate::i18n::lab_chrome(lang, html);
        }
    }
    progress
}

/// A hint the live stream brought (in the lab's own words), as [`in_language`] shows it.
#[server(endpoint = "lab/hint-text")]
pub async fn hint_text(lab: String, step: String, html: String) -> AppResult<String> {
    crate::services::learner().await?;
    let progress = StepProgress { step_id: step, hints: vec![html], ..Default::default() };
    Ok(in_language(&lab, progress).hints.pop().unwrap_or_default())
}

#[server(endpoint = "lab/focus")]
pub async fn focus_step(lab: String, step: String) -> AppResult<StepProgress> {
    let (services, viewer) = crate::services::learner().await?;
    services.focus_step(&viewer.learner_id, &lab, &step).await.map(|p| in_language(&lab, p))
}

#[server(endpoint = "lab/check")]
pub async fn check_step(lab: String, step: String) -> AppResult<StepProgress> {
    let (services, viewer) = crate::services::learner().await?;
    services.check_step(&viewer.learner_id, &lab, &step).await.map(|p| in_language(&lab, p))
}

#[server(endpoint = "lab/hint")]
pub async fn next_hint(lab: String, step: String) -> AppResult<StepProgress> {
    let (services, viewer) = crate::services::learner().await?;
    services.next_hint(&viewer.learner_id, &lab, &step).await.map(|p| in_language(&lab, p))
}

#[server(endpoint = "lab/solution")]
pub async fn show_solution(lab: String, step: String) -> AppResult<StepProgress> {
    let (services, viewer) = crate::services::learner().await?;
    services.show_solution(&viewer.learner_id, &lab, &step).await.map(|p| in_language(&lab, p))
}

#[component]
pub fn LabPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new_blocking(id, load_lab_page);
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t!("lab-loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(LabPageData { lab: Some(lab), viewer, progress, quiz }) => {
                        view! { <Workbook lab viewer progress quiz/> }.into_any()
                    }
                    Ok(LabPageData { lab: None, .. }) => view! {
                        <p class="not-found">{t!("lab-not-found")} " " <a href="/">{t!("lab-see-all")}</a></p>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error doing=t!("cannot-load-lab")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the browser hears from `/api/events` (the server's `progress::Update`).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum LiveUpdate {
    Step { state: StoredStep },
    Checking { lab_id: String, step_id: String },
    Hint { lab_id: String, step_id: String, html: String },
    Tier { tier: String, status: TierStatus },
}

#[derive(Deserialize)]
struct StoredStep {
    lab_id: String,
    step_id: String,
    done: bool,
    last_reason: Option<String>,
    last_passed: Option<bool>,
    #[serde(default)]
    started_at: Option<i64>,
    #[serde(default)]
    same_failures: i64,
}

#[component]
fn Workbook(lab: LabView, viewer: Option<Viewer>, progress: Vec<StepProgress>, quiz: Vec<QuizResult>) -> impl IntoView {
    let params = use_params_map();
    let lab_id = lab.id.clone();
    // One signal per step, in the lab's order.
    let steps: Vec<RwSignal<StepProgress>> = lab
        .steps
        .iter()
        .map(|s| {
            let p = progress.iter().find(|p| p.step_id == s.id).cloned();
            RwSignal::new(p.unwrap_or_else(|| StepProgress { step_id: s.id.clone(), hints_left: s.hints, ..Default::default() }))
        })
        .collect();
    let checking = RwSignal::new(None::<String>);
    // The cluster coming up, for labs that need one (the server starts it on focus).
    let cluster = RwSignal::new(None::<TierStatus>);
    let needs_cluster = lab.tiers.contains(&labs::Tier::Cluster);
    let count = lab.steps.len();
    // The step in the URL (1-based), else the first one not done.
    let first_open = steps.iter().position(|s| !s.get_untracked().done).unwrap_or(0);
    let current = Memo::new(move |_| {
        params.with(|p| p.get("step").and_then(|n| n.parse::<usize>().ok())).map(|n| n.clamp(1, count.max(1)) - 1).unwrap_or(first_open)
    });
    let signed_in = viewer.is_some();
    let stuck_secs = viewer.as_ref().map_or(i64::from(crate::class::DEFAULT_STUCK_MINUTES) * 60, |v| v.class_settings.stuck_secs());

    if signed_in {
        // Live: steps turning green, hints firing, "checking…".
        let steps_live = steps.clone();
        let lab_live = lab_id.clone();
        // A check's sentence comes in the lab's own words; a translated copy has its own.
        let step_views = lab.steps.clone();
        live::listen("/api/events".into(), "progress", move |data| {
            let Ok(update) = serde_json::from_str::<LiveUpdate>(&data) else { return };
            match update {
                LiveUpdate::Step { state } if state.lab_id == lab_live => {
                    if let Some(s) = steps_live.iter().find(|s| s.get_untracked().step_id == state.step_id) {
                        let view = step_views.iter().find(|v| v.id == state.step_id);
                        let reason = state.last_reason.map(|r| view.map_or(r.clone(), |v| v.reason(r)));
                        s.update(|p| {
                            p.started = true;
                            p.done = p.done || state.done;
                            p.last_reason = reason;
                            p.last_passed = state.last_passed;
                            p.started_at = state.started_at.or(p.started_at);
                            p.same_failures = state.same_failures;
                        });
                    }
                    checking.set(None);
                }
                LiveUpdate::Checking { lab_id, step_id } if lab_id == lab_live => checking.set(Some(step_id)),
                LiveUpdate::Tier { tier, status } if tier == "cluster" && needs_cluster => cluster.set(Some(status)),
                LiveUpdate::Hint { lab_id, step_id, html } if lab_id == lab_live => {
                    if let Some(s) = steps_live.iter().find(|s| s.get_untracked().step_id == step_id).copied() {
                        // In the page's language: the stream speaks the lab's own.
                        leptos::task::spawn_local(async move {
                            let html = hint_text(lab_id, step_id, html.clone()).await.unwrap_or(html);
                            s.update(|p| {
                                if !p.hints.contains(&html) {
                                    p.hints.push(html);
                                }
                            });
                        });
                    }
                }
                _ => {}
            }
        });
        // Tell the server which step the learner is on: its setup runs, auto-checks follow. The
        // server keeps that in memory only, so it is told again whenever the live stream comes
        // back (a dropped connection, a server restart).
        let focus_lab = lab_id.clone();
        let step_ids: Vec<String> = lab.steps.iter().map(|s| s.id.clone()).collect();
        let foregrounds: Vec<Option<String>> = lab.steps.iter().map(|s| s.foreground.clone()).collect();
        // A lab started now (no step started yet) types its foreground script first.
        let lab_foreground = StoredValue::new(lab.foreground.clone().filter(|_| steps.iter().all(|s| !s.get_untracked().started)));
        let steps_focus = steps.clone();
        let send_focus = move |index: usize| {
            let (lab, step) = (focus_lab.clone(), step_ids[index].clone());
            let target = steps_focus[index];
            // A step reached for the first time types its foreground script, as Killercoda does.
            let step_foreground = foregrounds[index].clone().filter(|_| !target.get_untracked().started);
            let typed: Vec<String> = lab_foreground.try_update_value(Option::take).flatten().into_iter().chain(step_foreground).collect();
            leptos::task::spawn_local(async move {
                if let Ok(p) = focus_step(lab, step).await {
                    // An answer that left before the step was done (marked meanwhile, or passed)
                    // does not take that back.
                    target.update(|s| {
                        let done = s.done || p.done;
                        *s = p;
                        s.done = done;
                    });
                    for text in typed {
                        type_into_terminal(&text);
                    }
                }
            });
        };
        let refocus = send_focus.clone();
        Effect::new(move |_| send_focus(current.get()));
        live::on_reconnect("/api/events".into(), move || refocus(current.get_untracked()));
    }

    let total_points: u32 = lab.steps.iter().map(|s| s.points).sum();
    let done_points = {
        let steps = steps.clone();
        let points: Vec<u32> = lab.steps.iter().map(|s| s.points).collect();
        move || steps.iter().zip(&points).filter(|(s, _)| s.get().done).map(|(_, p)| *p).sum::<u32>()
    };
    let all_done = {
        let steps = steps.clone();
        move || steps.iter().all(|s| s.get().done)
    };
    if signed_in {
        // The lab done while the page is open: its finish foreground script is typed, once.
        let finish_foreground = StoredValue::new(lab.finish_foreground.clone().filter(|_| !all_done_untracked(&steps)));
        let all_done = all_done.clone();
        Effect::new(move |_| {
            if all_done()
                && let Some(text) = finish_foreground.try_update_value(Option::take).flatten()
            {
                type_into_terminal(&text);
            }
        });
    }
    let split = RwSignal::new(45.0f64);
    let lab_for_steps = lab.clone();
    let steps_for_list = steps.clone();
    let announcement = announcer(&lab, &steps, current);

    view! {
        <nav class="skip-links" aria-label=t!("skip-to")>
            <a href="#instructions" on:click=|e| skip_to(e, &["#instructions"])>{t!("skip-to-instructions")}</a>
            {signed_in.then(|| view! {
                <a href="#terminal" on:click=|e| skip_to(e, &["#terminal .terminal-host:not([hidden]) textarea", "#terminal"])>{t!("skip-to-terminal")}</a>
            })}
        </nav>
        // What changed in the learner's steps, read out by screen readers (one voice for all:
        // the check result beside the step is not a live region of its own).
        <p class="visually-hidden" role="status" aria-live="polite" id="step-announcer">{move || announcement.get()}</p>
        <div class="workbook" style=move || format!("--split: {:.1}%", split.get())>
            <article class="lab-text" id="instructions" tabindex="-1">
                <p class="crumbs"><a href="/">{t!("labs")}</a> " / " {lab.session_title.clone()}</p>
                <h1>{lab.title.clone()}</h1>
                <p class="lead">{lab.summary.clone()}</p>
                <p class="lab-score">
                    <span class="points">{move || t!("lab-points", done = done_points(), total = total_points)}</span>
                    {lab.tiers.iter().map(|t| view! { <span class="tier">{t.to_string()}</span> }).collect_view()}
                </p>
                <TierStatusLine tier="cluster" status=cluster />
                {signed_in.then(|| view! { <PortsMenu/> })}
                <nav class="step-list" aria-label=t!("steps")>
                    <ol>
                        {lab_for_steps.steps.iter().enumerate().map(|(i, step)| {
                            let state = steps_for_list[i];
                            let href = format!("/labs/{}/steps/{}", lab_for_steps.id, i + 1);
                            let title = step.title.clone();
                            view! {
                                <li
                                    class="step-item"
                                    class:current=move || current.get() == i
                                    data-state=move || {
                                        let p = state.get();
                                        if p.done { "done" } else if p.started { "started" } else { "new" }
                                    }
                                    data-step=step.id.clone()
                                >
                                    <A href=href attr:aria-current=move || (current.get() == i).then_some("step")>
                                        <span class="step-mark" aria-hidden="true"></span>
                                        <span class="step-title">{title}</span>
                                        <span class="visually-hidden">
                                            {move || format!(" ({})", if state.get().done { t!("step-state-done") } else if state.get().started { t!("step-state-started") } else { t!("step-state-new") })}
                                        </span>
                                    </A>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </nav>
                {move || (current.get() == 0 && !lab.intro_html.is_empty()).then(|| view! {
                    <div class="prose intro" inner_html=lab.intro_html.clone()></div>
                })}
                {
                    let lab = lab_for_steps.clone();
                    let steps = steps.clone();
                    let quiz = quiz.clone();
                    move || {
                        let index = current.get();
                        let step = lab.steps[index].clone();
                        let state = steps[index];
                        let previous: Vec<QuizResult> = quiz.iter().filter(|q| step.quiz.iter().any(|s| s.id == q.question_id)).cloned().collect();
                        view! {
                            <StepView lab_id=lab.id.clone() step index count state checking signed_in previous stuck_secs/>
                        }
                    }
                }
                {move || all_done().then(|| view! {
                    <section class="finished card">
                        <h2>{t!("lab-complete")}</h2>
                        <div class="prose" inner_html=lab_for_steps.finish_html.clone()></div>
                    </section>
                })}
            </article>
            <Splitter split/>
            {match viewer {
                Some(v) => view! {
                    <TerminalPane folders=lab_for_steps.editor_folders.clone() recorded=!v.class_settings.recording_off preferences=v.preferences/>
                }.into_any(),
                None => {
                    let next = format!("/labs/{}", lab_id);
                    view! { <aside class="terminal-pane join"><JoinForm next/></aside> }.into_any()
                }
            }}
        </div>
    }
}

/// What a screen reader says as the learner works: a step that passes (any step, whether the
/// learner checked it or an auto-check did), and the current step's check when it fails anew.
fn announcer(lab: &LabView, steps: &[RwSignal<StepProgress>], current: Memo<usize>) -> RwSignal<String> {
    let said = RwSignal::new(String::new());
    for (i, step) in steps.iter().copied().enumerate() {
        let manual = lab.steps[i].manual;
        Effect::new(move |before: Option<(bool, Option<String>)>| {
            let p = step.get();
            let now = (p.done, p.last_reason.clone());
            if let Some(before) = before
                && before != now
            {
                let n = i + 1;
                if p.done && !before.0 {
                    said.set(match p.last_reason.as_deref() {
                        Some(reason) if !manual => t!("announce-passed", n = n, reason = reason),
                        _ => t!("announce-done", n = n),
                    });
                } else if let (false, Some(false), Some(reason)) = (p.done, p.last_passed, p.last_reason.as_deref())
                    && current.get_untracked() == i
                {
                    said.set(t!("announce-failed", n = n, reason = reason));
                }
            }
            now
        });
    }
    said
}

/// A skip link's jump: focus moves to the element the first of `selectors` that finds one finds
/// (the terminal's input, else its pane), where the page's router would take the link as a
/// navigation.
fn skip_to(event: leptos::ev::MouseEvent, selectors: &[&str]) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let found = selectors
            .iter()
            .find_map(|s| document().query_selector(s).ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = found {
            event.prevent_default();
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (event, selectors);
}

fn all_done_untracked(steps: &[RwSignal<StepProgress>]) -> bool {
    steps.iter().all(|s| s.get_untracked().done)
}

/// Types `text` into the learner's terminal (terminal.js listens, once it has loaded; it waits
/// for the shell).
fn type_into_terminal(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let text = text.to_string();
        crate::components::scripts::TERMINAL.when_ready(move || {
            let init = web_sys::CustomEventInit::new();
            init.set_detail(&text.into());
            if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict("stacklab-type", &init) {
                let _ = window().dispatch_event(&event);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

#[component]
fn StepView(
    lab_id: String,
    step: labs::StepView,
    index: usize,
    count: usize,
    state: RwSignal<StepProgress>,
    checking: RwSignal<Option<String>>,
    signed_in: bool,
    previous: Vec<QuizResult>,
    /// After this long on the step, or the same check failing again and again, the page
    /// suggests raising a hand.
    stuck_secs: i64,
) -> impl IntoView {
    let error = RwSignal::new(None::<crate::error::AppError>);
    let run = {
        let (lab, step_id) = (lab_id.clone(), step.id.clone());
        move |kind: &'static str| {
            let (lab, step_id) = (lab.clone(), step_id.clone());
            error.set(None);
            if kind == "check" {
                checking.set(Some(step_id.clone()));
            }
            leptos::task::spawn_local(async move {
                let result = match kind {
                    "check" => check_step(lab, step_id).await,
                    "hint" => next_hint(lab, step_id).await,
                    _ => show_solution(lab, step_id).await,
                };
                match result {
                    Ok(p) => state.set(p),
                    Err(e) => error.set(Some(e)),
                }
                checking.set(None);
            });
        }
    };
    let (check, hint, solution) = (run.clone(), run.clone(), run);
    // A step with no check is done when the learner moves on (or says so), as on Killercoda.
    let manual = step.manual;
    // "Next" on such a step marks it done first, then goes on (the next page's progress then
    // has it done).
    let navigate = use_navigate();
    let next_after_marking = {
        let (lab, step_id) = (lab_id.clone(), step.id.clone());
        move |event: leptos::ev::MouseEvent, href: String| {
            if !(manual && signed_in && !state.get_untracked().done) {
                return;
            }
            event.prevent_default();
            let (lab, step_id, navigate) = (lab.clone(), step_id.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                match check_step(lab, step_id).await {
                    Ok(p) => state.set(p),
                    Err(e) => error.set(Some(e)),
                }
                navigate(&href, Default::default());
            });
        }
    };
    let step_id = step.id.clone();
    let is_checking = move || checking.get().as_deref() == Some(step_id.as_str());
    let prev = (index > 0).then(|| format!("/labs/{lab_id}/steps/{index}"));
    let next = (index + 1 < count).then(|| format!("/labs/{lab_id}/steps/{}", index + 2));
    view! {
        <section class="step" data-step=step.id.clone() aria-labelledby="step-title">
            <p class="step-count muted">{t!("step-count", n = index + 1, count = count, points = step.points)}</p>
            <h2 id="step-title">{step.title.clone()}</h2>
            <div class="prose" inner_html=step.html.clone()></div>

            <div class="check-result" data-state=move || {
                let p = state.get();
                if p.done { "done" } else if p.last_passed == Some(false) { "failed" } else { "waiting" }
            }>
                <span class="check-icon" aria-hidden="true"></span>
                <span class="check-text">
                    {move || {
                        let p = state.get();
                        match (p.done, p.last_reason) {
                            (true, _) if manual => t!("check-done"),
                            (true, Some(reason)) => t!("check-done-because", reason = reason),
                            (true, None) => t!("check-done"),
                            (false, _) if manual => t!("check-manual"),
                            (false, Some(reason)) => t!("check-not-yet", reason = reason),
                            (false, None) => t!("check-as-you-work"),
                        }
                    }}
                </span>
                {signed_in.then(|| view! {
                    <button class="button small quiet check-button" on:click=move |_| check("check") disabled=is_checking.clone()>
                        {let c = is_checking.clone(); move || if c() { t!("checking") } else if manual { t!("check-mark-done") } else { t!("check") }}
                    </button>
                })}
            </div>
            {move || error.get().map(|error| view! { <ErrorNote error/> })}
            {signed_in.then(|| view! { <StuckNudge state stuck_secs/> })}

            <div class="hints">
                {move || state.get().hints.into_iter().enumerate().map(|(i, html)| view! {
                    <div class="hint" data-hint=i>
                        <span class="hint-label">{t!("hint")}</span>
                        <div class="prose" inner_html=html></div>
                    </div>
                }).collect_view()}
                {move || (signed_in && state.get().hints_left > 0).then(|| {
                    let hint = hint.clone();
                    view! {
                        <button class="button small quiet" on:click=move |_| hint("hint")>
                            {move || t!("hint-show", left = state.get().hints_left)}
                        </button>
                    }
                })}
            </div>

            {(signed_in && step.has_solution).then(|| view! {
                <div class="solution">
                    {move || match state.get().solution {
                        Some(source) => view! {
                            <details open>
                                <summary>{t!("solution")}</summary>
                                <pre><code>{source}</code></pre>
                            </details>
                        }.into_any(),
                        None => {
                            let solution = solution.clone();
                            view! {
                                <button class="button small quiet" on:click=move |_| {
                                    let sure = window().confirm_with_message(&t!("solution-confirm")).unwrap_or(false);
                                    if sure {
                                        solution("solution");
                                    }
                                }>{t!("solution-show")}</button>
                            }.into_any()
                        }
                    }}
                </div>
            })}

            {step.quiz.iter().map(|q| {
                let previous = previous.iter().find(|p| p.question_id == q.id).cloned();
                match previous {
                    Some(previous) => view! { <QuizCard question=q.clone() previous/> }.into_any(),
                    None => view! { <QuizCard question=q.clone()/> }.into_any(),
                }
            }).collect_view()}

            <nav class="step-pager">
                {prev.map(|href| view! { <A href=href attr:class="button quiet">{t!("step-previous")}</A> })}
                <span class="spacer"></span>
                {next.map(|href| {
                    let next_after_marking = next_after_marking.clone();
                    let target = href.clone();
                    view! { <A href=href attr:class="button" on:click=move |e| next_after_marking(e, target.clone())>{t!("step-next")}</A> }
                })}
            </nav>
        </section>
    }
}

/// "Stuck? Ask for help": once the step's check failed the same way `FAILING_AFTER` times, or
/// after the class's stuck time on it (what flags the learner on the dashboard too).
#[component]
fn StuckNudge(state: RwSignal<StepProgress>, stuck_secs: i64) -> impl IntoView {
    let now = RwSignal::new(0i64);
    #[cfg(feature = "hydrate")]
    {
        let tick = move || now.set((js_sys::Date::now() / 1000.0) as i64);
        tick();
        let handle = set_interval_with_handle(tick, std::time::Duration::from_secs(30));
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    }
    let stuck = move || {
        let p = state.get();
        let long = p.started_at.is_some_and(|at| now.get() > 0 && now.get() - at >= stuck_secs);
        !p.done && p.started && (p.same_failures >= crate::class::FAILING_AFTER || long)
    };
    let help = use_context::<crate::components::help::HelpOpen>();
    view! {
        <Show when=stuck>
            <p class="stuck-nudge">
                {t!("stuck-here")} " "
                <button class="button small quiet" on:click=move |_| {
                    if let Some(h) = help {
                        h.0.set(true);
                    }
                }>{t!("ask-for-help")}</button>
            </p>
        </Show>
    }
}

/// The draggable divider between the text and the terminal (arrow keys move it too).
#[component]
fn Splitter(split: RwSignal<f64>) -> impl IntoView {
    let dragging = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::pointermove, move |e| {
            if dragging.get_untracked() {
                let width = window().inner_width().ok().and_then(|w| w.as_f64()).unwrap_or(1.0);
                split.set((f64::from(e.client_x()) / width * 100.0).clamp(20.0, 80.0));
            }
        });
        let up = window_event_listener(leptos::ev::pointerup, move |_| dragging.set(false));
        on_cleanup(move || {
            handle.remove();
            up.remove();
        });
    }
    view! {
        <div
            class="splitter"
            role="separator"
            aria-orientation="vertical"
            aria-label=t!("splitter")
            aria-valuenow=move || format!("{:.0}", split.get())
            aria-valuemin="20"
            aria-valuemax="80"
            tabindex="0"
            on:pointerdown=move |e| {
                e.prevent_default();
                dragging.set(true);
            }
            on:keydown=move |e| match e.key().as_str() {
                "ArrowLeft" => split.update(|s| *s = (*s - 5.0).max(20.0)),
                "ArrowRight" => split.update(|s| *s = (*s + 5.0).min(80.0)),
                _ => {}
            }
        ></div>
    }
}
