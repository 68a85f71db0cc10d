//! Scripts written without spaces between words.
//!
//! Most Chinese words are two characters long and Korean words are often
//! two syllables: shorter than a trigram, so an index of trigrams alone
//! cannot look them up. Every index of messages therefore also files each
//! of these characters on its own: the server's SQLite index of CJK
//! characters and the browser's local index (see [`index_tokens`]).
//!
//! [`index_tokens`]: crate::trigram::index_tokens

/// Whether `c` is written without spaces between words: Han ideographs,
/// kana, Hangul (and their compatibility and extension blocks).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF      // Hangul Jamo
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // Han extension A
        | 0x4E00..=0x9FFF    // Han
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // Han compatibility
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x3134F // Han extensions B-G
    )
}

/// Whether `word` is written only in such characters (and is not empty):
/// an index of CJK characters can then look it up, however short.
pub fn is_cjk_word(word: &str) -> bool {
    !word.is_empty() && word.chars().all(is_cjk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn han_kana_and_hangul_but_not_latin_or_punctuation() {
        for c in ['部', 'カ', 'と', '한', '𠀀'] {
            assert!(is_cjk(c), "{c}");
        }
        for c in ['a', 'é', '，', '。', ' ', '1'] {
            assert!(!is_cjk(c), "{c}");
        }
        assert!(is_cjk_word("部署") && !is_cjk_word("部a") && !is_cjk_word(""));
    }
}
