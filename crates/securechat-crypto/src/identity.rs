//! A user's long-term identity: an Ed25519 signing key and an X25519
//! key-agreement key, bound to the server's integer user id.
//!
//! Two keys rather than one converted key: using one Ed25519 key for both
//! signing and Diffie-Hellman (via the birational map) is sound in theory but
//! mixes purposes; separate keys keep each primitive in its textbook use and
//! cost 32 bytes. Both secrets are zeroized when the identity is dropped.

use ed25519_dalek::{Signer, SigningKey};
use rand_core::CryptoRngCore;
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::bundle::PublicBundle;
use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{ObjectKind, Result};
use crate::labels::{TAG_IDENTITY, labeled};

/// A user's secret identity. Never sent anywhere except inside a
/// passphrase-sealed [`crate::Backup`].
pub struct Identity {
    user_id: i64,
    signing: SigningKey,
    agreement: StaticSecret,
}

impl Identity {
    /// Generates a fresh identity for `user_id` from the operating system's RNG.
    pub fn generate(user_id: i64) -> Result<Self> {
        Self::generate_with_rng(user_id, &mut rand_core::OsRng)
    }

    /// Generates an identity from a caller-supplied RNG. Production code
    /// should call [`Identity::generate`]; this entry point exists so test
    /// vectors can be reproduced from a fixed seed.
    pub fn generate_with_rng(user_id: i64, rng: &mut impl CryptoRngCore) -> Result<Self> {
        let mut sign_seed = Zeroizing::new([0u8; 32]);
        let mut dh_secret = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(sign_seed.as_mut())
            .map_err(|_| crate::Error::Rng)?;
        rng.try_fill_bytes(dh_secret.as_mut())
            .map_err(|_| crate::Error::Rng)?;
        Ok(Self::from_secrets(user_id, &sign_seed, &dh_secret))
    }

    /// Builds an identity from its two 32-byte secrets.
    pub fn from_secrets(
        user_id: i64,
        signing_seed: &[u8; 32],
        agreement_secret: &[u8; 32],
    ) -> Self {
        Identity {
            user_id,
            signing: SigningKey::from_bytes(signing_seed),
            agreement: StaticSecret::from(*agreement_secret),
        }
    }

    /// The server user id this identity belongs to.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The self-signed public bundle to publish (`PUT /api/users/me/public_key`).
    pub fn bundle(&self) -> PublicBundle {
        PublicBundle::create(self)
    }

    pub(crate) fn signing_public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub(crate) fn agreement_public(&self) -> [u8; 32] {
        XPublicKey::from(&self.agreement).to_bytes()
    }

    pub(crate) fn agreement_secret(&self) -> &StaticSecret {
        &self.agreement
    }

    /// Signs `body` under a purpose label (see [`crate::labels`]).
    pub(crate) fn sign(&self, label: &[u8], body: &[u8]) -> [u8; 64] {
        self.signing.sign(&labeled(label, body)).to_bytes()
    }

    /// Serializes the secret identity. The result is secret: store it only
    /// in the local key store or seal it with [`crate::Backup::seal`].
    ///
    /// Format: `0x06 || 0x01 || user_id (i64) || ed25519 seed (32) || x25519 secret (32)`.
    pub fn export_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut seed = self.signing.to_bytes();
        let mut dh = self.agreement.to_bytes();
        let mut w = Writer::new(TAG_IDENTITY);
        w.i64(self.user_id).bytes(&seed).bytes(&dh);
        seed.zeroize();
        dh.zeroize();
        Zeroizing::new(w.finish())
    }

    /// [`Identity::export_bytes`] as an unpadded base64url string.
    pub fn export(&self) -> Zeroizing<String> {
        Zeroizing::new(to_wire(&self.export_bytes()))
    }

    /// Parses [`Identity::export_bytes`].
    pub fn import_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, TAG_IDENTITY, ObjectKind::IdentityExport)?;
        let user_id = r.i64()?;
        let seed = Zeroizing::new(r.array::<32>()?);
        let dh = Zeroizing::new(r.array::<32>()?);
        r.finish()?;
        Ok(Self::from_secrets(user_id, &seed, &dh))
    }

    /// Parses [`Identity::export`].
    pub fn import(s: &str) -> Result<Self> {
        let bytes = Zeroizing::new(from_wire(s)?);
        Self::import_bytes(&bytes)
    }
}

impl core::fmt::Debug for Identity {
    /// Shows only public parts, so an identity in a log line leaks nothing.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("user_id", &self.user_id)
            .field(
                "signing_public",
                &crate::encoding::to_wire(&self.signing_public()),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn export_import_round_trip() {
        let id = Identity::generate_with_rng(42, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
        let back = Identity::import(&id.export()).unwrap();
        assert_eq!(back.user_id(), 42);
        assert_eq!(back.signing_public(), id.signing_public());
        assert_eq!(back.agreement_public(), id.agreement_public());
    }

    #[test]
    fn import_rejects_other_objects_and_lengths() {
        let id = Identity::generate(7).unwrap();
        let mut bytes = id.export_bytes().to_vec();
        bytes.push(0);
        assert!(matches!(
            Identity::import_bytes(&bytes),
            Err(crate::Error::TrailingBytes(_))
        ));
        bytes[0] = 0x01;
        assert!(matches!(
            Identity::import_bytes(&bytes),
            Err(crate::Error::WrongObjectType { .. })
        ));
    }

    #[test]
    fn debug_does_not_print_secrets() {
        let id = Identity::generate(1).unwrap();
        let seed = to_wire(&id.signing.to_bytes());
        assert!(!format!("{id:?}").contains(&seed));
    }
}
