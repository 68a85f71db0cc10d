//! Key derivations and the AEAD wrapper.
//!
//! Public so that test vectors can pin every intermediate value and an
//! independent implementation can check itself against them. Every
//! derivation is HKDF-SHA256 with a purpose label and the full object header
//! in `info`, so a key derived for one channel, version, sender or purpose is
//! unrelated to the key of any other.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, ObjectKind, Result};
use crate::labels::{KDF_MESSAGE, KDF_SHARE, labeled};

/// An AES-256-GCM key and the 96-bit nonce derived with it. Each derived key
/// is used for exactly one encryption, so a derived nonce is safe.
pub struct AeadKey {
    /// The AES-256 key (zeroized on drop).
    pub key: Zeroizing<[u8; 32]>,
    /// The GCM nonce.
    pub nonce: [u8; 12],
}

fn derive(salt: &[u8], ikm: &[u8], label: &[u8], context: &[u8]) -> Result<AeadKey> {
    let mut okm = Zeroizing::new([0u8; 44]);
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(&labeled(label, context), okm.as_mut())
        .map_err(|_| Error::InvalidField {
            object: ObjectKind::Share,
            reason: "hkdf output length",
        })?;
    let mut key = Zeroizing::new([0u8; 32]);
    let mut nonce = [0u8; 12];
    // Constant ranges of a fixed-size array: cannot fail.
    key.copy_from_slice(&okm[..32]);
    nonce.copy_from_slice(&okm[32..]);
    Ok(AeadKey { key, nonce })
}

/// Key-encryption key of a share:
/// `HKDF-SHA256(salt = ephemeral_pub || recipient_pub, ikm = X25519(eph, recipient),
/// info = label(KDF_SHARE) || header)`, 44 bytes split into key (32) and nonce (12).
pub fn share_kek(
    shared_secret: &[u8; 32],
    ephemeral_public: &[u8; 32],
    recipient_public: &[u8; 32],
    header: &[u8],
) -> Result<AeadKey> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral_public);
    salt[32..].copy_from_slice(recipient_public);
    derive(&salt, shared_secret, KDF_SHARE, header)
}

/// Per-message key:
/// `HKDF-SHA256(salt = message salt (16), ikm = channel key,
/// info = label(KDF_MESSAGE) || header)`, split into key (32) and nonce (12).
pub fn message_key(channel_key: &[u8; 32], salt: &[u8; 16], header: &[u8]) -> Result<AeadKey> {
    derive(salt, channel_key, KDF_MESSAGE, header)
}

/// Encrypts with AES-256-GCM; the output is `ciphertext || tag (16)`.
pub(crate) fn seal(
    key: &AeadKey,
    aad: &[u8],
    plaintext: &[u8],
    kind: ObjectKind,
) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(key.key.as_ref()).map_err(|_| Error::TooLarge(kind))?;
    cipher
        .encrypt(
            Nonce::from_slice(&key.nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::TooLarge(kind))
}

/// Decrypts and authenticates AES-256-GCM output of [`seal`].
pub(crate) fn open(
    key: &AeadKey,
    aad: &[u8],
    ciphertext: &[u8],
    kind: ObjectKind,
) -> Result<Zeroizing<Vec<u8>>> {
    let cipher =
        Aes256Gcm::new_from_slice(key.key.as_ref()).map_err(|_| Error::DecryptionFailed(kind))?;
    cipher
        .decrypt(
            Nonce::from_slice(&key.nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| Error::DecryptionFailed(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivations_are_separated() {
        let a = message_key(&[1; 32], &[2; 16], b"h").unwrap();
        let b = message_key(&[1; 32], &[2; 16], b"i").unwrap();
        let c = share_kek(&[1; 32], &[2; 32], &[0; 32], b"h").unwrap();
        assert_ne!(*a.key, *b.key);
        assert_ne!(*a.key, *c.key);
        assert_ne!(a.nonce, b.nonce);
    }

    #[test]
    fn seal_open_and_tamper() {
        let k = message_key(&[1; 32], &[2; 16], b"h").unwrap();
        let ct = seal(&k, b"ad", b"hello", ObjectKind::Message).unwrap();
        assert_eq!(
            open(&k, b"ad", &ct, ObjectKind::Message)
                .unwrap()
                .as_slice(),
            b"hello"
        );
        assert!(open(&k, b"ae", &ct, ObjectKind::Message).is_err());
    }
}
