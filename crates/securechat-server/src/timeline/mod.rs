//! The timeline's system events: what happened in a room, shown as quiet
//! lines between a channel's messages ("bob joined", "alice renamed the
//! channel to #plans", "The encryption key was rotated").
//!
//! Each event is written by the change it describes, in that change's
//! transaction: membership changes and channel changes through the room
//! audit writer (`rooms/store/mod.rs`, `write_audit!`), a new key version
//! by the share that makes it current (`keys/store.rs`). So a rolled-back
//! change leaves no line, and a member who was offline reads every line
//! later. Events carry only ids, names and times the server already holds.
//!
//! - [`store`]: the SQL (the insert the writers run, and pages).
//! - [`http`]: `GET /api/channels/{id}/events`, keyset-paginated like
//!   message history, for members only.
//! - [`view`]: the JSON shape of an event.
//!
//! Open clients learn of new events from the `timeline_updated` push
//! (`push.rs`), sent by the real-time bridge after the change committed,
//! and fetch what follows the last event they hold.

pub mod http;
pub mod store;
pub mod view;
