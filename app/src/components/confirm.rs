//! Asking before something that cannot be undone.

/// Asks before something that cannot be undone (the browser's own dialog: keyboard-friendly,
/// and it cannot be clicked through by accident).
pub fn confirm(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}
