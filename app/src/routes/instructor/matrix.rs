//! The matrix: one compact row per learner (flags, sandbox, a cell per step, quiz points,
//! total), so 60 learners fit on one screen. Each row re-renders only when its learner changed.
//! Beside the help panel it narrows to a cell per lab (steps done of steps), so the whole class
//! stays in sight on a laptop while the instructor helps one learner.

use leptos::prelude::*;

use crate::i18n::duration;

use crate::class::{
    Cell, Dashboard, FAILING_AFTER, LabColumns, LabSummary, LearnerRow, SandboxState, SandboxView, cell_key, flags, time_on_step,
};

/// What a cell shows by its colour.
pub fn cell_state(cell: Option<&Cell>) -> &'static str {
    match cell {
        None => "none",
        Some(c) if c.done => "done",
        Some(c) if c.same_failures >= FAILING_AFTER => "failing",
        Some(_) => "started",
    }
}

/// The sandbox's state in a word or two (the matrix's column).
pub fn sandbox_state(view: &SandboxView) -> String {
    match view.state {
        SandboxState::Running => t!("sandbox-running"),
        SandboxState::Idle => t!("sandbox-idle"),
        SandboxState::Expired => t!("sandbox-expired"),
        SandboxState::Stopped => t!("sandbox-stopped"),
        SandboxState::Off => "—".into(),
        SandboxState::Queued => view.queue_position.map_or_else(|| t!("sandbox-queued"), |p| format!("{} · #{p}", t!("sandbox-queued"))),
    }
}

/// The state with the memory in use (the panel's, and the matrix cell's tooltip).
pub fn sandbox_label(view: &SandboxView) -> String {
    match (view.state, view.memory_bytes) {
        (SandboxState::Queued, _) | (_, None) => sandbox_state(view),
        (_, Some(bytes)) => format!("{} · {} MiB", sandbox_state(view), bytes.div_ceil(1 << 20)),
    }
}

#[component]
pub fn Matrix(dash: RwSignal<Dashboard>, selected: RwSignal<Option<String>>, #[prop(into)] compact: Signal<bool>) -> impl IntoView {
    // Columns come with the snapshot; they change only when the class does (a reload).
    let (labs, quiz_max) = dash.with_untracked(|d| (d.labs.clone(), d.quizzes.iter().map(|q| q.points).sum::<u32>()));
    let total_max = dash.with_untracked(|d| d.step_columns().map(|(_, s)| s.points).sum::<u32>()) + quiz_max;
    let ids = move || dash.with(|d| d.learners.iter().map(|r| r.id.clone()).collect::<Vec<_>>());
    view! {
        <div class="matrix-wrap">
            {move || {
                let compact = compact.get();
                let head = if compact { compact_head(&labs) } else { full_head(&labs) };
                view! {
                    <table class="matrix" class:compact=compact>
                        <caption class="visually-hidden">{t!("matrix-caption")}</caption>
                        <thead>
                            <tr>
                                <th rowspan="2" scope="col" class="learner-col">{t!("learner")}</th>
                                {(!compact).then(|| view! { <th rowspan="2" scope="col" class="sandbox-col">{t!("sandbox")}</th> })}
                                {head.0}
                                <th rowspan="2" scope="col">{format!("{} /{quiz_max}", t!("quiz"))}</th>
                                <th rowspan="2" scope="col">{format!("{} /{total_max}", t!("total"))}</th>
                            </tr>
                            <tr>{head.1}</tr>
                        </thead>
                        <tbody>
                            <For each=ids key=|id| id.clone() let:id>
                                <Row dash id selected compact/>
                            </For>
                        </tbody>
                    </table>
                }
            }}
            {move || dash.with(|d| d.learners.is_empty()).then(|| view! {
                <p class="muted empty">{t!("matrix-empty")}</p>
            })}
        </div>
    }
}

/// A lab's title over its step numbers.
fn full_head(labs: &[LabColumns]) -> (AnyView, AnyView) {
    let top = labs
        .iter()
        .map(|lab| {
            // The title never widens its steps' columns (it is cut with an ellipsis instead).
            view! {
                <th colspan=lab.steps.len() scope="colgroup" class="lab-head" title=lab.title.clone()>
                    <span class="lab-title">{lab.title.clone()}</span>
                </th>
            }
        })
        .collect_view()
        .into_any();
    let steps = labs
        .iter()
        .flat_map(|lab| {
            lab.steps.iter().enumerate().map(|(i, step)| {
                view! {
                    <th scope="col" class="step-head" title=t!("matrix-step-title", lab = lab.title.clone(), step = step.title.clone(), points = step.points)>
                        {i + 1}
                        <span class="visually-hidden">{format!(" {}: {}", lab.title, step.title)}</span>
                    </th>
                }
            })
        })
        .collect_view()
        .into_any();
    (top, steps)
}

/// A column per lab, numbered in course order (the titles are in the tooltips).
fn compact_head(labs: &[LabColumns]) -> (AnyView, AnyView) {
    let top = view! { <th colspan=labs.len().max(1) scope="colgroup" class="lab-head">{t!("matrix-labs-compact")}</th> }.into_any();
    let numbers = labs
        .iter()
        .enumerate()
        .map(|(i, lab)| {
            view! {
                <th scope="col" class="step-head" title=lab.title.clone()>
                    {t!("matrix-lab-short", n = i + 1)}
                    <span class="visually-hidden">{format!(" {}", lab.title)}</span>
                </th>
            }
        })
        .collect_view()
        .into_any();
    (top, numbers)
}

#[component]
fn Row(dash: RwSignal<Dashboard>, id: String, selected: RwSignal<Option<String>>, compact: bool) -> impl IntoView {
    let row = {
        let id = id.clone();
        Memo::new(move |_| dash.with(|d| d.learners.iter().find(|r| r.id == id).cloned()))
    };
    let now = Memo::new(move |_| dash.with(|d| d.now));
    let labs = dash.with_untracked(|d| d.labs.clone());
    let columns = dash.with_untracked(|d| {
        d.step_columns().map(|(l, s)| (l.id.clone(), s.id.clone(), format!("{}: {}", l.title, s.title))).collect::<Vec<_>>()
    });
    let is_selected = {
        let id = id.clone();
        move || selected.with(|s| s.as_deref() == Some(id.as_str()))
    };
    move || {
        let Some(row) = row.get() else { return ().into_any() };
        let now = now.get();
        let settings = dash.with_untracked(|d| d.class.settings.clone());
        let row_flags = flags(&row, &settings, now);
        let points = dash.with_untracked(|d| d.points(&row));
        let steps = columns.len();
        let quiz: u32 = points[steps..].iter().sum();
        let total: u32 = points.iter().sum();
        let id = row.id.clone();
        let cells = if compact {
            labs.iter().map(|lab| lab_cell(&row, lab)).collect_view().into_any()
        } else {
            columns.iter().map(|(lab, step, title)| cells(&row, lab, step, title, now)).collect_view().into_any()
        };
        view! {
            <tr data-learner=row.id.clone() class:flagged=!row_flags.is_empty() class:selected=is_selected.clone()>
                <th scope="row" class="learner-col">
                    <button class="learner-name" on:click=move |_| selected.set(Some(id.clone()))>{row.name.clone()}</button>
                    {row_flags.iter().map(|f| view! { <span class="flag" title=f.detail()>{f.label()}</span> }).collect_view()}
                </th>
                {(!compact).then(|| view! {
                    <td class="sandbox" data-state=format!("{:?}", row.sandbox.state).to_lowercase() title=sandbox_label(&row.sandbox)>
                        {sandbox_state(&row.sandbox)}
                    </td>
                })}
                {cells}
                <td class="num">{quiz}</td>
                <td class="num total">{total}</td>
            </tr>
        }
        .into_any()
    }
}

fn lab_cell(row: &LearnerRow, lab: &LabColumns) -> impl IntoView + use<> {
    let summary = LabSummary::of(row, lab);
    let text = format!("{}/{}", summary.done, summary.steps);
    let detail = if summary.failing {
        t!("matrix-lab-failing", lab = lab.title.clone(), done = summary.done, steps = summary.steps)
    } else {
        t!("matrix-lab", lab = lab.title.clone(), done = summary.done, steps = summary.steps)
    };
    view! {
        <td class="cell" data-lab=lab.id.clone() data-state=summary.state() title=detail.clone()>
            <span aria-hidden="true">{text}</span>
            <span class="visually-hidden">{detail.clone()}</span>
        </td>
    }
}

fn cells(row: &LearnerRow, lab: &str, step: &str, title: &str, now: i64) -> impl IntoView + use<> {
    let key = cell_key(lab, step);
    let cell = row.cells.get(&key);
    let text = cell.map(|c| duration(time_on_step(c, now))).unwrap_or_default();
    let detail = match cell {
        None => t!("cell-not-reached", step = title),
        Some(c) if c.done => t!("cell-done", step = title, time = duration(time_on_step(c, now))),
        Some(c) => {
            let time = duration(time_on_step(c, now));
            let doing = if c.same_failures >= FAILING_AFTER {
                t!("cell-failing", step = title, time = time, checks = c.attempts)
            } else {
                t!("cell-working", step = title, time = time, checks = c.attempts)
            };
            let last = c.last_reason.as_deref().map(|r| format!(" · {}", t!("cell-last", reason = r))).unwrap_or_default();
            format!("{doing}{last}")
        }
    };
    let extra = cell.map(|c| {
        format!(
            "{}{}",
            if c.hints > 0 { format!(" · {}", t!("cell-hints", count = c.hints)) } else { String::new() },
            if c.solution_shown { format!(" · {}", t!("cell-solution-shown")) } else { String::new() }
        )
    });
    let words = format!("{detail}{}", extra.unwrap_or_default());
    let title = words.clone();
    view! {
        <td class="cell" data-step=key data-state=cell_state(cell) class:checking=cell.is_some_and(|c| c.checking) title=title>
            // The state in words for a screen reader, not only the cell's colour.
            <span aria-hidden="true">{text}</span>
            <span class="visually-hidden">{words}</span>
        </td>
    }
}
