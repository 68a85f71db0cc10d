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
use crate::labels::{FORMAT_V1, FORMAT_V2, SIG_SHARE, TAG_SHARE};

const KIND: ObjectKind = ObjectKind::Share;
/// Length of a format-1 header (everything before the ciphertext).
const HEADER_LEN_V1: usize = 2 + 1 + 8 + 4 + 8 + 8 + 8 + 32 + 32;
/// Length of a format-2 header.
const HEADER_LEN_V2: usize = HEADER_LEN_V1 + 8 + 8 + 32;
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

/// A parsed (not yet opened) key share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedShare {
    context: ShareContext,
    /// `None` for a format-1 share.
    binding: Option<ShareBinding>,
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
        Self::seal_as(sender, recipient, context, Some(binding), key, rng)
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
        Self::seal_as(sender, recipient, context, None, key, rng)
    }

    fn seal_as(
        sender: &Identity,
        recipient: &PublicBundle,
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
        let recipient_public = recipient.agreement_key();
        let shared = eph_secret.diffie_hellman(&XPublicKey::from(recipient_public));
        if !shared.was_contributory() {
            return Err(Error::NonContributoryKeyAgreement);
        }
        let recipient_fingerprint = recipient.fingerprint();
        let header = header_bytes(
            &context,
            binding.as_ref(),
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
            Reader::open_versions(bytes, TAG_SHARE, KIND, &[FORMAT_V1, FORMAT_V2])?;
        let v2 = format == FORMAT_V2;
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

    /// The format: 1 (no room, log seq or key commitment) or 2.
    pub fn format(&self) -> u8 {
        if self.binding.is_some() {
            FORMAT_V2
        } else {
            FORMAT_V1
        }
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
        if recipient.bundle().fingerprint() != self.recipient_fingerprint {
            return Err(Error::ContextMismatch {
                field: ContextField::RecipientKey,
            });
        }
        self.verify_signature(sender)?;
        let header = self.header();

        let shared = recipient
            .agreement_secret()
            .diffie_hellman(&XPublicKey::from(self.ephemeral));
        if !shared.was_contributory() {
            return Err(Error::NonContributoryKeyAgreement);
        }
        let kek = kdf::share_kek(
            shared.as_bytes(),
            &self.ephemeral,
            &recipient.bundle().agreement_key(),
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
    let mut w = Writer::with_version(TAG_SHARE, FORMAT_V2);
    w.u8(c.purpose.tag())
        .i64(c.room_id)
        .i64(c.channel_id)
        .u32(c.key_version)
        .u64(binding.log_seq)
        .i64(c.sender_id)
        .i64(c.recipient_id)
        .i64(c.purpose.request_id())
        .bytes(&binding.commitment)
        .bytes(recipient_fingerprint)
        .bytes(ephemeral);
    let out = w.finish();
    debug_assert_eq!(out.len(), HEADER_LEN_V2);
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
            &bob.bundle(),
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
}
