//! Input limits of resources.

use crate::error::Error;

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;
pub const URL_MAX: usize = 2048;

/// A title: 1 to [`TITLE_MAX`] characters, no control characters.
pub fn title(value: &str) -> Result<String, Error> {
    let value = crate::rooms::validate::text("Title", value, TITLE_MAX)?;
    if value.is_empty() || value.contains('\n') {
        return Err(Error::unprocessable(
            "invalid_title",
            format!("A title is one line of 1 to {TITLE_MAX} characters"),
        ));
    }
    Ok(value)
}

pub fn description(value: &str) -> Result<String, Error> {
    crate::rooms::validate::text("Description", value, DESCRIPTION_MAX)
}

/// An absolute `http` or `https` URL with a host, as normalized by the URL
/// standard. Anything else (`javascript:`, `data:`, relative paths) could
/// run script or mislead when rendered as a link, so it is refused.
pub fn url(value: &str) -> Result<String, Error> {
    let value = value.trim();
    let invalid = |why: &str| {
        Error::unprocessable(
            "invalid_url",
            format!("The link must be an http:// or https:// address ({why})"),
        )
    };
    if value.len() > URL_MAX {
        return Err(invalid("too long"));
    }
    let parsed = url::Url::parse(value).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("other schemes are not accepted"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("no credentials in links"));
    }
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_with_a_host() {
        assert_eq!(
            url(" https://Example.com/a b?x=1 ").unwrap(),
            "https://example.com/a%20b?x=1"
        );
        assert_eq!(
            url("http://10.0.0.1:8080/").unwrap(),
            "http://10.0.0.1:8080/"
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>",
            "/relative",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "file:///etc/passwd",
            "",
        ] {
            assert_eq!(url(bad).unwrap_err().code(), "invalid_url", "{bad}");
        }
        assert!(url(&format!("https://e.com/{}", "a".repeat(URL_MAX))).is_err());
    }

    #[test]
    fn titles_are_one_nonempty_line() {
        assert_eq!(title("  Roadmap ").unwrap(), "Roadmap");
        assert!(title("").is_err());
        assert!(title("a\nb").is_err());
        assert!(title(&"x".repeat(TITLE_MAX + 1)).is_err());
    }
}
