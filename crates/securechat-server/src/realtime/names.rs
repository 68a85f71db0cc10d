//! Socket room names. A socket is in its user's and its session's rooms from
//! the handshake, in the room of every chat room its user belongs to, and in
//! the channels it joined.

use std::borrow::Cow;

/// A socket room name, as socketioxide takes it.
pub type Room = Cow<'static, str>;

/// Every socket of one user: per-user events (key shares, unread counts).
pub fn user(id: i64) -> Room {
    Cow::Owned(format!("user:{id}"))
}

/// Every socket of every member of a chat room: membership and room events.
pub fn room(id: i64) -> Room {
    Cow::Owned(format!("room:{id}"))
}

/// Sockets that joined a channel: its messages, edits, typing, reactions.
pub fn channel(id: i64) -> Room {
    Cow::Owned(format!("channel:{id}"))
}

/// Sockets whose tab shows a channel and is visible (the `viewing`
/// event): their user gets no web push about its messages.
pub fn viewing(channel_id: i64) -> Room {
    Cow::Owned(format!("viewing:{channel_id}"))
}

/// The user id named by a [`user`] room, if `room` is one.
pub fn user_id(room: &str) -> Option<i64> {
    room.strip_prefix("user:")?.parse().ok()
}

/// Every socket of one session (named by the session's stored hash, in
/// hex): lets any node find, through the adapter, the sockets on every node
/// whose session ended.
pub fn session(hash: &[u8]) -> Room {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    Cow::Owned(format!("session:{hex}"))
}

/// The session hash named by a [`session`] room, if `room` is one.
pub fn session_hash(room: &str) -> Option<Vec<u8>> {
    let hex = room.strip_prefix("session:")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{session, session_hash, user, user_id, viewing};

    #[test]
    fn session_rooms_name_their_hash() {
        let hash = [0u8, 1, 0xab, 0xff];
        assert_eq!(session(&hash), "session:0001abff");
        assert_eq!(session_hash(&session(&hash)), Some(hash.to_vec()));
        assert_eq!(session_hash("user:1"), None);
        assert_eq!(session_hash("session:abc"), None);
        assert_eq!(session_hash("session:zz"), None);
    }

    #[test]
    fn user_rooms_name_their_user() {
        assert_eq!(user_id(&user(42)), Some(42));
        assert_eq!(user_id(&viewing(42)), None);
        assert_eq!(user_id("user:x"), None);
    }
}
