//! Server-sent events in the browser: the learner's progress and the instructor's slide arrive
//! live. The EventSource reconnects by itself; it is closed when the component goes away.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// Calls `on` with the data of every `event` from `url`, while the calling component lives.
#[allow(unused_variables)]
pub fn listen(url: String, event: &'static str, on: impl Fn(String) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::prelude::Closure;
        let Ok(source) = web_sys::EventSource::new(&url) else { return };
        let callback = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(data) = e.data().as_string() {
                on(data);
            }
        });
        let _ = source.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        // The closure lives as long as the source; both go on cleanup.
        let held = StoredValue::new_local(Some((source, callback)));
        on_cleanup(move || {
            held.update_value(|h| {
                if let Some((source, _callback)) = h.take() {
                    source.close();
                }
            })
        });
    }
}
