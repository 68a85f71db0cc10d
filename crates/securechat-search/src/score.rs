//! Whether a message matches a query's words, and how relevant it is.
//!
//! Relevance is a score each message gets on its own: how often the
//! query's words occur in it (non-overlapping, left to right, any case),
//! per character of its length plus 16, ×10⁶, an integer. It depends on
//! nothing but the message and the query — no corpus-wide statistics — so
//! a message keeps its place while others are written, a `(score, id)`
//! cursor stays valid, and a result a client found in what it decrypted
//! sorts among the server's results by the same number. The server's SQL
//! (`securechat-server`'s `search/store.rs`) computes this rule with
//! `REPLACE` and `LENGTH`; its `LOWER` is the engine's (SQLite's folds
//! ASCII only), so outside ASCII case the two may differ.

use crate::fold::fold;

/// Added to a message's length so that a very short message does not
/// outrank every longer one by its length alone.
const LENGTH_BIAS: i64 = 16;

/// Occurrences of `term` in `folded` (non-overlapping), as `REPLACE` counts them.
fn occurrences(folded: &str, term: &str) -> i64 {
    let term = fold(term);
    if term.is_empty() {
        return 0;
    }
    i64::try_from(folded.matches(term.as_str()).count()).unwrap_or(i64::MAX)
}

/// The relevance of `text` for `terms`.
pub fn score(text: &str, terms: &[String]) -> i64 {
    let folded = fold(text);
    let hits: i64 = terms
        .iter()
        .map(|t| occurrences(&folded, t))
        .fold(0, i64::saturating_add);
    let length = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
    hits.saturating_mul(1_000_000) / length.saturating_add(LENGTH_BIAS)
}

/// Whether `text` contains every one of `terms`, in any case.
pub fn matches_all(text: &str, terms: &[String]) -> bool {
    let folded = fold(text);
    terms.iter().all(|t| folded.contains(fold(t).as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn occurrences_per_length() {
        assert_eq!(score("deploy deploy", &terms(&["deploy"])), 2_000_000 / 29);
        assert_eq!(score("Deploy DEPLOY", &terms(&["deploy"])), 2_000_000 / 29);
        assert!(
            score(
                "a deploy in a long message about other things",
                &terms(&["deploy"])
            ) < score("deploy", &terms(&["deploy"]))
        );
        assert_eq!(
            score("aaaa", &terms(&["aa"])),
            2_000_000 / 20,
            "non-overlapping"
        );
        assert_eq!(score("频道密钥", &terms(&["密钥"])), 1_000_000 / 20);
        assert_eq!(score("anything", &[]), 0);
    }

    #[test]
    fn every_term_must_occur() {
        assert!(matches_all(
            "Deploy ON friday",
            &terms(&["deploy", "on fri"])
        ));
        assert!(!matches_all("Deploy", &terms(&["deploy", "monday"])));
        assert!(matches_all("anything", &[]));
    }
}
