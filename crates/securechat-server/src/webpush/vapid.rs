//! RFC 8292 VAPID: the server identifies itself to push services with an
//! ES256-signed JWT (`aud` the endpoint's origin, `exp` within 24 hours,
//! `sub` a contact) and its public key, in
//! `Authorization: vapid t=<jwt>, k=<key>`. Browsers bind each subscription
//! to the key they were given (`applicationServerKey`), so a push service
//! refuses pushes signed by any other key. Pure: the time is an argument.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::SecretKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use super::ece::EceError;

/// How long a token is valid: RFC 8292 allows at most 24 hours; some push
/// services refuse more than 12.
pub const TOKEN_LIFETIME_SECS: i64 = 12 * 3600;

/// The server's VAPID key pair. Never printed.
#[derive(Clone)]
pub struct VapidKey {
    signing: SigningKey,
    /// The public key, base64url of the uncompressed point: what browsers
    /// pass as `applicationServerKey` and what `k=` carries.
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VapidKey(public {})", self.public)
    }
}

impl VapidKey {
    /// The key pair of a 32-byte private scalar.
    pub fn from_scalar(scalar: &[u8; 32]) -> Result<Self, EceError> {
        let secret = SecretKey::from_slice(scalar).map_err(|_| EceError::InvalidScalar)?;
        Ok(Self::from_secret(&secret))
    }

    fn from_secret(secret: &SecretKey) -> Self {
        let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false));
        Self {
            signing: SigningKey::from(secret),
            public,
        }
    }

    /// The public key, base64url (uncompressed point, 87 characters).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header value for a push to an endpoint of
    /// `audience` (its origin, [`audience`]), valid until `expires` (Unix
    /// seconds).
    pub fn authorization(&self, audience: &str, subject: &str, expires: i64) -> String {
        const HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;
        let claims = serde_json::json!({"aud": audience, "exp": expires, "sub": subject});
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.signing.sign(signed.as_bytes());
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        format!("vapid t={token}, k={}", self.public)
    }
}

/// The `aud` of a push to `endpoint`: its origin (`https://host[:port]`,
/// the port only when not the scheme's default).
pub fn audience(endpoint: &url::Url) -> String {
    endpoint.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// The RFC 8291 example's sender key pair serves as a known scalar and
    /// point: the public key is that point, base64url.
    #[test]
    fn the_public_key_is_the_uncompressed_point() {
        let scalar: [u8; 32] = b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
            .try_into()
            .unwrap();
        let key = VapidKey::from_scalar(&scalar).unwrap();
        assert_eq!(
            key.public_key(),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        assert!(!format!("{key:?}").contains("yfWP"));
        assert!(VapidKey::from_scalar(&[0; 32]).is_err());
    }

    #[test]
    fn the_token_is_an_es256_jwt_over_the_claims_verifiable_with_k() {
        let key = VapidKey::from_secret(&super::super::ece::random_secret());
        let header = key.authorization(
            "https://push.example.net",
            "mailto:ops@example.com",
            1_800_000_000,
        );
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (token, k) = rest.split_once(", k=").unwrap();
        assert_eq!(k, key.public_key());
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let jwt_header: serde_json::Value = serde_json::from_slice(&b64(parts[0])).unwrap();
        assert_eq!(
            jwt_header,
            serde_json::json!({"typ": "JWT", "alg": "ES256"})
        );
        let claims: serde_json::Value = serde_json::from_slice(&b64(parts[1])).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"aud": "https://push.example.net", "exp": 1_800_000_000, "sub": "mailto:ops@example.com"})
        );
        let verifying = VerifyingKey::from_sec1_bytes(&b64(k)).unwrap();
        let signature = Signature::from_slice(&b64(parts[2])).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(verifying.verify(signed.as_bytes(), &signature).is_ok());
        assert!(verifying.verify(b"something else", &signature).is_err());
    }

    #[test]
    fn the_audience_is_the_endpoints_origin() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            audience(&url("https://fcm.googleapis.com/fcm/send/abc?x=1")),
            "https://fcm.googleapis.com"
        );
        assert_eq!(
            audience(&url("https://push.example:8443/p/1")),
            "https://push.example:8443"
        );
        assert_eq!(
            audience(&url("http://127.0.0.1:9000/s")),
            "http://127.0.0.1:9000"
        );
    }
}
