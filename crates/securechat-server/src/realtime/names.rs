//! Socket room names. A socket is in its user's room from the handshake, in
//! the room of every chat room its user belongs to, and in the channels it
//! joined.

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
