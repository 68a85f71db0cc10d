//! What people may name things: the Unicode rules shared by room and
//! channel names, descriptions, topics, reactions and message text.
//!
//! A name is read by people, so the rules are about what they see: names
//! are NFKC-normalised (a fullwidth `ｇｅｎｅｒａｌ` is `general`), and
//! refused when they carry controls, bidirectional overrides (U+202E shows
//! `lobby` + U+202E + `gpj.exe` as `lobbyexe.jpg`), nothing visible, or a word that mixes scripts
//! (`gеneral` with a Cyrillic `е` beside the real `general`).

use unicode_normalization::UnicodeNormalization;
use unicode_security::MixedScript;

/// Why a text was refused (worded for people; the caller names the field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A control character (other than a newline where text allows it).
    Control,
    /// A bidirectional control, which reorders what is shown.
    Bidi,
    /// Nothing visible: only spaces, joiners and other invisible characters.
    Invisible,
    /// A word written in more than one script.
    MixedScript,
    /// A NUL character.
    Nul,
}

impl Refused {
    /// The reason, to follow the field's name ("Room name …").
    pub fn reason(self) -> &'static str {
        match self {
            Refused::Control => "must not contain control characters",
            Refused::Bidi => "must not contain bidirectional control characters",
            Refused::Invisible => "must contain something visible",
            Refused::MixedScript => {
                "must not mix scripts within a word (for example Latin and Cyrillic letters that look alike)"
            }
            Refused::Nul => "must not contain NUL characters",
        }
    }
}

/// Bidirectional formatting characters: embeddings, overrides, isolates
/// and marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: white space, controls and Unicode's
/// default-ignorable code points (joiners, variation selectors, fillers…).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// A name (room, channel): NFKC-normalised and trimmed; no controls, no
/// bidirectional controls, something visible, and no word mixing scripts.
pub fn name(value: &str) -> Result<String, Refused> {
    let value: String = value.nfkc().collect();
    let value = value.trim();
    if value.chars().any(char::is_control) {
        return Err(Refused::Control);
    }
    if value.chars().any(is_bidi_control) {
        return Err(Refused::Bidi);
    }
    if value.chars().all(is_invisible) {
        return Err(Refused::Invisible);
    }
    if value
        .split_whitespace()
        .any(|word| !word.is_single_script())
    {
        return Err(Refused::MixedScript);
    }
    Ok(value.to_owned())
}

/// A longer text (description, topic): NFKC-normalised and trimmed; no
/// controls but newlines, no bidirectional controls. Empty is allowed;
/// otherwise something must be visible.
pub fn text(value: &str) -> Result<String, Refused> {
    let value: String = value.nfkc().collect();
    let value = value.trim();
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Refused::Control);
    }
    if value.chars().any(is_bidi_control) {
        return Err(Refused::Bidi);
    }
    if !value.is_empty() && value.chars().all(is_invisible) {
        return Err(Refused::Invisible);
    }
    Ok(value.to_owned())
}

/// A reaction: something visible, no controls or spaces.
pub fn reaction(value: &str) -> Result<(), Refused> {
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Refused::Control);
    }
    if value.chars().all(is_invisible) {
        return Err(Refused::Invisible);
    }
    Ok(())
}

/// Message text is what its author wrote (direction marks included), but
/// never a NUL, which some clients and tools cut text at.
pub fn message(value: &str) -> Result<(), Refused> {
    if value.contains('\0') {
        return Err(Refused::Nul);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        assert_eq!(name("  Lobby ").unwrap(), "Lobby");
        assert_eq!(name("ｇｅｎｅｒａｌ").unwrap(), "general");
        assert_eq!(name("Équipe Привет 東京").unwrap(), "Équipe Привет 東京");
        assert_eq!(name("release-2.0 (beta)").unwrap(), "release-2.0 (beta)");
        assert_eq!(name("Lоbby"), Err(Refused::MixedScript));
        assert_eq!(name("gеneral"), Err(Refused::MixedScript));
        assert_eq!(name("lobby\u{202E}gpj.exe"), Err(Refused::Bidi));
        assert_eq!(name("\u{200B}\u{200D}"), Err(Refused::Invisible));
        assert_eq!(name("\u{3164}"), Err(Refused::Invisible));
        assert_eq!(name("a\u{7}b"), Err(Refused::Control));
        assert_eq!(name("   "), Err(Refused::Invisible));
    }

    #[test]
    fn texts_reactions_and_messages() {
        assert_eq!(text("line one\nline two").unwrap(), "line one\nline two");
        assert_eq!(text("").unwrap(), "");
        assert_eq!(text("\u{2066}x"), Err(Refused::Bidi));
        assert_eq!(text("\u{200D}"), Err(Refused::Invisible));
        assert_eq!(reaction("👍"), Ok(()));
        assert_eq!(reaction("👩‍💻"), Ok(()));
        assert_eq!(reaction("\u{200D}"), Err(Refused::Invisible));
        assert_eq!(
            reaction("\u{200D}\u{200D}\u{FE0F}"),
            Err(Refused::Invisible)
        );
        assert_eq!(reaction("a b"), Err(Refused::Control));
        assert_eq!(message("hello\u{200F}"), Ok(()));
        assert_eq!(message("a\0b"), Err(Refused::Nul));
    }
}
