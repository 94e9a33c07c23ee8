//! The page's own scripts beside the wasm (terminal.js, editor.js): each is loaded the first
//! time a component needs it, from the address in the page's `<meta name=…>` tag (content-hashed,
//! written by the server), so pages without a terminal or an editor never fetch them and the
//! wasm is not kept waiting by them. Each sets a global and fires an event when it has run.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// One of those scripts: the global it sets, the event it fires, the meta tag with its address.
pub struct Script {
    pub global: &'static str,
    pub event: &'static str,
    pub meta: &'static str,
}

/// xterm.js and Stacklab's terminal module (terminals and replays).
pub const TERMINAL: Script = Script { global: "StacklabTerminal", event: "stacklab-terminal-ready", meta: "stacklab-terminal" };

/// CodeMirror and Stacklab's editor module.
pub const EDITOR: Script = Script { global: "StacklabEditor", event: "stacklab-editor-ready", meta: "stacklab-editor" };

impl Script {
    /// Runs `f` once the script has run: now if it has, else when it fires its event, loading
    /// it first if no one has asked for it yet.
    pub fn when_ready(&self, f: impl FnOnce() + 'static) {
        let window = web_sys::window().expect("a window");
        if js_sys::Reflect::has(&window, &self.global.into()).unwrap_or(false) {
            f();
            return;
        }
        let callback = Closure::once_into_js(f);
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = window.add_event_listener_with_callback_and_add_event_listener_options(self.event, callback.unchecked_ref(), &options);
        self.load();
    }

    fn load(&self) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        if document.query_selector(&format!("script[data-for=\"{}\"]", self.meta)).ok().flatten().is_some() {
            return;
        }
        let src = document
            .query_selector(&format!("meta[name=\"{}\"]", self.meta))
            .ok()
            .flatten()
            .and_then(|m| m.get_attribute("content"))
            .unwrap_or_default();
        if let (Ok(script), Some(body)) = (document.create_element("script"), document.body()) {
            let _ = script.set_attribute("type", "module");
            let _ = script.set_attribute("src", &src);
            let _ = script.set_attribute("data-for", self.meta);
            let _ = body.append_child(&script);
        }
    }
}
