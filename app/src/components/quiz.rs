//! A quiz question, inline in a slide or a lab step. The browser has the question and the answers
//! only; the server scores the answer, stores it, and only then sends which answers are right and
//! why.

use labs::{QuestionKind, QuestionView};
use leptos::prelude::*;

use crate::error::{AppError, AppResult, ErrorNote};
use crate::services::QuizResult;

#[server(endpoint = "quiz/answer")]
pub async fn answer_quiz(question: String, choices: Vec<usize>) -> AppResult<QuizResult> {
    let (services, viewer) = crate::services::learner().await?;
    services.answer_quiz(&viewer.learner_id, &question, choices).await
}

#[component]
pub fn QuizCard(question: QuestionView, #[prop(optional)] previous: Option<QuizResult>) -> impl IntoView {
    let selected = RwSignal::new(previous.as_ref().map(|p| p.choices.clone()).unwrap_or_default());
    let result = RwSignal::new(previous);
    let error = RwSignal::new(None::<AppError>);
    let id = question.id.clone();
    let multiple = question.kind == QuestionKind::Multiple;
    let submit = Action::new(move |choices: &Vec<usize>| {
        let (id, choices) = (id.clone(), choices.clone());
        async move { answer_quiz(id, choices).await }
    });
    Effect::new(move |_| {
        if let Some(outcome) = submit.value().get() {
            match outcome {
                Ok(r) => {
                    error.set(None);
                    result.set(Some(r));
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let name = format!("quiz-{}", question.id);
    let choices = question.choices.clone();
    view! {
        <form
            class="quiz card"
            data-question=question.id.clone()
            on:submit=move |ev| {
                ev.prevent_default();
                let picked = selected.get();
                if picked.is_empty() {
                    error.set(Some(AppError::Invalid(t!("quiz-pick-first"))));
                } else {
                    submit.dispatch(picked);
                }
            }
        >
            <fieldset>
                <legend class="prompt">
                    <span class="quiz-label">{if multiple { t!("quiz-multiple") } else { t!("quiz") }}</span>
                    <span inner_html=question.prompt_html.clone()></span>
                </legend>
                {choices
                    .into_iter()
                    .enumerate()
                    .map(|(i, html)| {
                        let name = name.clone();
                        let verdict = move || {
                            result.get().map(|r| {
                                let right = r.feedback.correct_choices.contains(&i);
                                let picked = r.choices.contains(&i);
                                match (right, picked) {
                                    (true, _) => "right",
                                    (false, true) => "wrong",
                                    (false, false) => "",
                                }
                            })
                        };
                        let explanation = move || result.get().and_then(|r| r.feedback.explanations.get(i).cloned()).filter(|e| !e.is_empty());
                        view! {
                            <div class="choice" data-verdict=move || verdict().unwrap_or_default()>
                                <label>
                                    <input
                                        type=if multiple { "checkbox" } else { "radio" }
                                        name=name
                                        value=i
                                        prop:checked=move || selected.get().contains(&i)
                                        on:change=move |_| {
                                            selected.update(|s| {
                                                if multiple {
                                                    if let Some(at) = s.iter().position(|c| *c == i) { s.remove(at); } else { s.push(i); }
                                                } else {
                                                    *s = vec![i];
                                                }
                                            })
                                        }
                                    />
                                    <span inner_html=html></span>
                                </label>
                                {move || explanation().map(|e| view! { <div class="explanation" inner_html=e></div> })}
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <div class="quiz-footer">
                <button class="button small" type="submit" disabled=move || submit.pending().get()>
                    {move || if result.get().is_some() { t!("quiz-answer-again") } else { t!("quiz-answer") }}
                </button>
                {move || result.get().map(|r| view! {
                    <span class="quiz-verdict" data-correct=r.feedback.correct.to_string()>
                        {if r.feedback.correct { t!("quiz-right") } else { t!("quiz-wrong") }}
                        " "
                        <span class="muted">{t!("quiz-graded", points = r.graded_points)}</span>
                    </span>
                })}
                {move || error.get().map(|error| view! { <ErrorNote error inline=true/> })}
            </div>
        </form>
    }
}
