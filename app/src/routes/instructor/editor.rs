//! The class form: name, join code (new classes), which labs and decks, the schedule, the
//! sandbox lifetime and when to flag a learner as stuck. Saved through a server function; the
//! server checks everything again and says what is wrong.

use leptos::prelude::*;

use super::{CourseChoices, save_class};
use crate::class::{ClassInput, ClassSettings, ClassSummary, DEFAULT_RECORDING_DAYS, DEFAULT_RECORDING_QUOTA_MB, DEFAULT_STUCK_MINUTES};
use crate::components::time::{from_local_input, to_local_input};
use crate::error::{AppError, ErrorNote};

/// Ticked boxes, as settings store them: every box ticked is "everything" (an empty list), so
/// labs added to the course later are in the class too.
fn picked(all: &[(String, String)], ticked: &[String]) -> Vec<String> {
    if ticked.len() == all.len() { Vec::new() } else { all.iter().map(|(id, _)| id.clone()).filter(|id| ticked.contains(id)).collect() }
}

fn number(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| t!("class-not-a-number", text = text))
}

#[component]
pub fn ClassEditor(
    existing: Option<ClassSummary>,
    choices: CourseChoices,
    #[prop(into)] on_saved: Callback<ClassSummary>,
) -> impl IntoView {
    let settings = existing.as_ref().map(|c| c.settings.clone()).unwrap_or_default();
    let id = existing.as_ref().map(|c| c.id.clone());
    let is_new = id.is_none();
    let name = RwSignal::new(existing.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let code = RwSignal::new(String::new());
    let all_or = |list: &Vec<String>, all: &[(String, String)]| {
        if list.is_empty() { all.iter().map(|(id, _)| id.clone()).collect() } else { list.clone() }
    };
    let labs = RwSignal::new(all_or(&settings.labs, &choices.labs));
    let decks = RwSignal::new(all_or(&settings.decks, &choices.decks));
    let starts = RwSignal::new(settings.starts_at.map(to_local_input).unwrap_or_default());
    let ends = RwSignal::new(settings.ends_at.map(to_local_input).unwrap_or_default());
    let lifetime = RwSignal::new(settings.sandbox_lifetime_minutes.map(|m| m.to_string()).unwrap_or_default());
    let stuck = RwSignal::new(settings.stuck_minutes.map(|m| m.to_string()).unwrap_or_default());
    let codes_only = RwSignal::new(settings.codes_only);
    let sign_in_required = RwSignal::new(settings.sign_in_required);
    let prewarm_at = RwSignal::new(settings.prewarm_at.map(to_local_input).unwrap_or_default());
    let prewarm_spares = RwSignal::new(settings.prewarm_spares.map(|m| m.to_string()).unwrap_or_default());
    let self_extend = RwSignal::new(settings.self_extend_minutes.map(|m| m.to_string()).unwrap_or_default());
    let recording = RwSignal::new(!settings.recording_off);
    let quota = RwSignal::new(settings.recording_quota_mb.map(|m| m.to_string()).unwrap_or_default());
    let keep_days = RwSignal::new(settings.recording_days.map(|m| m.to_string()).unwrap_or_default());
    let error = RwSignal::new(None::<AppError>);
    let saving = RwSignal::new(false);
    let (all_labs, all_decks) = (choices.labs.clone(), choices.decks.clone());

    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let numbers = number(&lifetime.get_untracked()).and_then(|l| number(&stuck.get_untracked()).map(|s| (l, s)));
        let (sandbox_lifetime_minutes, stuck_minutes) = match numbers {
            Ok(n) => n,
            Err(e) => return error.set(Some(AppError::Invalid(e))),
        };
        let more = number(&prewarm_spares.get_untracked()).and_then(|p| number(&self_extend.get_untracked()).map(|s| (p, s)));
        let (prewarm_spares, self_extend_minutes) = match more {
            Ok(n) => n,
            Err(e) => return error.set(Some(AppError::Invalid(e))),
        };
        let kept = number(&quota.get_untracked()).and_then(|q| number(&keep_days.get_untracked()).map(|d| (q, d)));
        let (recording_quota_mb, recording_days) = match kept {
            Ok(n) => n,
            Err(e) => return error.set(Some(AppError::Invalid(e))),
        };
        if !all_labs.is_empty() && labs.with_untracked(Vec::is_empty) {
            return error.set(Some(AppError::Invalid(t!("class-pick-a-lab"))));
        }
        let input = ClassInput {
            name: name.get_untracked(),
            code: Some(code.get_untracked()).filter(|c| !c.trim().is_empty()),
            settings: ClassSettings {
                labs: picked(&all_labs, &labs.get_untracked()),
                decks: picked(&all_decks, &decks.get_untracked()),
                starts_at: from_local_input(&starts.get_untracked()),
                ends_at: from_local_input(&ends.get_untracked()),
                sandbox_lifetime_minutes,
                stuck_minutes,
                codes_only: codes_only.get_untracked(),
                sign_in_required: sign_in_required.get_untracked(),
                prewarm_at: from_local_input(&prewarm_at.get_untracked()),
                prewarm_spares,
                self_extend_minutes,
                recording_off: !recording.get_untracked(),
                recording_quota_mb,
                recording_days,
            },
        };
        let id = id.clone();
        saving.set(true);
        leptos::task::spawn_local(async move {
            match save_class(id, input).await {
                Ok(class) => {
                    error.set(None);
                    on_saved.run(class);
                }
                Err(e) => error.set(Some(e)),
            }
            saving.set(false);
        });
    };

    let boxes = move |all: Vec<(String, String)>, ticked: RwSignal<Vec<String>>, kind: &'static str| {
        all.into_iter()
            .map(|(id, title)| {
                let key = id.clone();
                view! {
                    <label class="check">
                        <input
                            type="checkbox"
                            name=kind
                            value=id.clone()
                            prop:checked=move || ticked.with(|t| t.contains(&key))
                            on:change=move |e| {
                                let on = event_target_checked(&e);
                                ticked.update(|t| {
                                    t.retain(|x| *x != id);
                                    if on {
                                        t.push(id.clone());
                                    }
                                });
                            }
                        />
                        {title}
                    </label>
                }
            })
            .collect_view()
    };

    view! {
        <form class="class-editor" on:submit=submit>
            <label>{t!("name")} <input name="name" required maxlength="80" bind:value=name/></label>
            {is_new.then(|| view! {
                <label>
                    {t!("join-code")} " " <span class="muted">{t!("class-code-help")}</span>
                    <input name="code" maxlength="12" autocomplete="off" bind:value=code/>
                </label>
            })}
            <fieldset>
                <legend>{t!("labs")}</legend>
                {boxes(choices.labs.clone(), labs, "labs")}
            </fieldset>
            <fieldset>
                <legend>{t!("decks")}</legend>
                {boxes(choices.decks.clone(), decks, "decks")}
            </fieldset>
            <div class="field-row">
                <label>{t!("starts")} <input type="datetime-local" name="starts" bind:value=starts/></label>
                <label>{t!("ends")} " " <span class="muted">{t!("class-ends-help")}</span> <input type="datetime-local" name="ends" bind:value=ends/></label>
            </div>
            <div class="field-row">
                <label>
                    {t!("class-lifetime")} " " <span class="muted">{t!("class-lifetime-help")}</span>
                    <input type="number" name="lifetime" min="5" bind:value=lifetime/>
                </label>
                <label>
                    {t!("class-stuck-after", default = DEFAULT_STUCK_MINUTES)}
                    <input type="number" name="stuck" min="1" bind:value=stuck/>
                </label>
            </div>
            <div class="field-row">
                <label>
                    {t!("class-prewarm-at")} " " <span class="muted">{t!("class-prewarm-at-help")}</span>
                    <input type="datetime-local" name="prewarm_at" bind:value=prewarm_at/>
                </label>
                <label>{t!("class-prewarm-spares")} <input type="number" name="prewarm_spares" min="0" max="200" bind:value=prewarm_spares/></label>
            </div>
            <div class="field-row">
                <label>
                    {t!("class-self-extend")} " " <span class="muted">{t!("class-self-extend-help")}</span>
                    <input type="number" name="self_extend" min="0" bind:value=self_extend/>
                </label>
                <label class="check">
                    <input type="checkbox" name="codes_only" bind:checked=codes_only/>
                    " " {t!("class-codes-only")}
                </label>
                <label class="check">
                    <input type="checkbox" name="sign_in_required" bind:checked=sign_in_required/>
                    " " {t!("class-sign-in-required")} " " <span class="muted">{t!("class-sign-in-required-help")}</span>
                </label>
            </div>
            <div class="field-row">
                <label class="check">
                    <input type="checkbox" name="recording" bind:checked=recording/>
                    " " {t!("class-record")} " " <span class="muted">{t!("class-record-help")}</span>
                </label>
                <label>
                    {t!("class-recording-quota", default = DEFAULT_RECORDING_QUOTA_MB)}
                    <input type="number" name="recording_quota" min="1" bind:value=quota/>
                </label>
                <label>
                    {t!("class-recording-days", default = DEFAULT_RECORDING_DAYS)}
                    <input type="number" name="recording_days" min="1" bind:value=keep_days/>
                </label>
            </div>
            {move || error.get().map(|error| view! { <ErrorNote error/> })}
            <button class="button" type="submit" disabled=move || saving.get()>
                {if is_new { t!("class-create") } else { t!("class-save") }}
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_ticked_means_everything() {
        let all = vec![("a".to_string(), "A".to_string()), ("b".to_string(), "B".to_string())];
        assert!(super::picked(&all, &["b".into(), "a".into()]).is_empty());
        assert_eq!(super::picked(&all, &["b".into()]), vec!["b".to_string()]);
    }
}
