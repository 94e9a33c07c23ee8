//! Time per step across the class: who passed, the median and the slowest tenth, failed checks,
//! and a small histogram of the times, so the instructor sees which step is hard.

use leptos::prelude::*;

use crate::class::{Dashboard, StepTimes, step_times};
use crate::i18n::duration;

/// Bars in a step's histogram.
const BARS: usize = 8;

/// Counts of `secs` in `BARS` equal buckets from 0 to the longest.
fn histogram(secs: &[i64]) -> Vec<usize> {
    let longest = secs.iter().copied().max().unwrap_or(0).max(1);
    let mut bars = vec![0; BARS];
    for &s in secs {
        bars[((s.max(0) as usize * BARS) / (longest as usize + 1)).min(BARS - 1)] += 1;
    }
    bars
}

#[component]
fn Histogram(times: StepTimes) -> impl IntoView {
    let bars = histogram(&times.secs);
    let tallest = bars.iter().copied().max().unwrap_or(0).max(1);
    let longest = times.secs.last().copied().unwrap_or(0);
    let label = t!(
        "times-histogram",
        count = times.secs.len(),
        fastest = duration(times.secs.first().copied().unwrap_or(0)),
        slowest = duration(longest)
    );
    view! {
        <svg class="step-histogram" viewBox="0 0 80 20" width="80" height="20" role="img" aria-label=label>
            {bars.into_iter().enumerate().map(|(i, n)| {
                let h = 20.0 * n as f64 / tallest as f64;
                view! { <rect x=(i * 10 + 1).to_string() y=format!("{:.1}", 20.0 - h) width="8" height=format!("{h:.1}")></rect> }
            }).collect_view()}
        </svg>
    }
}

#[component]
pub fn StepTimesTable(dash: RwSignal<Dashboard>) -> impl IntoView {
    let times = Memo::new(move |_| dash.with(step_times));
    let quantile = |t: &StepTimes, q: f64| t.quantile(q).map(duration).unwrap_or_else(|| "–".into());
    view! {
        <details class="step-times">
            <summary>{t!("times")}</summary>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{t!("step")}</th>
                        <th scope="col">{t!("times-passed")}</th>
                        <th scope="col">{t!("times-working")}</th>
                        <th scope="col">{t!("times-median")}</th>
                        <th scope="col">{t!("times-slowest")}</th>
                        <th scope="col">{t!("times-failed")}</th>
                        <th scope="col">{t!("times-times")}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || times.get().into_iter().map(|t| view! {
                        <tr data-step=format!("{}/{}", t.lab, t.step)>
                            <th scope="row">{t.title.clone()}</th>
                            <td>{t.secs.len()}</td>
                            <td>{t.open}</td>
                            <td class="median">{quantile(&t, 0.5)}</td>
                            <td>{quantile(&t, 0.9)}</td>
                            <td>{t.failures}</td>
                            <td><Histogram times=t.clone()/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_longest_time_is_in_the_last_bar() {
        assert_eq!(super::histogram(&[0, 10, 79, 80]), vec![2, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(super::histogram(&[]), vec![0; 8]);
    }
}
