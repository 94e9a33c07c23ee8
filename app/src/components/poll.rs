//! A live poll on the learner's page: it appears the moment the presenter launches it (on every
//! page, following the deck or not), takes one answer (changeable while it is open), and once
//! revealed shows the right answer and how the class answered. [`Histogram`] draws the bars
//! for learners and the presenter alike.

use leptos::prelude::*;

use crate::error::AppResult;
use crate::poll::{LearnerPoll, PollAnswer, PollResults, PollView};

#[server(endpoint = "learner/answer-poll", input = leptos::server_fn::codec::Json)]
pub async fn answer_poll(id: i64, answer: PollAnswer) -> AppResult<()> {
    let (services, viewer) = crate::services::learner().await?;
    services.answer_poll(&viewer.learner_id, id, answer).await
}

#[component]
pub fn PollCard(poll: Memo<Option<LearnerPoll>>, on_answered: Callback<(i64, PollAnswer)>) -> impl IntoView {
    // Hidden by the learner after the reveal (a new poll shows again).
    let dismissed = RwSignal::new(None::<i64>);
    view! {
        {move || poll.get().filter(|p| dismissed.get() != Some(p.poll.id)).map(|p| {
            let id = p.poll.id;
            view! {
                <section class="poll-card card" role="dialog" aria-labelledby=format!("poll-{id}") data-poll=id>
                    <p class="poll-label muted">{t!("poll-from-instructor")}</p>
                    <div class="poll-prompt prose" id=format!("poll-{id}") inner_html=p.poll.prompt_html.clone()></div>
                    {if p.poll.revealed {
                        let results = p.poll.results.clone().unwrap_or_default();
                        view! {
                            <Histogram poll=p.poll.clone() results mine=p.mine.clone()/>
                            <button class="button small secondary" on:click=move |_| dismissed.set(Some(id))>{t!("close")}</button>
                        }.into_any()
                    } else {
                        view! { <PollForm poll=p.poll.clone() mine=p.mine.clone() on_answered/> }.into_any()
                    }}
                </section>
            }
        })}
    }
}

#[component]
fn PollForm(poll: PollView, mine: Option<PollAnswer>, on_answered: Callback<(i64, PollAnswer)>) -> impl IntoView {
    let id = poll.id;
    let picked = RwSignal::new(match &mine {
        Some(PollAnswer::Choices { choices }) => choices.clone(),
        _ => Vec::new(),
    });
    let number = RwSignal::new(match &mine {
        Some(PollAnswer::Number { value }) => value.to_string(),
        _ => String::new(),
    });
    let sent = RwSignal::new(mine.is_some());
    let error = RwSignal::new(None::<String>);
    let is_number = poll.number;
    let multiple = poll.multiple;
    let send = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let answer = if is_number {
            match number.get_untracked().trim().parse::<f64>() {
                Ok(value) if value.is_finite() => PollAnswer::Number { value },
                _ => {
                    error.set(Some(t!("poll-number-needed")));
                    return;
                }
            }
        } else {
            PollAnswer::Choices { choices: picked.get_untracked() }
        };
        leptos::task::spawn_local(async move {
            match answer_poll(id, answer.clone()).await {
                Ok(()) => {
                    error.set(None);
                    sent.set(true);
                    on_answered.run((id, answer));
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    };
    let choices = poll.choices.clone();
    view! {
        <form class="poll-form" on:submit=send>
            {if is_number {
                view! {
                    <label>{t!("poll-your-answer")} " " <input class="poll-number" type="number" step="any" required bind:value=number/></label>
                }.into_any()
            } else {
                choices.into_iter().enumerate().map(|(i, html)| {
                    let input_type = if multiple { "checkbox" } else { "radio" };
                    view! {
                        <label class="poll-choice">
                            <input
                                type=input_type
                                name=format!("poll-{id}")
                                prop:checked=move || picked.with(|p| p.contains(&i))
                                on:change=move |_| picked.update(|p| {
                                    if !multiple {
                                        p.clear();
                                        p.push(i);
                                    } else if let Some(at) = p.iter().position(|&c| c == i) {
                                        p.remove(at);
                                    } else {
                                        p.push(i);
                                        p.sort_unstable();
                                    }
                                })
                            />
                            <span inner_html=html></span>
                        </label>
                    }
                }).collect_view().into_any()
            }}
            <div class="panel-actions">
                <button class="button small" type="submit">{move || if sent.get() { t!("poll-change") } else { t!("send") }}</button>
                <span class="muted poll-sent" role="status">{move || sent.get().then(|| t!("poll-sent"))}</span>
            </div>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </form>
    }
}

/// The answers as bars: a quiz question's right choices marked, the learner's own pick too.
#[component]
pub fn Histogram(poll: PollView, results: PollResults, #[prop(default = None)] mine: Option<PollAnswer>) -> impl IntoView {
    let mine: Vec<usize> = match mine {
        Some(PollAnswer::Choices { choices }) => choices,
        _ => Vec::new(),
    };
    let total = results.answers;
    let bars = if poll.number {
        results
            .values
            .iter()
            .map(|(value, count)| {
                let pct = results.percent(*count);
                view! {
                    <li class="bar" data-count=*count>
                        <span class="bar-label">{value.to_string()}</span>
                        <span class="bar-track"><span class="bar-fill" style=format!("width: {pct}%")></span></span>
                        <span class="bar-count">{*count}</span>
                    </li>
                }
            })
            .collect_view()
            .into_any()
    } else {
        poll.choices
            .iter()
            .enumerate()
            .map(|(i, html)| {
                let count = results.counts.get(i).copied().unwrap_or(0);
                let pct = results.percent(count);
                let correct = results.correct.contains(&i);
                view! {
                    <li class="bar" class:correct=correct class:mine=mine.contains(&i) data-count=count>
                        <span class="bar-label" inner_html=html.clone()></span>
                        <span class="bar-track"><span class="bar-fill" style=format!("width: {pct}%")></span></span>
                        <span class="bar-count">{count}</span>
                        {correct.then_some(view! { <span class="visually-hidden">{format!(" ({})", t!("poll-right-answer"))}</span> })}
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <ol class="histogram" aria-label=t!("poll-answers-so-far")>{bars}</ol>
        <p class="muted poll-total">{t!("poll-total", count = total)}</p>
    }
}
