//! What both sources map into: rooms, channels, people and messages named
//! by their source's own keys, which `apply` resolves to local ids.

/// A Mattermost team or the Slack workspace.
pub struct Room {
    pub key: String,
    pub name: String,
    pub description: String,
    pub private: bool,
}

/// A channel of a room. A private channel becomes a private room of its
/// own (named after the channel), so only its members read it.
pub struct Channel {
    pub key: String,
    pub room: String,
    pub name: String,
    pub topic: String,
    pub private: bool,
    /// People (by key) known to be members, for a private channel.
    pub members: Vec<String>,
}

/// Someone of the source: matched to an account of the same username, or a
/// disabled placeholder.
pub struct Person {
    pub key: String,
    pub username: String,
    pub deleted: bool,
    /// Rooms (by key) they belong to.
    pub rooms: Vec<String>,
    /// Channels (by key) they belong to; counts for private ones.
    pub channels: Vec<String>,
}

pub struct Reaction {
    pub person: String,
    pub emoji: String,
    pub at: i64,
}

/// A message; a reply names its thread's root by key.
pub struct Message {
    pub key: String,
    pub channel: String,
    pub sender: String,
    pub text: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub thread_root: Option<String>,
    pub reactions: Vec<Reaction>,
    /// Names of attached files (imported as a `[file: name]` line).
    pub files: Vec<String>,
}

/// One item a parser hands over, in an order where what an item names
/// comes before it (rooms, channels, people, then messages, roots before
/// their replies).
pub enum Item {
    Room(Room),
    Channel(Channel),
    Person(Person),
    Message(Message),
    /// Something of the source not imported, and why.
    Skipped(&'static str),
}
