//! Signed prekeys: the X25519 keys that key shares are sealed to, one
//! current per device, replaced on a schedule.
//!
//! A share sealed to a prekey (share format 3) can be opened only with that
//! prekey's private half. A device deletes the private half when it rotates
//! — after opening whatever was sealed to it — so a thief who takes the
//! device's keys later finds nothing that opens an older share. The server
//! keeps each device's current prekey and refuses shares sealed to any
//! other; readers refuse a prekey older than one they already saw for that
//! device, or past its lifetime, so a server cannot replay an old prekey
//! whose private half may have leaked ([`SignedPrekey::check_fresh`]).
//!
//! ```text
//! 0x0B 0x01 | user_id i64 | device_id u64 | prekey_id u32 | created_ms u64
//! | X25519 public [32] | Ed25519 signature by the device [64]
//! ```

use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::device::{DeviceKey, DeviceList, verify_by};
use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{ContextField, Error, ObjectKind, Result};
use crate::labels::{HASH_PREKEY, SIG_PREKEY, TAG_PREKEY, labeled};

/// How often a device replaces its prekey: weekly.
pub const PREKEY_ROTATION_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// The oldest prekey a sender still seals to: two rotations, so a device
/// that was off for a week is still reachable, and one off for longer gets
/// its keys on request when it is back.
pub const PREKEY_MAX_AGE_MS: u64 = 2 * PREKEY_ROTATION_MS;
/// How far in the future a prekey's creation time may lie (clock skew).
pub const PREKEY_MAX_SKEW_MS: u64 = 10 * 60 * 1000;

/// The private half of a prekey, held by its device until the next
/// rotation. Zeroized on drop.
pub struct PrekeySecret {
    prekey_id: u32,
    secret: StaticSecret,
    public: SignedPrekey,
}

impl PrekeySecret {
    /// A new prekey for `device`, numbered `prekey_id` (one more than the
    /// last), made at `created_ms`, and its signed public half.
    pub fn generate(device: &DeviceKey, prekey_id: u32, created_ms: u64) -> Result<Self> {
        Self::generate_with_rng(device, prekey_id, created_ms, &mut rand_core::OsRng)
    }

    /// [`PrekeySecret::generate`] with a caller-supplied RNG (test vectors).
    pub fn generate_with_rng(
        device: &DeviceKey,
        prekey_id: u32,
        created_ms: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(bytes.as_mut()).map_err(|_| Error::Rng)?;
        let secret = StaticSecret::from(*bytes);
        let public_key = XPublicKey::from(&secret).to_bytes();
        let body = body(
            device.user_id(),
            device.device_id(),
            prekey_id,
            created_ms,
            &public_key,
        );
        let signature = device.sign(SIG_PREKEY, &body);
        Ok(PrekeySecret {
            prekey_id,
            secret,
            public: SignedPrekey {
                user_id: device.user_id(),
                device_id: device.device_id(),
                prekey_id,
                created_ms,
                public_key,
                signature,
            },
        })
    }

    /// The signed public half, to publish.
    pub fn public(&self) -> &SignedPrekey {
        &self.public
    }

    /// The prekey's number.
    pub fn prekey_id(&self) -> u32 {
        self.prekey_id
    }

    /// Whether it is time to replace this prekey.
    pub fn needs_rotation(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.public.created_ms) >= PREKEY_ROTATION_MS
    }

    pub(crate) fn secret(&self) -> &StaticSecret {
        &self.secret
    }

    /// The secret export (for the device's own store only): the public
    /// half followed by the 32-byte private key.
    pub fn export(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new(self.public.to_bytes());
        bytes.extend_from_slice(self.secret.as_bytes());
        Zeroizing::new(to_wire(&bytes))
    }

    /// Reads [`PrekeySecret::export`]; the private key must match the
    /// signed public key.
    pub fn import(s: &str) -> Result<Self> {
        let bytes = Zeroizing::new(from_wire(s)?);
        let split = bytes.len().saturating_sub(32);
        let public = SignedPrekey::from_bytes(&bytes[..split])?;
        let mut raw = Zeroizing::new([0u8; 32]);
        if bytes.len() - split != 32 {
            return Err(Error::Truncated(ObjectKind::Prekey));
        }
        raw.copy_from_slice(&bytes[split..]);
        let secret = StaticSecret::from(*raw);
        if XPublicKey::from(&secret).to_bytes() != public.public_key {
            return Err(Error::InvalidField {
                object: ObjectKind::Prekey,
                reason: "private key does not match the public key",
            });
        }
        Ok(PrekeySecret {
            prekey_id: public.prekey_id,
            secret,
            public,
        })
    }
}

impl core::fmt::Debug for PrekeySecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PrekeySecret")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The public half of a prekey, signed by its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPrekey {
    user_id: i64,
    device_id: u64,
    prekey_id: u32,
    created_ms: u64,
    public_key: [u8; 32],
    signature: [u8; 64],
}

impl SignedPrekey {
    /// Parses the binary form (structure only; see [`SignedPrekey::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, TAG_PREKEY, ObjectKind::Prekey)?;
        let prekey = SignedPrekey {
            user_id: r.i64()?,
            device_id: r.u64()?,
            prekey_id: r.u32()?,
            created_ms: r.u64()?,
            public_key: r.array()?,
            signature: r.array()?,
        };
        r.finish()?;
        Ok(prekey)
    }

    /// Parses the wire form and verifies it against the person's verified
    /// device list: the device must be listed and must have signed it.
    pub fn parse_for(s: &str, devices: &DeviceList) -> Result<Self> {
        let prekey = Self::from_bytes(&from_wire(s)?)?;
        prekey.verify(devices)?;
        Ok(prekey)
    }

    /// Verifies the prekey against `devices`, the owner's list as verified
    /// under their pinned identity.
    pub fn verify(&self, devices: &DeviceList) -> Result<()> {
        if devices.user_id() != self.user_id {
            return Err(Error::ContextMismatch {
                field: ContextField::UserId,
            });
        }
        let device = devices.device(self.device_id)?;
        let body = body(
            self.user_id,
            self.device_id,
            self.prekey_id,
            self.created_ms,
            &self.public_key,
        );
        verify_by(
            device,
            SIG_PREKEY,
            &body,
            &self.signature,
            ObjectKind::Prekey,
        )?;
        let point = XPublicKey::from(self.public_key);
        if StaticSecret::from([1u8; 32])
            .diffie_hellman(&point)
            .was_contributory()
        {
            Ok(())
        } else {
            Err(Error::InvalidPublicKey)
        }
    }

    /// Refuses a prekey that a sender must not seal to at `now_ms`: one
    /// older than `newest_seen` (the newest prekey of this device the reader
    /// verified before, as `(prekey_id, created_ms)`) — a replay of a key
    /// whose private half may be gone or stolen — one past
    /// [`PREKEY_MAX_AGE_MS`], or one made in the future.
    pub fn check_fresh(&self, now_ms: u64, newest_seen: Option<(u32, u64)>) -> Result<()> {
        let stale = |reason| {
            Err(Error::StalePrekey {
                prekey_id: self.prekey_id,
                reason,
            })
        };
        if let Some((id, created)) = newest_seen
            && (self.prekey_id < id || self.created_ms < created)
        {
            return stale("older than a prekey already seen for this device");
        }
        if self.created_ms > now_ms.saturating_add(PREKEY_MAX_SKEW_MS) {
            return stale("made in the future");
        }
        if now_ms.saturating_sub(self.created_ms) > PREKEY_MAX_AGE_MS {
            return stale("past its lifetime");
        }
        Ok(())
    }

    /// The digest a share sealed to this prekey names:
    /// `SHA-256(label(HASH_PREKEY) || prekey bytes)`.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(labeled(HASH_PREKEY, &self.to_bytes())).into()
    }

    /// The person.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The device.
    pub fn device_id(&self) -> u64 {
        self.device_id
    }

    /// The prekey's number (grows with each rotation).
    pub fn prekey_id(&self) -> u32 {
        self.prekey_id
    }

    /// When the device made it (milliseconds since the epoch).
    pub fn created_ms(&self) -> u64 {
        self.created_ms
    }

    /// The X25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = body(
            self.user_id,
            self.device_id,
            self.prekey_id,
            self.created_ms,
            &self.public_key,
        );
        out.extend_from_slice(&self.signature);
        out
    }

    /// The wire string (base64url).
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }
}

fn body(
    user_id: i64,
    device_id: u64,
    prekey_id: u32,
    created_ms: u64,
    public_key: &[u8; 32],
) -> Vec<u8> {
    let mut w = Writer::new(TAG_PREKEY);
    w.i64(user_id)
        .u64(device_id)
        .u32(prekey_id)
        .u64(created_ms)
        .bytes(public_key);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    const NOW: u64 = 1_800_000_000_000;

    fn device() -> (Identity, DeviceKey, DeviceList) {
        let id = Identity::generate(4).unwrap();
        let dev = DeviceKey::generate(4).unwrap();
        let list = DeviceList::sign(&id, 1, NOW, &[dev.entry()]).unwrap();
        (id, dev, list)
    }

    #[test]
    fn a_prekey_verifies_only_from_a_listed_device() {
        let (id, dev, list) = device();
        let pk = PrekeySecret::generate(&dev, 1, NOW).unwrap();
        let parsed = SignedPrekey::parse_for(&pk.public().to_wire(), &list).unwrap();
        assert_eq!(&parsed, pk.public());

        // A device the identity never listed: its prekeys are refused.
        let rogue = DeviceKey::generate(4).unwrap();
        let rogue_pk = PrekeySecret::generate(&rogue, 1, NOW).unwrap();
        assert_eq!(
            rogue_pk.public().verify(&list),
            Err(Error::UnknownDevice {
                device_id: rogue.device_id()
            })
        );
        // Once revoked (a newer list without it), the device's prekeys are refused.
        let other = DeviceKey::generate(4).unwrap();
        let after = DeviceList::sign(&id, 2, NOW, &[other.entry()]).unwrap();
        assert!(pk.public().verify(&after).is_err());
    }

    #[test]
    fn a_replayed_or_expired_prekey_is_refused() {
        let (_, dev, _) = device();
        let old = PrekeySecret::generate(&dev, 1, NOW).unwrap();
        let new = PrekeySecret::generate(&dev, 2, NOW + PREKEY_ROTATION_MS).unwrap();
        let later = NOW + PREKEY_ROTATION_MS + 1;
        assert!(new.public().check_fresh(later, Some((1, NOW))).is_ok());
        assert!(matches!(
            old.public()
                .check_fresh(later, Some((2, NOW + PREKEY_ROTATION_MS))),
            Err(Error::StalePrekey { prekey_id: 1, .. })
        ));
        assert!(matches!(
            old.public().check_fresh(NOW + PREKEY_MAX_AGE_MS + 1, None),
            Err(Error::StalePrekey { .. })
        ));
        assert!(matches!(
            new.public().check_fresh(NOW, None),
            Err(Error::StalePrekey { .. })
        ));
        assert!(old.needs_rotation(NOW + PREKEY_ROTATION_MS));
        assert!(!old.needs_rotation(NOW + 1));
    }

    #[test]
    fn secrets_export_and_import_and_a_mismatched_secret_is_refused() {
        let (_, dev, _) = device();
        let pk = PrekeySecret::generate(&dev, 9, NOW).unwrap();
        let back = PrekeySecret::import(&pk.export()).unwrap();
        assert_eq!(back.public(), pk.public());
        let other = PrekeySecret::generate(&dev, 9, NOW).unwrap();
        let mut bytes = from_wire(&pk.export()).unwrap();
        let n = bytes.len();
        bytes[n - 32..].copy_from_slice(other.secret.as_bytes());
        assert!(PrekeySecret::import(&to_wire(&bytes)).is_err());
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let (_, dev, list) = device();
        let bytes = PrekeySecret::generate(&dev, 1, NOW)
            .unwrap()
            .public()
            .to_bytes();
        for i in 0..bytes.len() * 8 {
            let mut m = bytes.clone();
            m[i / 8] ^= 1 << (i % 8);
            let ok = SignedPrekey::from_bytes(&m).and_then(|p| p.verify(&list));
            assert!(ok.is_err(), "bit {i}");
        }
    }
}
