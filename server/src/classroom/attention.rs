//! "Eyes on me": per class, the message that covers every learner's page until released.

use std::collections::HashMap;
use std::sync::Mutex;

/// The longest "eyes on me" message.
pub const ATTENTION_CHARS: usize = 200;

#[derive(Default)]
pub struct Attention {
    by_class: Mutex<HashMap<String, String>>,
}

impl Attention {
    /// Covers `class`'s pages with `message` (trimmed; an empty one says "Eyes on me"), or
    /// releases them (`None`). Returns what is shown now.
    pub fn set(&self, class: &str, message: Option<&str>) -> Result<Option<String>, String> {
        let mut map = self.by_class.lock().unwrap_or_else(|p| p.into_inner());
        let Some(message) = message else {
            map.remove(class);
            return Ok(None);
        };
        let message = message.trim();
        if message.chars().count() > ATTENTION_CHARS {
            return Err(app::t!("srv-attention-length", max = ATTENTION_CHARS));
        }
        let default = app::t!("eyes-on-me-placeholder");
        let message = if message.is_empty() { default.as_str() } else { message };
        map.insert(class.to_string(), message.to_string());
        Ok(Some(message.to_string()))
    }

    pub fn current(&self, class: &str) -> Option<String> {
        self.by_class.lock().unwrap_or_else(|p| p.into_inner()).get(class).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_release() {
        let attention = Attention::default();
        assert_eq!(attention.set("c1", Some("  ")).unwrap().as_deref(), Some("Eyes on me, please."));
        assert_eq!(attention.current("c2"), None, "per class");
        assert!(attention.set("c1", Some(&"x".repeat(ATTENTION_CHARS + 1))).is_err());
        assert_eq!(attention.current("c1").as_deref(), Some("Eyes on me, please."), "a refused message changes nothing");
        attention.set("c1", None).unwrap();
        assert_eq!(attention.current("c1"), None);
    }
}
