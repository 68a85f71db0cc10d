//! The runs of three characters of a text: what an index of decrypted
//! messages looks words up by. Cutting by character rather than by word
//! makes Chinese, Japanese and Korean findable without a word segmenter,
//! and finds any substring of three characters or more, as the server's
//! trigram indexes do.

use std::collections::HashSet;

use crate::cjk::{is_cjk, is_cjk_word};
use crate::fold::fold;

/// Every distinct run of three characters of `text`, folded, with runs of
/// whitespace as one space and none at either end, in order of first
/// occurrence.
pub fn trigrams(text: &str) -> Vec<String> {
    let spaced = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = fold(&spaced).chars().collect();
    let mut seen = HashSet::new();
    chars
        .windows(3)
        .filter(|run| seen.insert(*run))
        .map(|run| run.iter().collect())
        .collect()
}

/// What a local index files `text` under: its trigrams, then each distinct
/// CJK character on its own and each distinct pair of adjacent CJK
/// characters (one and two characters, so never equal to a trigram). Most
/// Chinese words are two characters, below a trigram: a pair is their own
/// posting list, so looking one up reads the messages that hold it rather
/// than every message holding either of its characters (see
/// [`query_tokens`]).
pub fn index_tokens(text: &str) -> Vec<String> {
    let mut tokens = trigrams(text);
    let folded: Vec<char> = fold(text).chars().collect();
    let mut seen = HashSet::new();
    for c in folded.iter().filter(|&&c| is_cjk(c)) {
        if seen.insert(c.to_string()) {
            tokens.push(c.to_string());
        }
    }
    for pair in folded.windows(2).filter(|w| w.iter().all(|&c| is_cjk(c))) {
        let pair: String = pair.iter().collect();
        if seen.insert(pair.clone()) {
            tokens.push(pair);
        }
    }
    tokens
}

/// What a local index looks the (folded) query word `term` up by: its
/// trigrams; for a word of CJK characters too short for one, the word
/// itself (a character, or a pair of them: both are posted); nothing for
/// any other short word (the index cannot narrow it down, and the newest
/// messages are checked instead).
pub fn query_tokens(term: &str) -> Vec<String> {
    let tokens = trigrams(term);
    if !tokens.is_empty() || !is_cjk_word(term) {
        return tokens;
    }
    vec![term.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_overlapping_and_distinct() {
        assert_eq!(
            trigrams("Hello \n hello"),
            ["hel", "ell", "llo", "lo ", "o h", " he"]
        );
    }

    #[test]
    fn cjk_by_character_and_nothing_for_a_short_word() {
        assert_eq!(trigrams("加密聊天"), ["加密聊", "密聊天"]);
        assert!(trigrams("안녕하세요").contains(&"녕하세".to_owned()));
        assert!(trigrams(" ab ").is_empty());
    }

    #[test]
    fn cjk_characters_are_tokens_so_short_cjk_words_can_be_looked_up() {
        assert_eq!(
            index_tokens("部署了 ok"),
            [
                "部署了",
                "署了 ",
                "了 o",
                " ok",
                "部",
                "署",
                "了",
                "部署",
                "署了"
            ]
        );
        assert_eq!(index_tokens("deploy"), ["dep", "epl", "plo", "loy"]);
        // Characters apart (a space, a Latin letter between) make no pair.
        assert_eq!(index_tokens("部 署"), ["部 署", "部", "署"]);
        assert_eq!(index_tokens("的的的"), ["的的的", "的", "的的"]);
        assert_eq!(query_tokens("部署"), ["部署"]);
        assert_eq!(query_tokens("部"), ["部"]);
        assert_eq!(query_tokens("的的"), ["的的"]);
        assert_eq!(query_tokens("部署了"), ["部署了"]);
        assert!(query_tokens("ok").is_empty());
        assert!(query_tokens("部a").is_empty());
        // Every token of a short CJK word is among its message's tokens.
        let filed = index_tokens("明天再部署");
        assert!(query_tokens("部署").iter().all(|t| filed.contains(t)));
    }
}
