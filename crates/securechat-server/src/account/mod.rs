//! A person's own account as a whole: "Export my data".
//!
//! - [`http`]: `POST /api/users/me/export`, confirmed with the password.
//! - [`export`]: the archive, streamed as it is written (a zip of JSON
//!   files and the person's uploads), so its size never sits in memory.
//! - [`store`]: the SQL, read in keyset pages.
//!
//! The server holds the text of plaintext channels only: messages of
//! encrypted channels go into the archive as the ciphertext envelopes it
//! stores, which the person's own devices can read.

pub mod export;
pub mod http;
pub mod store;
