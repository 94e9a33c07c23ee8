//! The help queue on the dashboard: raised hands, oldest first, with how long each has waited,
//! the learner's note, the step they are on and what its check says. Claiming one opens that
//! learner's panel (their terminal) and tells them who is looking.

use leptos::prelude::*;

use crate::class::{Dashboard, HelpAction, HelpView};

#[component]
pub fn HelpQueue(dash: RwSignal<Dashboard>, selected: RwSignal<Option<String>>, act: Callback<HelpAction>) -> impl IntoView {
    let hands = Memo::new(move |_| dash.with(|d| d.help.clone()));
    view! {
        <section class="help-queue" aria-label=t!("help-queue")>
            <h2>
                {t!("help-queue")} " "
                <span class="queue-count">{move || hands.with(Vec::len)}</span>
            </h2>
            <Show when=move || !hands.with(Vec::is_empty) fallback=|| view! { <p class="muted">{t!("help-no-hands")}</p> }>
                <ol class="hands">
                    <For each=move || hands.get() key=|h| (h.id, h.claimed_by.clone(), h.note.clone()) let:hand>
                        <Hand hand dash selected act/>
                    </For>
                </ol>
            </Show>
        </section>
    }
}

#[component]
fn Hand(hand: HelpView, dash: RwSignal<Dashboard>, selected: RwSignal<Option<String>>, act: Callback<HelpAction>) -> impl IntoView {
    let waited = move || crate::i18n::duration(dash.with(|d| d.now) - hand.raised_at);
    let step = dash.with_untracked(|d| {
        let (lab, step) = (hand.lab_id.as_deref()?, hand.step_id.as_deref()?);
        let lab = d.labs.iter().find(|l| l.id == lab)?;
        Some(format!("{}: {}", lab.title, lab.steps.iter().find(|s| s.id == step)?.title))
    });
    let (id, learner) = (hand.id, hand.learner.clone());
    let claim = move |_| {
        act.run(HelpAction::Claim { request: id });
        selected.set(Some(learner.clone()));
    };
    let open = {
        let learner = hand.learner.clone();
        move |_| selected.set(Some(learner.clone()))
    };
    let claimed = hand.claimed_by.is_some();
    view! {
        <li class="hand" data-learner=hand.learner.clone() data-claimed=claimed.to_string()>
            <div class="hand-head">
                <button class="link learner-link" on:click=open>{hand.name.clone()}</button>
                <span class="muted waited">" " {move || t!("help-waiting", time = waited())}</span>
                {hand.claimed_by.clone().map(|by| view! { <span class="claimed">{format!(" · {}", t!("help-is-helping", name = crate::class::claimer(&by)))}</span> })}
            </div>
            {(!hand.note.is_empty()).then(|| view! { <p class="hand-note">{hand.note.clone()}</p> })}
            {step.map(|s| view! { <p class="hand-step muted">{s}</p> })}
            {hand.reason.clone().map(|r| view! { <p class="hand-reason muted">{t!("help-check")} " " {r}</p> })}
            <div class="panel-actions">
                {if claimed {
                    view! {
                        <button class="button small secondary" on:click=move |_| act.run(HelpAction::Unclaim { request: id })>{t!("help-unclaim")}</button>
                    }.into_any()
                } else {
                    view! { <button class="button small" on:click=claim>{t!("help-claim")}</button> }.into_any()
                }}
                <button class="button small secondary" on:click=move |_| act.run(HelpAction::Resolve { request: id })>{t!("help-resolve")}</button>
            </div>
        </li>
    }
}

/// "Eyes on me": covers every learner's page of the class with a message, until released.
#[component]
pub fn EyesOnMe(dash: RwSignal<Dashboard>, act: Callback<HelpAction>) -> impl IntoView {
    let class = dash.with_untracked(|d| d.class.id.clone());
    let message = RwSignal::new(String::new());
    let active = Memo::new(move |_| dash.with(|d| d.attention.clone()));
    let (on_class, off_class) = (class.clone(), class);
    let cover = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        act.run(HelpAction::Attention { class: on_class.clone(), message: Some(message.get_untracked()) });
    };
    view! {
        {move || match active.get() {
            Some(shown) => {
                let class = off_class.clone();
                view! {
                    <p class="inline eyes-on-me-active" role="status">
                        {t!("eyes-on-me-shown")} " " <q>{shown}</q> " "
                        <button class="button small danger" on:click=move |_| act.run(HelpAction::Attention { class: class.clone(), message: None })>
                            {t!("eyes-on-me-release")}
                        </button>
                    </p>
                }.into_any()
            }
            None => view! {
                <form class="inline" on:submit=cover.clone()>
                    <label class="visually-hidden" for="eyes-on-me-message">{t!("eyes-on-me-label")}</label>
                    <input id="eyes-on-me-message" placeholder=t!("eyes-on-me-placeholder") maxlength="200" bind:value=message/>
                    <button class="button small secondary" type="submit">{t!("eyes-on-me")}</button>
                </form>
            }.into_any(),
        }}
    }
}
