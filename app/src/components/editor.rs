//! The editor tab beside the learner's terminals: their files and CodeMirror, saving back into
//! the sandbox (`app/js/editor.js` does the editing; the server's `/api/files` the reading and
//! writing). Its script is loaded the first time the tab is shown, and a step's "open" link
//! (`data-open-file`) shows the tab with that file.

use leptos::prelude::*;

/// The tab number the editor has among the terminal tabs (terminals are 1 and up).
pub const EDITOR_TAB: u32 = 0;

/// The learner's home: where the file tree starts unless the lab names its folders.
const HOME: &str = "/root";

/// `folders`: the folders the file tree shows (the lab's `editor` setting); empty: the home.
#[component]
pub fn EditorPane(active: RwSignal<u32>, folders: Vec<String>) -> impl IntoView {
    let folders = if folders.is_empty() { vec![HOME.to_string()] } else { folders };
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let handle = StoredValue::new_local(None::<js::EditorHandle>);
        // A file asked for before the editor was ready, opened once it is.
        let pending = StoredValue::new_local(None::<String>);
        let shown = move || active.get() == EDITOR_TAB;
        Effect::new(move |_| {
            if shown()
                && let Some(element) = host.get()
                && handle.with_value(|h| h.is_none())
            {
                let folders = folders.clone();
                js::when_ready(move || {
                    let editor = js::mount(&element, &folders);
                    if let Some(path) = pending.try_update_value(Option::take).flatten() {
                        editor.open(&path);
                    }
                    handle.set_value(Some(editor));
                });
            }
        });
        let listener = js::on_open_file(move |path| {
            active.set(EDITOR_TAB);
            let opened = handle.with_value(|h| h.as_ref().map(|e| e.open(&path)).is_some());
            if !opened {
                pending.set_value(Some(path));
            }
        });
        let listener = StoredValue::new_local(Some(listener));
        on_cleanup(move || {
            if let Some(listener) = listener.try_update_value(Option::take).flatten() {
                js::stop_listening(listener);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = folders;
    view! {
        <div class="editor-host" node_ref=host hidden=move || active.get() != EDITOR_TAB data-testid="editor"></div>
    }
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub type EditorHandle;

        #[wasm_bindgen(js_namespace = StacklabEditor, js_name = mount)]
        fn mount_js(element: &web_sys::HtmlElement, options: &JsValue) -> EditorHandle;

        #[wasm_bindgen(method)]
        pub fn open(this: &EditorHandle, path: &str);
    }

    pub fn mount(element: &web_sys::HtmlDivElement, folders: &[String]) -> EditorHandle {
        let options = js_sys::Object::new();
        let list: js_sys::Array = folders.iter().map(|f| JsValue::from_str(f)).collect();
        let _ = js_sys::Reflect::set(&options, &"folders".into(), &list.into());
        mount_js(element.unchecked_ref(), &options.into())
    }

    /// Runs `f` once editor.js has loaded, loading it first if no one has.
    pub fn when_ready(f: impl FnOnce() + 'static) {
        crate::components::scripts::EDITOR.when_ready(f);
    }

    pub type Listener = Closure<dyn Fn(web_sys::CustomEvent)>;

    /// Calls `f` with the path of each "open this file" link a learner follows, until the
    /// listener it returns is given to [`stop_listening`].
    pub fn on_open_file(f: impl Fn(String) + 'static) -> Listener {
        let callback = Closure::<dyn Fn(web_sys::CustomEvent)>::new(move |event: web_sys::CustomEvent| {
            if let Some(path) = event.detail().as_string() {
                f(path);
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.add_event_listener_with_callback("stacklab-open-file", callback.as_ref().unchecked_ref());
        }
        callback
    }

    pub fn stop_listening(listener: Listener) {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback("stacklab-open-file", listener.as_ref().unchecked_ref());
        }
    }
}
