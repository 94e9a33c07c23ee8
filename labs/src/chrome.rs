//! The few words of the page's own a lab's HTML carries: the "Run" and "Copy" buttons on its
//! code and their tooltips. The loader writes them in English; the app puts them in the reader's
//! language (app/src/i18n.rs) by replacing exactly what [`Words::fragments`] wrote, so a lab's
//! own text that happens to say "Run" is never touched.

/// The words, escaped for HTML where they are written.
pub struct Words<'a> {
    /// A code block's button that types it into the terminal, and its tooltip.
    pub run: &'a str,
    pub run_title: &'a str,
    /// A code block's button that copies it, and its tooltip.
    pub copy: &'a str,
    pub copy_title: &'a str,
    /// The tooltips of inline code that runs or copies when clicked.
    pub run_inline_title: &'a str,
    pub copy_inline_title: &'a str,
}

pub const ENGLISH: Words<'static> = Words {
    run: "Run",
    run_title: "Type this into your terminal",
    copy: "Copy",
    copy_title: "Copy to the clipboard",
    run_inline_title: "Run in terminal",
    copy_inline_title: "Copy",
};

impl Words<'_> {
    /// The ends of the four elements that hold the words, as the loader writes them: a run
    /// button's, a copy button's, runnable and copyable inline code's (up to their text).
    pub fn fragments(&self) -> [String; 4] {
        let e = escape;
        [
            format!(" title=\"{}\">{}</button>", e(self.run_title), e(self.run)),
            format!(" title=\"{}\">{}</button>", e(self.copy_title), e(self.copy)),
            format!(" role=\"button\" tabindex=\"0\" title=\"{}\" data-chrome=\"run\">", e(self.run_inline_title)),
            format!(" role=\"button\" tabindex=\"0\" title=\"{}\" data-chrome=\"copy\">", e(self.copy_inline_title)),
        ]
    }

    /// `html` (written with [`ENGLISH`]) with these words instead.
    pub fn put_into(&self, html: &str) -> String {
        let mut out = html.to_string();
        for (english, ours) in ENGLISH.fragments().iter().zip(self.fragments()) {
            if english != &ours && out.contains(english.as_str()) {
                out = out.replace(english.as_str(), &ours);
            }
        }
        out
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_buttons_words_change() {
        let [run, copy, inline, _] = ENGLISH.fragments();
        let html = format!("<p>Run this:</p><pre><code>ls</code><button class=\"run\"{run}</pre><button{copy}<code{inline}ls</code>");
        let german = Words {
            run: "Ausführen",
            run_title: "In Ihr Terminal tippen",
            copy: "Kopieren",
            copy_title: "In die Zwischenablage",
            run_inline_title: "Im Terminal ausführen",
            copy_inline_title: "Kopieren",
        };
        let out = german.put_into(&html);
        assert!(out.starts_with("<p>Run this:</p>"), "{out}");
        assert!(out.contains(">Ausführen</button>") && out.contains(">Kopieren</button>"), "{out}");
        assert!(out.contains("title=\"Im Terminal ausführen\""), "{out}");
        assert!(!out.contains(">Run</button>") && !out.contains("Type this"), "{out}");
        assert_eq!(ENGLISH.put_into(&html), html);
    }
}
