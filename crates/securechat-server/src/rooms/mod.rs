//! Rooms, channels, direct messages and role-based access control.
//!
//! - [`model`]: roles and the permission table (the only place roles are compared).
//! - [`access`]: loading a room for a user: visibility (404) and permission (403).
//! - [`http`]: the routes.
//! - [`store`]: the SQL; every change writes its audit entry in the same transaction.
//! - [`membership`]: membership changes and their rules, shared by the plain
//!   endpoints and the signed membership log.
//! - [`log`]: the signed, hash-chained membership log (docs/PROTOCOL.md §6):
//!   verified with the crypto crate before any entry is stored.
//! - [`export`]: a room's export for its owner (JSON, a browsable HTML
//!   copy and the files, in one streamed zip).
//! - [`events`]: committed changes, published for the real-time and key layers.
//! - [`validate`], [`view`]: input limits and output shapes.
//!
//! Every room member is a member of all its channels; a DM is a private
//! two-member room of kind `dm` with one encrypted channel.

pub mod access;
pub mod events;
pub mod export;
pub mod http;
pub mod log;
pub mod membership;
pub mod model;
pub mod store;
pub mod validate;
pub mod view;
