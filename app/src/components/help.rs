//! The live classroom on every page a learner has open (and a poll the presenter launches,
//! `components::poll`). Asking for help: "Ask for help" in the top bar raises their
//! hand with a note (the server adds the step they are on and what its last check said), shows
//! who took it ("The instructor is looking at your terminal"), lowers it, and holds the thread
//! with staff. And "eyes on me": the instructor's message covers the page until released, while
//! the terminal and workbook keep running underneath.
//!
//! Everything arrives on the learner's live stream (`/api/events`); after a reconnect the state
//! is read again. Messages are text nodes: whatever anyone writes is shown, never run.

use leptos::prelude::*;

use crate::class::SpotlightView;
use crate::class::{HelpView, LearnerHelp, MessageView, looking_at_you};
use crate::components::poll::PollCard;
use crate::components::terminal::SpotlightTerminal;
use crate::error::AppResult;
use crate::poll::{LearnerPoll, PollAnswer, PollView};

/// The learner's hand, thread and whether the class's pages are covered; `None` for anyone who
/// is not a learner (the component then shows nothing).
#[server(endpoint = "learner/help")]
pub async fn load_help() -> AppResult<Option<LearnerHelp>> {
    let (services, parts) = crate::services::request().await?;
    let Some(viewer) = services.viewer(&parts).await else { return Ok(None) };
    services.my_help(&viewer.learner_id).await.map(Some)
}

#[server(endpoint = "learner/raise-hand")]
pub async fn raise_hand(note: String) -> AppResult<HelpView> {
    let (services, viewer) = crate::services::learner().await?;
    services.raise_hand(&viewer.learner_id, &note).await
}

#[server(endpoint = "learner/lower-hand")]
pub async fn lower_hand() -> AppResult<()> {
    let (services, viewer) = crate::services::learner().await?;
    services.lower_hand(&viewer.learner_id).await
}

#[server(endpoint = "learner/extend")]
pub async fn extend_own_sandbox() -> AppResult<LearnerHelp> {
    let (services, viewer) = crate::services::learner().await?;
    services.extend_own_sandbox(&viewer.learner_id).await
}

#[server(endpoint = "learner/spotlight")]
pub async fn answer_spotlight(allow: bool) -> AppResult<()> {
    let (services, viewer) = crate::services::learner().await?;
    services.answer_spotlight(&viewer.learner_id, allow).await
}

#[server(endpoint = "learner/write")]
pub async fn write_to_staff(body: String) -> AppResult<MessageView> {
    let (services, viewer) = crate::services::learner().await?;
    services.write_to_staff(&viewer.learner_id, &body).await
}

const EVENTS: &str = "/api/events";

/// Whether the help panel is open: pages (a step that keeps failing) may open it.
#[derive(Clone, Copy)]
pub struct HelpOpen(pub RwSignal<bool>);

impl HelpOpen {
    pub fn provide() {
        provide_context(HelpOpen(RwSignal::new(false)));
    }
}

#[component]
pub fn HelpCorner() -> impl IntoView {
    let state = RwSignal::new(None::<LearnerHelp>);
    // Only in the browser: the page is the same for everyone until it knows who looks.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| reload(state));
    view! {
        <Show when=move || state.with(Option::is_some)>
            <HelpLive state/>
        </Show>
    }
}

fn reload(state: RwSignal<Option<LearnerHelp>>) {
    leptos::task::spawn_local(async move {
        if let Ok(help) = load_help().await {
            state.set(help);
        }
    });
}

/// A learner's corner, once the page knows it is one.
#[component]
fn HelpLive(state: RwSignal<Option<LearnerHelp>>) -> impl IntoView {
    use crate::components::live::{listen, on_reconnect};
    listen(EVENTS.into(), "help", move |data| {
        if let Ok(hand) = serde_json::from_str::<Option<HelpView>>(&data) {
            state.update(|s| {
                if let Some(s) = s {
                    s.hand = hand;
                }
            });
        }
    });
    listen(EVENTS.into(), "message", move |data| {
        if let Ok(message) = serde_json::from_str::<MessageView>(&data)
            && !message.to_class
        {
            state.update(|s| {
                if let Some(s) = s
                    && !s.thread.iter().any(|m| m.id == message.id)
                {
                    s.thread.push(message);
                }
            });
        }
    });
    listen(EVENTS.into(), "attention", move |data| {
        if let Ok(attention) = serde_json::from_str::<Option<String>>(&data) {
            state.update(|s| {
                if let Some(s) = s {
                    s.attention = attention;
                }
            });
        }
    });
    listen(EVENTS.into(), "poll", move |data| {
        #[derive(serde::Deserialize)]
        struct Live {
            poll_id: i64,
            view: Option<PollView>,
        }
        let Ok(live) = serde_json::from_str::<Live>(&data) else { return };
        state.update(|s| {
            let Some(s) = s else { return };
            match live.view {
                Some(view) => {
                    let mine = s.poll.take().filter(|p| p.poll.id == view.id).and_then(|p| p.mine);
                    s.poll = Some(LearnerPoll { poll: view, mine });
                }
                None if s.poll.as_ref().is_some_and(|p| p.poll.id == live.poll_id) => s.poll = None,
                None => {}
            }
        });
    });
    listen(EVENTS.into(), "spotlight", move |data| {
        if let Ok(view) = serde_json::from_str::<Option<SpotlightView>>(&data) {
            state.update(|s| {
                if let Some(s) = s {
                    s.spotlight = view;
                }
            });
        }
    });
    on_reconnect(EVENTS.into(), move || reload(state));

    let hand = Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.hand.clone())));
    let thread = Memo::new(move |_| state.with(|s| s.as_ref().map(|s| s.thread.clone()).unwrap_or_default()));
    let attention = Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.attention.clone())));
    let poll = Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.poll.clone())));
    let on_answered = Callback::new(move |(id, answer): (i64, PollAnswer)| {
        state.update(|s| {
            if let Some(p) = s.as_mut().and_then(|s| s.poll.as_mut()).filter(|p| p.poll.id == id) {
                p.mine = Some(answer);
            }
        });
    });
    let open = use_context::<HelpOpen>().map_or_else(|| RwSignal::new(false), |h| h.0);
    let note = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    let raise = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let text = note.get_untracked();
        leptos::task::spawn_local(async move {
            match raise_hand(text).await {
                Ok(view) => {
                    error.set(None);
                    state.update(|s| {
                        if let Some(s) = s {
                            s.hand = Some(view);
                        }
                    });
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let lower = move |_| {
        leptos::task::spawn_local(async move {
            match lower_hand().await {
                Ok(()) => {
                    error.set(None);
                    note.set(String::new());
                    state.update(|s| {
                        if let Some(s) = s {
                            s.hand = None;
                        }
                    });
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let write = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let text = body.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match write_to_staff(text).await {
                Ok(message) => {
                    error.set(None);
                    body.set(String::new());
                    state.update(|s| {
                        if let Some(s) = s
                            && !s.thread.iter().any(|m| m.id == message.id)
                        {
                            s.thread.push(message);
                        }
                    });
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };

    let label = move || match hand.get() {
        None => t!("ask-for-help"),
        Some(HelpView { claimed_by: Some(by), .. }) => looking_at_you(&by),
        Some(_) => t!("help-hand-raised"),
    };

    view! {
        <div class="help-corner">
            <button
                class="button small help-toggle"
                class:raised=move || hand.with(Option::is_some)
                aria-expanded=move || open.get().to_string()
                aria-controls="help-panel"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {label}
            </button>
            <section id="help-panel" class="help-panel card" hidden=move || !open.get() aria-label=t!("help")>
                <div class="title-row">
                    <h2>{t!("help")}</h2>
                    <button class="button small secondary" on:click=move |_| open.set(false)>{t!("close")}</button>
                </div>
                <p class="help-state" role="status">
                    {move || match hand.get() {
                        None => t!("help-intro"),
                        Some(HelpView { claimed_by: Some(by), .. }) => format!("{}.", looking_at_you(&by)),
                        Some(_) => t!("help-in-queue"),
                    }}
                </p>
                <form class="help-raise" on:submit=raise>
                    <label for="help-note">{t!("help-note")}</label>
                    <textarea id="help-note" maxlength="500" rows="2" bind:value=note></textarea>
                    <div class="panel-actions">
                        <button class="button small" type="submit">
                            {move || if hand.with(Option::is_some) { t!("help-update-note") } else { t!("help-raise") }}
                        </button>
                        {move || hand.with(Option::is_some).then(|| view! {
                            <button class="button small secondary" type="button" on:click=lower>{t!("help-lower")}</button>
                        })}
                    </div>
                </form>
                <SandboxTime state error/>
                <Thread thread/>
                <form class="inline help-write" on:submit=write>
                    <label class="visually-hidden" for="help-write">{t!("help-message-label")}</label>
                    <input id="help-write" placeholder=t!("help-write") maxlength="2000" bind:value=body/>
                    <button class="button small" type="submit">{t!("send")}</button>
                </form>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </section>
            <PollCard poll on_answered/>
            <Spotlight state error/>
            {move || attention.get().map(|message| view! { <EyesOnMe message/> })}
        </div>
    }
}

/// The spotlight as this learner meets it: asked to show their terminal (agree or not), told
/// it is shown (and able to stop it), or shown another learner's terminal.
#[component]
fn Spotlight(state: RwSignal<Option<LearnerHelp>>, error: RwSignal<Option<String>>) -> impl IntoView {
    let spot = Memo::new(move |_| state.with(|s| s.as_ref().and_then(|s| s.spotlight.clone().map(|v| (v.learner == s.learner_id, v)))));
    let answer = move |allow: bool| {
        leptos::task::spawn_local(async move {
            match answer_spotlight(allow).await {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    view! {
        {move || spot.get().map(|(mine, view)| match (mine, view.consented) {
            (true, false) => view! {
                <section class="spotlight-ask card" role="alertdialog" aria-labelledby="spotlight-ask">
                    <p id="spotlight-ask">
                        {if view.to_class { t!("spotlight-ask-class", tab = view.tab) } else { t!("spotlight-ask-presenter", tab = view.tab) }}
                    </p>
                    <div class="panel-actions">
                        <button class="button small" on:click=move |_| answer(true)>{t!("spotlight-show")}</button>
                        <button class="button small secondary" on:click=move |_| answer(false)>{t!("spotlight-not-now")}</button>
                    </div>
                </section>
            }.into_any(),
            (true, true) => view! {
                <p class="spotlight-mine" role="status">
                    {t!("spotlight-shown")} " "
                    <button class="button small secondary" on:click=move |_| answer(false)>{t!("spotlight-stop")}</button>
                </p>
            }.into_any(),
            (false, _) => view! {
                <section class="spotlight-card card" aria-label=t!("spotlight-terminal-of", name = view.name.clone())>
                    <p class="muted">{t!("spotlight-shown-by-instructor", name = view.name.clone())}</p>
                    <SpotlightTerminal tab=view.tab/>
                </section>
            }.into_any(),
        })}
    }
}

/// When the sandbox stops, and "Extend" when the class lets learners add time themselves.
#[component]
fn SandboxTime(state: RwSignal<Option<LearnerHelp>>, error: RwSignal<Option<String>>) -> impl IntoView {
    let time = Memo::new(move |_| state.with(|s| s.as_ref().map(|s| (s.sandbox_expires_in, s.extend_left))));
    let extend = move |_| {
        leptos::task::spawn_local(async move {
            match extend_own_sandbox().await {
                Ok(help) => {
                    error.set(None);
                    state.set(Some(help));
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    view! {
        {move || time.get().and_then(|(expires, left)| expires.map(|secs| view! {
            <p class="sandbox-time muted">
                {t!("sandbox-stops-in", time = crate::i18n::duration(secs as i64))} " "
                {(left > 0).then(|| view! {
                    <button class="button small quiet" on:click=extend>
                        {t!("sandbox-extend", minutes = crate::class::SELF_EXTEND_STEP.min(left), left = left)}
                    </button>
                })}
            </p>
        }))}
    }
}

/// The messages between the learner and staff, oldest first.
#[component]
fn Thread(thread: Memo<Vec<MessageView>>) -> impl IntoView {
    view! {
        <ol class="thread" aria-label=t!("help-thread")>
            <For each=move || thread.get() key=|m| m.id let:m>
                <li class="thread-message" class:mine=m.from_learner data-message=m.id>
                    <strong>{m.sender()}</strong>
                    <p>{m.body.clone()}</p>
                </li>
            </For>
        </ol>
    }
}

/// The instructor's "eyes on me": over the whole page, which stays as it is underneath.
#[component]
fn EyesOnMe(message: String) -> impl IntoView {
    view! {
        <div class="eyes-on-me" role="alertdialog" aria-modal="true" aria-labelledby="eyes-on-me-message">
            <p id="eyes-on-me-message">{message}</p>
            <p class="muted">{t!("eyes-on-me-kept")}</p>
        </div>
    }
}
