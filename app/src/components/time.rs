//! Times for people: the server renders UTC (it cannot know the reader's zone), the browser
//! then shows the reader's local time; both as the page's language writes dates.

use leptos::prelude::*;

/// `secs` (Unix time) as "2026-12-01 09:00 UTC" (English), "01.12.2026, 09:00 UTC" (German).
pub fn utc_text(secs: i64) -> String {
    let (year, month, day, hour, minute) = civil(secs);
    let two = |n: i64| format!("{n:02}");
    t!("date-utc", year = format!("{year:04}"), month = two(month), day = two(day), hour = two(hour), minute = two(minute))
}

/// Unix seconds as the civil date and time in UTC.
fn civil(secs: i64) -> (i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3600, (rest % 3600) / 60)
}

/// A `datetime-local` input's value ("2026-12-01T09:00", the reader's zone) as Unix seconds.
/// Only the browser knows the zone, so only the browser converts.
pub fn from_local_input(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    #[cfg(feature = "hydrate")]
    {
        let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
        (!ms.is_nan()).then(|| (ms / 1000.0) as i64)
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Unix seconds as a `datetime-local` input's value in the reader's zone.
pub fn to_local_input(secs: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0));
        format!("{:04}-{:02}-{:02}T{:02}:{:02}", d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let (year, month, day, hour, minute) = civil(secs);
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}")
    }
}

#[component]
pub fn LocalTime(secs: i64) -> impl IntoView {
    let node = NodeRef::<leptos::html::Time>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0));
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
            let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
            let text: String = date.to_locale_string(crate::i18n::lang().tag(), &options).into();
            el.set_text_content(Some(&text));
        }
    });
    view! { <time node_ref=node datetime=secs.to_string()>{utc_text(secs)}</time> }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc() {
        assert_eq!(super::utc_text(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc_text(1_796_115_600), "2026-12-01 09:00 UTC");
        assert_eq!(super::utc_text(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(super::to_local_input(1_796_115_600), "2026-12-01T09:00");
    }

    #[test]
    fn utc_in_german() {
        let owner = leptos::prelude::Owner::new();
        owner.with(|| {
            leptos::prelude::provide_context(crate::i18n::Lang::De);
            assert_eq!(super::utc_text(1_796_115_600), "01.12.2026, 09:00 UTC");
        });
    }
}
