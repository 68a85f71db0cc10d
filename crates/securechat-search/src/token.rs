//! A query split into words and `"quoted phrases"`, each with where it is.
//!
//! Positions let a client remove exactly one token (a filter chip's ×)
//! and leave the rest of what was typed as it was. A word may be a
//! `key:value` filter ([`Token::filter`]); a phrase never is, so
//! `"from:bob"` is searched for as typed.

/// One word or phrase of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word, or the phrase without its quotes.
    pub text: String,
    /// Byte offset of the token in the query (its opening quote for a phrase).
    pub start: usize,
    /// Byte offset just past the token (past its closing quote, if any).
    pub end: usize,
    /// Whether the token was quoted.
    pub phrase: bool,
}

/// The filters of the query language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    From,
    In,
    Before,
    After,
    Has,
}

impl FilterKey {
    /// The key as typed (lower case), `from`, `in`, `before`, `after`, `has`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::In => "in",
            Self::Before => "before",
            Self::After => "after",
            Self::Has => "has",
        }
    }

    fn parse(key: &str) -> Option<Self> {
        match key.to_lowercase().as_str() {
            "from" => Some(Self::From),
            "in" => Some(Self::In),
            "before" => Some(Self::Before),
            "after" => Some(Self::After),
            "has" => Some(Self::Has),
            _ => None,
        }
    }
}

/// A `key:value` word whose key is a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter<'a> {
    pub key: FilterKey,
    /// What follows the first `:`, as typed (never empty).
    pub value: &'a str,
}

impl Token {
    /// The filter this token is, or `None` for a word to search for: a
    /// phrase, a word without `:`, a key that is no filter (`re:`, `10:30`)
    /// or a key with nothing after its `:`.
    pub fn filter(&self) -> Option<Filter<'_>> {
        if self.phrase {
            return None;
        }
        let (key, value) = self.text.split_once(':')?;
        if value.is_empty() {
            return None;
        }
        Some(Filter {
            key: FilterKey::parse(key)?,
            value,
        })
    }
}

/// The tokens of `q`: whitespace separates words, `"` starts a phrase that
/// runs to the next `"` (an unclosed quote runs to the end of the query),
/// and a `"` also ends a word.
pub fn tokens(q: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = q.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut text = String::new();
            let mut end = q.len();
            for (at, c) in chars.by_ref() {
                if c == '"' {
                    end = at + 1;
                    break;
                }
                text.push(c);
            }
            out.push(Token {
                text,
                start,
                end,
                phrase: true,
            });
        } else {
            let mut end = start;
            while let Some(&(at, c)) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                end = at + c.len_utf8();
                chars.next();
            }
            out.push(Token {
                text: q[start..end].to_owned(),
                start,
                end,
                phrase: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(q: &str) -> Vec<(String, &str, bool)> {
        tokens(q)
            .into_iter()
            .map(|t| {
                let span = &q[t.start..t.end];
                (t.text, span, t.phrase)
            })
            .collect()
    }

    #[test]
    fn words_and_phrases_with_their_spans() {
        assert_eq!(
            texts(r#"deploy "on friday"  频道"x"#),
            [
                ("deploy".into(), "deploy", false),
                ("on friday".into(), "\"on friday\"", true),
                ("频道".into(), "频道", false),
                ("x".into(), "\"x", true),
            ]
        );
    }

    #[test]
    fn filters_are_known_keys_with_a_value() {
        let all = tokens(r#"FROM:@alice has:file re: 10:30 ":x" "from:bob""#);
        let filters: Vec<_> = all.iter().map(Token::filter).collect();
        assert_eq!(
            filters[0],
            Some(Filter {
                key: FilterKey::From,
                value: "@alice"
            })
        );
        assert_eq!(filters[1].map(|f| f.key), Some(FilterKey::Has));
        assert!(filters[2..].iter().all(Option::is_none), "{filters:?}");
    }
}
