//! What a push carries: the JSON the service worker receives, once the
//! push service has relayed it and the browser has decrypted it.
//!
//! For a plaintext channel: who wrote, where, and the first 100 characters
//! (no text if the person asked for none). For an encrypted channel: ids
//! only — no sender, no names, no text, no hint of a mention — so a push
//! service, or anyone who reads a device's notification log, learns only
//! that something arrived; the service worker fetches the envelope and
//! decrypts it with the keys the device holds.

use serde::Serialize;

/// Characters of a plaintext message a push carries.
pub const TEXT_CHARS: usize = 100;
/// Largest payload built; far below what one encrypted record holds
/// ([`super::ece::MAX_PLAINTEXT`]).
pub const MAX_PAYLOAD: usize = 3 * 1024;

/// The message a push is about.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub message_id: i64,
    pub channel_id: i64,
    pub room_id: i64,
    pub encrypted: bool,
    pub room: &'a str,
    pub channel: &'a str,
    pub sender: &'a str,
    /// The message's text (plaintext channels; `None` for a bare file).
    pub text: Option<&'a str>,
}

#[derive(Serialize)]
struct Sealed {
    r#type: &'static str,
    message_id: i64,
    channel_id: i64,
    room_id: i64,
    encrypted: bool,
}

#[derive(Serialize)]
struct Plain<'a> {
    r#type: &'static str,
    message_id: i64,
    channel_id: i64,
    room_id: i64,
    room: &'a str,
    channel: &'a str,
    sender: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

/// The payload for one person: `no_content` leaves a plaintext message's
/// text out.
pub fn build(about: &About<'_>, no_content: bool) -> String {
    let sealed = || {
        serde_json::to_string(&Sealed {
            r#type: "message",
            message_id: about.message_id,
            channel_id: about.channel_id,
            room_id: about.room_id,
            encrypted: true,
        })
        .unwrap_or_default()
    };
    if about.encrypted {
        return sealed();
    }
    let text = about.text.filter(|_| !no_content).map(|t| {
        t.char_indices()
            .nth(TEXT_CHARS)
            .map_or(t, |(end, _)| &t[..end])
    });
    let plain = serde_json::to_string(&Plain {
        r#type: "message",
        message_id: about.message_id,
        channel_id: about.channel_id,
        room_id: about.room_id,
        room: about.room,
        channel: about.channel,
        sender: about.sender,
        text,
    })
    .unwrap_or_default();
    // Names and 100 characters cannot reach the bound; if they ever did,
    // the ids still go out.
    if plain.len() > MAX_PAYLOAD || plain.is_empty() {
        return sealed();
    }
    plain
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn about(encrypted: bool, text: Option<&str>) -> About<'_> {
        About {
            message_id: 7,
            channel_id: 3,
            room_id: 2,
            encrypted,
            room: "Team",
            channel: "general",
            sender: "alice",
            text,
        }
    }

    fn parsed(payload: &str) -> Value {
        serde_json::from_str(payload).unwrap()
    }

    #[test]
    fn plaintext_pushes_carry_sender_channel_and_the_first_100_characters() {
        let long: String = "é".repeat(150);
        let payload = parsed(&build(&about(false, Some(&long)), false));
        assert_eq!(
            payload,
            json!({"type": "message", "message_id": 7, "channel_id": 3, "room_id": 2,
                   "room": "Team", "channel": "general", "sender": "alice",
                   "text": "é".repeat(100)})
        );
        let short = parsed(&build(&about(false, Some("hi there")), false));
        assert_eq!(short["text"], "hi there");
        let bare_file = parsed(&build(&about(false, None), false));
        assert!(bare_file.get("text").is_none());
    }

    #[test]
    fn no_content_leaves_the_text_out() {
        let payload = parsed(&build(&about(false, Some("secret plans")), true));
        assert!(payload.get("text").is_none(), "{payload}");
        assert_eq!(payload["sender"], "alice");
    }

    #[test]
    fn encrypted_pushes_carry_ids_only() {
        let payload = build(&about(true, Some("must not appear")), false);
        assert_eq!(
            parsed(&payload),
            json!({"type": "message", "message_id": 7, "channel_id": 3, "room_id": 2, "encrypted": true})
        );
        for leak in ["alice", "Team", "general", "must not appear"] {
            assert!(!payload.contains(leak), "{leak} in {payload}");
        }
    }

    #[test]
    fn the_largest_names_and_text_stay_under_the_bound() {
        let name = "𝔑".repeat(64);
        let text = "\u{1}".repeat(500);
        let worst = About {
            room: &name,
            channel: &name,
            sender: "a".repeat(32).leak(),
            text: Some(&text),
            ..about(false, None)
        };
        let payload = build(&worst, false);
        assert!(payload.len() < MAX_PAYLOAD, "{} bytes", payload.len());
        assert_eq!(
            parsed(&payload)["text"].as_str().unwrap().chars().count(),
            100
        );
    }
}
