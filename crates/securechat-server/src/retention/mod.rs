//! Retention: how long a room keeps its messages, disappearing messages per
//! channel, and the background job that deletes what either has let go.
//!
//! - [`http`]: `PUT /api/rooms/{id}/retention` (the owner) and
//!   `PUT /api/channels/{id}/disappearing` (admins and the owner).
//! - [`purge`]: the job, on every node: small batches in short
//!   transactions, paced so the message writers always get the database.
//! - [`store`]: its SQL.
//!
//! A message stored while its channel has a timer carries `expires_at`,
//! fixed by the insert itself; every read of messages leaves out those
//! past it, so they vanish at their time even before the job deletes them.

pub mod http;
pub mod purge;
pub mod store;
