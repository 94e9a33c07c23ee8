//! The matrix: one compact row per learner (flags, sandbox, a cell per step, quiz points,
//! total), so 60 learners fit on one screen. Each row re-renders only when its learner changed.

use leptos::prelude::*;

use crate::class::{Cell, Dashboard, FAILING_AFTER, LearnerRow, SandboxState, SandboxView, cell_key, flags, short_duration, time_on_step};

/// What a cell shows by its colour.
pub fn cell_state(cell: Option<&Cell>) -> &'static str {
    match cell {
        None => "none",
        Some(c) if c.done => "done",
        Some(c) if c.same_failures >= FAILING_AFTER => "failing",
        Some(_) => "started",
    }
}

pub fn sandbox_label(view: &SandboxView) -> String {
    let state = match view.state {
        SandboxState::Running => "running",
        SandboxState::Idle => "idle",
        SandboxState::Expired => "expired",
        SandboxState::Stopped => "stopped",
        SandboxState::Off => "—",
        SandboxState::Queued => {
            return view.queue_position.map_or_else(|| "queued".to_string(), |p| format!("queued · #{p}"));
        }
    };
    match view.memory_bytes {
        Some(bytes) => format!("{state} · {} MiB", bytes.div_ceil(1 << 20)),
        None => state.to_string(),
    }
}

#[component]
pub fn Matrix(dash: RwSignal<Dashboard>, selected: RwSignal<Option<String>>) -> impl IntoView {
    // Columns come with the snapshot; they change only when the class does (a reload).
    let (labs, quiz_max) = dash.with_untracked(|d| (d.labs.clone(), d.quizzes.iter().map(|q| q.points).sum::<u32>()));
    let total_max = dash.with_untracked(|d| d.step_columns().map(|(_, s)| s.points).sum::<u32>()) + quiz_max;
    let ids = move || dash.with(|d| d.learners.iter().map(|r| r.id.clone()).collect::<Vec<_>>());
    view! {
        <div class="matrix-wrap">
            <table class="matrix">
                <thead>
                    <tr>
                        <th rowspan="2" class="learner-col">"Learner"</th>
                        <th rowspan="2">"Sandbox"</th>
                        {labs.iter().map(|lab| view! {
                            <th colspan=lab.steps.len() class="lab-head" title=lab.title.clone()>{lab.title.clone()}</th>
                        }).collect_view()}
                        <th rowspan="2">{format!("Quiz /{quiz_max}")}</th>
                        <th rowspan="2">{format!("Total /{total_max}")}</th>
                    </tr>
                    <tr>
                        {labs.iter().flat_map(|lab| lab.steps.iter().enumerate().map(|(i, step)| view! {
                            <th class="step-head" title=format!("{}: {} ({} pt)", lab.title, step.title, step.points)>{i + 1}</th>
                        })).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    <For each=ids key=|id| id.clone() let:id>
                        <Row dash id selected/>
                    </For>
                </tbody>
            </table>
            {move || dash.with(|d| d.learners.is_empty()).then(|| view! {
                <p class="muted empty">"Nobody has joined yet. Learners join at /join with the class code."</p>
            })}
        </div>
    }
}

#[component]
fn Row(dash: RwSignal<Dashboard>, id: String, selected: RwSignal<Option<String>>) -> impl IntoView {
    let row = {
        let id = id.clone();
        Memo::new(move |_| dash.with(|d| d.learners.iter().find(|r| r.id == id).cloned()))
    };
    let now = Memo::new(move |_| dash.with(|d| d.now));
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
        view! {
            <tr data-learner=row.id.clone() class:flagged=!row_flags.is_empty() class:selected=is_selected.clone()>
                <th class="learner-col">
                    <button class="learner-name" on:click=move |_| selected.set(Some(id.clone()))>{row.name.clone()}</button>
                    {row_flags.iter().map(|f| view! { <span class="flag" title=f.detail()>{f.label()}</span> }).collect_view()}
                </th>
                <td class="sandbox" data-state=format!("{:?}", row.sandbox.state).to_lowercase()>{sandbox_label(&row.sandbox)}</td>
                {columns.iter().map(|(lab, step, title)| cells(&row, lab, step, title, now)).collect_view()}
                <td class="num">{quiz}</td>
                <td class="num total">{total}</td>
            </tr>
        }
        .into_any()
    }
}

fn cells(row: &LearnerRow, lab: &str, step: &str, title: &str, now: i64) -> impl IntoView + use<> {
    let key = cell_key(lab, step);
    let cell = row.cells.get(&key);
    let text = cell.map(|c| short_duration(time_on_step(c, now))).unwrap_or_default();
    let detail = match cell {
        None => format!("{title}: not reached"),
        Some(c) if c.done => format!("{title}: done in {}", short_duration(time_on_step(c, now))),
        Some(c) => format!(
            "{title}: working for {} · {} check(s){}",
            short_duration(time_on_step(c, now)),
            c.attempts,
            c.last_reason.as_deref().map(|r| format!(" · last: {r}")).unwrap_or_default()
        ),
    };
    let extra = cell.map(|c| {
        format!(
            "{}{}",
            if c.hints > 0 { format!(" · {} hint(s)", c.hints) } else { String::new() },
            if c.solution_shown { " · solution shown" } else { "" }
        )
    });
    view! {
        <td class="cell" data-step=key data-state=cell_state(cell) class:checking=cell.is_some_and(|c| c.checking) title=format!("{detail}{}", extra.unwrap_or_default())>
            {text}
        </td>
    }
}
