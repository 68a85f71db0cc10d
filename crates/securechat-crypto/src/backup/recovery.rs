//! The recovery key: 128 random bits from the OS RNG, shown once to the
//! person as 12 words of the BIP-39 English list (11 bits each; the last
//! word also carries a 4-bit checksum, the first bits of SHA-256 of the key).
//!
//! Because the key is uniformly random, the backup key is derived from it
//! with HKDF-SHA256 ([`super::BackupKey::from_recovery_key`]): no slow
//! derivation is needed, as guessing 2^128 keys is out of reach whatever
//! the attacker's hardware.

use bip39::{Language, Mnemonic};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The number of random bytes in a recovery key.
pub const RECOVERY_KEY_BYTES: usize = 16;
/// The number of words a recovery key is written as.
pub const RECOVERY_KEY_WORDS: usize = 12;

/// 128 random bits that unlock a backup.
pub struct RecoveryKey(Zeroizing<[u8; RECOVERY_KEY_BYTES]>);

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

/// Why typed words are not a recovery key. Each says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryWordsError {
    /// Not 12 words.
    #[error("a recovery key has {expected} words; {found} were given")]
    WordCount {
        /// [`RECOVERY_KEY_WORDS`].
        expected: usize,
        /// How many were given.
        found: usize,
    },
    /// A word is not in the list (a typo).
    #[error("word {position} (\"{word}\") is not a recovery-key word: check its spelling")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
        /// The word as typed (lowercased).
        word: String,
    },
    /// Every word is in the list but the checksum fails: a word was
    /// replaced by another list word, or two were swapped.
    #[error(
        "these words are not a recovery key (checksum mismatch): a word is wrong or out of order"
    )]
    Checksum,
}

impl RecoveryWordsError {
    /// A stable snake_case code, for JSON answers and JavaScript.
    pub fn code(&self) -> &'static str {
        match self {
            RecoveryWordsError::WordCount { .. } => "recovery_key_word_count",
            RecoveryWordsError::UnknownWord { .. } => "recovery_key_unknown_word",
            RecoveryWordsError::Checksum => "recovery_key_checksum",
        }
    }
}

impl RecoveryKey {
    /// A new key from the OS RNG.
    pub fn generate() -> Result<Self> {
        Self::generate_with(&mut rand_core::OsRng)
    }

    /// A new key from `rng` (only tests should pass anything but the OS RNG).
    pub fn generate_with(rng: &mut impl CryptoRngCore) -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; RECOVERY_KEY_BYTES]);
        rng.try_fill_bytes(bytes.as_mut()).map_err(|_| Error::Rng)?;
        Ok(Self(bytes))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; RECOVERY_KEY_BYTES] {
        &self.0
    }

    /// The key as 12 lowercase words separated by single spaces.
    pub fn words(&self) -> Zeroizing<String> {
        // 16 bytes is a valid BIP-39 entropy length: this cannot fail.
        let words: Vec<&str> = Mnemonic::from_entropy_in(Language::English, self.0.as_ref())
            .map(|m| m.words().collect())
            .unwrap_or_default();
        Zeroizing::new(words.join(" "))
    }

    /// Reads typed words: case, extra spaces, line breaks, commas and
    /// position numbers ("1. word") are ignored.
    pub fn from_words(text: &str) -> std::result::Result<Self, RecoveryWordsError> {
        let words: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map(|w| w.trim_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ')'))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.len() != RECOVERY_KEY_WORDS {
            return Err(RecoveryWordsError::WordCount {
                expected: RECOVERY_KEY_WORDS,
                found: words.len(),
            });
        }
        if let Some((i, word)) = words
            .iter()
            .enumerate()
            .find(|(_, w)| Language::English.find_word(w).is_none())
        {
            return Err(RecoveryWordsError::UnknownWord {
                position: i + 1,
                word: word.clone(),
            });
        }
        let joined = Zeroizing::new(words.join(" "));
        let mnemonic =
            Mnemonic::parse_in_normalized(Language::English, &joined).map_err(|e| match e {
                bip39::Error::UnknownWord(i) => RecoveryWordsError::UnknownWord {
                    position: i + 1,
                    word: words.get(i).cloned().unwrap_or_default(),
                },
                bip39::Error::BadWordCount(found) => RecoveryWordsError::WordCount {
                    expected: RECOVERY_KEY_WORDS,
                    found,
                },
                _ => RecoveryWordsError::Checksum,
            })?;
        let (entropy, len) = mnemonic.to_entropy_array();
        let mut bytes = Zeroizing::new([0u8; RECOVERY_KEY_BYTES]);
        match entropy.get(..len) {
            Some(e) if len == RECOVERY_KEY_BYTES => bytes.copy_from_slice(e),
            _ => {
                return Err(RecoveryWordsError::WordCount {
                    expected: RECOVERY_KEY_WORDS,
                    found: words.len(),
                });
            }
        }
        Ok(Self(bytes))
    }
}

#[cfg(test)]
mod tests {
    // Test code: a panic is how a test fails.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use rand_core::SeedableRng;

    fn key(seed: u8) -> RecoveryKey {
        RecoveryKey(Zeroizing::new([seed; RECOVERY_KEY_BYTES]))
    }

    #[test]
    fn words_round_trip() {
        let k = RecoveryKey::generate().unwrap();
        let words = k.words();
        assert_eq!(words.split(' ').count(), RECOVERY_KEY_WORDS);
        assert_eq!(
            RecoveryKey::from_words(&words).unwrap().as_bytes(),
            k.as_bytes()
        );
        // Case, numbering and line breaks do not matter.
        let typed: String = words
            .split(' ')
            .enumerate()
            .map(|(i, w)| format!("{}. {}\n", i + 1, w.to_uppercase()))
            .collect();
        assert_eq!(
            RecoveryKey::from_words(&typed).unwrap().as_bytes(),
            k.as_bytes()
        );
    }

    #[test]
    fn bip39_reference_vector() {
        // BIP-39's first English test vector: 16 zero bytes.
        assert_eq!(
            key(0).words().as_str(),
            "abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon abandon abandon about"
        );
    }

    #[test]
    fn two_generated_keys_differ() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let a = RecoveryKey::generate_with(&mut rng).unwrap();
        let b = RecoveryKey::generate_with(&mut rng).unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
    }

    #[test]
    fn typos_and_wrong_counts_are_refused_with_what_to_fix() {
        let words = key(7).words();
        let list: Vec<&str> = words.split(' ').collect();
        let mut typo = list.clone();
        typo[4] = "abandonn";
        assert_eq!(
            RecoveryKey::from_words(&typo.join(" ")).unwrap_err(),
            RecoveryWordsError::UnknownWord {
                position: 5,
                word: "abandonn".into()
            }
        );
        assert_eq!(
            RecoveryKey::from_words(&list[..11].join(" ")).unwrap_err(),
            RecoveryWordsError::WordCount {
                expected: 12,
                found: 11
            }
        );
        // Replacing the last word by another list word: 15 in 16 of them
        // break the 4-bit checksum; every such one is refused as such.
        let mut refused = 0;
        for other in [
            "zoo", "zone", "zero", "youth", "abandon", "about", "ability",
        ] {
            if other == list[11] {
                continue;
            }
            let mut wrong = list.clone();
            wrong[11] = other;
            match RecoveryKey::from_words(&wrong.join(" ")) {
                Err(RecoveryWordsError::Checksum) => refused += 1,
                Ok(k) => assert_ne!(k.as_bytes(), key(7).as_bytes()),
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(refused >= 4, "only {refused} checksum refusals");
        // Swapping two different words breaks the checksum here too.
        let mut swapped = list.clone();
        swapped.swap(0, 11);
        assert_eq!(
            RecoveryKey::from_words(&swapped.join(" ")).unwrap_err(),
            RecoveryWordsError::Checksum
        );
    }
}
