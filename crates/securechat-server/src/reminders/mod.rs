//! Reminders: "remind me of this channel at that time" (the composer's
//! `/remind`).
//!
//! - [`http`]: `/api/reminders`, one's own only.
//! - [`due`]: the task that delivers them as `reminder_due` to every socket
//!   of their person, once, whichever node finds them due.
//! - [`store`]: the SQL.
//!
//! A reminder's note is kept only in plaintext channels: in an encrypted
//! channel the server would read what the person typed, so there the
//! reminder carries none and brings the person back to the channel.

pub mod due;
pub mod http;
pub mod store;

/// Reminders pending per person.
pub const MAX_PENDING: i64 = 100;
/// Longest note, in characters.
pub const MAX_NOTE: usize = 1000;
/// How far ahead a reminder may be set.
pub const MAX_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;
