//! What a page or an action tells the person when something fails: a plain sentence they can act
//! on. The server logs the details (host paths, store errors); none of them travel in an
//! `AppError`. One view, [`ErrorNote`], shows every one of them.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request needs a learner's session.
    #[error("Join the class first.")]
    NotJoined,
    /// The request needs the instructor's session.
    #[error("Sign in as the instructor.")]
    NotInstructor,
    /// What was asked for does not exist (the sentence says what).
    #[error("{0}")]
    NotFound(String),
    /// The request was refused as it stands (the sentence says why and what to change).
    #[error("{0}")]
    Invalid(String),
    /// The server cannot do it right now (the sentence says what to do).
    #[error("{0}")]
    Unavailable(String),
    /// The request did not reach the server, or its answer did not come back whole.
    #[error("The server did not answer. Check your connection and try again.")]
    Unreachable,
    /// The server failed in a way the person cannot change (its log says how).
    #[error("Something went wrong on the server. Try again in a moment.")]
    Failed,
}

pub type AppResult<T> = Result<T, AppError>;

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Failures of the server-function machinery itself: on the browser's side the network or
    /// an unreadable answer; on the server's, a request the page would never make or a missing
    /// piece of the server. Either way the person can only try again.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Deserialization(_) | ServerFnErrorErr::Serialization(_) => {
                AppError::Unreachable
            }
            other => {
                #[cfg(feature = "ssr")]
                leptos::logging::error!("server function: {other}");
                let _ = other;
                AppError::Failed
            }
        }
    }
}

/// Reading the request inside a server function fails with the machinery's own error.
impl From<ServerFnErrorErr> for AppError {
    fn from(e: ServerFnErrorErr) -> Self {
        AppError::from_server_fn_error(e)
    }
}

impl AppError {
    /// The sentence in the page's language (the server's own sentences come in the language of
    /// the request that made them).
    pub fn text(&self) -> String {
        match self {
            AppError::NotJoined => t!("error-not-joined"),
            AppError::NotInstructor => t!("error-not-instructor"),
            AppError::NotFound(said) | AppError::Invalid(said) | AppError::Unavailable(said) => said.clone(),
            AppError::Unreachable => t!("error-unreachable"),
            AppError::Failed => t!("error-failed"),
        }
    }
}

/// An error, where a page or a form shows it: a sentence, and for the two that a sign-in
/// resolves, the way to it. `doing` says what failed ("Cannot load the lab"); `inline` keeps it
/// in the line of a form's buttons.
#[component]
pub fn ErrorNote(error: AppError, #[prop(optional, into)] doing: Option<String>, #[prop(optional)] inline: bool) -> impl IntoView {
    let text = match doing {
        Some(doing) => t!("error-doing", doing = doing, error = error.text()),
        None => error.text(),
    };
    let next = match error {
        AppError::NotJoined => Some(view! { " " <a href="/join">{t!("join")}</a> }.into_any()),
        AppError::NotInstructor => Some(view! { " " <a href="/instructor">{t!("sign-in")}</a> }.into_any()),
        _ => None,
    };
    if inline {
        view! { <span class="error" role="alert">{text}{next}</span> }.into_any()
    } else {
        view! { <p class="error" role="alert">{text}{next}</p> }.into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machinery_failures_say_only_what_to_do() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::ServerError("services are not available".into()));
        assert_eq!(e, AppError::Failed);
        assert!(!e.to_string().contains("services"), "{e}");
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Request("TypeError: Failed to fetch".into()));
        assert_eq!(e, AppError::Unreachable);
    }

    #[test]
    fn an_error_crosses_the_wire_unchanged() {
        for e in [AppError::NotJoined, AppError::Invalid("A class needs a name.".into()), AppError::Unreachable] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e);
        }
    }
}
