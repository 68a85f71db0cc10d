//! Messages: storage, history over HTTP, and the checks every write goes
//! through (used by the real-time handlers).
//!
//! - [`envelope`]: the rules of a sealed body (messages and resources).
//! - [`history`]: a page of a channel's messages, for HTTP and sockets.
//! - [`store`]: the SQL (messages, reactions, read markers).
//! - [`http`]: `GET /api/channels/{id}/messages`, keyset-paginated.
//! - [`plaintext`]: channels known to be plaintext, so their sends skip a
//!   query (membership is then checked by the insert itself).
//! - [`service`]: send, edit, delete, react, mark read — authorization and
//!   validation, independent of the transport.
//! - [`view`]: the JSON shape of a message.
//! - [`writer`]: group commit: every new message goes through one writer
//!   task that commits whatever queued up during the previous commit.

pub mod envelope;
pub mod history;
pub mod http;
pub mod plaintext;
pub mod service;
pub mod store;
pub mod view;
pub mod writer;
