//! The home page: the course's sessions and their labs (for a learner, those of their class),
//! with a filter by sandbox tier, and the learner's way back in from another browser.

use labs::{CourseOutline, LabSummary, Tier};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::time::LocalTime;
use crate::error::{AppResult, ErrorNote};
use crate::services::Viewer;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Home {
    pub course: CourseOutline,
    pub viewer: Option<Viewer>,
}

#[server(endpoint = "course/outline")]
pub async fn load_outline() -> AppResult<Home> {
    let course = crate::services::course()?;
    let (services, parts) = crate::services::request().await?;
    let viewer = services.viewer(&parts).await;
    let mut outline = course.outline_in(crate::i18n::lang().tag());
    if let Some(settings) = viewer.as_ref().map(|v| &v.class_settings) {
        for session in &mut outline.sessions {
            session.labs.retain(|l| settings.has_lab(&l.id));
            session.decks.retain(|d| settings.has_deck(&d.id));
        }
        outline.sessions.retain(|s| !s.labs.is_empty() || !s.decks.is_empty());
    }
    Ok(Home { course: outline, viewer })
}

#[component]
pub fn HomePage() -> impl IntoView {
    let outline = Resource::new_blocking(|| (), |_| load_outline());
    // `None` shows every lab.
    let tier = RwSignal::new(None::<Tier>);

    view! {
        <Suspense fallback=|| view! { <p class="muted">{t!("home-loading")}</p> }>
            {move || Suspend::new(async move {
                match outline.await {
                    Ok(home) => view! {
                        {match home.viewer {
                            Some(viewer) => view! { <YouCard viewer/> }.into_any(),
                            None => view! {
                                <p class="join-prompt card">
                                    <a class="button" href="/join">{t!("join-the-class")}</a>
                                    " " {t!("home-join-prompt")}
                                </p>
                            }.into_any(),
                        }}
                        <Course course=home.course tier/>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error doing=t!("cannot-load-course")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Who is signed in, and how to continue on another browser or another day.
#[component]
fn YouCard(viewer: Viewer) -> impl IntoView {
    let link = format!("/resume/{}", viewer.resume_code);
    view! {
        <section class="you card" aria-label=t!("home-you")>
            <p>
                {t!("home-you-are")} " " <strong class="viewer-name">{viewer.display_name.clone()}</strong> " " {t!("home-in")} " "
                <strong>{viewer.class_name.clone()}</strong>
                {viewer.class_settings.starts_at.map(|s| view! { {t!("home-which-starts")} " " <LocalTime secs=s/> })}
                "."
            </p>
            <p class="muted">
                {t!("home-keep-resume-code")} " "
                <code class="resume-code">{viewer.resume_code.clone()}</code> " " {t!("home-or-this-link")} " "
                <a class="resume-link" href=link.clone()>{link.clone()}</a>
            </p>
            {(!viewer.class_settings.recording_off).then(|| view! {
                <p class="recording-notice" id="recordings">
                    {t!("home-recording-notice")} " "
                </p>
                <crate::components::replay::MyRecordings/>
            })}
            <crate::routes::instructor::SignOut/>
        </section>
    }
}

#[component]
fn Course(course: CourseOutline, tier: RwSignal<Option<Tier>>) -> impl IntoView {
    let present: Vec<Tier> = {
        let mut tiers: Vec<Tier> = course.sessions.iter().flat_map(|s| s.labs.iter().flat_map(|l| l.tiers.iter().copied())).collect();
        tiers.sort();
        tiers.dedup();
        tiers
    };
    view! {
        <section class="hero">
            <h1>{course.title.clone()}</h1>
            <p class="lead">{course.summary.clone()}</p>
        </section>
        <nav class="tier-filter" aria-label=t!("home-tier-filter")>
            <span class="muted">{t!("home-tier")}</span>
            <TierChip label=t!("home-tier-all") value=None tier/>
            {present.into_iter().map(|t| view! { <TierChip label=t.to_string() value=Some(t) tier/> }).collect_view()}
        </nav>
        {course
            .sessions
            .into_iter()
            .enumerate()
            .map(|(i, session)| {
                view! {
                    <section class="session" id=session.id.clone()>
                        <h2><span class="session-no">{t!("home-session", n = i + 1)}</span>{session.title.clone()}</h2>
                        <p class="muted">{session.summary.clone()}</p>
                        {(!session.decks.is_empty()).then(|| view! {
                            <ul class="deck-list">
                                {session.decks.iter().map(|deck| view! {
                                    <li>
                                        <a href=format!("/decks/{}", deck.id)>{deck.title.clone()}</a>
                                        <span class="muted">{format!(" · {}", t!("home-slides", count = deck.slides))}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                        <ul class="lab-list">
                            {session.labs.into_iter().map(|lab| view! { <LabCard lab tier/> }).collect_view()}
                        </ul>
                        {session.homework_html.map(|html| view! {
                            <details class="homework">
                                <summary>{t!("home-homework")}</summary>
                                <div class="prose" inner_html=html></div>
                            </details>
                        })}
                    </section>
                }
            })
            .collect_view()}
    }
}

#[component]
fn TierChip(label: String, value: Option<Tier>, tier: RwSignal<Option<Tier>>) -> impl IntoView {
    let data_tier = value.map_or_else(|| "all".to_string(), |t| t.to_string());
    view! {
        <button
            class="chip"
            data-tier=data_tier
            aria-pressed=move || (tier.get() == value).to_string()
            on:click=move |_| tier.set(value)
        >
            {label}
        </button>
    }
}

#[component]
fn LabCard(lab: LabSummary, tier: RwSignal<Option<Tier>>) -> impl IntoView {
    let tiers = lab.tiers.clone();
    let hidden = move || tier.get().is_some_and(|t| !tiers.contains(&t));
    view! {
        <li class="lab-card" data-lab=lab.id.clone() hidden=hidden>
            <h3><a href=format!("/labs/{}", lab.id)>{lab.title.clone()}</a></h3>
            <p>{lab.summary.clone()}</p>
            <p class="tiers">
                {lab.tiers.iter().map(|t| view! { <span class="tier">{t.to_string()}</span> }).collect_view()}
                <span class="muted steps-count">{t!("home-steps-points", steps = lab.steps, points = lab.points)}</span>
            </p>
        </li>
    }
}
