//! The pages' words in the reader's language: every sentence of the UI is a message in a Fluent
//! catalogue (`app/locales/LANG/*.ftl`), looked up by its id. The server picks the language
//! from the `stacklab_lang` cookie (the switch at the top of every page sets it), else from the
//! browser's `Accept-Language`; it writes it into `<html lang>`, where the browser's half reads it
//! back, so both halves render the same words. The workshop's content stays in its author's
//! language (a lab may carry translated copies: labs/src/load/translation.rs).

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, langid};
use leptos::prelude::*;

fluent_templates::static_loader! {
    static CATALOGUES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would travel into the HTML and
        // into screen readers' text; the UI's arguments are names and numbers.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie that holds a reader's chosen language.
pub const COOKIE: &str = "stacklab_lang";

/// A language the UI ships in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 tag: `<html lang>`, the cookie, a lab's translated copy (`lab.de.md`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's name in itself, as the switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    /// A tag as browsers and people write it: `de`, `de-AT`, `DE_de`, `en-GB`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The best language for an `Accept-Language` header ("de-CH, fr;q=0.8, en;q=0.5"): the
    /// highest-weighted one we ship, the first on a tie; English when none is.
    pub fn negotiate(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else { continue };
            let weight = parts.find_map(|p| p.trim().strip_prefix("q=").map(|q| q.trim().parse::<f32>().unwrap_or(0.0))).unwrap_or(1.0);
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// The language of a request: its cookie, else its `Accept-Language`.
    pub fn of_headers(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        let chosen = cookie.into_iter().flat_map(|c| c.split(';')).find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| Lang::from_tag(value)).flatten()
        });
        chosen.unwrap_or_else(|| accept_language.map(Lang::negotiate).unwrap_or_default())
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::De => langid!("de"),
        }
    }

    /// A message of this language's catalogue, with its arguments.
    pub fn message(self, key: &str, args: &[(&str, FluentValue<'static>)]) -> String {
        self.lookup(key, args).or_else(|| Lang::En.lookup(key, args)).unwrap_or_else(|| {
            // A unit test holds every id the code uses to both catalogues; this is the net.
            leptos::logging::warn!("no message {key:?} in {}", self.tag());
            key.to_string()
        })
    }

    /// A message, or `None` when this language's catalogue lacks it.
    fn lookup(self, key: &str, args: &[(&str, FluentValue<'static>)]) -> Option<String> {
        let args: Option<HashMap<Cow<'static, str>, FluentValue>> =
            (!args.is_empty()).then(|| args.iter().map(|(k, v)| (Cow::Owned(k.to_string()), v.clone())).collect());
        CATALOGUES.lookup_no_default_fallback(&self.id(), key, args.as_ref())
    }
}

/// The messages the page's scripts (app/js) show, with their arguments' names: the server
/// writes them into the page ([`script_words`]), each argument left as `{name}`.
pub const SCRIPT_MESSAGES: &[(&str, &[&str])] = &[
    ("js-connecting", &[]),
    ("js-reconnecting", &[]),
    ("js-stopped", &[]),
    ("js-ended", &[]),
    ("js-error", &[]),
    ("js-no-estimate", &[]),
    ("js-about-minutes", &["minutes"]),
    ("js-queued", &["position", "wait"]),
    ("js-their-shell-ended", &["code"]),
    ("js-shell-ended", &["code"]),
    ("js-restart-sandbox", &[]),
    ("js-new-shell", &[]),
    ("js-copied", &[]),
    ("js-select-to-copy", &[]),
    ("js-play", &[]),
    ("js-pause", &[]),
    ("js-speed", &[]),
    ("js-position", &[]),
    ("js-find-command", &[]),
    ("js-cannot-play", &["reason"]),
    ("js-files", &[]),
    ("js-pick-file", &[]),
    ("js-save", &[]),
    ("js-drop-changes", &["path"]),
    ("js-opening", &["path"]),
    ("js-saving", &["path"]),
    ("js-saved", &["path"]),
    ("js-reload", &[]),
];

/// The scripts' messages in `lang`, as the JSON object app/js/words.js reads (safe inside a
/// `<script>` element: no `</` in it).
pub fn script_words(lang: Lang) -> String {
    let words: serde_json::Map<String, serde_json::Value> = SCRIPT_MESSAGES
        .iter()
        .map(|(key, names)| {
            let args: Vec<(&str, FluentValue<'static>)> = names.iter().map(|n| (*n, arg(format!("{{{n}}}")))).collect();
            (key.to_string(), serde_json::Value::String(lang.message(key, &args)))
        })
        .collect();
    serde_json::Value::Object(words).to_string().replace("</", "<\\/")
}

/// The page's language, as the server decided it for this request. Set once at the root of the
/// app ([`provide`]); read anywhere below, and in the browser also outside any component (an
/// event handler), where it is the page's `<html lang>`.
pub fn lang() -> Lang {
    use_context::<Lang>().unwrap_or_else(request_lang)
}

/// Put the request's (server) or the page's (browser) language into the app's context.
pub fn provide() -> Lang {
    let lang = request_lang();
    provide_context(lang);
    lang
}

#[cfg(feature = "ssr")]
fn request_lang() -> Lang {
    if let Some(parts) = use_context::<http::request::Parts>() {
        return Lang::of_headers_of(&parts.headers);
    }
    REQUEST_LANG.try_with(|l| *l).unwrap_or_default()
}

#[cfg(feature = "ssr")]
tokio::task_local! {
    /// The language of the request a task serves, outside the app's pages and server functions
    /// (the server's own routes): set by [`in_request_language`].
    static REQUEST_LANG: Lang;
}

/// Runs `future` (a request's handling) with the request's language as [`lang`]'s answer, so
/// the server's sentences come in the reader's language on its own routes too.
#[cfg(feature = "ssr")]
pub async fn in_request_language<F: std::future::Future>(headers: &http::HeaderMap, future: F) -> F::Output {
    REQUEST_LANG.scope(Lang::of_headers_of(headers), future).await
}

#[cfg(feature = "ssr")]
impl Lang {
    pub fn of_headers_of(headers: &http::HeaderMap) -> Lang {
        let header = |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        Lang::of_headers(header(http::header::COOKIE), header(http::header::ACCEPT_LANGUAGE))
    }
}

#[cfg(not(feature = "ssr"))]
fn request_lang() -> Lang {
    page_lang()
}

/// `<html lang>` of the page (browser).
#[cfg(not(feature = "ssr"))]
fn page_lang() -> Lang {
    #[cfg(feature = "hydrate")]
    {
        let tag = leptos::prelude::document().document_element().and_then(|e| e.get_attribute("lang"));
        tag.as_deref().and_then(Lang::from_tag).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    Lang::default()
}

/// A lab's or a slide's HTML with the page's own words on its code ("Run", "Copy") in `lang`.
pub fn lab_chrome(lang: Lang, html: &str) -> String {
    if lang == Lang::En {
        return html.to_string();
    }
    let words = ["lab-run", "lab-run-title", "lab-copy", "lab-copy-title", "lab-run-inline-title", "lab-copy-inline-title"]
        .map(|k| lang.message(k, &[]));
    let [run, run_title, copy, copy_title, run_inline_title, copy_inline_title] = &words;
    labs::chrome::Words { run, run_title, copy, copy_title, run_inline_title, copy_inline_title }.put_into(html)
}

/// A message in the page's language: `t!("lab-loading")`, `t!("lab-step-of", n = 2, count = 5)`.
#[macro_export]
macro_rules! t {
    ($key:literal) => {
        $crate::i18n::lang().message($key, &[])
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::lang().message($key, &[$((stringify!($name), $crate::i18n::arg($value))),+])
    };
}

/// A message argument: text or a number.
pub fn arg(value: impl Into<Arg>) -> FluentValue<'static> {
    match value.into() {
        Arg::Text(s) => FluentValue::String(Cow::Owned(s)),
        Arg::Number(n) => FluentValue::from(n),
    }
}

pub enum Arg {
    Text(String),
    Number(f64),
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}
impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}
macro_rules! number_args {
    ($($t:ty),*) => { $(impl From<$t> for Arg { fn from(n: $t) -> Self { Arg::Number(n as f64) } })* };
}
number_args!(u8, u16, i32, i64, u32, u64, usize, f32, f64);

/// A time span, short, in the page's language: "45s", "7m", "2h05"; "45 s", "7 min", "2 h 05".
pub fn duration(secs: i64) -> String {
    lang().duration(secs)
}

impl Lang {
    /// Whether the language writes 3,2 for 3.2.
    pub fn decimal_comma(self) -> bool {
        self == Lang::De
    }

    pub fn duration(self, secs: i64) -> String {
        match secs {
            s if s < 60 => self.message("duration-seconds", &[("n", arg(s))]),
            s if s < 3600 => self.message("duration-minutes", &[("n", arg(s / 60))]),
            s => self.message("duration-hours", &[("h", arg(s / 3600)), ("m", arg(format!("{:02}", (s % 3600) / 60)))]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    #[test]
    fn the_browser_language_is_negotiated() {
        assert_eq!(Lang::negotiate("de-CH, fr;q=0.8, en;q=0.5"), Lang::De);
        assert_eq!(Lang::negotiate("fr-FR, en-GB;q=0.9, de;q=0.8"), Lang::En);
        assert_eq!(Lang::negotiate("en;q=0.3, de;q=0.7"), Lang::De);
        assert_eq!(Lang::negotiate("de;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::negotiate("ja, zh"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("de;q=nonsense, *"), Lang::En);
    }

    #[test]
    fn the_cookie_wins_over_the_browser() {
        assert_eq!(Lang::of_headers(Some("stacklab_session=x; stacklab_lang=de"), Some("en")), Lang::De);
        assert_eq!(Lang::of_headers(Some("stacklab_lang=xx"), Some("de-AT")), Lang::De);
        assert_eq!(Lang::of_headers(None, None), Lang::En);
    }

    #[test]
    fn durations_per_language() {
        let (en, de) = (|s| Lang::En.duration(s), |s| Lang::De.duration(s));
        assert_eq!([en(42), en(7 * 60 + 3), en(2 * 3600 + 5 * 60)], ["42s", "7m", "2h05"]);
        assert_eq!([de(42), de(7 * 60 + 3), de(2 * 3600 + 5 * 60)], ["42 s", "7 min", "2 h 05"]);
    }

    #[test]
    fn the_lab_buttons_english_is_the_loaders() {
        let c = labs::chrome::ENGLISH;
        let ours = ["lab-run", "lab-run-title", "lab-copy", "lab-copy-title", "lab-run-inline-title", "lab-copy-inline-title"]
            .map(|k| Lang::En.message(k, &[]));
        assert_eq!(ours, [c.run, c.run_title, c.copy, c.copy_title, c.run_inline_title, c.copy_inline_title]);
        let html = labs::chrome::ENGLISH.fragments().concat();
        assert_eq!(lab_chrome(Lang::En, &html), html);
        let german = lab_chrome(Lang::De, &html);
        assert!(german.contains(">Ausführen</button>") && !german.contains(">Run</button>"), "{german}");
    }

    #[test]
    fn messages_take_their_arguments() {
        assert_eq!(Lang::En.message("duration-minutes", &[("n", arg(7))]), "7m");
        assert_eq!(Lang::De.message("duration-hours", &[("h", arg(2)), ("m", arg("05"))]), "2 h 05");
        assert_eq!(Lang::De.message("no-such-message", &[]), "no-such-message");
    }

    /// Each catalogue's messages with the variables they use, read from its files.
    fn catalogue(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang.tag());
        let mut messages = BTreeMap::new();
        let mut current = None;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in text.lines() {
                if let Some((id, _)) = line.split_once(" =").filter(|(id, _)| !id.starts_with([' ', '#', '.']) && !id.is_empty()) {
                    assert!(messages.insert(id.to_string(), BTreeSet::new()).is_none(), "{id} twice in {dir:?}");
                    current = Some(id.to_string());
                }
                let vars = line
                    .split('$')
                    .skip(1)
                    .map(|v| v.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect::<String>());
                if let Some(id) = &current {
                    messages.get_mut(id).unwrap().extend(vars);
                }
            }
        }
        messages
    }

    #[test]
    fn every_language_has_every_message_with_the_same_arguments() {
        let en = catalogue(Lang::En);
        for lang in Lang::ALL {
            let other = catalogue(lang);
            let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{}: missing {missing:?}, not in English {extra:?}", lang.tag());
            for (id, vars) in &other {
                assert!(vars.is_subset(&en[id]), "{}: {id} uses {vars:?}, English has {:?}", lang.tag(), en[id]);
            }
            // Every message resolves (the file parsed; a broken entry falls back to its id).
            for (id, vars) in &other {
                let args: Vec<(&str, FluentValue<'static>)> = vars.iter().map(|v| (v.as_str(), arg("x"))).collect();
                assert!(lang.lookup(id, &args).is_some(), "{}: {id} does not parse", lang.tag());
            }
        }
    }

    /// Every `say("js-…", "English", …)` of the scripts is a script message, and its English is
    /// the catalogue's (so a page without the words reads the same).
    #[test]
    fn the_scripts_words_are_the_catalogues() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
        let mut said = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for piece in text.split("say(\"").skip(1) {
                let mut parts = piece.split('"');
                let (key, english) = (parts.next().unwrap(), parts.nth(1).unwrap_or_default());
                if !key.starts_with("js-") {
                    continue;
                }
                let (_, names) =
                    SCRIPT_MESSAGES.iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("{key} is not in SCRIPT_MESSAGES"));
                let args: Vec<(&str, FluentValue<'static>)> = names.iter().map(|n| (*n, arg(format!("{{{n}}}")))).collect();
                assert_eq!(Lang::En.message(key, &args), english, "{key}");
                said += 1;
            }
        }
        assert!(said >= SCRIPT_MESSAGES.len(), "only {said} uses of the scripts' words found");
    }

    #[test]
    fn the_scripts_words_are_safe_in_a_script_element() {
        for lang in Lang::ALL {
            let json = script_words(lang);
            assert!(!json.contains("</"), "{json}");
            let words: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(words.as_object().unwrap().len(), SCRIPT_MESSAGES.len());
        }
        assert!(script_words(Lang::De).contains("Nummer {position} in der Warteschlange"));
    }

    #[test]
    fn every_message_the_code_asks_for_exists() {
        let en = catalogue(Lang::En);
        let mut asked = BTreeSet::new();
        // The app's code, and the server's (its sentences are in the same catalogues).
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("src"), root.join("../server/src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let pieces: Vec<&str> = text.split("t!(\"").collect();
                    for (before, piece) in pieces.iter().zip(&pieces[1..]) {
                        // `t!`, not `format!` or `assert!`.
                        if !before.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                            asked.insert(piece.split('"').next().unwrap().to_string());
                        }
                    }
                }
            }
        }
        asked.remove("lab-loading"); // the macro's own doc comment
        asked.remove("lab-step-of");
        let missing: Vec<_> = asked.iter().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "asked for but not in the catalogue: {missing:?}");
    }
}
