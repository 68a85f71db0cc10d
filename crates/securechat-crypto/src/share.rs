//! The sealed key share: the seed's `encrypted_key`.
//!
//! A channel key sealed to one recipient's X25519 key (ephemeral-static
//! Diffie-Hellman, HKDF-SHA256, AES-256-GCM — an ECIES/HPKE-base shape) and
//! signed by the sender's Ed25519 identity key. The header — purpose,
//! channel id, key version, sender id, recipient id, request id, the
//! recipient's bundle fingerprint and the ephemeral key — is both the AEAD
//! associated data and part of the HKDF info, and the signature covers header
//! and ciphertext. A share replayed to another channel, version, recipient or
//! purpose therefore fails, and only the named sender could have made it.
//!
//! Format 2 (263 bytes, base64url on the wire) also binds the share to its
//! room, to the seq of the membership-log head the sender had verified when
//! the key version was made (so a reader can tell whom the version was made
//! for, and whether it predates a removal), and to a commitment to the key:
//! ```text
//! 0x02 0x02 | purpose u8 | room_id i64 | channel_id i64 | key_version u32
//! | log_seq u64 | sender_id i64 | recipient_id i64 | request_id i64
//! | key commitment [32] | recipient fingerprint [32]
//! | ephemeral X25519 public [32] | AES-GCM(channel key) [48] | Ed25519 signature [64]
//! ```
//! Format 3 (275 bytes) is format 2 sealed to one device's signed prekey
//! ([`crate::prekey`]) instead of the identity's long-term X25519 key: the
//! recipient fingerprint is the prekey's digest, and the device and prekey
//! ids follow the commitment. Once the device rotates its prekey and deletes
//! the private half, nothing it still holds opens the share:
//! ```text
//! 0x02 0x03 | purpose u8 | room_id i64 | channel_id i64 | key_version u32
//! | log_seq u64 | sender_id i64 | recipient_id i64 | request_id i64
//! | key commitment [32] | device_id u64 | prekey_id u32 | prekey digest [32]
//! | ephemeral X25519 public [32] | AES-GCM(channel key) [48] | Ed25519 signature [64]
//! ```
//! Format 1 (215 bytes, made before format 2; still read so existing
//! rooms' history stays readable) has no room, seq or commitment:
//! ```text
//! 0x02 0x01 | purpose u8 | channel_id i64 | key_version u32 | sender_id i64
//! | recipient_id i64 | request_id i64 | recipient fingerprint [32]
//! | ephemeral X25519 public [32] | AES-GCM(channel key) [48] | Ed25519 signature [64]
//! ```

use rand_core::CryptoRngCore;
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::bundle::PublicBundle;
use crate::channel_key::ChannelKey;
use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{ContextField, Error, ObjectKind, Result};
use crate::identity::Identity;
use crate::kdf;
use crate::labels::{FORMAT_V1, FORMAT_V2, FORMAT_V3, SIG_SHARE, TAG_SHARE};
use crate::prekey::{PrekeySecret, SignedPrekey};

const KIND: ObjectKind = ObjectKind::Share;
/// Length of a format-1 header (everything before the ciphertext).
const HEADER_LEN_V1: usize = 2 + 1 + 8 + 4 + 8 + 8 + 8 + 32 + 32;
/// Length of a format-2 header.
const HEADER_LEN_V2: usize = HEADER_LEN_V1 + 8 + 8 + 32;
/// Length of a format-3 header.
const HEADER_LEN_V3: usize = HEADER_LEN_V2 + 8 + 4;
/// Length of a whole format-3 share.
pub const SHARE_LEN_V3: usize = HEADER_LEN_V3 + 48 + 64;
/// Length of a whole format-1 share.
pub const SHARE_LEN_V1: usize = HEADER_LEN_V1 + 48 + 64;
/// Length of a whole format-2 share.
pub const SHARE_LEN: usize = HEADER_LEN_V2 + 48 + 64;

/// Why a key share was sent. Maps to the seed's `is_key_rotation` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharePurpose {
    /// First distribution of a channel's key (channel creation, member added
    /// before the rotation, first speaker).
    Initial,
    /// Distribution of a new key version after `key_rotation_needed`
    /// (`is_key_rotation: true`).
    Rotation,
    /// Answer to the recipient's own `request_key`, naming the request id the
    /// server returned to the recipient. A recipient accepts it only for a
    /// request it made (property 7).
    Request {
        /// The `request_id` from `POST /api/channels/<id>/request_key`.
        request_id: i64,
    },
}

impl SharePurpose {
    fn tag(self) -> u8 {
        match self {
            SharePurpose::Initial => 1,
            SharePurpose::Rotation => 2,
            SharePurpose::Request { .. } => 3,
        }
    }

    fn request_id(self) -> i64 {
        match self {
            SharePurpose::Request { request_id } => request_id,
            SharePurpose::Initial | SharePurpose::Rotation => 0,
        }
    }

    /// The seed's `is_key_rotation` flag for this purpose.
    pub fn is_key_rotation(self) -> bool {
        matches!(self, SharePurpose::Rotation)
    }

    /// A stable lower-case name (`initial`, `rotation`, `request`).
    pub fn name(self) -> &'static str {
        match self {
            SharePurpose::Initial => "initial",
            SharePurpose::Rotation => "rotation",
            SharePurpose::Request { .. } => "request",
        }
    }
}

/// Everything a share is bound to. The opener states what it expects and
/// [`SealedShare::open`] compares field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareContext {
    /// The room of the channel (format 2; a format-1 share names none and
    /// this field is not compared for it).
    pub room_id: i64,
    /// The channel whose key this is.
    pub channel_id: i64,
    /// The key version (the seed's `key_version`).
    pub key_version: u32,
    /// The member who sealed the share.
    pub sender_id: i64,
    /// The member it is sealed to.
    pub recipient_id: i64,
    /// Why it was sent.
    pub purpose: SharePurpose,
}

/// What a format-2 share adds to its context: where the key version stands
/// in the room's membership log, and the commitment to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareBinding {
    /// The seq of the membership-log head the sender had verified when the
    /// key version was made: the version is for the members at that entry.
    pub log_seq: u64,
    /// [`ChannelKey::commitment`] of the key.
    pub commitment: [u8; 32],
}

/// The device prekey a format-3 share is sealed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrekeyRef {
    /// The recipient's device.
    pub device_id: u64,
    /// That device's prekey.
    pub prekey_id: u32,
}

/// Whom a share is sealed to: the identity's agreement key (formats 1 and
/// 2) or a device's prekey (format 3).
struct Target {
    agreement: [u8; 32],
    fingerprint: [u8; 32],
    prekey: Option<PrekeyRef>,
}

impl Target {
    fn identity(bundle: &PublicBundle) -> Self {
        Target {
            agreement: bundle.agreement_key(),
            fingerprint: bundle.fingerprint(),
            prekey: None,
        }
    }

    fn prekey(prekey: &SignedPrekey) -> Self {
        Target {
            agreement: prekey.public_key(),
            fingerprint: prekey.digest(),
            prekey: Some(PrekeyRef {
                device_id: prekey.device_id(),
                prekey_id: prekey.prekey_id(),
            }),
        }
    }
}

/// A parsed (not yet opened) key share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedShare {
    context: ShareContext,
    /// `None` for a format-1 share.
    binding: Option<ShareBinding>,
    /// The device prekey of a format-3 share.
    prekey: Option<PrekeyRef>,
    recipient_fingerprint: [u8; 32],
    ephemeral: [u8; 32],
    ciphertext: [u8; 48],
    signature: [u8; 64],
}

impl SealedShare {
    /// Seals `key` to `recipient` as version `key_version` of `channel_id` in
    /// `room_id`, made at membership-log seq `log_seq`, signed by `sender`
    /// (format 2).
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        sender: &Identity,
        recipient: &PublicBundle,
        room_id: i64,
        channel_id: i64,
        key_version: u32,
        log_seq: u64,
        purpose: SharePurpose,
        key: &ChannelKey,
    ) -> Result<Self> {
        Self::seal_with_rng(
            sender,
            recipient,
            room_id,
            channel_id,
            key_version,
            log_seq,
            purpose,
            key,
            &mut rand_core::OsRng,
        )
    }

    /// [`SealedShare::seal`] with a caller-supplied RNG for the ephemeral key.
    /// Only test vectors should pass anything but the OS RNG.
    #[allow(clippy::too_many_arguments)]
    pub fn seal_with_rng(
        sender: &Identity,
        recipient: &PublicBundle,
        room_id: i64,
        channel_id: i64,
        key_version: u32,
        log_seq: u64,
        purpose: SharePurpose,
        key: &ChannelKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        let context = ShareContext {
            room_id,
            channel_id,
            key_version,
            sender_id: sender.user_id(),
            recipient_id: recipient.user_id(),
            purpose,
        };
        let binding = ShareBinding {
            log_seq,
            commitment: key.commitment(room_id, channel_id, key_version),
        };
        Self::seal_as(
            sender,
            &Target::identity(recipient),
            context,
            Some(binding),
            key,
            rng,
        )
    }

    /// Seals `key` to one device's prekey (format 3). The caller has
    /// verified `recipient` against the recipient's signed device list
    /// ([`SignedPrekey::verify`]) and checked it is fresh
    /// ([`SignedPrekey::check_fresh`]).
    #[allow(clippy::too_many_arguments)]
    pub fn seal_to_prekey(
        sender: &Identity,
        recipient: &SignedPrekey,
        room_id: i64,
        channel_id: i64,
        key_version: u32,
        log_seq: u64,
        purpose: SharePurpose,
        key: &ChannelKey,
    ) -> Result<Self> {
        Self::seal_to_prekey_with_rng(
            sender,
            recipient,
            room_id,
            channel_id,
            key_version,
            log_seq,
            purpose,
            key,
            &mut rand_core::OsRng,
        )
    }

    /// [`SealedShare::seal_to_prekey`] with a caller-supplied RNG.
    #[allow(clippy::too_many_arguments)]
    pub fn seal_to_prekey_with_rng(
        sender: &Identity,
        recipient: &SignedPrekey,
        room_id: i64,
        channel_id: i64,
        key_version: u32,
        log_seq: u64,
        purpose: SharePurpose,
        key: &ChannelKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        let context = ShareContext {
            room_id,
            channel_id,
            key_version,
            sender_id: sender.user_id(),
            recipient_id: recipient.user_id(),
            purpose,
        };
        let binding = ShareBinding {
            log_seq,
            commitment: key.commitment(room_id, channel_id, key_version),
        };
        Self::seal_as(
            sender,
            &Target::prekey(recipient),
            context,
            Some(binding),
            key,
            rng,
        )
    }

    /// A format-1 share (no room, log seq or key commitment), as clients
    /// made them before format 2. Clients make one only to re-share a
    /// format-1 version (history from before format 2); tests use them to
    /// build the rooms an upgrade starts from.
    pub fn seal_format1(
        sender: &Identity,
        recipient: &PublicBundle,
        channel_id: i64,
        key_version: u32,
        purpose: SharePurpose,
        key: &ChannelKey,
    ) -> Result<Self> {
        Self::seal_format1_with_rng(
            sender,
            recipient,
            channel_id,
            key_version,
            purpose,
            key,
            &mut rand_core::OsRng,
        )
    }

    /// [`SealedShare::seal_format1`] with a caller-supplied RNG.
    pub fn seal_format1_with_rng(
        sender: &Identity,
        recipient: &PublicBundle,
        channel_id: i64,
        key_version: u32,
        purpose: SharePurpose,
        key: &ChannelKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        let context = ShareContext {
            room_id: 0,
            channel_id,
            key_version,
            sender_id: sender.user_id(),
            recipient_id: recipient.user_id(),
            purpose,
        };
        Self::seal_as(
            sender,
            &Target::identity(recipient),
            context,
            None,
            key,
            rng,
        )
    }

    fn seal_as(
        sender: &Identity,
        recipient: &Target,
        context: ShareContext,
        binding: Option<ShareBinding>,
        key: &ChannelKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        let mut eph_bytes = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(eph_bytes.as_mut())
            .map_err(|_| Error::Rng)?;
        let eph_secret = StaticSecret::from(*eph_bytes);
        let ephemeral = XPublicKey::from(&eph_secret).to_bytes();
        let recipient_public = recipient.agreement;
        let shared = eph_secret.diffie_hellman(&XPublicKey::from(recipient_public));
        if !shared.was_contributory() {
            return Err(Error::NonContributoryKeyAgreement);
        }
        let recipient_fingerprint = recipient.fingerprint;
        let header = header_bytes(
            &context,
            binding.as_ref(),
            recipient.prekey.as_ref(),
            &recipient_fingerprint,
            &ephemeral,
        );
        let kek = kdf::share_kek(shared.as_bytes(), &ephemeral, &recipient_public, &header)?;
        let sealed = kdf::seal(&kek, &header, key.as_bytes(), KIND)?;
        let mut ciphertext = [0u8; 48];
        if sealed.len() != ciphertext.len() {
            return Err(Error::TooLarge(KIND));
        }
        ciphertext.copy_from_slice(&sealed);
        let mut signed = header;
        signed.extend_from_slice(&ciphertext);
        let signature = sender.sign(SIG_SHARE, &signed);
        Ok(SealedShare {
            context,
            binding,
            prekey: recipient.prekey,
            recipient_fingerprint,
            ephemeral,
            ciphertext,
            signature,
        })
    }

    /// Parses the binary form. Checks structure only; [`SealedShare::open`]
    /// does the cryptography.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (mut r, format) =
            Reader::open_versions(bytes, TAG_SHARE, KIND, &[FORMAT_V1, FORMAT_V2, FORMAT_V3])?;
        let v2 = format != FORMAT_V1;
        let purpose_tag = r.u8()?;
        let room_id = if v2 { r.i64()? } else { 0 };
        let channel_id = r.i64()?;
        let key_version = r.u32()?;
        let log_seq = if v2 { Some(r.u64()?) } else { None };
        let sender_id = r.i64()?;
        let recipient_id = r.i64()?;
        let request_id = r.i64()?;
        let purpose = match (purpose_tag, request_id) {
            (1, 0) => SharePurpose::Initial,
            (2, 0) => SharePurpose::Rotation,
            (3, request_id) => SharePurpose::Request { request_id },
            (1 | 2, _) => return Err(r.invalid("request id on a share that answers no request")),
            _ => return Err(r.invalid("unknown purpose")),
        };
        let binding = match log_seq {
            Some(log_seq) => Some(ShareBinding {
                log_seq,
                commitment: r.array()?,
            }),
            None => None,
        };
        let prekey = if format == FORMAT_V3 {
            Some(PrekeyRef {
                device_id: r.u64()?,
                prekey_id: r.u32()?,
            })
        } else {
            None
        };
        let recipient_fingerprint = r.array()?;
        let ephemeral = r.array()?;
        let ciphertext = r.array()?;
        let signature = r.array()?;
        r.finish()?;
        Ok(SealedShare {
            context: ShareContext {
                room_id,
                channel_id,
                key_version,
                sender_id,
                recipient_id,
                purpose,
            },
            binding,
            prekey,
            recipient_fingerprint,
            ephemeral,
            ciphertext,
            signature,
        })
    }

    /// Parses the wire string (the `encrypted_key` field).
    pub fn parse(s: &str) -> Result<Self> {
        Self::from_bytes(&from_wire(s)?)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header();
        out.extend_from_slice(&self.ciphertext);
        out.extend_from_slice(&self.signature);
        out
    }

    /// The wire string (the `encrypted_key` field).
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }

    /// What the share claims to be bound to. Unauthenticated until
    /// [`SealedShare::open`] succeeds; use it only to look up the sender's bundle.
    pub fn context(&self) -> &ShareContext {
        &self.context
    }

    /// The format: 1 (no room, log seq or key commitment), 2 (sealed to
    /// the identity) or 3 (sealed to a device prekey).
    pub fn format(&self) -> u8 {
        match (&self.binding, &self.prekey) {
            (_, Some(_)) => FORMAT_V3,
            (Some(_), None) => FORMAT_V2,
            (None, None) => FORMAT_V1,
        }
    }

    /// The device prekey a format-3 share is sealed to (unauthenticated
    /// until opened; the server routes the share to that device by it).
    pub fn prekey(&self) -> Option<&PrekeyRef> {
        self.prekey.as_ref()
    }

    /// The log seq and key commitment of a format-2 share. Unauthenticated
    /// until [`SealedShare::open`] succeeds.
    pub fn binding(&self) -> Option<&ShareBinding> {
        self.binding.as_ref()
    }

    fn header(&self) -> Vec<u8> {
        header_bytes(
            &self.context,
            self.binding.as_ref(),
            self.prekey.as_ref(),
            &self.recipient_fingerprint,
            &self.ephemeral,
        )
    }

    /// Verifies the sender's signature only, without opening the share. The
    /// server uses this (with the sender's stored bundle) to refuse shares
    /// that a member did not make, before storing or relaying them.
    pub fn verify_signature(&self, sender: &PublicBundle) -> Result<()> {
        if sender.user_id() != self.context.sender_id {
            return Err(Error::SignerMismatch);
        }
        let mut signed = self.header();
        signed.extend_from_slice(&self.ciphertext);
        sender.verify(SIG_SHARE, &signed, &self.signature, KIND)
    }

    /// Checks the share against `expected`, verifies the sender's signature
    /// and opens it with the recipient's identity.
    ///
    /// `sender` must be the sender's pinned bundle; `expected.recipient_id`
    /// must be `recipient`'s user id.
    pub fn open(
        &self,
        recipient: &Identity,
        sender: &PublicBundle,
        expected: &ShareContext,
    ) -> Result<ChannelKey> {
        self.check_context(expected)?;
        if recipient.user_id() != self.context.recipient_id {
            return Err(Error::ContextMismatch {
                field: ContextField::RecipientId,
            });
        }
        if sender.user_id() != self.context.sender_id {
            return Err(Error::SignerMismatch);
        }
        if self.prekey.is_some() || recipient.bundle().fingerprint() != self.recipient_fingerprint {
            return Err(Error::ContextMismatch {
                field: ContextField::RecipientKey,
            });
        }
        self.verify_signature(sender)?;
        let shared = recipient
            .agreement_secret()
            .diffie_hellman(&XPublicKey::from(self.ephemeral));
        self.unwrap_key(shared, &recipient.bundle().agreement_key())
    }

    /// Checks a format-3 share against `expected`, verifies the sender's
    /// signature and opens it with the device's prekey. A share sealed to a
    /// prekey this device no longer holds fails with `unknown_prekey`.
    pub fn open_with_prekey(
        &self,
        prekey: &PrekeySecret,
        sender: &PublicBundle,
        expected: &ShareContext,
    ) -> Result<ChannelKey> {
        self.check_context(expected)?;
        let public = prekey.public();
        if public.user_id() != self.context.recipient_id {
            return Err(Error::ContextMismatch {
                field: ContextField::RecipientId,
            });
        }
        let Some(target) = self.prekey else {
            return Err(Error::ContextMismatch {
                field: ContextField::RecipientKey,
            });
        };
        if target.device_id != public.device_id() || target.prekey_id != public.prekey_id() {
            return Err(Error::UnknownPrekey {
                prekey_id: target.prekey_id,
            });
        }
        if public.digest() != self.recipient_fingerprint {
            return Err(Error::ContextMismatch {
                field: ContextField::RecipientKey,
            });
        }
        if sender.user_id() != self.context.sender_id {
            return Err(Error::SignerMismatch);
        }
        self.verify_signature(sender)?;
        let shared = prekey
            .secret()
            .diffie_hellman(&XPublicKey::from(self.ephemeral));
        self.unwrap_key(shared, &public.public_key())
    }

    fn unwrap_key(
        &self,
        shared: x25519_dalek::SharedSecret,
        recipient_public: &[u8; 32],
    ) -> Result<ChannelKey> {
        if !shared.was_contributory() {
            return Err(Error::NonContributoryKeyAgreement);
        }
        let header = self.header();
        let kek = kdf::share_kek(
            shared.as_bytes(),
            &self.ephemeral,
            recipient_public,
            &header,
        )?;
        let plain = kdf::open(&kek, &header, &self.ciphertext, KIND)?;
        let mut key = [0u8; 32];
        if plain.len() != key.len() {
            return Err(Error::DecryptionFailed(KIND));
        }
        key.copy_from_slice(&plain);
        let key = ChannelKey::from_bytes(key);
        if let Some(binding) = &self.binding {
            let c = &self.context;
            let commitment = key.commitment(c.room_id, c.channel_id, c.key_version);
            if commitment != binding.commitment {
                return Err(Error::ContextMismatch {
                    field: ContextField::KeyCommitment,
                });
            }
        }
        Ok(key)
    }

    fn check_context(&self, expected: &ShareContext) -> Result<()> {
        let c = &self.context;
        let mismatch = |field| Err(Error::ContextMismatch { field });
        if self.binding.is_some() && c.room_id != expected.room_id {
            return mismatch(ContextField::RoomId);
        }
        if c.channel_id != expected.channel_id {
            return mismatch(ContextField::ChannelId);
        }
        if c.key_version != expected.key_version {
            return mismatch(ContextField::KeyVersion);
        }
        if c.sender_id != expected.sender_id {
            return mismatch(ContextField::SenderId);
        }
        if c.recipient_id != expected.recipient_id {
            return mismatch(ContextField::RecipientId);
        }
        if c.purpose.tag() != expected.purpose.tag() {
            return mismatch(ContextField::Purpose);
        }
        if c.purpose.request_id() != expected.purpose.request_id() {
            return mismatch(ContextField::RequestId);
        }
        Ok(())
    }
}

fn header_bytes(
    c: &ShareContext,
    binding: Option<&ShareBinding>,
    prekey: Option<&PrekeyRef>,
    recipient_fingerprint: &[u8; 32],
    ephemeral: &[u8; 32],
) -> Vec<u8> {
    let Some(binding) = binding else {
        let mut w = Writer::new(TAG_SHARE);
        w.u8(c.purpose.tag())
            .i64(c.channel_id)
            .u32(c.key_version)
            .i64(c.sender_id)
            .i64(c.recipient_id)
            .i64(c.purpose.request_id())
            .bytes(recipient_fingerprint)
            .bytes(ephemeral);
        let out = w.finish();
        debug_assert_eq!(out.len(), HEADER_LEN_V1);
        return out;
    };
    let format = if prekey.is_some() {
        FORMAT_V3
    } else {
        FORMAT_V2
    };
    let mut w = Writer::with_version(TAG_SHARE, format);
    w.u8(c.purpose.tag())
        .i64(c.room_id)
        .i64(c.channel_id)
        .u32(c.key_version)
        .u64(binding.log_seq)
        .i64(c.sender_id)
        .i64(c.recipient_id)
        .i64(c.purpose.request_id())
        .bytes(&binding.commitment);
    if let Some(p) = prekey {
        w.u64(p.device_id).u32(p.prekey_id);
    }
    w.bytes(recipient_fingerprint).bytes(ephemeral);
    let out = w.finish();
    debug_assert_eq!(
        out.len(),
        if prekey.is_some() {
            HEADER_LEN_V3
        } else {
            HEADER_LEN_V2
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_whose_commitment_is_not_its_key_is_refused() {
        let alice = Identity::generate(1).unwrap();
        let bob = Identity::generate(2).unwrap();
        let key = ChannelKey::generate().unwrap();
        let context = ShareContext {
            room_id: 4,
            channel_id: 10,
            key_version: 3,
            sender_id: 1,
            recipient_id: 2,
            purpose: SharePurpose::Rotation,
        };
        // A malicious sender commits to one key and seals another.
        let other = ChannelKey::generate().unwrap();
        let binding = ShareBinding {
            log_seq: 0,
            commitment: other.commitment(4, 10, 3),
        };
        let share = SealedShare::seal_as(
            &alice,
            &Target::identity(&bob.bundle()),
            context,
            Some(binding),
            &key,
            &mut rand_core::OsRng,
        )
        .unwrap();
        assert_eq!(
            share.open(&bob, &alice.bundle(), &context),
            Err(Error::ContextMismatch {
                field: ContextField::KeyCommitment
            })
        );
    }

    mod prekeys {
        use super::super::*;
        use crate::device::{DeviceKey, DeviceList};
        use crate::prekey::PREKEY_ROTATION_MS;

        const NOW: u64 = 1_800_000_000_000;

        fn context() -> ShareContext {
            ShareContext {
                room_id: 4,
                channel_id: 10,
                key_version: 3,
                sender_id: 1,
                recipient_id: 2,
                purpose: SharePurpose::Rotation,
            }
        }

        fn seal(alice: &Identity, to: &SignedPrekey, key: &ChannelKey) -> SealedShare {
            SealedShare::seal_to_prekey(alice, to, 4, 10, 3, 7, SharePurpose::Rotation, key)
                .unwrap()
        }

        #[test]
        fn stolen_current_keys_do_not_open_a_share_sealed_before_the_last_rotation() {
            let alice = Identity::generate(1).unwrap();
            let bob = Identity::generate(2).unwrap();
            let device = DeviceKey::generate(2).unwrap();
            let list = DeviceList::sign(&bob, 1, NOW, &[device.entry()]).unwrap();

            let first = PrekeySecret::generate(&device, 1, NOW).unwrap();
            first.public().verify(&list).unwrap();
            let old_key = ChannelKey::generate().unwrap();
            let old_share = seal(&alice, first.public(), &old_key);
            assert_eq!(old_share.format(), FORMAT_V3);
            assert_eq!(old_share.to_bytes().len(), SHARE_LEN_V3);
            let parsed = SealedShare::parse(&old_share.to_wire()).unwrap();
            assert_eq!(parsed, old_share);
            let opened = parsed
                .open_with_prekey(&first, &alice.bundle(), &context())
                .unwrap();
            assert_eq!(opened.as_bytes(), old_key.as_bytes());

            // A week later the device rotates, and the old private half is gone.
            let second = PrekeySecret::generate(&device, 2, NOW + PREKEY_ROTATION_MS).unwrap();
            drop(first);

            // A thief takes everything the device holds now.
            let stolen_identity = Identity::import(&bob.export()).unwrap();
            let stolen_prekey = PrekeySecret::import(&second.export()).unwrap();
            assert_eq!(
                old_share.open_with_prekey(&stolen_prekey, &alice.bundle(), &context()),
                Err(Error::UnknownPrekey { prekey_id: 1 })
            );
            assert_eq!(
                old_share.open(&stolen_identity, &alice.bundle(), &context()),
                Err(Error::ContextMismatch {
                    field: ContextField::RecipientKey
                })
            );
            // Even with the share re-labelled to the stolen prekey, the DH
            // does not give the key (and the signature no longer holds).
            let mut relabelled = old_share.clone();
            relabelled.prekey = Some(PrekeyRef {
                device_id: device.device_id(),
                prekey_id: 2,
            });
            relabelled.recipient_fingerprint = stolen_prekey.public().digest();
            assert!(
                relabelled
                    .open_with_prekey(&stolen_prekey, &alice.bundle(), &context())
                    .is_err()
            );
            let shared = stolen_prekey
                .secret()
                .diffie_hellman(&XPublicKey::from(relabelled.ephemeral));
            assert!(
                relabelled
                    .unwrap_key(shared, &stolen_prekey.public().public_key())
                    .is_err()
            );

            // New shares, sealed to the current prekey, open.
            let new_key = ChannelKey::generate().unwrap();
            let new_share = seal(&alice, second.public(), &new_key);
            let opened = new_share
                .open_with_prekey(&second, &alice.bundle(), &context())
                .unwrap();
            assert_eq!(opened.as_bytes(), new_key.as_bytes());
        }

        #[test]
        fn a_prekey_share_is_bound_to_its_device_and_signed() {
            let alice = Identity::generate(1).unwrap();
            let phone = DeviceKey::generate(2).unwrap();
            let laptop = DeviceKey::generate(2).unwrap();
            let on_phone = PrekeySecret::generate(&phone, 1, NOW).unwrap();
            let on_laptop = PrekeySecret::generate(&laptop, 1, NOW).unwrap();
            let key = ChannelKey::generate().unwrap();
            let share = seal(&alice, on_phone.public(), &key);
            assert!(matches!(
                share.open_with_prekey(&on_laptop, &alice.bundle(), &context()),
                Err(Error::UnknownPrekey { .. })
            ));
            let mallory = Identity::generate(1).unwrap();
            assert_eq!(
                share.open_with_prekey(&on_phone, &mallory.bundle(), &context()),
                Err(Error::BadSignature(ObjectKind::Share))
            );
            let bytes = share.to_bytes();
            for i in 0..bytes.len() * 8 {
                let mut m = bytes.clone();
                m[i / 8] ^= 1 << (i % 8);
                let ok = SealedShare::from_bytes(&m)
                    .and_then(|s| s.open_with_prekey(&on_phone, &alice.bundle(), &context()));
                assert!(ok.is_err(), "bit {i}");
            }
        }
    }
}
