//! What a source may hold that this server refuses, made acceptable
//! deterministically: lone UTF-16 surrogates in JSON escapes, NUL in text,
//! over-long messages, usernames outside the username rules, emoji names.

use crate::auth::validate;
use crate::messages::service::MAX_CONTENT;

/// Replaces `\uD800`–`\uDFFF` escapes that do not form a pair with
/// `\uFFFD`, so a JSON text with a lone surrogate (which the JSON parser
/// refuses) can still be read.
pub fn repair_surrogates(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut i = 0;
    let mut last = 0;
    let surrogate = |at: usize| -> Option<u16> {
        let hex = json.get(at + 2..at + 6)?;
        (bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u'))
            .then(|| u16::from_str_radix(hex, 16).ok())
            .flatten()
            .filter(|v| (0xD800..=0xDFFF).contains(v))
    };
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        match surrogate(i) {
            Some(high) if (0xD800..0xDC00).contains(&high) => {
                if surrogate(i + 6).is_some_and(|low| low >= 0xDC00) {
                    i += 12;
                } else {
                    out.push_str(&json[last..i]);
                    out.push_str("\\uFFFD");
                    i += 6;
                    last = i;
                }
            }
            Some(_) => {
                out.push_str(&json[last..i]);
                out.push_str("\\uFFFD");
                i += 6;
                last = i;
            }
            // Any other escape, `\\` included, is two characters.
            None => i += 2,
        }
    }
    out.push_str(&json[last..]);
    out
}

/// A message's text as stored: NUL removed (the one character message
/// validation refuses; direction marks and emoji are kept as written), a
/// `[file: name]` line for each attachment, and cut at the server's
/// message limit on a character boundary. `None` when nothing is left.
pub fn message_text(text: &str, files: &[String]) -> (Option<String>, bool) {
    let mut out: String = text.chars().filter(|c| *c != '\0').collect();
    for f in files {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("[file: {}]", f.replace('\0', "")));
    }
    let mut cut = false;
    if out.len() > MAX_CONTENT {
        let mut end = MAX_CONTENT - '…'.len_utf8();
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
        cut = true;
    }
    ((!out.trim().is_empty()).then_some(out), cut)
}

/// A valid username for a source's name: characters outside the rules
/// become `_`, then the length and the reserved prefix are fixed. The same
/// name always gives the same result; `apply` adds a suffix on a clash.
pub fn username(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(*validate::USERNAME_LEN.end())
        .collect();
    if validate::username_key(&out).starts_with(validate::DELETED_PREFIX) {
        out.replace_range(..validate::DELETED_PREFIX.len(), "deleted_");
    }
    while out.len() < *validate::USERNAME_LEN.start() {
        out.push('_');
    }
    out
}

/// `base` with a numbered suffix, kept within the length limit.
pub fn numbered(base: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let keep = *validate::USERNAME_LEN.end() - suffix.len();
    format!("{}{suffix}", &base[..base.len().min(keep)])
}

/// An emoji name of the source as a reaction: the character for common
/// names, else `:name:` (at most 32 bytes, as reactions are).
pub fn emoji(name: &str) -> Option<String> {
    let known = match name {
        "+1" | "thumbsup" => "👍",
        "-1" | "thumbsdown" => "👎",
        "heart" => "❤️",
        "smile" => "😄",
        "laughing" => "😆",
        "joy" => "😂",
        "tada" => "🎉",
        "eyes" => "👀",
        "fire" => "🔥",
        "rocket" => "🚀",
        "pray" => "🙏",
        "wave" => "👋",
        "100" => "💯",
        "white_check_mark" => "✅",
        _ => "",
    };
    let value = if known.is_empty() {
        format!(":{name}:")
    } else {
        known.to_owned()
    };
    (value.len() <= 32 && crate::text::reaction(&value).is_ok()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        let fixed = repair_surrogates(r#"{"a":"x\ud800y \ud83d\ude00 \\ud800 \udc00"}"#);
        assert_eq!(fixed, r#"{"a":"x\uFFFDy \ud83d\ude00 \\ud800 \uFFFD"}"#);
        let v: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(v["a"], "x\u{FFFD}y 😀 \\ud800 \u{FFFD}");
    }

    #[test]
    fn usernames_become_valid_deterministically() {
        for name in [
            "jörg müller",
            "a",
            "deleted-bob",
            "x".repeat(40).as_str(),
            "ok.name",
        ] {
            let u = username(name);
            assert!(validate::username(&u).is_ok(), "{name} -> {u}");
            assert_eq!(u, username(name));
        }
        assert_eq!(username("ok.name"), "ok.name");
        assert!(validate::username(&numbered(&"y".repeat(32), 12)).is_ok());
    }

    #[test]
    fn text_drops_nul_keeps_marks_and_cuts_long() {
        let (t, cut) = message_text("a\0b \u{200F}שלום 😀", &["f.pdf".into()]);
        assert_eq!(t.as_deref(), Some("ab \u{200F}שלום 😀\n[file: f.pdf]"));
        assert!(!cut);
        let (t, cut) = message_text(&"é".repeat(MAX_CONTENT), &[]);
        assert!(cut && t.unwrap().len() <= MAX_CONTENT);
        assert_eq!(message_text("\0 ", &[]).0, None);
        assert_eq!(emoji("+1").as_deref(), Some("👍"));
        assert_eq!(emoji("party_parrot").as_deref(), Some(":party_parrot:"));
    }
}
