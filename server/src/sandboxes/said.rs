//! What a learner is told of a sandbox's failure, in their language.

/// The sentences `sandbox::Error::for_learner` says, by their message in the catalogues.
pub(crate) const SANDBOX_SAID: [(&str, &str); 4] = [
    ("Your sandbox is not running. Open your terminal to start it again.", "srv-sandbox-gone"),
    (
        "Your sandbox could not be started. Try again in a moment; if it keeps failing, tell your instructor (the server's log says why).",
        "srv-sandbox-not-started",
    ),
    ("This server cannot run sandboxes right now. Tell your instructor: the server's log says why.", "srv-sandboxes-broken"),
    (
        "Something went wrong with your sandbox. Try again in a moment; if it keeps happening, tell your instructor (the server's log says why).",
        "srv-sandbox-failed",
    ),
];

/// What the learner is told of a sandbox's failure, in their language: the sandbox crate's
/// plain sentence (never the error's host details), translated.
pub fn said(e: &sandbox::Error) -> String {
    let english = e.for_learner();
    match SANDBOX_SAID.iter().find(|(said, _)| *said == english) {
        Some((_, key)) => app::i18n::lang().message(key, &[]),
        None => english.to_string(),
    }
}
