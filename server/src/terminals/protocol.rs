//! The terminal WebSocket's small typed control messages (text frames, JSON). Terminal bytes go
//! in binary frames both ways.

use serde::{Deserialize, Serialize};

/// From the browser.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ClientMessage {
    Resize { cols: u16, rows: u16 },
    Ping,
}

/// To the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    /// Attached: the scrollback (binary frames) follows, then live output.
    /// `cols` × `rows` is the PTY's size now (a watcher draws at the learner's size).
    Attached {
        tab: u32,
        replay_bytes: usize,
        read_only: bool,
        cols: u16,
        rows: u16,
    },
    /// The owner resized the PTY (sent to watchers).
    Size {
        cols: u16,
        rows: u16,
    },
    Pong,
    /// The shell ended (the learner typed `exit`, or the sandbox stopped).
    Exit {
        code: i32,
    },
    /// The sandbox is not running (expired or stopped); attach with `start=1` to start it.
    Stopped,
    /// The class is full: the learner waits in line (1: next); `attached` follows when their
    /// sandbox is up. Sent again whenever the place or the estimate changes.
    Queued(crate::sandboxes::QueueSpot),
    Error {
        message: String,
    },
}

impl ServerMessage {
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"type":"error","message":"encoding"}"#.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"resize","cols":100,"rows":30}"#).unwrap(),
            ClientMessage::Resize { cols: 100, rows: 30 }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"resize","cols":-1,"rows":30}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"exec","cmd":"rm -rf /"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"resize","cols":1,"rows":1,"x":1}"#).is_err());
        assert_eq!(ServerMessage::Exit { code: 3 }.json(), r#"{"type":"exit","code":3}"#);
        let spot = crate::sandboxes::QueueSpot { position: 2, eta: None };
        assert_eq!(ServerMessage::Queued(spot).json(), r#"{"type":"queued","position":2,"eta_secs":null}"#);
    }
}
