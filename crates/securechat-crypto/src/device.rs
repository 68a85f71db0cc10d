//! Devices: each browser and each key store of a person is a device with its
//! own signing key, and the person's identity signs the list of them.
//!
//! The identity (the [`crate::Identity`] whose bundle contacts pin and whose
//! safety number they compare) stays the one root of trust. A device counts
//! only while it is in the latest [`DeviceList`] the identity signed, so the
//! server, which stores and serves the list, cannot add a device: it cannot
//! sign one. It could serve an *older* list — one from before a revocation —
//! so readers remember the newest version they verified and refuse anything
//! older, or different at the same version ([`DeviceList::check_successor`]).
//!
//! Device list (identity-signed):
//! ```text
//! 0x09 0x01 | user_id i64 | version u64 | issued_ms u64 | count u8 (1..=32)
//! | count × (device_id u64 | device Ed25519 public [32]), ids ascending
//! | Ed25519 signature by the identity [64]
//! ```
//! Device key export (secret, kept in the device's own store):
//! ```text
//! 0x0A 0x01 | user_id i64 | device_id u64 | Ed25519 seed [32]
//! ```

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::bundle::{PublicBundle, parse_verifying_key, verify};
use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{ContextField, Error, ObjectKind, Result};
use crate::identity::Identity;
use crate::labels::{KDF_SEARCH_INDEX, SIG_DEVICE_LIST, TAG_DEVICE_KEY, TAG_DEVICE_LIST, labeled};

/// Most devices one person may have in a list.
pub const MAX_DEVICES: usize = 32;

/// A device's secret signing key. It signs the device's prekeys; the
/// identity signs the device into the person's list.
pub struct DeviceKey {
    user_id: i64,
    device_id: u64,
    signing: SigningKey,
}

impl DeviceKey {
    /// A new device key with a random, non-zero device id.
    pub fn generate(user_id: i64) -> Result<Self> {
        Self::generate_with_rng(user_id, &mut rand_core::OsRng)
    }

    /// [`DeviceKey::generate`] with a caller-supplied RNG (test vectors).
    pub fn generate_with_rng(user_id: i64, rng: &mut impl CryptoRngCore) -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(seed.as_mut()).map_err(|_| Error::Rng)?;
        let mut id = [0u8; 8];
        rng.try_fill_bytes(&mut id).map_err(|_| Error::Rng)?;
        // Ids fit JavaScript's safe integers (53 bits) and are never zero.
        let device_id = (u64::from_be_bytes(id) >> 11).max(1);
        Ok(DeviceKey {
            user_id,
            device_id,
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// The person this device belongs to.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// This device's id.
    pub fn device_id(&self) -> u64 {
        self.device_id
    }

    /// This device's public entry, for the identity to sign into a list.
    pub fn entry(&self) -> DeviceEntry {
        DeviceEntry {
            device_id: self.device_id,
            signing_key: self.signing.verifying_key().to_bytes(),
        }
    }

    pub(crate) fn sign(&self, label: &[u8], body: &[u8]) -> [u8; 64] {
        self.signing.sign(&labeled(label, body)).to_bytes()
    }

    /// The key of this device's local search index (the messages it
    /// decrypted, kept encrypted at rest):
    /// `HKDF-SHA256(salt = none, ikm = the device's secret seed,
    /// info = label(KDF_SEARCH_INDEX) || user_id i64 || device_id u64)`.
    /// Never the seed itself, and unrelated to every other key derived from
    /// it or from anything else; another device of the same person gets
    /// another key, so an index never outlives the device that wrote it.
    pub fn search_index_key(&self) -> Result<Zeroizing<[u8; 32]>> {
        let mut context = [0u8; 16];
        context[..8].copy_from_slice(&self.user_id.to_be_bytes());
        context[8..].copy_from_slice(&self.device_id.to_be_bytes());
        let mut okm = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, self.signing.as_bytes())
            .expand(&labeled(KDF_SEARCH_INDEX, &context), okm.as_mut())
            .map_err(|_| Error::InvalidField {
                object: ObjectKind::DeviceKey,
                reason: "hkdf output length",
            })?;
        Ok(okm)
    }

    /// The secret export (for the device's own key store only).
    pub fn export(&self) -> Zeroizing<String> {
        let mut w = Writer::new(TAG_DEVICE_KEY);
        w.i64(self.user_id)
            .u64(self.device_id)
            .bytes(self.signing.as_bytes());
        let bytes = Zeroizing::new(w.finish());
        Zeroizing::new(to_wire(&bytes))
    }

    /// Reads [`DeviceKey::export`].
    pub fn import(s: &str) -> Result<Self> {
        let bytes = Zeroizing::new(from_wire(s)?);
        let mut r = Reader::open(&bytes, TAG_DEVICE_KEY, ObjectKind::DeviceKey)?;
        let user_id = r.i64()?;
        let device_id = r.u64()?;
        if device_id == 0 || device_id >= 1 << 53 {
            return Err(r.invalid("device id out of range"));
        }
        let seed = Zeroizing::new(r.array::<32>()?);
        r.finish()?;
        Ok(DeviceKey {
            user_id,
            device_id,
            signing: SigningKey::from_bytes(&seed),
        })
    }
}

impl core::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// One device in a list: its id and its public signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceEntry {
    /// The device id (non-zero, below 2⁵³).
    pub device_id: u64,
    /// The device's Ed25519 public key, which signs its prekeys.
    pub signing_key: [u8; 32],
}

impl DeviceEntry {
    pub(crate) fn verifying_key(&self) -> Result<VerifyingKey> {
        parse_verifying_key(&self.signing_key)
    }
}

/// A person's devices, signed by their identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceList {
    user_id: i64,
    version: u64,
    issued_ms: u64,
    devices: Vec<DeviceEntry>,
    signature: [u8; 64],
}

impl DeviceList {
    /// Signs `devices` (in any order; stored ascending by id) as version
    /// `version` of `identity`'s list. Versions must grow with each change.
    pub fn sign(
        identity: &Identity,
        version: u64,
        issued_ms: u64,
        devices: &[DeviceEntry],
    ) -> Result<Self> {
        let mut devices = devices.to_vec();
        devices.sort_by_key(|d| d.device_id);
        check_entries(&devices)?;
        let body = body(identity.user_id(), version, issued_ms, &devices)?;
        let signature = identity.sign(SIG_DEVICE_LIST, &body);
        Ok(DeviceList {
            user_id: identity.user_id(),
            version,
            issued_ms,
            devices,
            signature,
        })
    }

    /// Parses the wire form and verifies it against `identity`, the
    /// person's *pinned* bundle: the list must be theirs and signed by them.
    pub fn parse_for(s: &str, identity: &PublicBundle) -> Result<Self> {
        let list = Self::from_bytes(&from_wire(s)?)?;
        list.verify(identity)?;
        Ok(list)
    }

    /// Parses the binary form (structure only; see [`DeviceList::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, TAG_DEVICE_LIST, ObjectKind::DeviceList)?;
        let user_id = r.i64()?;
        let version = r.u64()?;
        let issued_ms = r.u64()?;
        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_DEVICES {
            return Err(r.invalid("device count"));
        }
        let mut devices = Vec::with_capacity(count);
        for _ in 0..count {
            devices.push(DeviceEntry {
                device_id: r.u64()?,
                signing_key: r.array()?,
            });
        }
        let signature = r.array()?;
        r.finish()?;
        check_entries(&devices)?;
        Ok(DeviceList {
            user_id,
            version,
            issued_ms,
            devices,
            signature,
        })
    }

    /// Verifies the identity's signature.
    pub fn verify(&self, identity: &PublicBundle) -> Result<()> {
        if identity.user_id() != self.user_id {
            return Err(Error::ContextMismatch {
                field: ContextField::UserId,
            });
        }
        let body = body(self.user_id, self.version, self.issued_ms, &self.devices)?;
        identity.verify(
            SIG_DEVICE_LIST,
            &body,
            &self.signature,
            ObjectKind::DeviceList,
        )
    }

    /// Refuses a list that does not succeed `pinned`, the newest list of
    /// the same person this reader verified before: a lower version, or the
    /// same version with other content, is a replay or an equivocation.
    pub fn check_successor(&self, pinned: &DeviceList) -> Result<()> {
        let rollback = Err(Error::DeviceListRollback {
            pinned: pinned.version,
            found: self.version,
        });
        if self.user_id != pinned.user_id {
            return Err(Error::ContextMismatch {
                field: ContextField::UserId,
            });
        }
        if self.version < pinned.version || (self.version == pinned.version && self != pinned) {
            return rollback;
        }
        Ok(())
    }

    /// The device with this id, if the identity listed it.
    pub fn device(&self, device_id: u64) -> Result<&DeviceEntry> {
        self.devices
            .iter()
            .find(|d| d.device_id == device_id)
            .ok_or(Error::UnknownDevice { device_id })
    }

    /// Every listed device, ascending by id.
    pub fn devices(&self) -> &[DeviceEntry] {
        &self.devices
    }

    /// The person the list belongs to.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The list's version (grows with every signed change).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// When the signer says it made the list (milliseconds since the epoch).
    pub fn issued_ms(&self) -> u64 {
        self.issued_ms
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        // The entries were checked when the list was made or parsed.
        let mut out =
            body(self.user_id, self.version, self.issued_ms, &self.devices).unwrap_or_default();
        out.extend_from_slice(&self.signature);
        out
    }

    /// The wire string (base64url).
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }
}

fn check_entries(devices: &[DeviceEntry]) -> Result<()> {
    let invalid = |reason| Error::InvalidField {
        object: ObjectKind::DeviceList,
        reason,
    };
    if devices.is_empty() || devices.len() > MAX_DEVICES {
        return Err(invalid("device count"));
    }
    for pair in devices.windows(2) {
        if pair[0].device_id >= pair[1].device_id {
            return Err(invalid("device ids not strictly ascending"));
        }
    }
    for d in devices {
        if d.device_id == 0 || d.device_id >= 1 << 53 {
            return Err(invalid("device id out of range"));
        }
        d.verifying_key()?;
    }
    Ok(())
}

fn body(user_id: i64, version: u64, issued_ms: u64, devices: &[DeviceEntry]) -> Result<Vec<u8>> {
    let count = u8::try_from(devices.len()).map_err(|_| Error::TooLarge(ObjectKind::DeviceList))?;
    let mut w = Writer::new(TAG_DEVICE_LIST);
    w.i64(user_id).u64(version).u64(issued_ms).u8(count);
    for d in devices {
        w.u64(d.device_id).bytes(&d.signing_key);
    }
    Ok(w.finish())
}

/// Verifies `signature` by `device` over `label` and `body`.
pub(crate) fn verify_by(
    device: &DeviceEntry,
    label: &[u8],
    body: &[u8],
    signature: &[u8; 64],
    kind: ObjectKind,
) -> Result<()> {
    verify(&device.verifying_key()?, label, body, signature, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> (Identity, DeviceKey, DeviceKey) {
        let id = Identity::generate(7).unwrap();
        (
            id,
            DeviceKey::generate(7).unwrap(),
            DeviceKey::generate(7).unwrap(),
        )
    }

    #[test]
    fn the_search_index_key_is_per_device_stable_and_separate() {
        let (_, a, b) = person();
        let key = a.search_index_key().unwrap();
        // The same device (restored from its export) gets the same key...
        let again = DeviceKey::import(&a.export()).unwrap();
        assert_eq!(*again.search_index_key().unwrap(), *key);
        // ...another device of the same person another one...
        assert_ne!(*b.search_index_key().unwrap(), *key);
        // ...and it is neither the secret seed nor a key derived from it for another purpose.
        let seed: [u8; 32] = *a.signing.as_bytes();
        assert_ne!(*key, seed);
        let message = crate::kdf::message_key(&seed, &[0; 16], &[]).unwrap();
        assert_ne!(*key, *message.key);
        let share = crate::kdf::share_kek(&seed, &[0; 32], &[0; 32], &[]).unwrap();
        assert_ne!(*key, *share.key);
        // The same seed under another device id gives another key.
        let moved = DeviceKey {
            user_id: a.user_id,
            device_id: a.device_id ^ 1,
            signing: SigningKey::from_bytes(&seed),
        };
        assert_ne!(*moved.search_index_key().unwrap(), *key);
    }

    #[test]
    fn a_list_round_trips_and_verifies_only_under_its_identity() {
        let (id, a, b) = person();
        let list = DeviceList::sign(&id, 1, 1000, &[b.entry(), a.entry()]).unwrap();
        let parsed = DeviceList::parse_for(&list.to_wire(), &id.bundle()).unwrap();
        assert_eq!(parsed, list);
        assert!(parsed.device(a.device_id()).is_ok());
        let stranger = Identity::generate(7).unwrap();
        assert_eq!(
            DeviceList::parse_for(&list.to_wire(), &stranger.bundle()),
            Err(Error::BadSignature(ObjectKind::DeviceList))
        );
        let other_user = Identity::generate(8).unwrap();
        assert!(DeviceList::parse_for(&list.to_wire(), &other_user.bundle()).is_err());
    }

    #[test]
    fn a_device_the_server_adds_breaks_the_signature() {
        let (id, a, _) = person();
        let list = DeviceList::sign(&id, 1, 1000, &[a.entry()]).unwrap();
        // The server appends its own device and fixes up the count.
        let intruder = DeviceKey::generate(7).unwrap().entry();
        let mut bytes = list.to_bytes();
        let sig_at = bytes.len() - 64;
        let signature = bytes.split_off(sig_at);
        bytes[2 + 8 + 8 + 8] = 2;
        let (lo, hi) = if intruder.device_id < a.device_id() {
            (intruder, a.entry())
        } else {
            (a.entry(), intruder)
        };
        bytes.truncate(2 + 8 + 8 + 8 + 1);
        for d in [lo, hi] {
            bytes.extend_from_slice(&d.device_id.to_be_bytes());
            bytes.extend_from_slice(&d.signing_key);
        }
        bytes.extend_from_slice(&signature);
        let forged = DeviceList::from_bytes(&bytes).unwrap();
        assert_eq!(
            forged.verify(&id.bundle()),
            Err(Error::BadSignature(ObjectKind::DeviceList))
        );
    }

    #[test]
    fn an_older_or_equivocating_list_is_refused() {
        let (id, a, b) = person();
        let v1 = DeviceList::sign(&id, 1, 1000, &[a.entry(), b.entry()]).unwrap();
        let v2 = DeviceList::sign(&id, 2, 2000, &[a.entry()]).unwrap();
        assert!(v2.check_successor(&v1).is_ok());
        assert!(v2.check_successor(&v2).is_ok());
        assert_eq!(
            v1.check_successor(&v2),
            Err(Error::DeviceListRollback {
                pinned: 2,
                found: 1
            })
        );
        let fork = DeviceList::sign(&id, 2, 2000, &[b.entry()]).unwrap();
        assert!(fork.check_successor(&v2).is_err());
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let (id, a, b) = person();
        let bytes = DeviceList::sign(&id, 3, 99, &[a.entry(), b.entry()])
            .unwrap()
            .to_bytes();
        for i in 0..bytes.len() * 8 {
            let mut m = bytes.clone();
            m[i / 8] ^= 1 << (i % 8);
            let ok = DeviceList::from_bytes(&m).and_then(|l| l.verify(&id.bundle()));
            assert!(ok.is_err(), "bit {i}");
        }
    }

    #[test]
    fn device_keys_export_and_import() {
        let key = DeviceKey::generate(3).unwrap();
        let back = DeviceKey::import(&key.export()).unwrap();
        assert_eq!(back.entry(), key.entry());
        assert_eq!(back.user_id(), 3);
        assert!(key.device_id() > 0 && key.device_id() < 1 << 53);
    }
}
