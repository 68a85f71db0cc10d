//! Linking a new device: a key agreement between the new device and one
//! already signed in, authenticated by the person comparing a short string.
//!
//! The server relays everything, so it could answer each side with an
//! ephemeral key of its own (a machine in the middle). Both sides therefore
//! derive, from the Diffie-Hellman secret and both ephemeral keys, a
//! 9-digit short authentication string (SAS) and show it; the person
//! compares the two screens, and only if they match does the old device
//! sign the new one into the device list and send the payload — sealed under
//! a key from the same derivation, which a machine in the middle would not
//! share with both sides.
//!
//! Offer (what the new device shows as a code, relayed by the server):
//! ```text
//! 0x0C 0x01 | user_id i64 | device_id u64 | device Ed25519 public [32]
//! | new device's ephemeral X25519 public [32]
//! ```
//! Derivation: `okm = HKDF-SHA256(salt = E_new || E_old, ikm = X25519,
//! info = SignContent("securechat/v3/kdf/link", offer || E_old), 48)`:
//! AES-256-GCM key (32), nonce (12), SAS (4 bytes, as a number mod 10⁹).
//! Payload: `0x0D 0x01 | AES-256-GCM(payload, ad = 0x0D 0x01 || offer || E_old)`.

use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::device::DeviceEntry;
use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{Error, ObjectKind, Result};
use crate::kdf::{self, AeadKey};
use crate::labels::{FORMAT_V1, KDF_LINK, TAG_LINK_OFFER, TAG_LINK_PAYLOAD, labeled};

/// Largest link payload (identity, pins, log heads and carried keys).
pub const MAX_LINK_PAYLOAD: usize = 4 << 20;

/// One side's ephemeral X25519 key for a link. Zeroized on drop.
pub struct LinkEphemeral {
    secret: StaticSecret,
}

impl LinkEphemeral {
    /// A fresh ephemeral key.
    pub fn generate() -> Result<Self> {
        Self::generate_with_rng(&mut rand_core::OsRng)
    }

    /// [`LinkEphemeral::generate`] with a caller-supplied RNG (test vectors).
    pub fn generate_with_rng(rng: &mut impl CryptoRngCore) -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(bytes.as_mut()).map_err(|_| Error::Rng)?;
        Ok(LinkEphemeral {
            secret: StaticSecret::from(*bytes),
        })
    }

    /// The public half, to send.
    pub fn public(&self) -> [u8; 32] {
        XPublicKey::from(&self.secret).to_bytes()
    }

    /// The secret, for the device's own store while the link is pending
    /// (a reload must not lose it).
    pub fn export(&self) -> Zeroizing<String> {
        Zeroizing::new(to_wire(self.secret.as_bytes()))
    }

    /// Reads [`LinkEphemeral::export`].
    pub fn import(s: &str) -> Result<Self> {
        let bytes = Zeroizing::new(from_wire(s)?);
        let raw: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::Truncated(ObjectKind::LinkOffer))?;
        Ok(LinkEphemeral {
            secret: StaticSecret::from(raw),
        })
    }
}

/// What a new device offers: who it is for, its device key, its ephemeral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkOffer {
    /// The person the device is for.
    pub user_id: i64,
    /// The new device's id and signing key.
    pub device: DeviceEntry,
    /// The new device's ephemeral X25519 public key.
    pub ephemeral: [u8; 32],
}

impl LinkOffer {
    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_LINK_OFFER);
        w.i64(self.user_id)
            .u64(self.device.device_id)
            .bytes(&self.device.signing_key)
            .bytes(&self.ephemeral);
        w.finish()
    }

    /// The wire string.
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }

    /// Parses the wire string; the device key must be a valid point.
    pub fn parse(s: &str) -> Result<Self> {
        let bytes = from_wire(s)?;
        let mut r = Reader::open(&bytes, TAG_LINK_OFFER, ObjectKind::LinkOffer)?;
        let offer = LinkOffer {
            user_id: r.i64()?,
            device: DeviceEntry {
                device_id: r.u64()?,
                signing_key: r.array()?,
            },
            ephemeral: r.array()?,
        };
        r.finish()?;
        if offer.device.device_id == 0 || offer.device.device_id >= 1 << 53 {
            return Err(Error::InvalidField {
                object: ObjectKind::LinkOffer,
                reason: "device id out of range",
            });
        }
        crate::bundle::parse_verifying_key(&offer.device.signing_key)?;
        Ok(offer)
    }
}

/// Both sides' view of one link once the two ephemerals are known.
pub struct LinkSession {
    key: AeadKey,
    sas: u32,
    header: Vec<u8>,
}

impl LinkSession {
    /// The session of `mine` (either side's ephemeral) with `offer` and the
    /// old device's ephemeral `approver`. `mine` must be one of the two.
    pub fn new(mine: &LinkEphemeral, offer: &LinkOffer, approver: &[u8; 32]) -> Result<Self> {
        let me = mine.public();
        let peer = if me == offer.ephemeral {
            *approver
        } else if me == *approver {
            offer.ephemeral
        } else {
            return Err(Error::InvalidField {
                object: ObjectKind::LinkOffer,
                reason: "this ephemeral key is not part of the link",
            });
        };
        let shared = mine.secret.diffie_hellman(&XPublicKey::from(peer));
        if !shared.was_contributory() {
            return Err(Error::NonContributoryKeyAgreement);
        }
        let mut header = Writer::with_version(TAG_LINK_PAYLOAD, FORMAT_V1).finish();
        header.extend_from_slice(&offer.to_bytes());
        header.extend_from_slice(approver);
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&offer.ephemeral);
        salt[32..].copy_from_slice(approver);
        let mut okm = Zeroizing::new([0u8; 48]);
        Hkdf::<Sha256>::new(Some(&salt), shared.as_bytes())
            .expand(&labeled(KDF_LINK, &header[2..]), okm.as_mut())
            .map_err(|_| Error::InvalidField {
                object: ObjectKind::LinkPayload,
                reason: "hkdf output length",
            })?;
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&okm[..32]);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&okm[32..44]);
        let sas = u32::from_be_bytes([okm[44], okm[45], okm[46], okm[47]]) % 1_000_000_000;
        Ok(LinkSession {
            key: AeadKey { key, nonce },
            sas,
            header,
        })
    }

    /// The short authentication string both devices show: 9 digits in
    /// three groups. Equal on both screens only if no one sat in between.
    pub fn sas(&self) -> String {
        let digits = format!("{:09}", self.sas);
        format!("{} {} {}", &digits[..3], &digits[3..6], &digits[6..])
    }

    /// Seals the payload (once per link: the derived nonce is used once).
    pub fn seal_payload(&self, plaintext: &[u8]) -> Result<String> {
        if plaintext.len() > MAX_LINK_PAYLOAD {
            return Err(Error::TooLarge(ObjectKind::LinkPayload));
        }
        let sealed = kdf::seal(&self.key, &self.header, plaintext, ObjectKind::LinkPayload)?;
        let mut out = Writer::with_version(TAG_LINK_PAYLOAD, FORMAT_V1).finish();
        out.extend_from_slice(&sealed);
        Ok(to_wire(&out))
    }

    /// Opens a payload sealed by the other side of this link.
    pub fn open_payload(&self, wire: &str) -> Result<Zeroizing<Vec<u8>>> {
        let bytes = from_wire(wire)?;
        if bytes.len() > MAX_LINK_PAYLOAD + 64 {
            return Err(Error::TooLarge(ObjectKind::LinkPayload));
        }
        Reader::open(&bytes, TAG_LINK_PAYLOAD, ObjectKind::LinkPayload)?;
        kdf::open(
            &self.key,
            &self.header,
            &bytes[2..],
            ObjectKind::LinkPayload,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceKey;

    fn offer_for(new: &LinkEphemeral) -> LinkOffer {
        LinkOffer {
            user_id: 3,
            device: DeviceKey::generate(3).unwrap().entry(),
            ephemeral: new.public(),
        }
    }

    #[test]
    fn both_sides_agree_and_the_payload_opens() {
        let new = LinkEphemeral::generate().unwrap();
        let old = LinkEphemeral::generate().unwrap();
        let offer = LinkOffer::parse(&offer_for(&new).to_wire()).unwrap();
        let on_new = LinkSession::new(&new, &offer, &old.public()).unwrap();
        let on_old = LinkSession::new(&old, &offer, &old.public()).unwrap();
        assert_eq!(on_new.sas(), on_old.sas());
        assert_eq!(on_new.sas().len(), 11);
        let wire = on_old.seal_payload(b"identity and pins").unwrap();
        assert_eq!(
            on_new.open_payload(&wire).unwrap().as_slice(),
            b"identity and pins"
        );
        let restored = LinkEphemeral::import(&new.export()).unwrap();
        let again = LinkSession::new(&restored, &offer, &old.public()).unwrap();
        assert_eq!(again.sas(), on_old.sas(), "a reload keeps the link");
    }

    #[test]
    fn a_machine_in_the_middle_shows_different_numbers_and_opens_nothing() {
        let new = LinkEphemeral::generate().unwrap();
        let old = LinkEphemeral::generate().unwrap();
        let mitm_to_old = LinkEphemeral::generate().unwrap();
        let mitm_to_new = LinkEphemeral::generate().unwrap();
        let real = offer_for(&new);
        // The server hands the old device an offer with its own ephemeral,
        // and the new device an "approver" ephemeral of its own.
        let forged = LinkOffer {
            ephemeral: mitm_to_old.public(),
            ..real
        };
        let on_old = LinkSession::new(&old, &forged, &old.public()).unwrap();
        let on_new = LinkSession::new(&new, &real, &mitm_to_new.public()).unwrap();
        assert_ne!(on_old.sas(), on_new.sas());
        let server_with_old = LinkSession::new(&mitm_to_old, &forged, &old.public()).unwrap();
        let server_with_new = LinkSession::new(&mitm_to_new, &real, &mitm_to_new.public()).unwrap();
        // The server can show each side its own number, but both numbers
        // must match for the person to confirm; they do not.
        assert_eq!(server_with_old.sas(), on_old.sas());
        assert_eq!(server_with_new.sas(), on_new.sas());
        let payload = on_old.seal_payload(b"secret").unwrap();
        assert!(on_new.open_payload(&payload).is_err());
    }

    #[test]
    fn a_tampered_payload_or_offer_is_refused() {
        let new = LinkEphemeral::generate().unwrap();
        let old = LinkEphemeral::generate().unwrap();
        let offer = offer_for(&new);
        let on_old = LinkSession::new(&old, &offer, &old.public()).unwrap();
        let on_new = LinkSession::new(&new, &offer, &old.public()).unwrap();
        let wire = on_old.seal_payload(b"x").unwrap();
        let mut bytes = from_wire(&wire).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(on_new.open_payload(&to_wire(&bytes)).is_err());
        // Another device key in the offer changes the derivation.
        let other = LinkOffer {
            device: DeviceKey::generate(3).unwrap().entry(),
            ..offer
        };
        let swapped = LinkSession::new(&new, &other, &old.public()).unwrap();
        assert_ne!(swapped.sas(), on_old.sas());
        assert!(swapped.open_payload(&wire).is_err());
        let stranger = LinkEphemeral::generate().unwrap();
        assert!(LinkSession::new(&stranger, &offer, &old.public()).is_err());
    }
}
