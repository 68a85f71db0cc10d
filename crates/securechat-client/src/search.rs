//! Search: `GET /api/search`, the server's full-text search over the
//! plaintext messages the caller can read (encrypted channels are not
//! searched by the server; it cannot read them).

use serde::Deserialize;

use crate::client::{Client, with_query};
use crate::error::Result;
use crate::messages::Message;

/// Largest page of results.
pub const MAX_SEARCH_PAGE: u32 = 50;

/// A search: the query text (words, `"phrases"` and filters such as
/// `from:alice`, `in:general`, `before:2026-03-31`, `has:file`) and where
/// to look.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    q: String,
    channel_id: Option<i64>,
    newest_first: bool,
    before: Option<String>,
    limit: Option<u32>,
}

impl SearchQuery {
    pub fn new(q: impl Into<String>) -> Self {
        Self {
            q: q.into(),
            ..Self::default()
        }
    }

    /// Only this channel.
    pub fn in_channel(mut self, channel_id: i64) -> Self {
        self.channel_id = Some(channel_id);
        self
    }

    /// Newest first instead of most relevant first.
    pub fn newest_first(mut self) -> Self {
        self.newest_first = true;
        self
    }

    /// The page after the one whose `next` this is.
    pub fn after_page(mut self, next: impl Into<String>) -> Self {
        self.before = Some(next.into());
        self
    }

    /// 1-50 results (the server's default is 20).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit.clamp(1, MAX_SEARCH_PAGE));
        self
    }

    fn path(&self) -> String {
        let channel = self.channel_id.map(|c| c.to_string()).unwrap_or_default();
        let limit = self.limit.map(|l| l.to_string()).unwrap_or_default();
        let sort = if self.newest_first { "newest" } else { "" };
        with_query(
            "/api/search",
            &[
                ("q", &self.q),
                ("channel_id", &channel),
                ("sort", sort),
                ("before", self.before.as_deref().unwrap_or_default()),
                ("limit", &limit),
            ],
        )
    }
}

/// A run of a result's snippet; `is_match` runs are the query's words.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SnippetRun {
    pub text: String,
    #[serde(rename = "match")]
    pub is_match: bool,
}

/// Where a result was written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SearchPlace {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SearchRoom {
    pub id: i64,
    pub name: String,
    /// `room` or `dm`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SearchResult {
    pub message: Message,
    pub channel: SearchPlace,
    pub room: SearchRoom,
    pub snippet: Vec<SnippetRun>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    /// Pass to [`SearchQuery::after_page`] for the next page; `None` on the last.
    #[serde(default)]
    pub next: Option<String>,
}

impl Client {
    /// One page of search results. A query the server cannot run (too long,
    /// a bad date or filter) is [`Error::Api`](crate::Error::Api) 400
    /// `invalid_search`, whose message says what to change.
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchPage> {
        self.get(&query.path()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_encoded_and_empty_parameters_left_out() {
        assert_eq!(
            SearchQuery::new("deploy from:bob & \"x\"").path(),
            "/api/search?q=deploy+from%3Abob+%26+%22x%22"
        );
        assert_eq!(
            SearchQuery::new("密钥")
                .in_channel(7)
                .newest_first()
                .after_page("12.34")
                .limit(500)
                .path(),
            "/api/search?q=%E5%AF%86%E9%92%A5&channel_id=7&sort=newest&before=12.34&limit=50"
        );
    }
}
