//! The symmetric channel key: the seed's `sender_key`, one per channel and
//! key version, shared with each member inside a [`crate::SealedShare`].

use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{Error, ObjectKind, Result};
use crate::labels::{HASH_KEY_COMMITMENT, TAG_CHANNEL_KEY, labeled};
use sha2::{Digest, Sha256};

/// A 32-byte channel key, zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ChannelKey([u8; 32]);

impl ChannelKey {
    /// A fresh random key from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        Self::generate_with_rng(&mut rand_core::OsRng)
    }

    /// A fresh key from a caller-supplied RNG (test vectors use a seeded one).
    pub fn generate_with_rng(rng: &mut impl CryptoRngCore) -> Result<Self> {
        let mut k = [0u8; 32];
        rng.try_fill_bytes(&mut k).map_err(|_| Error::Rng)?;
        Ok(ChannelKey(k))
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ChannelKey(bytes)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The commitment to this key as version `key_version` of `channel_id`
    /// in `room_id`: `SHA-256(label || room_id || channel_id || key_version
    /// || key)`. A format-2 share carries it under the sender's signature,
    /// so the key a share opens to is the only one it can open to (AES-GCM
    /// alone does not commit to its key).
    pub fn commitment(&self, room_id: i64, channel_id: i64, key_version: u32) -> [u8; 32] {
        let mut body = Vec::with_capacity(8 + 8 + 4 + 32);
        body.extend_from_slice(&room_id.to_be_bytes());
        body.extend_from_slice(&channel_id.to_be_bytes());
        body.extend_from_slice(&key_version.to_be_bytes());
        body.extend_from_slice(&self.0);
        let hash = Sha256::digest(labeled(HASH_KEY_COMMITMENT, &body));
        body.zeroize();
        hash.into()
    }

    /// The local-storage form: base64url of `0x07 || 0x01 || key (32)`.
    /// Secret: never send it to the server.
    pub fn export(&self) -> Zeroizing<String> {
        let mut w = Writer::new(TAG_CHANNEL_KEY);
        w.bytes(&self.0);
        let bytes = Zeroizing::new(w.finish());
        Zeroizing::new(to_wire(&bytes))
    }

    /// Parses [`ChannelKey::export`].
    pub fn import(s: &str) -> Result<Self> {
        let bytes = Zeroizing::new(from_wire(s)?);
        let mut r = Reader::open(&bytes, TAG_CHANNEL_KEY, ObjectKind::ChannelKey)?;
        let key = r.array::<32>()?;
        r.finish()?;
        Ok(ChannelKey(key))
    }
}

impl core::fmt::Debug for ChannelKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChannelKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_round_trip_and_strictness() {
        let k = ChannelKey::generate().unwrap();
        assert_eq!(ChannelKey::import(&k.export()).unwrap(), k);
        assert!(matches!(
            ChannelKey::import(&to_wire(&[7, 1, 0])),
            Err(Error::Truncated(ObjectKind::ChannelKey))
        ));
        assert!(!format!("{k:?}").contains(&to_wire(k.as_bytes())));
    }
}
