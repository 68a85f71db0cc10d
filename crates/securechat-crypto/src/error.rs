//! The one error type of the crate.
//!
//! Every input that comes from the network (bundles, shares, envelopes, log
//! entries, backups) is untrusted, so every way it can be wrong has its own
//! variant instead of a panic or a catch-all. Callers (the server answering
//! with a status code, the client deciding what to show) match on the variant;
//! [`Error::code`] gives a stable snake_case name for JSON and JavaScript.

use crate::membership::MembershipError;
use crate::policy::RotationReason;

/// Which serialized object a decoding error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A public key bundle ([`crate::PublicBundle`]).
    Bundle,
    /// A sealed channel-key share ([`crate::SealedShare`]).
    Share,
    /// A channel message envelope ([`crate::Envelope`]).
    Message,
    /// A membership log entry ([`crate::MembershipEntry`]).
    MembershipEntry,
    /// A passphrase-sealed identity backup ([`crate::Backup`]).
    Backup,
    /// A secret identity export ([`crate::Identity::export`]).
    IdentityExport,
    /// A channel key ([`crate::ChannelKey`]).
    ChannelKey,
    /// A file encrypted in chunks ([`crate::file`]).
    File,
    /// A person's signed device list ([`crate::device`]).
    DeviceList,
    /// A device's secret key export.
    DeviceKey,
    /// A device's signed prekey ([`crate::prekey`]).
    Prekey,
    /// A new device's link offer ([`crate::link`]).
    LinkOffer,
    /// What a linking device sends the new one ([`crate::link`]).
    LinkPayload,
}

impl ObjectKind {
    /// A stable lower-case name, used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Bundle => "bundle",
            ObjectKind::Share => "share",
            ObjectKind::Message => "message",
            ObjectKind::MembershipEntry => "membership entry",
            ObjectKind::Backup => "backup",
            ObjectKind::IdentityExport => "identity export",
            ObjectKind::ChannelKey => "channel key",
            ObjectKind::File => "file",
            ObjectKind::DeviceList => "device list",
            ObjectKind::DeviceKey => "device key",
            ObjectKind::Prekey => "prekey",
            ObjectKind::LinkOffer => "link offer",
            ObjectKind::LinkPayload => "link payload",
        }
    }
}

impl core::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A field of a share or envelope whose value did not match what the caller
/// expected. Naming the field makes a replayed object easy to diagnose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextField {
    /// The channel id.
    ChannelId,
    /// The channel key version.
    KeyVersion,
    /// The sender's user id.
    SenderId,
    /// The recipient's user id.
    RecipientId,
    /// The purpose of a key share (initial, rotation, request).
    Purpose,
    /// The request id a share answers.
    RequestId,
    /// The recipient key a share was sealed to.
    RecipientKey,
    /// The user id a bundle is bound to.
    UserId,
    /// The room a format-2 share is bound to.
    RoomId,
    /// The commitment of a format-2 share to its key.
    KeyCommitment,
}

impl core::fmt::Display for ContextField {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ContextField::ChannelId => "channel_id",
            ContextField::KeyVersion => "key_version",
            ContextField::SenderId => "sender_id",
            ContextField::RecipientId => "recipient_id",
            ContextField::Purpose => "purpose",
            ContextField::RequestId => "request_id",
            ContextField::RecipientKey => "recipient_key",
            ContextField::UserId => "user_id",
            ContextField::RoomId => "room_id",
            ContextField::KeyCommitment => "key_commitment",
        })
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A wire string is not unpadded base64url.
    #[error("invalid base64url encoding")]
    InvalidBase64,
    /// The bytes end before the object does.
    #[error("{0} is truncated")]
    Truncated(ObjectKind),
    /// Bytes follow the end of the object (strict parsing refuses them).
    #[error("{0} has trailing bytes")]
    TrailingBytes(ObjectKind),
    /// The leading type tag names another kind of object (key-type confusion).
    #[error("expected a {expected}, found object type tag {found:#04x}")]
    WrongObjectType {
        /// What the caller asked to parse.
        expected: ObjectKind,
        /// The tag that was found.
        found: u8,
    },
    /// The format version is not one this build understands.
    #[error("unsupported {object} format version {version}")]
    UnsupportedVersion {
        /// The object being parsed.
        object: ObjectKind,
        /// The version byte found.
        version: u8,
    },
    /// A field holds a value outside its domain (unknown enum tag, bad length…).
    #[error("invalid {object}: {reason}")]
    InvalidField {
        /// The object being parsed.
        object: ObjectKind,
        /// Which rule was broken.
        reason: &'static str,
    },
    /// A public key is not a valid curve point, or is a weak (small-order) key.
    #[error("invalid or weak public key")]
    InvalidPublicKey,
    /// The Diffie-Hellman result was all zeroes: the peer key has small order.
    #[error("key agreement with a small-order public key")]
    NonContributoryKeyAgreement,
    /// A signature did not verify under the expected key and label.
    #[error("bad signature on {0}")]
    BadSignature(ObjectKind),
    /// The AEAD rejected the ciphertext: it was altered, or sealed for another key or context.
    #[error("decryption of {0} failed")]
    DecryptionFailed(ObjectKind),
    /// A share or envelope is authentic but was made for another context (a replay).
    #[error("{field} does not match the expected value")]
    ContextMismatch {
        /// The first field that differs.
        field: ContextField,
    },
    /// A bundle's signing key is not the one the caller expected for this user.
    #[error("signer key does not match the expected bundle")]
    SignerMismatch,
    /// Backup parameters are below the minimum this build accepts (downgrade).
    #[error("backup KDF parameters are too weak")]
    WeakKdfParameters,
    /// Backup parameters are above the maximum this build accepts (resource exhaustion).
    #[error("backup KDF parameters are too expensive")]
    ExcessiveKdfParameters,
    /// The recovery passphrase is too short to protect an identity.
    #[error("recovery passphrase must be at least {min} bytes")]
    WeakPassphrase {
        /// The minimum length in bytes.
        min: usize,
    },
    /// The forward-secrecy policy requires a new key version before sending.
    #[error("channel key must be rotated before sending: {0}")]
    RotationRequired(RotationReason),
    /// A received message breaks the forward-secrecy policy (counter above the cap).
    #[error("message counter {counter} exceeds the policy limit {limit}")]
    PolicyViolation {
        /// The counter carried by the message.
        counter: u32,
        /// The highest counter the policy allows.
        limit: u32,
    },
    /// The same (sender, key version, counter) was already accepted.
    #[error("message replayed: sender {sender_id} counter {counter} already seen")]
    Replay {
        /// The sender of the replayed message.
        sender_id: i64,
        /// Its counter.
        counter: u32,
    },
    /// A membership log failed verification.
    #[error("membership log: {0}")]
    Membership(#[from] MembershipError),
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// A plaintext or object is too large for the format.
    #[error("{0} is too large")]
    TooLarge(ObjectKind),
    /// A device is not in its person's identity-signed device list.
    #[error("device {device_id} is not in the person's signed device list")]
    UnknownDevice {
        /// The device named.
        device_id: u64,
    },
    /// A device list older than (or different from, at the same version)
    /// one already seen: a server replaying a list from before a revocation.
    #[error("device list version {found} does not succeed version {pinned}")]
    DeviceListRollback {
        /// The version already seen.
        pinned: u64,
        /// The version offered.
        found: u64,
    },
    /// A prekey older than one already seen for its device, or past its
    /// lifetime: a replayed prekey whose private half may be stolen.
    #[error("prekey {prekey_id} is stale: {reason}")]
    StalePrekey {
        /// The prekey named.
        prekey_id: u32,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A share is sealed to a prekey this device no longer holds (deleted
    /// after rotation) or never held.
    #[error("share is sealed to prekey {prekey_id}, which this device does not hold")]
    UnknownPrekey {
        /// The prekey the share names.
        prekey_id: u32,
    },
}

impl Error {
    /// A stable snake_case code for this error, for JSON answers and JavaScript.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidBase64 => "invalid_base64",
            Error::Truncated(_) => "truncated",
            Error::TrailingBytes(_) => "trailing_bytes",
            Error::WrongObjectType { .. } => "wrong_object_type",
            Error::UnsupportedVersion { .. } => "unsupported_version",
            Error::InvalidField { .. } => "invalid_field",
            Error::InvalidPublicKey => "invalid_public_key",
            Error::NonContributoryKeyAgreement => "non_contributory_key_agreement",
            Error::BadSignature(_) => "bad_signature",
            Error::DecryptionFailed(_) => "decryption_failed",
            Error::ContextMismatch { .. } => "context_mismatch",
            Error::SignerMismatch => "signer_mismatch",
            Error::WeakKdfParameters => "weak_kdf_parameters",
            Error::ExcessiveKdfParameters => "excessive_kdf_parameters",
            Error::WeakPassphrase { .. } => "weak_passphrase",
            Error::RotationRequired(_) => "rotation_required",
            Error::PolicyViolation { .. } => "policy_violation",
            Error::Replay { .. } => "replay",
            Error::Membership(e) => e.code(),
            Error::Rng => "rng_failure",
            Error::TooLarge(_) => "too_large",
            Error::UnknownDevice { .. } => "unknown_device",
            Error::DeviceListRollback { .. } => "device_list_rollback",
            Error::StalePrekey { .. } => "stale_prekey",
            Error::UnknownPrekey { .. } => "unknown_prekey",
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
