//! The part of a message a result shows, with the query's words marked.
//!
//! Segments rather than markup: a client renders each as a text node (a
//! match in `<mark>`), so a message's own `<`, `&` or quotes never become
//! HTML, and no offsets have to agree between Rust's and JavaScript's idea
//! of a character.

use serde::Serialize;

use crate::fold::fold_char;

/// Characters of context kept before the first match.
const LEAD: usize = 40;
/// The longest snippet, in characters (without the ellipses).
const WIDTH: usize = 180;

/// A run of a snippet's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    /// Whether this run matches a word of the query.
    #[serde(rename = "match")]
    pub is_match: bool,
}

/// The snippet of `content` for `terms` (lower-cased): a window around the
/// first match, line breaks as spaces, with every match in it marked.
pub fn snippet(content: &str, terms: &[String]) -> Vec<Segment> {
    let text: Vec<char> = content
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let folded: Vec<char> = text.iter().copied().map(fold_char).collect();
    let mut marked = vec![false; text.len()];
    for term in terms {
        let needle: Vec<char> = term.chars().map(fold_char).collect();
        if needle.is_empty() || needle.len() > folded.len() {
            continue;
        }
        let mut at = 0;
        while at + needle.len() <= folded.len() {
            if folded[at..at + needle.len()] == needle[..] {
                marked[at..at + needle.len()].fill(true);
                at += needle.len();
            } else {
                at += 1;
            }
        }
    }
    let first = marked.iter().position(|&m| m).unwrap_or(0);
    let mut start = first.saturating_sub(LEAD);
    let end = (start + WIDTH).min(text.len());
    // A short message's end is shown whole: start earlier rather than leave room unused.
    start = start.min(end.saturating_sub(WIDTH));
    let mut out: Vec<Segment> = Vec::new();
    if start > 0 {
        out.push(Segment {
            text: "…".into(),
            is_match: false,
        });
    }
    for i in start..end {
        match out.last_mut() {
            Some(last) if last.is_match == marked[i] => {
                last.text.push(text[i]);
            }
            _ => out.push(Segment {
                text: text[i].to_string(),
                is_match: marked[i],
            }),
        }
    }
    if end < text.len() {
        match out.last_mut() {
            Some(last) if !last.is_match => last.text.push('…'),
            _ => out.push(Segment {
                text: "…".into(),
                is_match: false,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(segments: &[Segment]) -> String {
        segments
            .iter()
            .map(|s| {
                if s.is_match {
                    format!("[{}]", s.text)
                } else {
                    s.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn matches_are_marked_whatever_their_case() {
        let s = snippet(
            "Deploy the DEPLOY script\nnow",
            &["deploy".into(), "now".into()],
        );
        assert_eq!(render(&s), "[Deploy] the [DEPLOY] script [now]");
    }

    #[test]
    fn a_long_message_is_cut_around_the_first_match() {
        let content = format!("{} needle {}", "a".repeat(500), "b".repeat(500));
        let s = render(&snippet(&content, &["needle".into()]));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("[needle]"));
        assert!(s.chars().count() <= WIDTH + 4);
    }

    #[test]
    fn markup_and_cjk_stay_text() {
        let s = snippet("<b>频道密钥</b> & 轮换", &["密钥".into()]);
        assert_eq!(render(&s), "<b>频道[密钥]</b> & 轮换");
    }

    #[test]
    fn no_match_shows_the_start() {
        assert_eq!(render(&snippet("hello", &[])), "hello");
    }
}
