//! Observability settings: `METRICS_TOKEN`, the bearer token `GET /metrics`
//! requires (unset: the endpoint is a 404), and `LOG_FORMAT`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::error::ConfigError;

/// Shortest token accepted: guessing it must be out of reach.
const MIN_LEN: usize = 16;

/// The scraper's token. Never printed.
#[derive(Clone)]
pub struct MetricsToken(Zeroizing<String>);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

impl MetricsToken {
    /// Whether `presented` is the token, in time independent of where they
    /// differ (and, through their hashes, of the presented length).
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(presented.as_bytes());
        expected.ct_eq(&given).into()
    }
}

/// Reads `METRICS_TOKEN` (blank: unset).
pub fn metrics_token(value: Option<String>) -> Result<Option<MetricsToken>, ConfigError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let value = Zeroizing::new(value);
    if value.len() < MIN_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            "METRICS_TOKEN",
            format!(
                "use at least {MIN_LEN} printable characters without spaces \
                 (e.g. `openssl rand -hex 24`)"
            ),
        ));
    }
    Ok(Some(MetricsToken(value)))
}

/// `LOG_FORMAT`: `text` (the default) or `json`; true for JSON.
pub fn log_format(value: Option<&str>) -> Result<bool, ConfigError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "text") => Ok(false),
        Some("json") => Ok(true),
        Some(other) => Err(ConfigError::new(
            "LOG_FORMAT",
            format!("{other:?} is not text or json"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_matches_itself_only() {
        let token = metrics_token(Some("0123456789abcdef0123".into()))
            .unwrap()
            .unwrap();
        assert!(token.matches("0123456789abcdef0123"));
        assert!(!token.matches("0123456789abcdef012"));
        assert!(!token.matches("0123456789abcdef01234"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("0123"));
    }

    #[test]
    fn unset_is_off_and_weak_tokens_are_refused() {
        assert!(metrics_token(None).unwrap().is_none());
        assert!(metrics_token(Some("  ".into())).unwrap().is_none());
        assert_eq!(
            metrics_token(Some("short".into())).unwrap_err().var,
            "METRICS_TOKEN"
        );
        assert!(metrics_token(Some("has a space in it ok".into())).is_err());
    }

    #[test]
    fn log_format_is_text_or_json() {
        assert!(!log_format(None).unwrap());
        assert!(!log_format(Some("text")).unwrap());
        assert!(log_format(Some(" JSON ")).unwrap());
        assert_eq!(log_format(Some("xml")).unwrap_err().var, "LOG_FORMAT");
    }
}
