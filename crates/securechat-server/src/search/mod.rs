//! Search over the plaintext messages a person can read.
//!
//! Encrypted channels are never searched here: the server has no words of
//! theirs (their content column is empty); clients search what they
//! decrypted themselves. Matching is by substring, through a trigram index
//! on both engines (SQLite's FTS5 `trigram` tokenizer, PostgreSQL's
//! `pg_trgm`), so text without spaces between words (Chinese, Japanese,
//! Korean) is found like any other, and a query finds the same messages on
//! either engine.
//!
//! - [`cjk`]: SQLite's index of Chinese, Japanese and Korean characters,
//!   for words shorter than a trigram.
//! - [`query`]: the query language (`from:`, `in:`, `before:`, `after:`,
//!   `has:file`, `has:link`, `"quoted phrases"`), parsed and bounded before
//!   any SQL sees it.
//! - [`rank`]: the relevance score and the keyset cursor over it.
//! - [`snippet`]: the part of a message shown in a result, with its matches.
//! - [`store`]: the SQL, one statement per engine.
//! - [`http`]: `GET /api/search`.

pub mod cjk;
pub mod http;
pub mod query;
pub mod rank;
pub mod snippet;
pub mod store;
