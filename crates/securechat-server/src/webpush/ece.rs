//! Web Push payload encryption: RFC 8291 (message encryption for Web Push)
//! over RFC 8188's `aes128gcm` content coding. Pure: no I/O, and the
//! per-message randomness (an ephemeral key pair and a salt) is an argument,
//! so the RFCs' worked examples can be reproduced byte for byte.
//!
//! The key agreement is ring's (its P-256 is about three times faster than
//! the pure-Rust `p256` here, and a push costs one agreement); ring's
//! ephemeral keys cannot be made from fixed bytes, so the RFC examples run
//! the same derivation after a `p256` agreement (tests only), and the
//! server tests decrypt real pushes with an independent implementation.
//!
//! This lives in the server, not in `securechat-crypto`: only the server
//! encrypts pushes (the browser's own push stack decrypts them before the
//! service worker sees a byte), and the crypto crate is what every client
//! links, compiled to WebAssembly for each page load, where P-256 would be
//! dead weight. It is also not end-to-end encryption: the server writes the
//! plaintext itself, and for encrypted channels that plaintext holds only
//! ids (see [`super::payload`]); it keeps the push service from reading what
//! it carries.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::{PublicKey, SecretKey};
use ring::agreement::{self, ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey};
use ring::rand::SystemRandom;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Length of a subscription's authentication secret (`keys.auth`).
pub const AUTH_LEN: usize = 16;
/// Length of an uncompressed P-256 point (`keys.p256dh`, the VAPID key).
pub const POINT_LEN: usize = 65;
/// The record size written: push services accept bodies of 4096 bytes.
const RECORD_SIZE: u32 = 4096;
/// The header of an RFC 8291 body: salt, record size, key id length and
/// the sender's 65-byte public key as the key id.
const HEADER_LEN: usize = 16 + 4 + 1 + POINT_LEN;
/// AES-GCM tag and the one-byte last-record delimiter.
const RECORD_OVERHEAD: usize = 16 + 1;
/// The largest plaintext one push carries (RFC 8291 §4: 3993 bytes).
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - HEADER_LEN - RECORD_OVERHEAD;

/// Why a payload could not be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EceError {
    #[error("p256dh must be an uncompressed P-256 point (65 bytes starting with 0x04)")]
    InvalidPublicKey,
    #[error("auth must be exactly {AUTH_LEN} bytes")]
    InvalidAuth,
    #[error("a scalar must be 32 bytes, nonzero and below the group order")]
    InvalidScalar,
    #[error("the payload is larger than one {RECORD_SIZE}-byte record")]
    TooLarge,
    #[error("AES-GCM refused the record")]
    Cipher,
}

/// A subscription's keys, checked: the browser's public key and the
/// authentication secret it shares with us.
#[derive(Clone)]
pub struct UaKeys {
    public_bytes: [u8; POINT_LEN],
    auth: [u8; AUTH_LEN],
}

impl UaKeys {
    /// `p256dh` and `auth` as decoded from `PushSubscription.toJSON()`.
    pub fn parse(p256dh: &[u8], auth: &[u8]) -> Result<Self, EceError> {
        let public_bytes = uncompressed_point(p256dh)?;
        let auth: [u8; AUTH_LEN] = auth.try_into().map_err(|_| EceError::InvalidAuth)?;
        Ok(Self { public_bytes, auth })
    }
}

/// 65 bytes beginning with 0x04 (the only form RFC 8291 uses), else an error.
pub fn uncompressed_point(bytes: &[u8]) -> Result<[u8; POINT_LEN], EceError> {
    let point: [u8; POINT_LEN] = bytes.try_into().map_err(|_| EceError::InvalidPublicKey)?;
    if point[0] != 0x04 || PublicKey::from_sec1_bytes(&point).is_err() {
        return Err(EceError::InvalidPublicKey);
    }
    Ok(point)
}

/// The per-message randomness of the sender: an ephemeral P-256 key pair
/// and a 16-byte salt. [`encrypt`] consumes it, so a key pair serves one
/// message only.
pub struct Ephemeral {
    key: EphemeralPrivateKey,
    public: [u8; POINT_LEN],
    salt: [u8; 16],
}

impl Ephemeral {
    /// Fresh values from the operating system's generator.
    pub fn random() -> Result<Self, EceError> {
        let rng = SystemRandom::new();
        let key = EphemeralPrivateKey::generate(&ECDH_P256, &rng).map_err(|_| EceError::Cipher)?;
        let public = key
            .compute_public_key()
            .map_err(|_| EceError::Cipher)?
            .as_ref()
            .try_into()
            .map_err(|_| EceError::Cipher)?;
        let mut salt = [0u8; 16];
        rand::fill(&mut salt[..]);
        Ok(Self { key, public, salt })
    }
}

/// A uniformly random P-256 secret key. A 32-byte string is a valid scalar
/// unless it is zero or not below the group order (chance below 2^-32), in
/// which case another is drawn.
pub fn random_secret() -> SecretKey {
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::fill(&mut bytes[..]);
        if let Ok(secret) = SecretKey::from_slice(&bytes[..]) {
            return secret;
        }
    }
}

/// Encrypts `plaintext` for the subscription `ua` (RFC 8291 §3.4): the body
/// of the push request, sent with `Content-Encoding: aes128gcm`.
pub fn encrypt(ua: &UaKeys, sender: Ephemeral, plaintext: &[u8]) -> Result<Vec<u8>, EceError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EceError::TooLarge);
    }
    let Ephemeral { key, public, salt } = sender;
    let peer = UnparsedPublicKey::new(&ECDH_P256, &ua.public_bytes);
    let shared = agreement::agree_ephemeral(key, &peer, |shared| {
        <[u8; 32]>::try_from(shared).map(Zeroizing::new)
    })
    .map_err(|_| EceError::InvalidPublicKey)?
    .map_err(|_| EceError::Cipher)?;
    seal(ua, &public, &shared[..], &salt, plaintext)
}

/// RFC 8291 §3.3–3.4 after the key agreement: the input keying material
/// from the shared secret, bound to both public keys and the subscription's
/// authentication secret, then one `aes128gcm` record.
fn seal(
    ua: &UaKeys,
    sender_public: &[u8; POINT_LEN],
    shared: &[u8],
    salt: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, EceError> {
    // key_info = "WebPush: info" || 0x00 || ua_public || as_public
    let mut info = Vec::with_capacity(14 + 2 * POINT_LEN);
    info.extend_from_slice(b"WebPush: info\0");
    info.extend_from_slice(&ua.public_bytes);
    info.extend_from_slice(sender_public);
    let mut ikm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&ua.auth), shared)
        .expand(&info, &mut ikm[..])
        .map_err(|_| EceError::Cipher)?;
    aes128gcm(&ikm[..], salt, sender_public, plaintext)
}

/// RFC 8188 `aes128gcm` with one record of [`RECORD_SIZE`]: the header
/// (salt, record size, `keyid`), then the plaintext with the last-record
/// delimiter, sealed under the key and nonce derived from `ikm` and `salt`.
fn aes128gcm(
    ikm: &[u8],
    salt: &[u8; 16],
    keyid: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, EceError> {
    let id_len = u8::try_from(keyid.len()).map_err(|_| EceError::TooLarge)?;
    if plaintext.len() + RECORD_OVERHEAD > RECORD_SIZE as usize {
        return Err(EceError::TooLarge);
    }
    let (cek, nonce) = content_keys(ikm, salt)?;
    let mut record = Zeroizing::new(Vec::with_capacity(plaintext.len() + 1));
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let sealed = Aes128Gcm::new_from_slice(&cek[..])
        .map_err(|_| EceError::Cipher)?
        .encrypt(Nonce::from_slice(&nonce[..]), record.as_slice())
        .map_err(|_| EceError::Cipher)?;
    let mut body = Vec::with_capacity(21 + keyid.len() + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(id_len);
    body.extend_from_slice(keyid);
    body.extend_from_slice(&sealed);
    Ok(body)
}

type ContentKeys = (Zeroizing<[u8; 16]>, Zeroizing<[u8; 12]>);

/// RFC 8188 §2.2–2.3: the content-encryption key and the nonce of record 0.
fn content_keys(ikm: &[u8], salt: &[u8; 16]) -> Result<ContentKeys, EceError> {
    let prk = Hkdf::<Sha256>::new(Some(salt), ikm);
    let mut cek = Zeroizing::new([0u8; 16]);
    let mut nonce = Zeroizing::new([0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek[..])
        .map_err(|_| EceError::Cipher)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce[..])
        .map_err(|_| EceError::Cipher)?;
    Ok((cek, nonce))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// RFC 8188 §3.1: "I am the walrus", one record, an empty key id.
    #[test]
    fn rfc_8188_example_encrypts_to_the_published_bytes() {
        let ikm = b64("yqdlZ-tYemfogSmv7Ws5PQ");
        let salt: [u8; 16] = b64("I1BsxtFttlv3u_Oo94xnmw").try_into().unwrap();
        let (cek, nonce) = content_keys(&ikm, &salt).unwrap();
        assert_eq!(&cek[..], b64("_wniytB-ofscZDh4tbSjHw"));
        assert_eq!(&nonce[..], b64("Bcs8gkIRKLI8GeI8"));
        let body = aes128gcm(&ikm, &salt, b"", b"I am the walrus").unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg"
        );
    }

    /// RFC 8291 Appendix A: fixed sender key, salt, subscription keys and
    /// text give exactly the published push message body. ring makes no
    /// key from fixed bytes, so the agreement here is `p256`'s; the rest is
    /// what [`encrypt`] runs.
    #[test]
    fn rfc_8291_appendix_a_encrypts_to_the_published_body() {
        let as_private =
            SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let ua = UaKeys::parse(
            &b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            &b64("BTBZMqHH6r4Tts7J_aSIgg"),
        )
        .unwrap();
        let as_public: [u8; POINT_LEN] = as_private
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .try_into()
            .unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(as_public),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        let ua_public = PublicKey::from_sec1_bytes(&ua.public_bytes).unwrap();
        let shared =
            p256::ecdh::diffie_hellman(as_private.to_nonzero_scalar(), ua_public.as_affine());
        let body = seal(
            &ua,
            &as_public,
            shared.raw_secret_bytes(),
            &salt,
            b"When I grow up, I want to be a watermelon",
        )
        .unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    /// What [`encrypt`] sends decrypts with the subscription's private key
    /// (RFC 8291 §3.4 from the receiving side, with `p256`): ring's
    /// agreement and the derivation agree.
    #[test]
    fn a_push_decrypts_with_the_subscriptions_private_key() {
        let ua_secret = random_secret();
        let ua_point = ua_secret.public_key().to_encoded_point(false);
        let ua = UaKeys::parse(ua_point.as_bytes(), &[9u8; AUTH_LEN]).unwrap();
        let body = encrypt(&ua, Ephemeral::random().unwrap(), b"ids only").unwrap();
        let salt: [u8; 16] = body[..16].try_into().unwrap();
        let as_public: [u8; POINT_LEN] = body[21..21 + POINT_LEN].try_into().unwrap();
        let sender = PublicKey::from_sec1_bytes(&as_public).unwrap();
        let shared = p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), sender.as_affine());
        let again = seal(
            &ua,
            &as_public,
            shared.raw_secret_bytes(),
            &salt,
            b"ids only",
        )
        .unwrap();
        // The same keys, salt and text seal to the same bytes: the receiver
        // derives the sender's content key.
        assert_eq!(body, again);
    }

    #[test]
    fn fresh_randomness_differs_and_sizes_are_bounded() {
        let ua_secret = random_secret();
        let point = ua_secret.public_key().to_encoded_point(false);
        let ua = UaKeys::parse(point.as_bytes(), &[7u8; AUTH_LEN]).unwrap();
        let a = encrypt(&ua, Ephemeral::random().unwrap(), b"hello").unwrap();
        let b = encrypt(&ua, Ephemeral::random().unwrap(), b"hello").unwrap();
        assert_ne!(a[..16], b[..16], "salts repeat");
        assert_ne!(a, b);
        assert_eq!(a.len(), HEADER_LEN + 5 + RECORD_OVERHEAD);
        let largest = encrypt(&ua, Ephemeral::random().unwrap(), &[b'x'; MAX_PLAINTEXT]).unwrap();
        assert_eq!(largest.len(), RECORD_SIZE as usize);
        assert_eq!(
            encrypt(
                &ua,
                Ephemeral::random().unwrap(),
                &[b'x'; MAX_PLAINTEXT + 1]
            )
            .err(),
            Some(EceError::TooLarge)
        );
    }

    #[test]
    fn malformed_subscription_keys_are_refused() {
        let point = random_secret().public_key().to_encoded_point(false);
        let good = point.as_bytes().to_vec();
        let compressed = random_secret().public_key().to_encoded_point(true);
        let mut off_curve = good.clone();
        off_curve[64] ^= 1;
        let mut wrong_tag = good.clone();
        wrong_tag[0] = 0x05;
        for bad in [
            &[][..],
            compressed.as_bytes(),
            &off_curve,
            &wrong_tag,
            &good[..64],
            &[0u8; POINT_LEN],
        ] {
            assert_eq!(
                UaKeys::parse(bad, &[0; AUTH_LEN])
                    .err()
                    .map(|e| e.to_string()),
                Some(EceError::InvalidPublicKey.to_string())
            );
        }
        assert!(matches!(
            UaKeys::parse(&good, &[0; 15]),
            Err(EceError::InvalidAuth)
        ));
        assert!(matches!(
            UaKeys::parse(&good, &[0; 17]),
            Err(EceError::InvalidAuth)
        ));
    }
}
