//! Everything one client must remember between runs, as one serializable
//! document.
//!
//! The core never reads or writes storage itself: a shell loads the
//! document through a [`crate::StateStore`], hands it to
//! [`crate::Machine::new`], and saves [`crate::Machine::state`] whenever
//! [`crate::Machine::take_dirty`] says it changed. The Rust SDK keeps it in a
//! private file, the browser in IndexedDB. The field names are those of the
//! SDK's key store format 1, so older files load unchanged.
//!
//! It holds secrets (the identity export, channel keys) and trust decisions
//! (pinned bundles, membership-log heads, channels seen encrypted). The
//! server sees none of it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The document format this core writes. Format 1 (the SDK's key store
/// before the core existed) is read as well.
pub const FORMAT: u32 = 2;

/// One user's client state on one server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// [`FORMAT`] once written by this core.
    pub format: u32,
    /// The server this state belongs to (a state is per server and user).
    #[serde(default)]
    pub server: String,
    /// Whose state this is.
    pub user_id: i64,
    /// This device's tag, the upper half of every envelope counter it sends
    /// (`securechat_crypto::device_counter`). 0 until assigned.
    #[serde(default)]
    pub device: u16,
    /// My identity export (`Identity::export`), once generated or restored.
    #[serde(default)]
    pub identity: Option<String>,
    /// Pinned bundles per user (trust on first use).
    #[serde(default)]
    pub pins: BTreeMap<i64, Pin>,
    /// Channel keys: channel → version → key.
    #[serde(default)]
    pub channel_keys: BTreeMap<i64, BTreeMap<u32, StoredKey>>,
    /// The last verified membership-log head of each room.
    #[serde(default)]
    pub log_pins: BTreeMap<i64, LogPin>,
    /// Who the last verified log of each room makes owner or admin, and how
    /// many members it has: what the channel-wide mention rule
    /// (`mention.rs`) reads, never the server's word.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_roles: BTreeMap<i64, LogRoles>,
    /// My outstanding key requests: channel → request ids.
    #[serde(default)]
    pub my_requests: BTreeMap<i64, BTreeSet<i64>>,
    /// Others' key requests waiting for my explicit approval, by request id.
    #[serde(default)]
    pub inbox: BTreeMap<i64, KeyRequest>,
    /// Messages already accepted: `channel:version:sender:counter` → message
    /// id, so reading history again is not mistaken for a replay while the
    /// same envelope under another message id is.
    #[serde(default)]
    pub seen: BTreeMap<String, i64>,
    /// The counter of the latest envelope shown per message id: an edit only
    /// goes forward, so an older envelope served again is a rollback.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latest_edits: BTreeMap<i64, u32>,
    /// Channels this client has seen encrypted; they stay encrypted for it
    /// whatever the server says later.
    #[serde(default)]
    pub encrypted_channels: BTreeSet<i64>,
    /// Rooms this client has seen as DMs: their log must hold exactly two
    /// people, whatever the server says later.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dm_rooms: BTreeSet<i64>,
    /// The room each channel belongs to, as first seen or as a verified
    /// log's `channel` entry fixes it: a channel stays in that room for this
    /// client, whatever the server lists later.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channel_rooms: BTreeMap<i64, i64>,
    /// Rooms this client has seen private (or as DMs): their log must not
    /// make them public (open to `join_public`), whatever the server says
    /// later.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub private_rooms: BTreeSet<i64>,
    /// The disappearing-message timers of encrypted channels, as the
    /// verified logs of their rooms set them: channel → `[set_at (unix
    /// seconds), seconds]` per change, in log order (0 seconds: off).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channel_timers: BTreeMap<i64, Vec<[u64; 2]>>,
    /// The key the outbox is sealed with (`FileKey::export`), made on first use.
    #[serde(default)]
    pub vault_key: Option<String>,
    /// The key my backup is sealed with (`securechat_crypto::backup::BackupKey`
    /// export), derived from the recovery key or passphrase, which are never
    /// stored: kept to seal the backup again when pins or log heads change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_key: Option<String>,
    /// What the backup on the server holds (hex SHA-256 of my bundle and the
    /// trust document), to know when it is out of date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_digest: Option<String>,
    /// Messages of encrypted channels waiting to be sent, sealed
    /// (`securechat_crypto::file` format, base64url): their plaintext is
    /// never stored as it is.
    #[serde(default)]
    pub outbox: Option<String>,
    /// This device's secret signing key ([`securechat_crypto::DeviceKey`]
    /// export), once the device is set up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// This device's prekey secrets, oldest first; the last is current, the
    /// others wait until what was sealed to them is fetched, then go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prekeys: Vec<String>,
    /// The newest device list verified for each person (mine included),
    /// under their pinned identity: an older one is refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub device_lists: BTreeMap<i64, String>,
    /// The newest prekey verified for each device (`"user:device"` →
    /// `[prekey_id, created_ms]`): an older one is a replay.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prekeys_seen: BTreeMap<String, [u64; 2]>,
    /// After I revoked a device: per channel, the newest version it could
    /// hold. Sending under that version or an older one makes the next.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revoked_up_to: BTreeMap<i64, u32>,
    /// A link this (new) device started and has not finished: its
    /// ephemeral secret, its offer, and the other side's ephemeral once
    /// known. Kept so a reload mid-way loses nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<PendingLink>,
    /// Links this device is approving: the new device's id → my ephemeral
    /// secret, until the payload is sent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub approving: BTreeMap<u64, String>,
}

/// What I trust for one user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pin {
    /// The accepted bundle (wire form).
    pub current: String,
    /// Every bundle ever accepted, oldest first, the current one included
    /// (membership entries signed under an older key still verify).
    #[serde(default)]
    pub accepted: Vec<String>,
    /// A different bundle the server offered and I have not accepted: the
    /// user gets no key meanwhile.
    #[serde(default)]
    pub offered: Option<String>,
}

/// One channel key version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredKey {
    /// `ChannelKey::export`.
    pub key: String,
    /// When I obtained it (unix seconds), for the age cap of sending. Set
    /// once: a share delivered again never resets it.
    pub obtained_at: u64,
    /// This device's sequence number for its next message under the version.
    #[serde(default)]
    pub next_counter: u32,
    /// The membership-log seq the version was made at (from a format-2
    /// share, or when I made it). `None` for a key of format 1 (made before
    /// format 2, or stored by an older client): it is read, never sent under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_at: Option<u64>,
    /// Whom the version was made for: the members at `made_at`. A message
    /// under it is verified only from one of them, and a key request is
    /// answered with it only for one of them. For a key from a format-1
    /// share: everyone ever a member of the log when it was accepted (for
    /// reading only; requests for it are not checked against this). Empty
    /// for a key an older client stored: nothing is checked then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<i64>,
}

/// A room's owner and admins and its size, by its last verified log.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogRoles {
    /// The owner and the admins.
    pub admins: BTreeSet<i64>,
    /// How many members the log has.
    pub members: u64,
}

/// The `(seq, head hash)` of the last membership log I verified.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogPin {
    /// Sequence number of the head entry.
    pub seq: u64,
    /// Hex of the head entry's chain hash.
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
    /// The seq of the last entry that changed who is a member (0: the
    /// `create`). A key version made before it is never sent under.
    #[serde(default)]
    pub changed_at: u64,
}

/// A link a new device started ([`State::link`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLink {
    /// My ephemeral secret (crypto crate `LinkEphemeral` export).
    pub ephemeral: String,
    /// The offer I made (wire).
    pub offer: String,
    /// The approving device's ephemeral public key (wire), once it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
}

/// A `channel_key_request` waiting for approval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyRequest {
    /// The server's request id, which the answer's share is bound to.
    pub request_id: i64,
    /// The channel whose key is asked for.
    pub channel_id: i64,
    /// Who asks.
    pub requester_id: i64,
    /// Their name, for the prompt.
    #[serde(default)]
    pub requester_username: String,
    /// The version asked for (the channel's current one when asked).
    #[serde(default)]
    pub key_version: Option<u32>,
}

impl State {
    /// An empty state for `user_id` on `server`.
    pub fn new(server: &str, user_id: i64) -> Self {
        Self {
            format: FORMAT,
            server: server.to_owned(),
            user_id,
            ..Self::default()
        }
    }

    /// Reads a state document, refusing a format this core does not know.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let state: Self = serde_json::from_str(text).map_err(|e| format!("damaged ({e})"))?;
        if state.format != 1 && state.format != FORMAT {
            return Err(format!(
                "written in format {} (this client reads 1 and {FORMAT})",
                state.format
            ));
        }
        Ok(state)
    }

    /// The document, as JSON.
    pub fn to_json(&self) -> String {
        // A map of plain data: serializing it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The stored key of `channel_id` at `version`.
    pub fn key(&self, channel_id: i64, version: u32) -> Option<&StoredKey> {
        self.channel_keys.get(&channel_id)?.get(&version)
    }

    /// The newest version of `channel_id` I hold.
    pub fn latest_version(&self, channel_id: i64) -> Option<u32> {
        self.channel_keys
            .get(&channel_id)?
            .keys()
            .next_back()
            .copied()
    }
}

/// The key used in [`State::seen`].
pub fn seen_key(channel_id: i64, version: u32, sender_id: i64, counter: u32) -> String {
    format!("{channel_id}:{version}:{sender_id}:{counter}")
}

/// `[u8; 32]` as 64 hex digits.
mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        crate::unhex32(&text).ok_or_else(|| D::Error::custom("expected 64 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_1_key_store_loads() {
        let old = r#"{"format":1,"server":"http://x/","user_id":7,"identity":null,
            "pins":{},"channel_keys":{"5":{"2":{"key":"k","obtained_at":10,"next_counter":4}}},
            "log_pins":{"3":{"seq":2,"hash":"abababababababababababababababababababababababababababababababab"}},
            "my_requests":{},"inbox":{},"seen":{}}"#;
        let state = State::from_json(old).unwrap();
        assert_eq!(state.key(5, 2).unwrap().next_counter, 4);
        assert_eq!(state.log_pins[&3].hash, [0xab; 32]);
        assert_eq!(state.device, 0);
        let back = State::from_json(&state.to_json()).unwrap();
        assert_eq!(back, state);
        assert!(State::from_json(r#"{"format":9,"user_id":1}"#).is_err());
        assert!(State::from_json("{not json").is_err());
    }
}
