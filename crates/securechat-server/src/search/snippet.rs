//! The snippet of a result as the API documents it.
//!
//! Which part of a message is shown and which runs are matches is
//! `securechat-search`'s rule (clients draw local results' snippets with
//! it too); this is its wire shape with the OpenAPI schema the crate, free
//! of the server's dependencies, does not carry.

use serde::Serialize;
use utoipa::ToSchema;

/// A run of a snippet's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Segment {
    pub text: String,
    /// Whether this run matches a word of the query.
    #[serde(rename = "match")]
    pub is_match: bool,
}

/// The snippet of `content` for `terms` (lower-cased), in the API's shape.
pub fn snippet(content: &str, terms: &[String]) -> Vec<Segment> {
    securechat_search::snippet(content, terms)
        .into_iter()
        .map(|s| Segment {
            text: s.text,
            is_match: s.is_match,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_shape_names_a_match_match() {
        let json = serde_json::to_string(&snippet("a <b> x", &["<b>".into()])).unwrap_or_default();
        assert_eq!(
            json,
            r#"[{"text":"a ","match":false},{"text":"<b>","match":true},{"text":" x","match":false}]"#
        );
    }
}
