//! The page's own scripts loaded beside the wasm (terminal.js, editor.js): each sets a global
//! and fires an event when it has run, and a component waits for one of the two.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Runs `f` now if the script that sets `window[global]` has run, or else once it fires
/// `event`; whether it ran now.
pub fn when_loaded(global: &str, event: &str, f: impl FnOnce() + 'static) -> bool {
    let window = web_sys::window().expect("a window");
    if js_sys::Reflect::has(&window, &global.into()).unwrap_or(false) {
        f();
        return true;
    }
    let callback = Closure::once_into_js(f);
    let options = web_sys::AddEventListenerOptions::new();
    options.set_once(true);
    let _ = window.add_event_listener_with_callback_and_add_event_listener_options(event, callback.unchecked_ref(), &options);
    false
}
