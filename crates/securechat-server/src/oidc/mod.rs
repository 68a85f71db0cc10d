//! Single sign-on with OpenID Connect (Authorization Code with PKCE) with
//! one provider, configured by `OIDC_ISSUER` and its siblings.
//!
//! - [`config`]: the `OIDC_*` variables.
//! - [`provider`]: discovery, the authorization URL, the code exchange and
//!   the ID token's checks, through the `openidconnect` crate.
//! - [`flow`]: the signed, short-lived cookies that carry a sign-in
//!   between the browser's round trips.
//! - [`account`]: from an identity to an account: its own, one linked by
//!   a verified email, or a new one.
//! - [`store`]: the SQL (`oidc_identities`).
//! - [`http`]: `/api/auth/options` and `/api/auth/oidc/*`.
//!
//! A sign-on ends exactly as a password sign-in does (`auth::session`):
//! the same session and device cookies, the same login throttle, and an
//! account with TOTP on must still give a code before it gets a session.

pub mod account;
pub mod config;
pub mod flow;
pub mod http;
pub mod provider;
pub mod store;

/// Why a sign-on failed: each becomes the `sso_error` code of the
/// redirect to the sign-in page, which explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoError {
    /// Single sign-on is not configured.
    Disabled,
    /// The provider could not be reached, or the server could not finish.
    Unavailable,
    /// The person cancelled or the provider refused (`error=` in the callback).
    Cancelled,
    /// No sign-in under way in this browser, or not this one (state
    /// mismatch, expired, replayed).
    InvalidState,
    /// The code or the ID token did not pass the checks.
    Refused,
    /// The identity's email domain is not in `OIDC_ALLOWED_DOMAINS`.
    DomainNotAllowed,
    /// The provider has not verified the email, which an account here has
    /// verified, or which `OIDC_ALLOWED_DOMAINS` would need.
    EmailUnverified,
    /// The account is disabled.
    AccountDisabled,
    /// Too many attempts from this address.
    Throttled,
    /// No free username could be made from the identity.
    NoUsername,
    /// Something failed on the server (its log says what).
    Failed,
}

impl SsoError {
    /// The code the sign-in page shows a message for.
    pub fn code(self) -> &'static str {
        match self {
            Self::Disabled => "sso_disabled",
            Self::Unavailable => "sso_unavailable",
            Self::Cancelled => "sso_cancelled",
            Self::InvalidState => "sso_invalid_state",
            Self::Refused => "sso_refused",
            Self::DomainNotAllowed => "sso_domain_not_allowed",
            Self::EmailUnverified => "sso_email_unverified",
            Self::AccountDisabled => "sso_account_disabled",
            Self::Throttled => "sso_throttled",
            Self::NoUsername => "sso_no_username",
            Self::Failed => "sso_failed",
        }
    }
}

impl From<sqlx::Error> for SsoError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!("single sign-on: database error: {e}");
        Self::Failed
    }
}
