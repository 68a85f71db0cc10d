//! What can be wrong with a query.
//!
//! Each kind has a stable [`code`](QueryError::code) so a client can word it
//! in its own language (the web maps it to its i18n catalogue), and an
//! English message ([`Display`](std::fmt::Display)) that says what to
//! change, which the server sends as its `invalid_search` 400.

use thiserror::Error;

use crate::query::{MAX_QUERY_CHARS, MAX_TERMS};

/// A query refused before any search runs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// More than [`MAX_QUERY_CHARS`] characters.
    #[error("The search is too long: at most {MAX_QUERY_CHARS} characters.")]
    TooLong,
    /// A control character (including NUL), which nobody types as a word.
    #[error("The search contains control characters; type words, filters or \"quoted phrases\".")]
    ControlCharacters,
    /// More than [`MAX_TERMS`] distinct words and phrases.
    #[error("Too many words: a search matches at most {MAX_TERMS} words or phrases.")]
    TooManyTerms,
    /// `before:` or `after:` with something that is not a `YYYY-MM-DD` day.
    #[error("{key}:{value} is not a date; write {key}:YYYY-MM-DD, for example {key}:2026-03-31.")]
    BadDate { key: String, value: String },
    /// `has:` with something other than `file` or `link`.
    #[error("has:{value} is not a filter; use has:file or has:link.")]
    BadHas { value: String },
}

impl QueryError {
    /// A stable name for the kind of error (`too_long`, `control_characters`,
    /// `too_many_terms`, `bad_date`, `bad_has`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::ControlCharacters => "control_characters",
            Self::TooManyTerms => "too_many_terms",
            Self::BadDate { .. } => "bad_date",
            Self::BadHas { .. } => "bad_has",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_change() {
        let e = QueryError::BadDate {
            key: "before".into(),
            value: "soon".into(),
        };
        assert_eq!(e.code(), "bad_date");
        assert_eq!(
            e.to_string(),
            "before:soon is not a date; write before:YYYY-MM-DD, for example before:2026-03-31."
        );
        assert!(QueryError::TooLong.to_string().contains("at most 256"));
        assert!(QueryError::TooManyTerms.to_string().contains("at most 8"));
    }
}
