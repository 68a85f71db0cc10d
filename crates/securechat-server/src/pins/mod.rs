//! Pinned messages (per channel, listed in a panel) and saved messages
//! (each person's private bookmarks).
//!
//! The server stores ids only: neither feature needs a message's content,
//! so both work in encrypted channels, where the client decrypts the
//! listed messages' envelopes as it does in the timeline.
//!
//! - [`http`]: pins (`/api/channels/{id}/pins…`) and the room setting
//!   "members may pin" (`/api/rooms/{id}/pin_settings`).
//! - [`saved`]: `/api/saved…`, keyset-paginated.
//! - [`store`]: the SQL; both caps are enforced in the insert itself.

pub mod http;
pub mod saved;
pub mod store;
