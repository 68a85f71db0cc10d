//! What `has:link` means: the text contains `http://` or `https://`, in any
//! case — what the server's SQL asks of a message with `LIKE`/`ILIKE`, so a
//! decrypted message passes the filter exactly when a plaintext one would.

use crate::fold::fold;

/// Whether `text` links somewhere.
pub fn has_link(text: &str) -> bool {
    let folded = fold(text);
    folded.contains("http://") || folded.contains("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_url_in_any_case() {
        assert!(has_link("see HTTPS://example.org"));
        assert!(has_link("http://x"));
        assert!(!has_link("example.org"));
        assert!(!has_link("ftp://example.org"));
    }
}
