//! Slides. `/decks/<id>/<n>` shows slide n (a URL per slide); arrows, PageUp/PageDown, space,
//! clicks and swipes move through them. While the instructor presents the deck, learners' pages
//! follow their slide live; browsing away pauses following, "Live" jumps back. Every slide is in
//! the page, so printing gives one slide per page.

use labs::DeckView;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::{Deserialize, Serialize};

use crate::components::live;
use crate::components::quiz::QuizCard;
use crate::error::{AppResult, ErrorNote};
use crate::services::QuizResult;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeckPageData {
    pub deck: Option<DeckView>,
    pub live: Option<usize>,
    pub signed_in: bool,
    pub quiz: Vec<QuizResult>,
}

#[server(endpoint = "deck/page")]
pub async fn load_deck_page(id: String) -> AppResult<DeckPageData> {
    let (services, parts) = crate::services::request().await?;
    let course = crate::services::course()?;
    let lang = crate::i18n::lang();
    let deck = course.deck_view(&id, false).map(|mut deck| {
        for slide in &mut deck.slides {
            slide.html = crate::i18n::lab_chrome(lang, &slide.html);
        }
        deck
    });
    let viewer = services.viewer(&parts).await;
    let quiz = match (&viewer, &deck) {
        (Some(v), Some(d)) => {
            let questions: Vec<String> = d.slides.iter().filter_map(|s| s.quiz.as_ref().map(|q| q.id.clone())).collect();
            services.quiz_results(&v.learner_id, &questions).await
        }
        _ => Vec::new(),
    };
    Ok(DeckPageData { live: services.live_slide(&id).await, deck, signed_in: viewer.is_some(), quiz })
}

#[derive(Deserialize)]
struct LiveSlide {
    slide: usize,
}

#[component]
pub fn DeckPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new_blocking(id, load_deck_page);
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t!("deck-loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(DeckPageData { deck: Some(deck), live, signed_in, quiz }) => view! { <Deck deck live signed_in quiz/> }.into_any(),
                    Ok(_) => view! { <p class="not-found">{t!("deck-not-found")} " " <a href="/">{t!("deck-see-all")}</a></p> }.into_any(),
                    Err(error) => view! { <ErrorNote error doing=t!("cannot-load-slides")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Deck(deck: DeckView, live: Option<usize>, signed_in: bool, quiz: Vec<QuizResult>) -> impl IntoView {
    let params = use_params_map();
    let count = deck.slides.len();
    let current = Memo::new(move |_| {
        params.with(|p| p.get("slide").and_then(|n| n.parse::<usize>().ok())).map(|n| n.clamp(1, count) - 1).unwrap_or(0)
    });
    let live_slide = RwSignal::new(live);
    // Following the instructor until the learner browses elsewhere.
    let following = RwSignal::new(true);
    let navigate = use_navigate();
    let base = format!("/decks/{}", deck.id);
    let go = {
        let navigate = navigate.clone();
        let base = base.clone();
        move |index: usize| navigate(&format!("{base}/{}", index + 1), Default::default())
    };
    {
        let go = go.clone();
        live::listen(format!("/api/decks/{}/live", deck.id), "slide", move |data| {
            if let Ok(live) = serde_json::from_str::<LiveSlide>(&data) {
                live_slide.set(Some(live.slide));
                if following.get_untracked() {
                    go(live.slide);
                }
            }
        });
    }
    let step = {
        let go = go.clone();
        move |delta: i64| {
            let next = (current.get_untracked() as i64 + delta).clamp(0, count as i64 - 1) as usize;
            if next != current.get_untracked() {
                following.set(false);
                go(next);
            }
        }
    };
    let keys = {
        let step = step.clone();
        let go = go.clone();
        move |e: leptos::ev::KeyboardEvent| {
            // Keys typed into a quiz's inputs are the quiz's.
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                let in_input = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT" | "BUTTON"));
                if in_input {
                    return;
                }
            }
            match e.key().as_str() {
                "ArrowRight" | "PageDown" | " " => {
                    e.prevent_default();
                    step(1)
                }
                "ArrowLeft" | "PageUp" => {
                    e.prevent_default();
                    step(-1)
                }
                "Home" => go(0),
                "End" => go(count - 1),
                _ => {}
            }
        }
    };
    // The whole page listens, so the arrows work without first clicking the slide.
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, keys.clone());
        on_cleanup(move || handle.remove());
    }
    // On the server there is no window to listen on.
    #[cfg(not(feature = "hydrate"))]
    drop(keys);
    let touch_start = StoredValue::new(None::<i32>);
    let swipe = step.clone();
    let jump_live = {
        let go = go.clone();
        move |_| {
            following.set(true);
            if let Some(s) = live_slide.get_untracked() {
                go(s);
            }
        }
    };
    let (prev, next) = (step.clone(), step);
    view! {
        <div
            class="deck"
            tabindex="0"
            aria-roledescription=t!("deck-role")
            aria-label=deck.title.clone()
            on:touchstart=move |e| touch_start.set_value(e.changed_touches().get(0).map(|t| t.client_x()))
            on:touchend=move |e| {
                if let (Some(start), Some(end)) = (touch_start.get_value(), e.changed_touches().get(0).map(|t| t.client_x()))
                    && (end - start).abs() > 50 {
                        swipe(if end < start { 1 } else { -1 });
                    }
            }
        >
            // The page's heading for a screen reader's outline (the slides' own start at h1 or h2).
            <h1 class="visually-hidden">{deck.title.clone()}</h1>
            <div class="slides">
                {deck.slides.iter().enumerate().map(|(i, slide)| {
                    let previous = slide.quiz.as_ref().and_then(|q| quiz.iter().find(|r| r.question_id == q.id).cloned());
                    view! {
                        <section
                            class=format!("slide {}", slide.class.clone().unwrap_or_default())
                            class:current=move || current.get() == i
                            aria-hidden=move || (current.get() != i).to_string()
                            aria-label=t!("slide-of", n = i + 1, count = count)
                            data-slide=i + 1
                        >
                            <div class="slide-body" inner_html=slide.html.clone()></div>
                            {slide.quiz.clone().map(|q| match (signed_in, previous) {
                                (true, Some(previous)) => view! { <QuizCard question=q previous/> }.into_any(),
                                (true, None) => view! { <QuizCard question=q/> }.into_any(),
                                (false, _) => view! { <p class="muted quiz-join">{t!("deck-join-for-quiz")}</p> }.into_any(),
                            })}
                        </section>
                    }
                }).collect_view()}
            </div>
            <footer class="deck-bar">
                <a class="deck-title" href="/">{deck.title.clone()}</a>
                <span class="spacer"></span>
                <button class="button small quiet" aria-label=t!("slide-previous") on:click=move |_| prev(-1)>"←"</button>
                <span class="slide-number" aria-live="polite">{move || format!("{} / {count}", current.get() + 1)}</span>
                <button class="button small quiet" aria-label=t!("slide-next") on:click=move |_| next(1)>"→"</button>
                {move || live_slide.get().map(|s| {
                    let on_live = following.get() && current.get() == s;
                    view! {
                        <button
                            class="button small live-button"
                            class:on=on_live
                            title=t!("deck-follow")
                            on:click=jump_live.clone()
                        >
                            {if on_live { format!("● {}", t!("deck-live")) } else { t!("deck-go-live") }}
                        </button>
                    }
                })}
            </footer>
        </div>
    }
}
