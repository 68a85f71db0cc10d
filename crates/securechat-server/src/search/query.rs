//! The search query language, as the API refuses it.
//!
//! The language itself — words, `"phrases"`, `from:`, `in:`, `before:`,
//! `after:`, `has:file`, `has:link`, its limits and its errors — lives in
//! `securechat-search`, so clients that search what they decrypted read a
//! query exactly as the server does. What is the server's own is only how
//! a refused query is answered: `400 invalid_search`, with the crate's
//! English message saying what to change.

pub use securechat_search::Query;
use securechat_search::QueryError;

use crate::error::Error;

impl From<QueryError> for Error {
    fn from(e: QueryError) -> Self {
        Error::bad_request("invalid_search", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_query_is_an_invalid_search_that_says_what_to_change() {
        for (q, says) in [
            ("has:pdf", "use has:file or has:link"),
            ("before:2026-02-30", "write before:YYYY-MM-DD"),
            ("a b c d e f g h i", "at most 8 words"),
        ] {
            let err = Error::from(Query::parse(q).unwrap_err());
            assert_eq!(err.code(), "invalid_search", "{q}");
            assert!(err.to_string().contains(says), "{q}: {err}");
        }
    }
}
