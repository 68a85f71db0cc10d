//! What counts as a mention in a message's text, written once.
//!
//! It lives in this crate because this is the crate of rules about message
//! text that the server and the browser both run: the server links it
//! natively (plaintext pushes and email digests, and refusing a channel-wide
//! mention someone may not use), and the browser gets it as WebAssembly
//! through the E2EE core (highlighting, the service worker's notification
//! decision, the composer). The E2EE core is the wrong home for a text rule
//! the server applies — the server never links the client core — and the
//! core's trust rule for encrypted channels (who may use a channel-wide
//! mention, by the verified log) calls this one.
//!
//! The rule:
//! - a mention is `@` then a name, the `@` at the start of the text or after
//!   a character that cannot be in a username nor another `@` (so
//!   `me@alice.example` and `@@alice` mention nobody);
//! - the name is a username (any case) or one of [`CHANNEL_WIDE`], and it
//!   ends the text or is followed by a character that cannot be in a
//!   username (so `@alice2` is not `@alice`); a full stop ends a sentence
//!   unless a name character follows it;
//! - nothing inside code counts: inline code spans (a run of backticks up
//!   to the next run of the same length) and fenced code blocks (a line of
//!   three or more backticks or tildes up to a closing fence of the same
//!   character at least as long, or the end of the text), as the message
//!   view renders them.

/// The names that mention every member of a channel.
pub const CHANNEL_WIDE: [&str; 4] = ["channel", "here", "everyone", "room"];

fn name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Whether `text` mentions `username`, or everyone (a [`CHANNEL_WIDE`]
/// name), outside code.
pub fn mentions(text: &str, username: &str) -> bool {
    mentions_of(text, username, true)
}

/// Whether `text` mentions `username` by name, outside code (a channel-wide
/// mention not counted).
pub fn mentions_by_name(text: &str, username: &str) -> bool {
    mentions_of(text, username, false)
}

/// Whether `text` holds a channel-wide mention (`@channel`, `@here`,
/// `@everyone`, `@room`) outside code.
pub fn mentions_channel(text: &str) -> bool {
    mentions_of(text, "", true)
}

/// Whether `word` (without its `@`) is a channel-wide name, in any case.
pub fn is_channel_wide(word: &str) -> bool {
    CHANNEL_WIDE.iter().any(|w| w.eq_ignore_ascii_case(word))
}

fn mentions_of(text: &str, username: &str, channel_wide: bool) -> bool {
    let bytes = outside_code(text);
    let names: &[&str] = if channel_wide { &CHANNEL_WIDE } else { &[] };
    bytes.iter().enumerate().any(|(at, &b)| {
        if b != b'@' || (at > 0 && (name_char(bytes[at - 1]) || bytes[at - 1] == b'@')) {
            return false;
        }
        let rest = &bytes[at + 1..];
        names.iter().chain([&username]).any(|name| {
            let n = name.len();
            if n == 0 || rest.len() < n || !rest[..n].eq_ignore_ascii_case(name.as_bytes()) {
                return false;
            }
            match rest.get(n) {
                None => true,
                Some(b'.') => rest.get(n + 1).is_none_or(|&next| !name_char(next)),
                Some(&next) => !name_char(next),
            }
        })
    })
}

/// The bytes of `text` with every byte of code (the backticks and fences
/// included) replaced by a space, so a scan over it sees only prose and
/// code next to a mention is a boundary, as in the rendered message.
fn outside_code(text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    let mut blank = |from: usize, to: usize| out[from..to].fill(b' ');
    // Fenced blocks first, line by line; the prose between them is scanned
    // for inline spans, which do not cross a fence.
    let mut prose_start = 0;
    let mut fence: Option<(u8, usize, usize)> = None; // (char, length, start)
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let run = |c: u8| trimmed.bytes().take_while(|&b| b == c).count();
        match fence {
            None if indent <= 3 && (run(b'`') >= 3 || run(b'~') >= 3) => {
                let c = trimmed.as_bytes()[0];
                let info = &trimmed[run(c)..];
                // A backtick fence's info string may not hold a backtick.
                if c == b'~' || !info.contains('`') {
                    blank_spans(text, prose_start, line_start, &mut blank);
                    fence = Some((c, run(c), line_start));
                }
            }
            Some((c, len, start)) if indent <= 3 && run(c) >= len => {
                let after = &trimmed[run(c)..];
                if after.trim().is_empty() {
                    blank(start, line_end);
                    fence = None;
                    prose_start = line_end;
                }
            }
            _ => {}
        }
        line_start = line_end;
    }
    match fence {
        Some((_, _, start)) => blank(start, text.len()),
        None => blank_spans(text, prose_start, text.len(), &mut blank),
    }
    out
}

/// Blanks the inline code spans of `text[from..to]`: a run of N backticks
/// opens one that the next run of exactly N closes; an unclosed run is
/// literal text.
fn blank_spans(text: &str, from: usize, to: usize, blank: &mut impl FnMut(usize, usize)) {
    let bytes = &text.as_bytes()[from..to];
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let mut j = i + open;
        let mut closed = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let close = run_at(j);
                if close == open {
                    closed = Some(j + close);
                    break;
                }
                j += close;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                blank(from + i, from + end);
                i = end;
            }
            None => i += open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_whole_names_after_an_at_sign() {
        for yes in [
            "@bob",
            "@bob hi",
            "hi @BOB",
            "(@bob)",
            "hey @bob.",
            "@bob, @ann",
            "@bob: look",
            "@here",
            "@channel please",
            "all of you @everyone!",
            "@room",
            "héllo @bob ✓",
        ] {
            assert!(mentions(yes, "bob"), "{yes}");
        }
        for no in [
            "bob",
            "@bobby",
            "@bob2",
            "@bob.smith",
            "@bob-x",
            "mail me@bob",
            "x@bob.example",
            "@@bob",
            "@",
            "@ bob",
            "@heres",
            "@rooms",
            "",
        ] {
            assert!(!mentions(no, "bob"), "{no}");
        }
        assert!(mentions("cc @bob.smith", "bob.smith"));
    }

    #[test]
    fn nothing_inside_code_counts() {
        for no in [
            "`@bob`",
            "see `x @bob y` there",
            "``a ` @bob``",
            "```\n@bob\n```",
            "~~~sh\n@channel\n~~~\nafter",
            "```\n@bob never closed",
            "   ```\n@here\n   ```",
        ] {
            assert!(!mentions(no, "bob"), "{no}");
        }
        for yes in [
            "`code` @bob",
            "`code`@bob",
            "` unclosed @bob",
            "```\ncode\n```\n@bob",
            "``a`` @channel ``b``",
            "    ```\n@bob",
        ] {
            assert!(mentions(yes, "bob"), "{yes}");
        }
    }

    #[test]
    fn channel_wide_names_are_four_and_only_count_as_themselves() {
        for word in CHANNEL_WIDE {
            assert!(mentions_channel(&format!("hi @{word}")), "{word}");
            assert!(is_channel_wide(&word.to_uppercase()));
            assert!(!mentions_by_name(&format!("hi @{word}"), "bob"));
        }
        assert!(!mentions_channel("hi @bob"));
        assert!(!mentions_channel("`@channel`"));
        assert!(mentions_by_name("hi @bob", "bob"));
        assert!(!is_channel_wide("all"));
    }
}
