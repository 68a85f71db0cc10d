//! The search rules of `securechat-search` in the shapes the page reads:
//! JSON text, camelCase names, and offsets in UTF-16 code units (what
//! JavaScript's `String.prototype.slice` counts), so the browser's local
//! search of encrypted channels runs the very rules the server runs instead
//! of a second copy of them. `wasm.rs` exports these as functions; keeping
//! them here, free of wasm-bindgen, lets them be tested natively.

use securechat_search::{Query, QueryError, Token};
use serde_json::{Value, json};

/// Terms from the JSON array of strings the page passes; anything else is
/// no terms (the page only ever passes a parsed query's `terms`).
pub fn terms_from_json(terms: &str) -> Vec<String> {
    serde_json::from_str(terms).unwrap_or_default()
}

/// `{"query": {...}, "empty": bool}` for a query the rules accept,
/// `{"error": {"code", "message", ...}}` for one they refuse, with what the
/// page needs to word the refusal in its own language (`max`, `key`,
/// `value`).
pub fn parse(q: &str) -> Value {
    match Query::parse(q) {
        Ok(query) => json!({
            "query": {
                "terms": query.terms,
                "from": query.from,
                "in": query.channel,
                "beforeMs": query.before_ms,
                "afterMs": query.after_ms,
                "hasFile": query.has_file,
                "hasLink": query.has_link,
            },
            "empty": query.is_empty(),
        }),
        Err(e) => {
            let mut error = json!({"code": e.code(), "message": e.to_string()});
            match &e {
                QueryError::TooLong => error["max"] = json!(securechat_search::MAX_QUERY_CHARS),
                QueryError::TooManyTerms => error["max"] = json!(securechat_search::MAX_TERMS),
                QueryError::BadDate { key, value } => {
                    error["key"] = json!(key);
                    error["value"] = json!(value);
                }
                QueryError::BadHas { value } => error["value"] = json!(value),
                QueryError::ControlCharacters => {}
            }
            json!({ "error": error })
        }
    }
}

/// A byte offset of `q` in UTF-16 code units.
fn utf16_offset(q: &str, byte: usize) -> usize {
    q.get(..byte).map_or(0, |head| head.encode_utf16().count())
}

fn token_json(q: &str, token: &Token) -> Value {
    json!({
        "text": token.text,
        "start": utf16_offset(q, token.start),
        "end": utf16_offset(q, token.end),
        "phrase": token.phrase,
        "filter": token.filter().map(|f| json!({"key": f.key.as_str(), "value": f.value})),
    })
}

/// The tokens of `q`, each with its span (UTF-16) and the filter it is, if any.
pub fn tokens(q: &str) -> Value {
    Value::Array(
        securechat_search::tokens(q)
            .iter()
            .map(|t| token_json(q, t))
            .collect(),
    )
}

/// The snippet of `text` for `terms` as `[{"text", "match"}]`.
pub fn snippet(text: &str, terms: &[String]) -> Value {
    json!(securechat_search::snippet(text, terms))
}

/// What a local index files `text` under, as a JSON array of strings.
pub fn index_tokens(text: &str) -> Value {
    json!(securechat_search::index_tokens(text))
}

/// What a local index looks the word `term` up by, as a JSON array.
pub fn query_tokens(term: &str) -> Value {
    json!(securechat_search::query_tokens(term))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_in_the_pages_names() {
        let v = parse(r#"Deploy "on Friday" in:#Ops after:2026-03-01 has:link"#);
        assert_eq!(v["query"]["terms"], json!(["deploy", "on friday"]));
        assert_eq!(v["query"]["in"], "ops");
        assert_eq!(
            v["query"]["afterMs"],
            json!(1_772_323_200_000_i64 + 86_400_000)
        );
        assert_eq!(v["query"]["hasLink"], true);
        assert_eq!(v["empty"], false);
        assert_eq!(parse("  ")["empty"], true);
    }

    #[test]
    fn a_refusal_carries_what_a_translation_needs() {
        let v = parse("before:soon");
        assert_eq!(v["error"]["code"], "bad_date");
        assert_eq!(v["error"]["key"], "before");
        assert_eq!(v["error"]["value"], "soon");
        assert_eq!(parse("a b c d e f g h i")["error"]["max"], 8);
        assert_eq!(parse(&"x".repeat(300))["error"]["max"], 256);
    }

    #[test]
    fn spans_count_utf16_units() {
        // "😀" is two UTF-16 units (four bytes), "频" one (three bytes).
        let v = tokens(r#"😀频 from:bob "a b""#);
        assert_eq!(v[0]["start"], 0);
        assert_eq!(v[0]["end"], 3);
        assert_eq!(v[1]["start"], 4);
        assert_eq!(v[1]["filter"], json!({"key": "from", "value": "bob"}));
        assert_eq!(v[2]["start"], 13);
        assert_eq!(v[2]["end"], 18);
        assert_eq!(v[2]["filter"], Value::Null);
    }

    #[test]
    fn terms_that_are_not_a_list_of_strings_are_none() {
        assert_eq!(terms_from_json(r#"["a","b"]"#), ["a", "b"]);
        assert!(terms_from_json("{").is_empty());
        assert_eq!(
            snippet("A a", &terms_from_json(r#"["a"]"#))[0]["match"],
            true
        );
        assert_eq!(index_tokens("abcd"), json!(["abc", "bcd"]));
        assert_eq!(index_tokens("部署"), json!(["部", "署", "部署"]));
        assert_eq!(query_tokens("部署"), json!(["部署"]));
        assert_eq!(query_tokens("ok"), json!([]));
    }
}
