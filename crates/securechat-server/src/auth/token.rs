//! Opaque session tokens and the keyed hashes they are stored as.
//!
//! A token is 32 random bytes, base64url-encoded (43 characters). The
//! database keeps only `HMAC-SHA256(k_session, token)`, where `k_session` is
//! derived from the server's `SECRET_KEY`: a stolen database yields neither
//! usable tokens nor a way to test guesses offline. The same construction,
//! with another purpose label, hides usernames and client addresses in the
//! login throttle table.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::config::SecretKey;

/// Length of a base64url token (32 bytes).
pub const TOKEN_LEN: usize = 43;

/// Keys derived from `SECRET_KEY`, one per purpose.
#[derive(Clone)]
pub struct Keys {
    session: Zeroizing<[u8; 32]>,
    throttle: Zeroizing<[u8; 32]>,
    device: Zeroizing<[u8; 32]>,
    email: Zeroizing<[u8; 32]>,
    totp_seal: Zeroizing<[u8; 32]>,
    recovery: Zeroizing<[u8; 32]>,
    webhook: Zeroizing<[u8; 32]>,
    oidc: Zeroizing<[u8; 32]>,
}

impl Keys {
    /// Derives the per-purpose keys.
    pub fn derive(secret: &SecretKey) -> Self {
        Self {
            session: derive(secret.as_bytes(), b"securechat/v1/session-token"),
            throttle: derive(secret.as_bytes(), b"securechat/v1/login-throttle"),
            device: derive(secret.as_bytes(), b"securechat/v1/device-cookie"),
            email: derive(secret.as_bytes(), b"securechat/v1/email"),
            totp_seal: derive(secret.as_bytes(), b"securechat/v1/totp-seal"),
            recovery: derive(secret.as_bytes(), b"securechat/v1/recovery-code"),
            webhook: derive(secret.as_bytes(), b"securechat/v1/webhook-secret"),
            oidc: derive(secret.as_bytes(), b"securechat/v1/oidc-flow"),
        }
    }

    /// A device cookie for `username_key`: a random device id and a MAC
    /// binding it to the account, `ID.MAC` in base64url. It proves that
    /// this browser signed in to the account before, and nothing else: it
    /// is no session.
    pub fn device_cookie(&self, username_key: &str) -> String {
        let mut id = [0u8; 16];
        rand::fill(&mut id[..]);
        let id = URL_SAFE_NO_PAD.encode(id);
        let tag = URL_SAFE_NO_PAD.encode(self.device_mac(username_key, &id));
        format!("{id}.{tag}")
    }

    /// The device id of a device cookie issued for `username_key`, if the
    /// cookie is one.
    pub fn device_id<'a>(&self, cookie: &'a str, username_key: &str) -> Option<&'a str> {
        let (id, tag) = cookie.split_once('.')?;
        if id.len() != 22 || tag.len() > 64 {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.device[..]).ok()?;
        m.update(device_input(username_key, id).as_bytes());
        m.verify_slice(&tag).ok().map(|()| id)
    }

    fn device_mac(&self, username_key: &str, id: &str) -> Vec<u8> {
        mac(&self.device[..], device_input(username_key, id).as_bytes())
    }

    /// What a session token is stored as.
    pub fn session_hash(&self, token: &str) -> Vec<u8> {
        mac(&self.session[..], token.as_bytes())
    }

    /// A MAC for email's single-purpose values (verification codes as
    /// stored, unsubscribe links): `purpose` keeps one kind from passing
    /// for another.
    pub fn email_mac(&self, purpose: &str, data: &str) -> Vec<u8> {
        mac(&self.email[..], format!("{purpose}:{data}").as_bytes())
    }

    /// The AES-256-GCM key TOTP secrets are sealed with in the database
    /// (`twofactor/secret.rs`).
    pub fn totp_seal(&self) -> &[u8; 32] {
        &self.totp_seal
    }

    /// What a (normalized) recovery code of `user_id` is stored as: a
    /// keyed hash, so a copy of the table cannot be tried offline.
    pub fn recovery_code_hash(&self, user_id: i64, code: &str) -> Vec<u8> {
        mac(&self.recovery[..], format!("{user_id}:{code}").as_bytes())
    }

    /// What an incoming webhook's secret (the last part of its URL) is
    /// stored as.
    pub fn webhook_hash(&self, secret: &str) -> Vec<u8> {
        mac(&self.webhook[..], secret.as_bytes())
    }

    /// The signing secret of outgoing webhook `id`, made from its stored
    /// `salt` under `SECRET_KEY`: the database alone does not hold it.
    pub fn outgoing_secret(&self, id: i64, salt: &[u8]) -> String {
        let mut data = format!("outgoing:{id}:").into_bytes();
        data.extend_from_slice(salt);
        URL_SAFE_NO_PAD.encode(mac(&self.webhook[..], &data))
    }

    /// A MAC for single sign-on's short-lived cookies (`oidc/flow.rs`):
    /// `purpose` keeps one kind from passing for another.
    pub fn oidc_mac(&self, purpose: &str, data: &str) -> Vec<u8> {
        mac(&self.oidc[..], format!("{purpose}:{data}").as_bytes())
    }

    /// Whether `tag` is [`Keys::oidc_mac`] of `purpose` and `data`, compared
    /// in constant time.
    pub fn oidc_verify(&self, purpose: &str, data: &str, tag: &[u8]) -> bool {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.oidc[..]).is_ok_and(|mut m| {
            m.update(format!("{purpose}:{data}").as_bytes());
            m.verify_slice(tag).is_ok()
        })
    }

    /// The token slash command `id` sends its receiver, made from its
    /// stored `salt` under `SECRET_KEY` like an outgoing webhook's secret
    /// (a different domain, so neither can stand for the other).
    pub fn command_token(&self, id: i64, salt: &[u8]) -> String {
        let mut data = format!("command:{id}:").into_bytes();
        data.extend_from_slice(salt);
        URL_SAFE_NO_PAD.encode(mac(&self.webhook[..], &data))
    }

    /// What a login-throttle scope (`user:alice`, `ip:10.0.0.1`) is stored as.
    pub fn throttle_key(&self, scope: &str) -> Vec<u8> {
        mac(&self.throttle[..], scope.as_bytes())
    }
}

fn device_input(username_key: &str, id: &str) -> String {
    format!("{}:{username_key}:{id}", username_key.len())
}

fn derive(secret: &[u8], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac(secret, label));
    out
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// A fresh random session token.
pub fn new_token() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::fill(&mut bytes[..]);
    Zeroizing::new(URL_SAFE_NO_PAD.encode(&bytes[..]))
}

/// Whether `s` could be a token we issued; anything else is rejected before
/// touching the database.
pub fn looks_like_token(s: &str) -> bool {
    s.len() == TOKEN_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {

    #[test]
    fn device_cookies_are_bound_to_their_account() {
        let mine = keys("0123456789abcdef0123456789abcdef");
        let cookie = mine.device_cookie("alice");
        let id = mine.device_id(&cookie, "alice").unwrap();
        assert_eq!(id.len(), 22);
        assert!(mine.device_id(&cookie, "bob").is_none());
        let (id, tag) = cookie.split_once('.').unwrap();
        let other = mine.device_cookie("alice");
        let (_, other_tag) = other.split_once('.').unwrap();
        assert!(
            mine.device_id(&format!("{id}.{other_tag}"), "alice")
                .is_none()
        );
        assert!(mine.device_id(&format!("{id}{tag}"), "alice").is_none());
        let elsewhere = keys("fedcba9876543210fedcba9876543210");
        assert!(elsewhere.device_id(&cookie, "alice").is_none());
    }

    use super::*;

    fn keys(secret: &str) -> Keys {
        let env = |k: &str| (k == "SECRET_KEY").then(|| secret.to_string());
        let cfg =
            crate::config::load_serve(&env, &Default::default(), &Default::default()).unwrap();
        Keys::derive(&cfg.secret)
    }

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(*a, *b);
        assert!(looks_like_token(&a));
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&"!".repeat(TOKEN_LEN)));
    }

    #[test]
    fn hashes_depend_on_secret_and_purpose() {
        let k1 = keys("0123456789abcdef0123456789abcdef");
        let k2 = keys("fedcba9876543210fedcba9876543210");
        assert_ne!(k1.session_hash("t"), k2.session_hash("t"));
        assert_ne!(k1.session_hash("t"), k1.throttle_key("t"));
        assert_eq!(k1.session_hash("t"), k1.session_hash("t"));
    }
}
