//! The workbook's line about a tier coming up in the learner's sandbox: "Starting your cluster:
//! 4 of 9, etcd", then ready (or what failed, with the reason), as the server reports it.

use leptos::prelude::*;

use crate::services::TierStatus;

#[component]
pub fn TierStatusLine(tier: &'static str, status: RwSignal<Option<TierStatus>>) -> impl IntoView {
    move || {
        let s = status.get()?;
        let (class, text) = match s.state.as_str() {
            "ready" => ("tier-status ready", t!("tier-ready", tier = tier)),
            "failed" => {
                ("tier-status failed", t!("tier-failed", tier = tier, reason = s.error.clone().unwrap_or_else(|| t!("tier-no-reason"))))
            }
            _ => {
                let step = match (s.step, s.name.as_deref()) {
                    (Some(n), Some(name)) => t!("tier-step", n = n, count = s.steps, name = name),
                    _ => String::new(),
                };
                ("tier-status starting", t!("tier-starting", tier = tier, step = step))
            }
        };
        let percent = match (s.state.as_str(), s.step) {
            ("ready", _) => 100,
            (_, Some(n)) if s.steps > 0 => (n.saturating_sub(1) * 100 / s.steps).min(100),
            _ => 0,
        };
        Some(view! {
            <div class=class role="status" aria-live="polite">
                <span>{text}</span>
                <progress max="100" value=percent></progress>
            </div>
        })
    }
}
