//! The chat's WebSocket frames (docs/chat-protocol.md). Client frames are parsed into a closed
//! set of canned actions; everything else becomes a [`Refusal`] with the reason the metric and
//! the error frame name. Nothing a client sends is stored except the counter it increments.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::Action;

/// Frames larger than this are refused (`oversized`); canned frames are tiny.
pub const MAX_FRAME_BYTES: usize = 1024;

/// What a client may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// One of the canned actions (👍/👎, Ready/Blocked/Review, Deployed/Tests green).
    Action(Action),
    /// A vote for one of a project poll's choices.
    Vote { poll: Uuid, choice: String },
    /// Ask for a fresh counter snapshot (after a sequence gap).
    Snapshot,
}

/// Why a frame was refused; the names are the `reason` label of
/// `app_chat_frames_rejected_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    FreeText,
    UnknownAction,
    BadJson,
    Oversized,
    RateLimited,
    UnknownChoice,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FreeText => "free_text",
            Self::UnknownAction => "unknown_action",
            Self::BadJson => "bad_json",
            Self::Oversized => "oversized",
            Self::RateLimited => "rate_limited",
            Self::UnknownChoice => "unknown_choice",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    action: Option<String>,
    poll: Option<Uuid>,
    choice: Option<String>,
}

/// Parses a text frame, or says why it is refused and what would be accepted.
pub fn parse(text: &str) -> Result<ClientFrame, (Refusal, String)> {
    if text.len() > MAX_FRAME_BYTES {
        return Err((
            Refusal::Oversized,
            format!(
                "frames are at most {MAX_FRAME_BYTES} bytes; this one has {}",
                text.len()
            ),
        ));
    }
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return Err((
            Refusal::FreeText,
            "free text is not accepted: send a canned action, e.g. {\"type\":\"action\",\"action\":\"ready\"}"
                .to_owned(),
        ));
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| (Refusal::BadJson, format!("the frame is not valid JSON: {e}")))?;
    if value.get("text").is_some()
        || value.get("message").is_some()
        || value.get("type").and_then(Value::as_str) == Some("message")
    {
        return Err((
            Refusal::FreeText,
            "free text is not accepted: only canned actions and poll votes".to_owned(),
        ));
    }
    let raw: Raw = serde_json::from_value(value).map_err(|e| {
        (
            Refusal::BadJson,
            format!("{e}; frames are {{\"type\": \"action\" | \"vote\" | \"snapshot\", ...}}"),
        )
    })?;
    match (raw.kind.as_str(), raw.action, raw.poll, raw.choice) {
        ("action", Some(action), None, None) => Action::try_from(action)
            .map(ClientFrame::Action)
            .map_err(|unknown| (Refusal::UnknownAction, unknown)),
        ("vote", None, Some(poll), Some(choice)) => Ok(ClientFrame::Vote { poll, choice }),
        ("snapshot", None, None, None) => Ok(ClientFrame::Snapshot),
        (kind, ..) => Err((
            Refusal::BadJson,
            format!(
                "a {kind:?} frame is not understood; send {{\"type\":\"action\",\"action\":…}}, \
                 {{\"type\":\"vote\",\"poll\":…,\"choice\":…}} or {{\"type\":\"snapshot\"}}"
            ),
        )),
    }
}

/// What the server sends.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Every counter of the project at sequence `seq`, and its polls.
    Snapshot {
        seq: i64,
        counters: serde_json::Map<String, Value>,
        polls: Vec<Value>,
    },
    /// One counter changed; `seq` is the project's next sequence number.
    Counter {
        seq: i64,
        metric: String,
        value: i64,
        sent_at_us: i64,
    },
    /// A poll was opened in the project.
    Poll { poll: Value, sent_at_us: i64 },
    /// A poll was deleted, with its votes.
    PollDeleted { poll: Uuid, sent_at_us: i64 },
    /// To every connection of the user on this chat: their own action, and the assistant's reply.
    Echo {
        session: Uuid,
        action: String,
        reply: Option<String>,
        assistant: &'static str,
        sent_at_us: i64,
    },
    /// A refused frame; nothing was stored.
    Error { reason: Refusal, detail: String },
    /// A valid frame the server could not record (database unreachable); retry it.
    Unavailable { detail: String },
}

/// Now, as a frame's `sent_at_us` (microseconds since the Unix epoch): receivers measure
/// publish → delivery latency from it.
pub fn now_us() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canned_frames_parse() {
        assert_eq!(
            parse(r#"{"type":"action","action":"ready"}"#),
            Ok(ClientFrame::Action(Action::Ready))
        );
        assert_eq!(parse(r#"{"type":"snapshot"}"#), Ok(ClientFrame::Snapshot));
        let poll = Uuid::new_v4();
        assert_eq!(
            parse(&format!(r#"{{"type":"vote","poll":"{poll}","choice":"yes"}}"#)),
            Ok(ClientFrame::Vote {
                poll,
                choice: "yes".to_owned()
            })
        );
        let reason = |frame: &str| parse(frame).map_err(|(r, _)| r).err();
        assert_eq!(reason("hello team"), Some(Refusal::FreeText));
        assert_eq!(reason(r#"{"type":"message","text":"hi"}"#), Some(Refusal::FreeText));
        assert_eq!(
            reason(r#"{"type":"action","action":"ready","text":"hi"}"#),
            Some(Refusal::FreeText)
        );
        assert_eq!(
            reason(r#"{"type":"action","action":"dance"}"#),
            Some(Refusal::UnknownAction)
        );
        assert_eq!(reason(r#"{"type":"action""#), Some(Refusal::BadJson));
        assert_eq!(
            reason(r#"{"type":"action","action":"ready","extra":1}"#),
            Some(Refusal::BadJson)
        );
        assert_eq!(
            reason(&format!(r#"{{"type":"action","action":"{}"}}"#, "x".repeat(2000))),
            Some(Refusal::Oversized)
        );
    }
}
