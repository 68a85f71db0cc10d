//! How results are ordered, and where the next page starts.
//!
//! Relevance is the per-message score of `securechat-search`
//! (`securechat_search::score`, whose documentation gives the rule and why
//! it needs no corpus-wide statistics), computed here by the SQL of
//! [`store`](super::store) on either engine, so a `(score, id)` cursor stays
//! valid from one page to the next and clients rank what they decrypted
//! among these results by the same number. Ties, and the `newest` order,
//! go newest first. Relevance ranks the newest
//! [`RELEVANCE_WINDOW`](super::store::RELEVANCE_WINDOW) matches (see there).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::Error;

/// The order of results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Most relevant first (the default).
    #[default]
    Relevance,
    /// Newest first.
    Newest,
}

/// The last result of a page: the next page starts after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub score: i64,
    pub id: i64,
}

impl Cursor {
    /// Parses the `next` value of a previous page (`score.id`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || {
            Error::bad_request(
                "invalid_cursor",
                "before must be the `next` value of a previous page of results",
            )
        };
        let (score, id) = text.split_once('.').ok_or_else(bad)?;
        let score: i64 = score.parse().map_err(|_| bad())?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        if score < 0 || id <= 0 {
            return Err(bad());
        }
        Ok(Self { score, id })
    }

    pub fn encode(self) -> String {
        format!("{}.{}", self.score, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let c = Cursor {
            score: 1234,
            id: 99,
        };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        for junk in ["", "1", "a.b", "1.0", "-1.5", "1.2.3", "1.-2"] {
            assert_eq!(
                Cursor::parse(junk).unwrap_err().code(),
                "invalid_cursor",
                "{junk}"
            );
        }
    }
}
