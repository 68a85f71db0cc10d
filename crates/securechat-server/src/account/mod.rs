//! A person's own account as a whole: "Export my data" and "Delete my
//! account".
//!
//! - [`http`]: `POST /api/users/me/export` and `POST /api/users/me/delete`,
//!   each confirmed with the password.
//! - [`export`]: the archive, streamed as it is written (a zip of JSON
//!   files and the person's uploads), so its size never sits in memory.
//! - [`store`]: the export's SQL, read in keyset pages.
//! - [`delete`]: a deletion's steps, in an order safe to stop half-way.
//! - [`store::tombstone`]: the deletion's transaction: the account becomes a
//!   renamed, disabled tombstone and what was only theirs is forgotten.
//!
//! The server holds the text of plaintext channels only: messages of
//! encrypted channels go into the archive as the ciphertext envelopes it
//! stores, which the person's own devices can read.

pub mod delete;
pub mod export;
pub mod http;
pub mod store;
