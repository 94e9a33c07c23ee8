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
    subscribe(url, event, move |e: web_sys::Event| {
        use wasm_bindgen::JsCast;
        if let Some(data) = e.dyn_ref::<web_sys::MessageEvent>().and_then(|m| m.data().as_string()) {
            on(data);
        }
    });
}

/// Calls `on` each time the stream from `url` connects again (after a dropped connection or a
/// server restart), while the calling component lives: what the server kept only in memory
/// (the step the learner is on) must be told again.
#[allow(unused_variables)]
pub fn on_reconnect(url: String, on: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use std::cell::Cell;
        use std::rc::Rc;
        let first = Rc::new(Cell::new(false));
        let seen = first.clone();
        let source = subscribe(url, "open", move |_| {
            if !seen.replace(false) {
                on();
            }
        });
        // A source still connecting for the first time opens once without it being a return.
        first.set(source.is_some_and(|s| s.ready_state() == web_sys::EventSource::CONNECTING));
    }
}

#[cfg(feature = "hydrate")]
fn subscribe(url: String, event: &'static str, on: impl Fn(web_sys::Event) + 'static) -> Option<web_sys::EventSource> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    let source = shared::acquire(&url)?;
    let callback = Closure::<dyn Fn(web_sys::Event)>::new(on);
    let _ = source.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
    // The closure lives as long as this listener; both go on cleanup.
    let held = StoredValue::new_local(Some((source.clone(), callback)));
    on_cleanup(move || {
        held.update_value(|h| {
            if let Some((source, callback)) = h.take() {
                let _ = source.remove_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
                shared::release(&url);
            }
        })
    });
    Some(source)
}
