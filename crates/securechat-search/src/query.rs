//! The search query language, parsed into words and filters.
//!
//! Everything a person types is either a filter this module knows or a
//! word matched literally: nothing reaches an index's own query syntax, so
//! `"`, `*`, `NEAR`, `-` or parentheses are searched for as characters,
//! never interpreted. Size and count limits are checked here, before any
//! search runs, whoever runs it.

use time::{Date, Month};

use crate::error::QueryError;
use crate::token::{FilterKey, tokens};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// The most words (or quoted phrases) in one query.
pub const MAX_TERMS: usize = 8;

const DAY_MS: i64 = 86_400_000;

/// A parsed query.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    /// Words and phrases, lower-cased; every one must occur in a result.
    pub terms: Vec<String>,
    /// `from:name`: the sender's username key.
    pub from: Option<String>,
    /// `in:name` / `in:#name`: a channel name (lower-cased, without `#`).
    pub channel: Option<String>,
    /// `before:YYYY-MM-DD`: sent before that day began (UTC), in ms.
    pub before_ms: Option<i64>,
    /// `after:YYYY-MM-DD`: sent after that day ended (UTC), in ms.
    pub after_ms: Option<i64>,
    /// `has:file`.
    pub has_file: bool,
    /// `has:link`.
    pub has_link: bool,
}

impl Query {
    /// Parses `q`. Errors say what to change.
    pub fn parse(q: &str) -> Result<Self, QueryError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        if q.chars().any(char::is_control) {
            return Err(QueryError::ControlCharacters);
        }
        let mut query = Self::default();
        for token in tokens(q) {
            match token.filter() {
                Some(filter) => query.apply(filter.key, filter.value)?,
                None => query.add_term(&token.text)?,
            }
        }
        Ok(query)
    }

    /// Nothing to look for (an empty or blank query): no results, not an error.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && !self.has_filter()
    }

    fn has_filter(&self) -> bool {
        self.from.is_some()
            || self.channel.is_some()
            || self.before_ms.is_some()
            || self.after_ms.is_some()
            || self.has_file
            || self.has_link
    }

    fn add_term(&mut self, text: &str) -> Result<(), QueryError> {
        let term = text.trim().to_lowercase();
        if term.is_empty() || self.terms.contains(&term) {
            return Ok(());
        }
        if self.terms.len() == MAX_TERMS {
            return Err(QueryError::TooManyTerms);
        }
        self.terms.push(term);
        Ok(())
    }

    fn apply(&mut self, key: FilterKey, value: &str) -> Result<(), QueryError> {
        match key {
            FilterKey::From => self.from = Some(value.trim_start_matches('@').to_lowercase()),
            FilterKey::In => self.channel = Some(value.trim_start_matches('#').to_lowercase()),
            FilterKey::Before => self.before_ms = Some(day_start(value, key)?),
            FilterKey::After => self.after_ms = Some(day_start(value, key)? + DAY_MS),
            FilterKey::Has => match value.to_lowercase().as_str() {
                "file" => self.has_file = true,
                "link" => self.has_link = true,
                _ => {
                    return Err(QueryError::BadHas {
                        value: value.to_owned(),
                    });
                }
            },
        }
        Ok(())
    }
}

/// The start of a `YYYY-MM-DD` day (UTC), in ms.
fn day_start(value: &str, key: FilterKey) -> Result<i64, QueryError> {
    let bad = || QueryError::BadDate {
        key: key.as_str().to_owned(),
        value: value.to_owned(),
    };
    let mut parts = value.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let day: u8 = d.parse().map_err(|_| bad())?;
    if y.len() != 4 || !(1970..=9999).contains(&year) {
        return Err(bad());
    }
    let month = Month::try_from(month).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Query {
        Query::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    fn refused(q: &str) -> QueryError {
        match Query::parse(q) {
            Ok(query) => panic!("{q} was accepted: {query:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn words_phrases_and_filters() {
        let q = parse(r#"Deploy "release notes" from:@Alice in:#General has:file has:LINK"#);
        assert_eq!(q.terms, ["deploy", "release notes"]);
        assert_eq!(q.from.as_deref(), Some("alice"));
        assert_eq!(q.channel.as_deref(), Some("general"));
        assert!(q.has_file && q.has_link);
    }

    #[test]
    fn dates_are_whole_utc_days() {
        let q = parse("before:2026-03-31 after:2026-03-01");
        assert_eq!(q.before_ms, Some(1_774_915_200_000));
        assert_eq!(q.after_ms, Some(1_772_323_200_000 + DAY_MS));
        for bad in [
            "before:2026-02-30",
            "after:yesterday",
            "before:26-1-1",
            "after:2026-13-01",
        ] {
            assert_eq!(refused(bad).code(), "bad_date", "{bad}");
        }
    }

    #[test]
    fn index_syntax_is_searched_literally() {
        assert_eq!(
            parse(r#"a*b NEAR(x -y) ((("#).terms,
            ["a*b", "near(x", "-y)", "((("]
        );
        assert_eq!(parse(r#"say "hi there"#).terms, ["say", "hi there"]);
        assert_eq!(
            parse("re: 10:30 http://x.org").terms,
            ["re:", "10:30", "http://x.org"]
        );
        // A quoted filter is a phrase, not a filter.
        assert_eq!(parse(r#""from:bob""#).terms, ["from:bob"]);
    }

    #[test]
    fn limits_are_clear_errors() {
        assert_eq!(refused(&"x".repeat(10 * 1024)), QueryError::TooLong);
        assert!(Query::parse(&"x".repeat(MAX_QUERY_CHARS)).is_ok());
        assert_eq!(refused("a b c d e f g h i"), QueryError::TooManyTerms);
        assert!(
            Query::parse("a b c d e f g h a").is_ok(),
            "repeats count once"
        );
        assert!(parse("   ").is_empty());
        assert!(parse("\"\"").is_empty());
        assert_eq!(refused("nul\0byte"), QueryError::ControlCharacters);
        assert_eq!(refused("has:pdf").code(), "bad_has");
        assert!(!parse("has:file").is_empty(), "a filter alone is a search");
    }

    #[test]
    fn cjk_is_kept_whole() {
        assert_eq!(parse("频道密钥 轮换").terms, ["频道密钥", "轮换"]);
    }
}
