//! What the core refuses, and why.
//!
//! Every refusal has a stable snake_case code (the same in Rust, in the
//! browser and in the lying-server scenarios) and a message worded for the
//! person using the client: what happened and what to do.

use thiserror::Error;

/// A decision of the core not to do what was asked, or that it cannot yet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// This client holds no identity yet: create one or restore the backup.
    #[error("encryption is not set up on this device: restore your keys from your backup")]
    NoIdentity,
    /// The room has no signed membership log yet.
    #[error("room {room_id} has no membership log yet; its owner's client starts it")]
    NoLog { room_id: i64 },
    /// The server shows an empty log for a room whose head this client saved.
    #[error(
        "the server shows no membership log for room {room_id}, whose log this device has seen; nothing is shared there"
    )]
    LogReset { room_id: i64 },
    /// Only the owner (or either person of a DM) starts a log.
    #[error("only the owner of room {room_id} starts its membership log")]
    MayNotStartLog { room_id: i64 },
    /// The members the server lists cannot form this room's log.
    #[error("the server's member list of room {room_id} cannot start its log: {reason}")]
    BadMemberList { room_id: i64, reason: String },
    /// The membership log does not verify, or rewrites what was seen.
    #[error(
        "the membership log of room {room_id} does not verify ({code}); no keys are shared there"
    )]
    LogInvalid { room_id: i64, code: String },
    /// Someone is not a member according to the verified log.
    #[error("user {user_id} is not a member of room {room_id} according to its verified log")]
    NotAMember { user_id: i64, room_id: i64 },
    /// A pinned user's served key differs from the pin.
    #[error(
        "the public key of user {user_id} CHANGED; no key is shared with them until you compare safety numbers and accept the new key"
    )]
    KeyChanged { user_id: i64 },
    /// A user has no published key (or the shell did not provide it).
    #[error("user {user_id} has no published key yet")]
    NoBundle { user_id: i64 },
    /// No key held for a channel version.
    #[error("no key for version {version} of channel {channel_id}: request it")]
    NoKey { channel_id: i64, version: u32 },
    /// A share for a version already held, with another key.
    #[error(
        "a different key for version {version} of channel {channel_id}, which this device already holds"
    )]
    DifferentKey { channel_id: i64, version: u32 },
    /// A share answers a request this client did not make.
    #[error("a key share answers a request this device did not make")]
    UnrequestedShare,
    /// The share's own fields disagree with what the server says about it.
    #[error(
        "the key share is addressed to another user, channel or version, or lies about its purpose"
    )]
    ShareMismatch,
    /// No such queued key request.
    #[error("no key request {request_id} is waiting")]
    UnknownRequest { request_id: i64 },
    /// The channel was seen encrypted; the server now says it is not.
    #[error(
        "channel {channel_id} is encrypted, but the server now says it is not: nothing is sent there in plaintext"
    )]
    Downgrade { channel_id: i64 },
    /// The key the shown safety number belongs to is no longer offered.
    #[error("the key of user {user_id} changed again since it was shown; compare the new number")]
    OfferChanged { user_id: i64 },
    /// The server lists a channel under another room than the one this
    /// client first saw it in.
    #[error(
        "the server lists channel {channel_id} under another room than room {room_id}, where this device first saw it; nothing is shared or sent there"
    )]
    WrongRoom { channel_id: i64, room_id: i64 },
    /// A channel this client never held a key of, which the room's signed
    /// log does not register, and which I may not register (not an admin).
    #[error(
        "channel {channel_id} is not registered as encrypted in the signed log of room {room_id}; an owner or admin of the room registers it when they next use it"
    )]
    ChannelNotRegistered { channel_id: i64, room_id: i64 },
    /// A key share the verified log does not justify.
    #[error("a key share for version {version} of channel {channel_id} was refused: {reason}")]
    UnjustifiedShare {
        channel_id: i64,
        version: u32,
        reason: String,
    },
    /// A key request for a version made before the requester was a member.
    #[error(
        "user {user_id} was not a member when version {version} of channel {channel_id} was made; they get the next version instead"
    )]
    NotCovered {
        user_id: i64,
        channel_id: i64,
        version: u32,
    },
    /// No device list of this person has been verified yet.
    #[error("the devices of user {user_id} are not known yet: fetch their device list")]
    NoDeviceList {
        /// Whose.
        user_id: i64,
    },
    /// The served device list does not verify under the pinned identity.
    #[error(
        "the device list the server shows for user {user_id} is not signed by their identity ({code}); none of its devices gets a key"
    )]
    DeviceListInvalid {
        /// Whose.
        user_id: i64,
        /// The crypto crate's code.
        code: String,
    },
    /// An older device list than one already verified: a replay from
    /// before a revocation.
    #[error(
        "the server shows an older device list for user {user_id} (version {found}) than this device verified (version {pinned}); it is ignored"
    )]
    DeviceListRollback {
        /// Whose.
        user_id: i64,
        /// The newest version verified.
        pinned: u64,
        /// The version served.
        found: u64,
    },
    /// A device that the person's signed list does not contain.
    #[error(
        "device {device_id} of user {user_id} is not in their signed device list; it gets no key"
    )]
    UnknownDevice {
        /// Whose.
        user_id: i64,
        /// The device.
        device_id: u64,
    },
    /// A prekey that must not be sealed to.
    #[error("the prekey of device {device_id} of user {user_id} is refused: {reason}")]
    StalePrekey {
        /// Whose.
        user_id: i64,
        /// The device.
        device_id: u64,
        /// Why.
        reason: String,
    },
    /// A share sealed to a prekey this device deleted (or never had).
    #[error(
        "the key share is sealed to prekey {prekey_id}, which this device no longer holds: request the key"
    )]
    PrekeyGone {
        /// The prekey the share names.
        prekey_id: u32,
    },
    /// The person asking for a key has a verified device list, and none of
    /// their listed devices has a prekey this device may seal to: the key
    /// goes to their devices only, never to the identity key a revoked
    /// device may still hold.
    #[error(
        "none of the devices of user {user_id} has a fresh prekey to seal the key to; they must open Securechat on one of their devices, then ask again"
    )]
    NoDeviceToSealTo {
        /// Who asked.
        user_id: i64,
    },
    /// A version of format 1 (made before format 2, with no log entry to
    /// bind) cannot be sealed to a device's prekey, and is not sealed to
    /// the identity of a person who has devices.
    #[error(
        "version {version} of channel {channel_id} was made before the current format and can only be sealed to an identity key, which user {user_id}'s revoked devices could open; share a newer version instead"
    )]
    Format1ToDevices {
        /// Who asked.
        user_id: i64,
        /// The channel.
        channel_id: i64,
        /// The version.
        version: u32,
    },
    /// My own device list, signed by my identity and newer than the one
    /// this device verified, no longer names this device: it was revoked
    /// from another device, and has forgotten every key it held.
    #[error(
        "this device (device {device_id}) was removed from your devices on another device, and has forgotten your keys; link it again from one of your devices, or restore your keys from your recovery key"
    )]
    DeviceRevoked {
        /// This device's id before it forgot it.
        device_id: u64,
    },
    /// The input could not be read.
    #[error("invalid input: {0}")]
    BadInput(String),
    /// A cryptographic check failed (with the crypto crate's code).
    #[error("{message}")]
    Crypto { code: String, message: String },
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &str {
        match self {
            Self::NoIdentity => "no_identity",
            Self::NoLog { .. } => "no_membership_log",
            Self::LogReset { .. } => "log_reset",
            Self::MayNotStartLog { .. } => "may_not_start_log",
            Self::BadMemberList { .. } => "bad_member_list",
            Self::LogInvalid { .. } => "log_invalid",
            Self::NotAMember { .. } => "not_a_member",
            Self::KeyChanged { .. } => "key_changed",
            Self::NoBundle { .. } => "no_bundle",
            Self::NoKey { .. } => "no_key",
            Self::DifferentKey { .. } => "different_key",
            Self::UnrequestedShare => "unrequested_share",
            Self::ShareMismatch => "share_mismatch",
            Self::UnknownRequest { .. } => "unknown_request",
            Self::Downgrade { .. } => "downgrade",
            Self::OfferChanged { .. } => "offer_changed",
            Self::WrongRoom { .. } => "wrong_room",
            Self::ChannelNotRegistered { .. } => "channel_not_registered",
            Self::UnjustifiedShare { .. } => "unjustified_share",
            Self::NotCovered { .. } => "not_covered",
            Self::NoDeviceList { .. } => "no_device_list",
            Self::DeviceListInvalid { .. } => "device_list_invalid",
            Self::DeviceListRollback { .. } => "device_list_rollback",
            Self::UnknownDevice { .. } => "unknown_device",
            Self::StalePrekey { .. } => "stale_prekey",
            Self::PrekeyGone { .. } => "prekey_gone",
            Self::NoDeviceToSealTo { .. } => "no_device_prekey",
            Self::Format1ToDevices { .. } => "format1_to_devices",
            Self::DeviceRevoked { .. } => "device_revoked",
            Self::BadInput(_) => "bad_input",
            Self::Crypto { code, .. } => code,
        }
    }
}

impl From<securechat_crypto::Error> for Refusal {
    fn from(e: securechat_crypto::Error) -> Self {
        Self::Crypto {
            code: e.code().to_string(),
            message: e.to_string(),
        }
    }
}

/// The core's result type.
pub type Result<T, E = Refusal> = std::result::Result<T, E>;
