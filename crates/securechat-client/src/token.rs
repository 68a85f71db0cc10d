//! The session token, kept out of logs and debug output.

use std::fmt;

/// An opaque session token (`Authorization: Bearer`, Socket.IO auth).
///
/// `Debug` prints no part of it: the server's rule that logs never contain
/// tokens holds for clients too.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for storing it or sending it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// A secret the client holds in memory only (the login password), kept out
/// of debug output like the token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(std::sync::Arc<str>);

impl Secret {
    pub(crate) fn new(secret: &str) -> Self {
        Self(secret.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let token = SessionToken::new("s3cret");
        assert_eq!(token.expose(), "s3cret");
        assert!(!format!("{token:?}").contains("s3cret"));
        let secret = Secret::new("pa55word");
        assert!(!format!("{secret:?}").contains("pa55word"));
    }
}
