//! The rules of message search, written once.
//!
//! The server searches plaintext channels in SQL; clients search what they
//! decrypted of encrypted channels themselves (the browser in its encrypted
//! local index, the CLI over history it fetches and decrypts). Both kinds of
//! result are shown in one list, so they must agree on what a query means,
//! which messages match it, how each is scored and what part of it is shown.
//! Every one of those rules is here, with no I/O, so the server links it
//! natively and the browser gets it as WebAssembly through the E2EE core
//! (`securechat-e2ee`'s `wasm.rs`).
//!
//! - [`cjk`]: which characters are written without spaces between words.
//! - [`query`]: the query language, parsed and bounded.
//! - [`token`]: a query's words and phrases, with where they are.
//! - [`error`]: what is wrong with a query, with a code and what to change.
//! - [`fold`]: case folding that keeps one character for one.
//! - [`trigram`]: the runs of three characters a local index looks up, and
//!   the tokens it files a message and a word under.
//! - [`score`]: whether a message matches, and its relevance.
//! - [`link`]: what `has:link` means.
//! - [`snippet`]: the part of a message a result shows.
//! - [`mention`]: what counts as a mention, channel-wide ones included
//!   (the one rule the server's pushes and the browser's highlights share).

pub mod cjk;
pub mod error;
pub mod fold;
pub mod link;
pub mod mention;
pub mod query;
pub mod score;
pub mod snippet;
pub mod token;
pub mod trigram;

pub use cjk::{is_cjk, is_cjk_word};
pub use error::QueryError;
pub use fold::{fold, fold_char};
pub use link::has_link;
pub use mention::{CHANNEL_WIDE, is_channel_wide, mentions, mentions_by_name, mentions_channel};
pub use query::{MAX_QUERY_CHARS, MAX_TERMS, Query};
pub use score::{matches_all, score};
pub use snippet::{Segment, snippet};
pub use token::{Filter, FilterKey, Token, tokens};
pub use trigram::{index_tokens, query_tokens, trigrams};
