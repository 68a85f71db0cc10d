//! TOTP as authenticator apps know it: HMAC-SHA-1, six digits, 30-second
//! steps (RFC 6238's defaults, the only parameters every app honours),
//! codes of the previous and next step accepted for clock drift.
//!
//! This file only computes; whether a matched step was already used is
//! decided by the write that records it (`store::accept_step`).

use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

/// Secret length: 160 bits, as RFC 4226 recommends.
pub const SECRET_LEN: usize = 20;
/// The issuer authenticator apps show next to the account.
pub const ISSUER: &str = "Securechat";
/// Digits of a code.
pub const DIGITS: usize = 6;

/// A fresh random secret.
pub fn new_secret() -> Zeroizing<[u8; SECRET_LEN]> {
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    rand::fill(&mut secret[..]);
    secret
}

fn totp(secret: &[u8], username: &str) -> Result<Totp, totp_rs::TotpError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(username.replace(':', "_"))
        .build()
}

/// The secret in base32 (unpadded), for typing into an app, and the
/// `otpauth://totp/Securechat:NAME?secret=…&issuer=Securechat` URI a QR
/// code carries.
pub fn enrolment(secret: &[u8], username: &str) -> anyhow::Result<(String, String)> {
    let totp = totp(secret, username)?;
    let uri = totp.to_url()?;
    Ok((totp.secret().to_base32(), uri))
}

/// The time step whose code `code` is, among the steps around
/// `now_secs`; `None` for a wrong or malformed code.
pub fn matched_step(secret: &[u8], code: &str, now_secs: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "-").ok()?;
    totp.check(code, now_secs)
        .and_then(|step| i64::try_from(step).ok())
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    u64::try_from(crate::storage::now_ms() / 1000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (the last six digits of its 8-digit codes).
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(matched_step(secret, code, time), Some((time / 30) as i64));
        }
    }

    #[test]
    fn neighbouring_steps_match_and_others_do_not() {
        let secret = b"12345678901234567890";
        // The code of step 1 (t = 59) is accepted one step before and after.
        assert_eq!(matched_step(secret, "287082", 30), Some(1));
        assert_eq!(matched_step(secret, "287082", 89), Some(1));
        assert_eq!(matched_step(secret, "287082", 95), None);
        assert_eq!(matched_step(secret, "28708", 59), None);
        assert_eq!(matched_step(secret, "+28708", 59), None);
        assert_eq!(matched_step(secret, "2870822", 59), None);
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let secret = [7u8; SECRET_LEN];
        let (text, uri) = enrolment(&secret, "alice").unwrap();
        assert_eq!(text.len(), 32);
        assert!(uri.starts_with("otpauth://totp/Securechat:alice?"), "{uri}");
        assert!(uri.contains(&format!("secret={text}")));
        assert!(uri.contains("issuer=Securechat"));
        assert_ne!(*new_secret(), *new_secret());
    }
}
