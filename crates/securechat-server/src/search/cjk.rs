//! The index of Chinese, Japanese and Korean characters (SQLite).
//!
//! Most Chinese words are two characters long (部署, 密钥), Korean words
//! are often two syllables, and a trigram index cannot look up anything
//! shorter than three characters: such a word used to be checked with
//! `LIKE` on every readable message (1.3 s over a million). So SQLite keeps
//! a second FTS5 index, `messages_cjk` (migration 0014), whose text is each
//! message's CJK characters spaced apart: with the `unicode61` tokenizer
//! every character is a token, and a word of any length is a phrase query
//! (`"部 署"`). Characters of other scripts are left out (the search
//! statement still checks every word on the message itself, so two
//! characters that were only adjacent in this text never match).
//!
//! SQLite has no function that could space the characters in a trigger, so
//! the text is made here and written by the code that writes the message,
//! in the same transaction: the group-commit writer for new messages, the
//! edit for edits; triggers remove it when a message's text changes or the
//! row goes. Rows that reach the table by other ways (a bulk import, a
//! database written by a version before this index) are indexed when the
//! server starts ([`store::catch_up_cjk`](super::store::catch_up_cjk)),
//! behind a high-water mark that the writer advances only
//! when nothing is missing below it. PostgreSQL has no such index: its
//! `pg_trgm` index serves three characters or more, and shorter words are
//! checked row by row there.

use securechat_search::is_cjk;

/// The text indexed for `content`: its CJK characters, each a token; `None`
/// when it has none (nothing is indexed for it).
pub fn tokens(content: &str) -> Option<String> {
    let mut out = String::new();
    for c in content.chars().filter(|&c| is_cjk(c)) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push(c);
    }
    (!out.is_empty()).then_some(out)
}

/// Whether the index serves `term`: CJK characters only (a term with other
/// characters is found through the trigram index or checked row by row).
pub fn serves(term: &str) -> bool {
    securechat_search::is_cjk_word(term)
}

/// The FTS5 query for `term` (which [`serves`]): a phrase of its
/// characters. Only CJK characters reach it, so it holds no query syntax.
pub fn phrase(term: &str) -> String {
    format!("\"{}\"", tokens(term).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cjk_character_is_a_token_and_other_scripts_are_left_out() {
        assert_eq!(
            tokens("部署 done, 密钥轮换").as_deref(),
            Some("部 署 密 钥 轮 换")
        );
        assert_eq!(
            tokens("カタカナ と 한국어").as_deref(),
            Some("カ タ カ ナ と 한 국 어")
        );
        assert_eq!(tokens("deploy the build"), None);
        assert_eq!(tokens(""), None);
    }

    #[test]
    fn only_all_cjk_terms_are_served_and_their_phrase_holds_no_syntax() {
        assert!(serves("部署"));
        assert!(serves("的"));
        assert!(!serves("ok"));
        assert!(!serves("部a"));
        assert!(!serves(""));
        assert_eq!(phrase("部署"), "\"部 署\"");
    }
}
