//! Helping one learner: why they are flagged, their sandbox, their terminal (watched read-only,
//! or typed into after a confirm), restart/reset/extend, and a message just for them.

use leptos::prelude::*;

use super::matrix::sandbox_label;
use crate::class::{Dashboard, DashboardEvent, HelpAction, MessageView, flags};
use crate::error::AppResult;
use crate::i18n::duration;

/// The thread between staff and `learner`.
#[server(endpoint = "instructor/thread")]
pub async fn load_thread(learner: String) -> AppResult<Vec<MessageView>> {
    let (services, staff) = crate::services::staff().await?;
    services.thread(&staff, &learner).await
}
use crate::components::confirm::confirm;
use crate::components::replay::ReplayPlayer;
use crate::components::terminal::WatchTerminal;

#[component]
pub fn LearnerPanel(
    dash: RwSignal<Dashboard>,
    learner: String,
    selected: RwSignal<Option<String>>,
    act: Callback<HelpAction>,
    /// The instructor's controls (restart, reset, extend, take over); an assistant only watches.
    instructor: bool,
) -> impl IntoView {
    let row = {
        let id = learner.clone();
        Memo::new(move |_| dash.with(|d| d.learners.iter().find(|r| r.id == id).cloned()))
    };
    let name = move || row.with(|r| r.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let tabs = Memo::new(move |_| row.with(|r| r.as_ref().map(|r| r.sandbox.terminals.clone()).unwrap_or_default()));
    let tab = RwSignal::new(1u32);
    let control = RwSignal::new(false);
    let message = RwSignal::new(String::new());
    let id = learner.clone();
    let learner_signal = Signal::derive(move || learner.clone());

    let (extend_id, restart_id, reset_id, message_id) = (id.clone(), id.clone(), id.clone(), id.clone());
    let (spot_id, spot_class) = (id.clone(), dash.with_untracked(|d| d.class.id.clone()));
    let hand = {
        let id = id.clone();
        Memo::new(move |_| dash.with(|d| d.help.iter().find(|h| h.learner == id).cloned()))
    };
    // The thread: read once, then each new message of it from the dashboard's stream.
    let thread = RwSignal::new(Vec::<MessageView>::new());
    {
        let id = id.clone();
        #[cfg(feature = "hydrate")]
        {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                if let Ok(list) = load_thread(id).await {
                    thread.update(|t| {
                        let fresh: Vec<MessageView> = t.drain(..).filter(|m| !list.iter().any(|l| l.id == m.id)).collect();
                        *t = list;
                        t.extend(fresh);
                    });
                }
            });
        }
        let events = format!("/api/instructor/classes/{}/events", dash.with_untracked(|d| d.class.id.clone()));
        crate::components::live::listen(events, "dashboard", move |data| {
            if let Ok(DashboardEvent::Chat { learner, message }) = serde_json::from_str::<DashboardEvent>(&data)
                && learner == id
            {
                thread.update(|t| {
                    if !t.iter().any(|m| m.id == message.id) {
                        t.push(message);
                    }
                });
            }
        });
    }
    // Replaying a step: the steps this learner reached, in the course's order.
    let reached = {
        let id = id.clone();
        Memo::new(move |_| {
            dash.with(|d| {
                let row = d.learners.iter().find(|r| r.id == id);
                d.labs
                    .iter()
                    .flat_map(|lab| lab.steps.iter().map(move |s| (lab, s)))
                    .filter(|(lab, s)| row.is_some_and(|r| r.cells.contains_key(&crate::class::cell_key(&lab.id, &s.id))))
                    .map(|(lab, s)| (crate::class::cell_key(&lab.id, &s.id), format!("{}: {}", lab.title, s.title)))
                    .collect::<Vec<_>>()
            })
        })
    };
    let replay_step = RwSignal::new(String::new());
    let replaying = RwSignal::new(None::<String>);
    let replay_id = id.clone();
    let replay = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let key = replay_step.get_untracked();
        let key = if key.is_empty() { reached.with_untracked(|r| r.last().map(|(k, _)| k.clone()).unwrap_or_default()) } else { key };
        if let Some((lab, step)) = key.split_once('/') {
            replaying.set(Some(format!("/api/instructor/learners/{replay_id}/labs/{lab}/steps/{step}/replay")));
        }
    };
    let class_id = dash.with_untracked(|d| d.class.id.clone());
    let take_over = move |_| {
        if control.get_untracked() {
            control.set(false);
        } else if confirm(&t!("panel-take-over-confirm", name = name())) {
            control.set(true);
        }
    };
    let send = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let body = message.get_untracked();
        if !body.trim().is_empty() {
            message.set(String::new());
            act.run(HelpAction::Message { class: class_id.clone(), learner: Some(message_id.clone()), body });
        }
    };

    view! {
        <aside class="learner-panel card" aria-label=move || t!("panel-help", name = name())>
            <div class="title-row">
                <h2>{name}</h2>
                {move || row.get().map(|r| view! {
                    <span class="sandbox-detail muted">
                        {t!("sandbox")} " " <strong>{sandbox_label(&r.sandbox)}</strong>
                        {r.sandbox.expires_in_secs.map(|s| format!(" · {}", t!("panel-stops-in", time = duration(s as i64))))}
                        {r.sandbox.idle_secs.map(|s| format!(" · {}", t!("panel-idle", time = duration(s as i64))))}
                    </span>
                })}
                <button class="button small secondary" on:click=move |_| selected.set(None)>{t!("close")}</button>
            </div>
            {move || row.get().map(|r| {
                let now = dash.with(|d| d.now);
                let settings = dash.with(|d| d.class.settings.clone());
                let flags = flags(&r, &settings, now);
                (!flags.is_empty()).then(|| view! {
                    <ul class="flags">
                        {flags.into_iter().map(|f| view! { <li class="flag">{f.detail()}</li> }).collect_view()}
                    </ul>
                })
            })}
            {move || hand.get().map(|h| {
                let id = h.id;
                view! {
                    <div class="panel-hand" role="note">
                        <strong>{t!("panel-hand-up")}</strong>
                        {(!h.note.is_empty()).then(|| view! { <span>": " {h.note.clone()}</span> })}
                        {h.reason.clone().map(|r| view! { <span class="muted">" · " {t!("panel-check")} " " {r}</span> })}
                        " "
                        <button class="button small secondary" on:click=move |_| act.run(HelpAction::Resolve { request: id })>{t!("help-resolve")}</button>
                    </div>
                }
            })}
            <div class="panel-actions" hidden=!instructor>
                <button class="button small" on:click=move |_| act.run(HelpAction::Extend { learner: extend_id.clone(), minutes: 30 })>{t!("panel-extend")}</button>
                <button
                    class="button small secondary"
                    on:click=move |_| {
                        if confirm(&t!("panel-restart-confirm", name = name())) {
                            act.run(HelpAction::Reset { learner: restart_id.clone(), wipe: false });
                        }
                    }
                >
                    {t!("panel-restart")}
                </button>
                <button
                    class="button small danger"
                    on:click=move |_| {
                        if confirm(&t!("panel-reset-confirm", name = name())) {
                            act.run(HelpAction::Reset { learner: reset_id.clone(), wipe: true });
                        }
                    }
                >
                    {t!("panel-reset")}
                </button>
            </div>
            {instructor.then(|| {
                let id = spot_id.clone();
                let class = spot_class.clone();
                view! {
                    <div class="panel-spotlight">
                        {move || match dash.with(|d| d.spotlight.clone()).filter(|s| s.learner == id) {
                            Some(s) => {
                                let class = class.clone();
                                view! {
                                    <span role="status">{if s.consented { t!("panel-spotlight-shown") } else { t!("panel-spotlight-waiting") }} " "</span>
                                    <button class="button small secondary" on:click=move |_| act.run(HelpAction::EndSpotlight { class: class.clone() })>{t!("present-end-spotlight")}</button>
                                }.into_any()
                            }
                            None => {
                                let id = id.clone();
                                view! {
                                    <button class="button small secondary" on:click=move |_| act.run(HelpAction::Spotlight { learner: id.clone(), tab: tab.get_untracked(), to_class: true })>
                                        {t!("panel-spotlight")}
                                    </button>
                                }.into_any()
                            }
                        }}
                    </div>
                }
            })}
            {move || row.get().and_then(|r| r.sandbox.editing).map(|path| view! {
                <p class="panel-editing">{t!("panel-editing")} " " <code>{path}</code></p>
            })}
            {move || row.get().filter(|r| !r.sandbox.previews.is_empty()).map(|r| view! {
                <p class="panel-previews">
                    {t!("panel-previews")} " "
                    {r.sandbox.previews.iter().map(|port| view! {
                        <a href=format!("/instructor/learners/{}/preview/{port}/", r.id) target="_blank" rel="noopener" class="preview-link">
                            {t!("panel-port", port = *port)}
                        </a>
                        " "
                    }).collect_view()}
                </p>
            })}
            <h3 class="visually-hidden">{t!("terminal")}</h3>
            <div class="terminal-tabs">
                {move || {
                    let open = tabs.get();
                    if open.is_empty() {
                        view! { <span class="muted">{t!("panel-no-terminal")}</span> }.into_any()
                    } else {
                        // Only the tabs in the tab list; "Take over" beside it is not one.
                        view! {
                            <div class="tab-list" role="tablist" aria-label=t!("panel-terminals")>
                                {open.into_iter().map(|t| view! {
                                    <button role="tab" class="terminal-tab" aria-selected=move || (tab.get() == t).to_string() on:click=move |_| tab.set(t)>
                                        {t!("terminal-n", n = t)}
                                    </button>
                                }).collect_view()}
                            </div>
                        }.into_any()
                    }
                }}
                <button class="button small" class:danger=move || control.get() on:click=take_over hidden=!instructor>
                    {move || if control.get() { t!("panel-stop-typing") } else { t!("panel-take-over") }}
                </button>
            </div>
            // Opened or closed tabs (seen every few seconds) reconnect the view.
            {move || {
                tabs.track();
                view! { <WatchTerminal learner=learner_signal tab control/> }
            }}
            <h3 class="panel-heading">{t!("panel-replay-step")}</h3>
            <form class="inline replay-pick" on:submit=replay>
                <label class="visually-hidden" for="replay-step">{t!("step")}</label>
                <select id="replay-step" on:change=move |e| replay_step.set(event_target_value(&e))>
                    {move || {
                        let steps = reached.get();
                        let last = steps.len().saturating_sub(1);
                        steps.into_iter().enumerate().map(|(i, (key, title))| view! {
                            <option value=key selected=i == last>{title}</option>
                        }).collect_view()
                    }}
                </select>
                <button class="button small secondary" type="submit" disabled=move || reached.with(Vec::is_empty)>{t!("panel-replay")}</button>
                <button class="button small secondary" type="button" hidden=move || replaying.with(Option::is_none) on:click=move |_| replaying.set(None)>
                    {t!("panel-close-replay")}
                </button>
                <span class="muted recording-usage">
                    {move || row.get().map(|r| {
                        let quota = dash.with(|d| d.class.settings.recording_quota_bytes());
                        t!("panel-recordings", used = crate::class::short_bytes(r.recording_bytes), quota = crate::class::short_bytes(quota))
                    })}
                </span>
            </form>
            <ReplayPlayer src=replaying/>
            <ol class="thread" aria-label=move || t!("panel-messages-with", name = name())>
                <For each=move || thread.get() key=|m| m.id let:m>
                    <li class="thread-message" class:mine=!m.from_learner data-message=m.id>
                        <strong>{if m.from_learner { name() } else { m.author.clone().unwrap_or_else(|| t!("sender-you")) }}</strong>
                        <p>{m.body.clone()}</p>
                    </li>
                </For>
            </ol>
            <form class="inline" on:submit=send>
                <label class="visually-hidden" for="learner-message">{t!("message")}</label>
                <input id="learner-message" placeholder=move || t!("panel-message-to", name = name()) maxlength="2000" bind:value=message/>
                <button class="button small" type="submit">{t!("send")}</button>
            </form>
        </aside>
    }
}
