//! Server-sent events in the browser: the learner's progress and messages, the instructor's
//! slide and dashboard arrive live. Components that listen to the same URL share one
//! EventSource (browsers allow few connections per server); it reconnects by itself and closes
//! when the last listener goes away.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

#[cfg(feature = "hydrate")]
mod shared {
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        /// Open sources by URL, with how many listeners use each.
        pub static SOURCES: RefCell<HashMap<String, (web_sys::EventSource, usize)>> = RefCell::new(HashMap::new());
    }

    pub fn acquire(url: &str) -> Option<web_sys::EventSource> {
        SOURCES.with_borrow_mut(|sources| {
            if let Some((source, users)) = sources.get_mut(url) {
                *users += 1;
                return Some(source.clone());
            }
            let source = web_sys::EventSource::new(url).ok()?;
            sources.insert(url.to_string(), (source.clone(), 1));
            Some(source)
        })
    }

    pub fn release(url: &str) {
        SOURCES.with_borrow_mut(|sources| {
            if let Some((source, users)) = sources.get_mut(url) {
                *users -= 1;
                if *users == 0 {
                    source.close();
                    sources.remove(url);
                }
            }
        })
    }
}

/// Calls `on` with the data of every `event` from `url`, while the calling component lives.
#[allow(unused_variables)]
pub fn listen(url: String, event: &'static str, on: impl Fn(String) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::prelude::Closure;
        let Some(source) = shared::acquire(&url) else { return };
        let callback = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(data) = e.data().as_string() {
                on(data);
            }
        });
        let _ = source.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        // The closure lives as long as this listener; both go on cleanup.
        let held = StoredValue::new_local(Some((source, callback)));
        on_cleanup(move || {
            held.update_value(|h| {
                if let Some((source, callback)) = h.take() {
                    let _ = source.remove_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
                    shared::release(&url);
                }
            })
        });
    }
}
