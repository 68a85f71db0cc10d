//! The text rules both importers share: JSON with lone surrogates made
//! readable, and a message's text as it is imported.

/// Replaces `\uD800`–`\uDFFF` escapes that do not form a pair with
/// `\uFFFD`, so a JSON text with a lone surrogate (which the JSON parser
/// refuses) can still be read.
pub(crate) fn repair_surrogates(json: &str) -> String {
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

/// A channel name for a source's that breaks the server's channel rules
/// (letters, digits, `-` and `_`, at most `max`): every other character
/// becomes `-`; a name left with nothing but `-` is `imported`. The same
/// name always gives the same result, so an import run again finds its
/// channels. The server still validates what it is given.
pub fn channel_name(name: &str, max: usize) -> String {
    let out: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(max)
        .collect();
    if out.trim_matches('-').is_empty() {
        "imported".to_owned()
    } else {
        out
    }
}

/// A message's text as imported: NUL removed (the one character message
/// validation refuses; direction marks and emoji are kept as written), a
/// `[file: name]` line for each attachment (files' bytes are not in the
/// exports' text), and cut at `max` bytes on a character boundary, with
/// `…`; `true` when cut. `None` when nothing is left.
pub fn message_text(text: &str, files: &[String], max: usize) -> (Option<String>, bool) {
    let mut out: String = text.chars().filter(|c| *c != '\0').collect();
    for f in files {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("[file: {}]", f.replace('\0', "")));
    }
    let mut cut = false;
    if out.len() > max {
        let mut end = max.saturating_sub('…'.len_utf8());
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
        cut = true;
    }
    ((!out.trim().is_empty()).then_some(out), cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 8 * 1024;

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        let fixed = repair_surrogates(r#"{"a":"x\ud800y \ud83d\ude00 \\ud800 \udc00"}"#);
        assert_eq!(fixed, r#"{"a":"x\uFFFDy \ud83d\ude00 \\ud800 \uFFFD"}"#);
        let v: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(v["a"], "x\u{FFFD}y 😀 \\ud800 \u{FFFD}");
    }

    #[test]
    fn text_drops_nul_keeps_marks_and_cuts_long() {
        let (t, cut) = message_text("a\0b \u{200F}שלום 😀", &["f.pdf".into()], MAX);
        assert_eq!(t.as_deref(), Some("ab \u{200F}שלום 😀\n[file: f.pdf]"));
        assert!(!cut);
        let (t, cut) = message_text(&"é".repeat(MAX), &[], MAX);
        assert!(cut && t.unwrap().len() <= MAX);
        assert_eq!(message_text("\0 ", &[], MAX).0, None);
    }

    #[test]
    fn channel_names_keep_letters_and_replace_the_rest() {
        assert_eq!(channel_name("town square!", 64), "town-square-");
        assert_eq!(channel_name("公告_2024", 64), "公告_2024");
        assert_eq!(channel_name("???", 64), "imported");
        assert_eq!(channel_name(&"x".repeat(100), 64).len(), 64);
    }
}
