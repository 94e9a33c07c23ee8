//! Polls on the presenter's screen: launch one of the deck's quiz questions or a quick question
//! (2 to 6 choices, or a number), watch the answers arrive as a histogram, reveal the result to
//! the class, close it. A slide with `poll = "question-id"` launches that question when the
//! presenter reaches it.

use labs::DeckView;
use leptos::prelude::*;

use crate::components::poll::Histogram;
use crate::error::AppResult;
use crate::poll::{PollChange, PollResults, PollSource, PollView};

#[server(endpoint = "present/launch-poll", input = leptos::server_fn::codec::Json)]
pub async fn launch_poll(deck: String, source: PollSource) -> AppResult<PollView> {
    crate::services::teacher().await?.0.launch_poll(&deck, source).await
}

#[server(endpoint = "present/change-poll", input = leptos::server_fn::codec::Json)]
pub async fn change_poll(id: i64, change: PollChange) -> AppResult<PollView> {
    crate::services::teacher().await?.0.change_poll(id, change).await
}

/// Text of some HTML, for a short label.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().count() > 70 { format!("{}…", out.chars().take(70).collect::<String>()) } else { out }
}

/// The learner's terminal the presenter shows in place of the slide while a spotlight is on
/// (the poll stream carries it; the presenter page provides this).
#[derive(Clone, Copy)]
pub struct PresenterSpotlight(pub RwSignal<Option<crate::class::SpotlightView>>);

#[component]
pub fn PresenterPoll(deck: DeckView, current: Memo<usize>) -> impl IntoView {
    let poll = RwSignal::new(None::<PollView>);
    // The stream's first event says which poll is open: until then, no slide launches one (a
    // reload must not launch it again).
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let events = format!("/api/decks/{}/polls/events", deck.id);
    crate::components::live::listen(events.clone(), "poll", move |data| {
        if let Ok(view) = serde_json::from_str::<Option<PollView>>(&data) {
            poll.set(view);
            if !loaded.get_untracked() {
                loaded.set(true);
            }
        }
    });
    {
        let spotlight = use_context::<PresenterSpotlight>();
        crate::components::live::listen(events.clone(), "spotlight", move |data| {
            if let (Some(s), Ok(view)) = (spotlight, serde_json::from_str::<Option<crate::class::SpotlightView>>(&data)) {
                s.0.set(view);
            }
        });
    }
    crate::components::live::listen(events, "results", move |data| {
        #[derive(serde::Deserialize)]
        struct Counted {
            poll_id: i64,
            results: PollResults,
        }
        if let Ok(counted) = serde_json::from_str::<Counted>(&data) {
            poll.update(|p| {
                if let Some(p) = p.as_mut().filter(|p| p.id == counted.poll_id) {
                    p.results = Some(counted.results);
                }
            });
        }
    });

    let deck_id = deck.id.clone();
    let launch = Callback::new(move |source: PollSource| {
        let deck = deck_id.clone();
        leptos::task::spawn_local(async move {
            match launch_poll(deck, source).await {
                Ok(view) => {
                    error.set(None);
                    poll.set(Some(view));
                }
                Err(e) => error.set(Some(e.text())),
            }
        });
    });
    let act = move |change: PollChange| {
        let Some(id) = poll.with_untracked(|p| p.as_ref().map(|p| p.id)) else { return };
        leptos::task::spawn_local(async move {
            match change_poll(id, change).await {
                Ok(view) => poll.set((change != PollChange::Close).then_some(view)),
                Err(e) => error.set(Some(e.text())),
            }
        });
    };

    // A slide that names a poll launches it when the presenter gets there (once per arrival:
    // closing it on that slide does not bring it back).
    let slide_polls: Vec<Option<String>> = deck.slides.iter().map(|s| s.poll.clone()).collect();
    let arrived = StoredValue::new(None::<usize>);
    Effect::new(move |_| {
        let slide = current.get();
        if !loaded.get() || arrived.get_value() == Some(slide) {
            return;
        }
        arrived.set_value(Some(slide));
        if let Some(question) = slide_polls.get(slide).cloned().flatten()
            && poll.with_untracked(|p| p.as_ref().and_then(|p| p.question.clone())) != Some(question.clone())
        {
            launch.run(PollSource::Question { id: question });
        }
    });

    // The deck's questions: those on its slides, as quizzes or polls.
    let mut questions: Vec<(String, String)> = Vec::new();
    for slide in &deck.slides {
        if let Some(q) = &slide.quiz
            && !questions.iter().any(|(id, _)| *id == q.id)
        {
            questions.push((q.id.clone(), text_of(&q.prompt_html)));
        }
        if let Some(id) = &slide.poll
            && !questions.iter().any(|(q, _)| q == id)
        {
            questions.push((id.clone(), id.clone()));
        }
    }

    view! {
        <section class="presenter-poll" aria-label=t!("poll")>
            <h2>{t!("poll")}</h2>
            {move || match poll.get() {
                Some(view) => {
                    let results = view.results.clone().unwrap_or_default();
                    let revealed = view.revealed;
                    view! {
                        <div class="poll-live" data-poll=view.id>
                            <div class="poll-prompt prose" inner_html=view.prompt_html.clone()></div>
                            <Histogram poll=view.clone() results/>
                            <div class="panel-actions">
                                {(!revealed).then(|| view! {
                                    <button class="button small" on:click=move |_| act(PollChange::Reveal)>{t!("poll-reveal")}</button>
                                })}
                                <button class="button small secondary" on:click=move |_| act(PollChange::Close)>{t!("poll-close")}</button>
                            </div>
                        </div>
                    }.into_any()
                }
                None => view! { <LaunchForm questions=questions.clone() launch/> }.into_any(),
            }}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
fn LaunchForm(questions: Vec<(String, String)>, launch: Callback<PollSource>) -> impl IntoView {
    let question = RwSignal::new(questions.first().map(|(id, _)| id.clone()).unwrap_or_default());
    let prompt = RwSignal::new(String::new());
    let choices = RwSignal::new(String::new());
    let number = RwSignal::new(false);
    let has_questions = !questions.is_empty();
    let ask_question = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        launch.run(PollSource::Question { id: question.get_untracked() });
    };
    let ask_quick = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let prompt = prompt.get_untracked();
        if number.get_untracked() {
            launch.run(PollSource::Number { prompt });
        } else {
            let choices = choices.get_untracked().lines().map(str::to_string).collect();
            launch.run(PollSource::Choices { prompt, choices });
        }
    };
    view! {
        {has_questions.then(|| view! {
            <form class="poll-launch" on:submit=ask_question>
                <label for="poll-question">{t!("poll-deck-question")}</label>
                <select id="poll-question" on:change:target=move |e| question.set(e.target().value())>
                    {questions.iter().map(|(id, label)| view! { <option value=id.clone()>{label.clone()}</option> }).collect_view()}
                </select>
                <button class="button small" type="submit">{t!("poll-launch")}</button>
            </form>
        })}
        <form class="poll-launch" on:submit=ask_quick>
            <label for="poll-prompt">{t!("poll-quick")}</label>
            <input id="poll-prompt" maxlength="300" bind:value=prompt placeholder=t!("poll-quick-placeholder")/>
            <label class="inline"><input type="checkbox" bind:checked=number/> " " {t!("poll-number")}</label>
            <Show when=move || !number.get()>
                <label for="poll-choices">{t!("poll-choices")}</label>
                <textarea id="poll-choices" rows="4" bind:value=choices></textarea>
            </Show>
            <button class="button small secondary" type="submit">{t!("poll-ask")}</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_from_html() {
        assert_eq!(super::text_of("<p>Which <code>ip</code>\n command?</p>"), "Which ip command?");
        assert!(super::text_of(&"x".repeat(100)).ends_with('…'));
    }
}
