//! The presenter's view: the current and next slide, the speaker notes, and a timer against the
//! planned durations. Moving here moves every following learner's deck.

use labs::DeckView;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::components::terminal::WatchTerminal;
use crate::error::{AppResult, ErrorNote};
use crate::routes::presenter_poll::{PresenterPoll, PresenterSpotlight};

#[server(endpoint = "present/page")]
pub async fn load_presenter(id: String) -> AppResult<Option<DeckView>> {
    crate::services::teacher().await?;
    Ok(crate::services::course()?.deck_view(&id, true))
}

#[server(endpoint = "present/slide")]
pub async fn present_slide(id: String, slide: usize) -> AppResult<()> {
    crate::services::teacher().await?.0.set_live_slide(&id, slide).await
}

#[component]
pub fn PresentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new_blocking(id, load_presenter);
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t!("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(deck)) => view! { <Presenter deck/> }.into_any(),
                    Ok(None) => view! { <p class="not-found">{t!("deck-not-found")}</p> }.into_any(),
                    Err(error) => view! { <div class="narrow card"><ErrorNote error doing=t!("cannot-present")/></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn clock(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[component]
fn Presenter(deck: DeckView) -> impl IntoView {
    let params = use_params_map();
    let count = deck.slides.len();
    let current = Memo::new(move |_| {
        params.with(|p| p.get("slide").and_then(|n| n.parse::<usize>().ok())).map(|n| n.clamp(1, count) - 1).unwrap_or(0)
    });
    let navigate = use_navigate();
    let id = deck.id.clone();
    // Every move here is the class's move.
    {
        let id = id.clone();
        Effect::new(move |_| {
            let slide = current.get();
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let _ = present_slide(id, slide).await;
            });
        });
    }
    let go = {
        let id = id.clone();
        move |delta: i64| {
            let next = (current.get_untracked() as i64 + delta).clamp(0, count as i64 - 1) as usize;
            navigate(&format!("/decks/{id}/present/{}", next + 1), Default::default());
        }
    };
    // Seconds since the presentation started here, and on the current slide.
    let elapsed = RwSignal::new(0u64);
    let on_slide = RwSignal::new(0u64);
    Effect::new(move |_| {
        current.track();
        on_slide.set(0);
    });
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                elapsed.update(|e| *e += 1);
                on_slide.update(|e| *e += 1);
            },
            std::time::Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    }
    let minutes: Vec<f32> = deck.slides.iter().map(|s| s.minutes.unwrap_or(0.0)).collect();
    let total: f32 = minutes.iter().sum();
    let planned_until = {
        let minutes = minutes.clone();
        Memo::new(move |_| minutes[..=current.get()].iter().sum::<f32>())
    };
    let slide_plan = Memo::new(move |_| minutes[current.get()]);
    let slides = deck.slides.clone();
    let slides_class = deck.slides.clone();
    let slides_next = deck.slides.clone();
    let deck_for_poll = deck.clone();
    let spotlight = RwSignal::new(None::<crate::class::SpotlightView>);
    provide_context(PresenterSpotlight(spotlight));
    let end_spotlight = move |class: String| {
        leptos::task::spawn_local(async move {
            let _ = crate::routes::instructor::dashboard::help(crate::class::HelpAction::EndSpotlight { class }).await;
        });
    };
    let keys = {
        let go = go.clone();
        move |e: leptos::ev::KeyboardEvent| match e.key().as_str() {
            "ArrowRight" | "PageDown" | " " => {
                e.prevent_default();
                go(1)
            }
            "ArrowLeft" | "PageUp" => {
                e.prevent_default();
                go(-1)
            }
            _ => {}
        }
    };
    let (prev, next) = (go.clone(), go);
    view! {
        <div class="presenter" tabindex="0" on:keydown=keys>
            // The slide's own layout class (title, section, ...), as the learners' deck shows it.
            {move || match spotlight.get() {
                Some(view) => {
                    let (learner, tab, class) = (view.learner.clone(), view.tab, view.class.clone());
                    view! {
                        <div class="presenter-current presenter-spotlight">
                            <p class="muted">
                                {t!("present-terminal-of", name = view.name.clone())} " "
                                <button class="button small secondary" on:click=move |_| end_spotlight(class.clone())>{t!("present-end-spotlight")}</button>
                            </p>
                            <WatchTerminal learner=learner tab=tab control=false/>
                        </div>
                    }.into_any()
                }
                None => {
                    let (slides, slides_class) = (slides.clone(), slides_class.clone());
                    view! {
                        <div
                            class=move || format!("presenter-current slide {}", slides_class[current.get()].class.clone().unwrap_or_default())
                            data-slide=move || current.get() + 1
                        >
                            <div class="slide-body" inner_html=move || slides[current.get()].html.clone()></div>
                        </div>
                    }.into_any()
                }
            }}
            <aside class="presenter-side">
                <dl class="presenter-timer" data-over=move || (elapsed.get() as f32 > planned_until.get() * 60.0).to_string()>
                    <dt>{t!("present-elapsed")}</dt>
                    <dd><strong>{move || clock(elapsed.get())}</strong></dd>
                    <dt>{t!("present-planned")}</dt>
                    <dd>{move || t!("present-of", part = clock((planned_until.get() * 60.0) as u64), whole = clock((total * 60.0) as u64))}</dd>
                    <dt>{t!("present-this-slide")}</dt>
                    <dd>{move || clock(on_slide.get())} " / " {move || clock((slide_plan.get() * 60.0) as u64)}</dd>
                </dl>
                <div class="presenter-controls">
                    <button class="button small quiet" on:click=move |_| prev(-1)>{t!("step-previous")}</button>
                    <span>{move || format!("{} / {count}", current.get() + 1)}</span>
                    <button class="button small" on:click=move |_| next(1)>{t!("present-next-button")}</button>
                </div>
                <PresenterPoll deck=deck_for_poll.clone() current/>
                <h2>{t!("present-next")}</h2>
                <div class="presenter-next slide" inner_html=move || slides_next.get(current.get() + 1).map(|s| s.html.clone()).unwrap_or_else(|| format!("<p>{}</p>", t!("present-end-of-deck")))></div>
                <h2>{t!("present-notes")}</h2>
                <div class="presenter-notes prose" inner_html=move || {
                    let notes = deck.slides[current.get()].notes_html.clone();
                    if notes.is_empty() { format!("<p class=\"muted\">{}</p>", t!("present-no-notes")) } else { notes }
                }></div>
            </aside>
        </div>
    }
}
