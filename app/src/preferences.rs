//! What a learner chose for themselves, remembered with them: it follows them to another
//! browser with their resume code. The store keeps it as JSON of this shape.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// xterm.js's screen reader mode: the terminal's rows are also an accessible text tree, and
    /// new output is read out through a live region.
    pub screen_reader: bool,
}

impl Preferences {
    /// From the stored JSON; anything unreadable (a row from a newer server, say) is the defaults.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_round_trips_and_bad_json_is_the_defaults() {
        let on = Preferences { screen_reader: true };
        assert_eq!(Preferences::from_json(&on.to_json()), on);
        assert_eq!(Preferences::from_json("{}"), Preferences::default());
        assert_eq!(Preferences::from_json("not json"), Preferences::default());
        // A field this server does not know is ignored, not an error.
        assert_eq!(Preferences::from_json(r#"{"screen_reader":true,"later":1}"#), on);
    }
}
