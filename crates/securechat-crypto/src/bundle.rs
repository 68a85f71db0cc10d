//! The public key bundle: what `GET /api/users/<id>/public_key` returns as
//! `public_key`, and what `PUT /api/users/me/public_key` stores.
//!
//! A bundle binds a server user id to an Ed25519 verifying key and an X25519
//! public key, self-signed by the Ed25519 key. The self-signature proves
//! possession and makes the binding to the user id tamper-evident; it does
//! not prove the server served the right bundle — that is what pinning
//! ([`PublicBundle::fingerprint`]) and safety numbers ([`crate::safety`]) are for.
//!
//! Wire form: base64url of
//! `0x01 || 0x01 || user_id (i64 BE) || ed25519 public (32) || x25519 public (32) || signature (64)`,
//! 138 bytes, 184 characters.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{ContextField, Error, ObjectKind, Result};
use crate::identity::Identity;
use crate::labels::{HASH_BUNDLE, SIG_BUNDLE, TAG_BUNDLE, labeled};

/// A verified public key bundle. Values of this type only exist for bundles
/// whose self-signature verified, so holding one is proof of that check.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicBundle {
    user_id: i64,
    signing: VerifyingKey,
    agreement: [u8; 32],
    signature: [u8; 64],
}

impl PublicBundle {
    pub(crate) fn create(identity: &Identity) -> Self {
        let user_id = identity.user_id();
        let signing_bytes = identity.signing_public();
        let agreement = identity.agreement_public();
        let body = unsigned_body(user_id, &signing_bytes, &agreement);
        let signature = identity.sign(SIG_BUNDLE, &body);
        // The verifying key comes from our own signing key, so it is valid.
        let signing = VerifyingKey::from_bytes(&signing_bytes).unwrap_or_default();
        PublicBundle {
            user_id,
            signing,
            agreement,
            signature,
        }
    }

    /// Parses and verifies a bundle from its binary form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, TAG_BUNDLE, ObjectKind::Bundle)?;
        let user_id = r.i64()?;
        let signing_bytes = r.array::<32>()?;
        let agreement = r.array::<32>()?;
        let signature = r.array::<64>()?;
        r.finish()?;
        let signing = parse_verifying_key(&signing_bytes)?;
        let body = unsigned_body(user_id, &signing_bytes, &agreement);
        verify(&signing, SIG_BUNDLE, &body, &signature, ObjectKind::Bundle)?;
        Ok(PublicBundle {
            user_id,
            signing,
            agreement,
            signature,
        })
    }

    /// Parses and verifies a bundle from its wire string.
    pub fn parse(s: &str) -> Result<Self> {
        Self::from_bytes(&from_wire(s)?)
    }

    /// Parses a bundle and checks that it is bound to `user_id`. Use this on
    /// everything the server returns for `/api/users/<user_id>/public_key`.
    pub fn parse_for(s: &str, user_id: i64) -> Result<Self> {
        let bundle = Self::parse(s)?;
        if bundle.user_id != user_id {
            return Err(Error::ContextMismatch {
                field: ContextField::UserId,
            });
        }
        Ok(bundle)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_BUNDLE);
        w.i64(self.user_id)
            .bytes(self.signing.as_bytes())
            .bytes(&self.agreement)
            .bytes(&self.signature);
        w.finish()
    }

    /// The wire string (the `public_key` field).
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }

    /// The user id this bundle is bound to.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The Ed25519 verifying key.
    pub fn signing_key(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The X25519 public key.
    pub fn agreement_key(&self) -> [u8; 32] {
        self.agreement
    }

    /// A 32-byte digest of the bound identity (user id and both keys), used
    /// for pinning (trust on first use) and inside key shares to name the
    /// exact recipient key. Two bundles with the same fingerprint carry the
    /// same keys for the same user.
    pub fn fingerprint(&self) -> [u8; 32] {
        let body = unsigned_body(self.user_id, self.signing.as_bytes(), &self.agreement);
        Sha256::digest(labeled(HASH_BUNDLE, &body)).into()
    }

    /// Verifies a signature made by this bundle's owner under `label`.
    pub(crate) fn verify(
        &self,
        label: &[u8],
        body: &[u8],
        signature: &[u8; 64],
        kind: ObjectKind,
    ) -> Result<()> {
        verify(&self.signing, label, body, signature, kind)
    }
}

impl core::fmt::Debug for PublicBundle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PublicBundle")
            .field("user_id", &self.user_id)
            .field("fingerprint", &to_wire(&self.fingerprint()))
            .finish()
    }
}

fn unsigned_body(user_id: i64, signing: &[u8; 32], agreement: &[u8; 32]) -> Vec<u8> {
    let mut w = Writer::new(TAG_BUNDLE);
    w.i64(user_id).bytes(signing).bytes(agreement);
    w.finish()
}

/// Rejects encodings that are not curve points and small-order ("weak") keys,
/// for which signatures can be forged trivially.
pub(crate) fn parse_verifying_key(bytes: &[u8; 32]) -> Result<VerifyingKey> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| Error::InvalidPublicKey)?;
    if key.is_weak() {
        return Err(Error::InvalidPublicKey);
    }
    Ok(key)
}

/// Strict Ed25519 verification (rejects non-canonical and malleable
/// signatures), over the labeled message.
pub(crate) fn verify(
    key: &VerifyingKey,
    label: &[u8],
    body: &[u8],
    signature: &[u8; 64],
    kind: ObjectKind,
) -> Result<()> {
    let sig = Signature::from_bytes(signature);
    key.verify_strict(&labeled(label, body), &sig)
        .map_err(|_| Error::BadSignature(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let id = Identity::generate(5).unwrap();
        let wire = id.bundle().to_wire();
        assert_eq!(wire.len(), 184);
        let b = PublicBundle::parse_for(&wire, 5).unwrap();
        assert_eq!(b, id.bundle());
        assert_eq!(
            PublicBundle::parse_for(&wire, 6),
            Err(Error::ContextMismatch {
                field: ContextField::UserId
            })
        );
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let bytes = Identity::generate(9).unwrap().bundle().to_bytes();
        for i in 0..bytes.len() * 8 {
            let mut m = bytes.clone();
            m[i / 8] ^= 1 << (i % 8);
            assert!(PublicBundle::from_bytes(&m).is_err(), "bit {i}");
        }
    }

    #[test]
    fn user_id_cannot_be_rebound() {
        let mut bytes = Identity::generate(9).unwrap().bundle().to_bytes();
        bytes[9] = 10;
        assert_eq!(
            PublicBundle::from_bytes(&bytes),
            Err(Error::BadSignature(ObjectKind::Bundle))
        );
    }

    #[test]
    fn weak_signing_key_is_rejected() {
        // The identity point is a small-order key; it must never verify.
        let mut bytes = Identity::generate(9).unwrap().bundle().to_bytes();
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        bytes[10..42].copy_from_slice(&identity_point);
        assert_eq!(
            PublicBundle::from_bytes(&bytes),
            Err(Error::InvalidPublicKey)
        );
    }
}
