//! End-to-end encryption for the SDK: [`SecureClient`] wraps a logged-in
//! [`Client`] with the user's identity and local [`KeyStore`], and runs the
//! client procedures of `docs/PROTOCOL.md` §10 with the crypto crate.
//!
//! The server is treated as an adversary that relays: every bundle is
//! checked against the pin, every key goes only to members proven by the
//! signed membership log, every share and message is opened against what
//! *local* state expects. Modules:
//!
//! - `api.rs`: the REST calls (bundles, backup, shares, requests, the log);
//! - `trust.rs`: identity, pinning (TOFU), `trust`, safety numbers, backup;
//! - `members.rs`: verifying, starting and extending the membership log;
//! - `keys.rs`: rotation, shares, key requests and the event handler;
//! - `messages.rs`: sending envelopes and reading them back.

mod api;
mod keys;
mod members;
mod messages;
mod trust;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use securechat_crypto::{ForwardSecrecyPolicy, Identity, ReplayGuard};

pub use api::{LogPage, MyShare, PublishedKey};
pub use keys::{Distribution, Handled};
pub use members::MembershipChange;
pub use messages::{Body, ReadMessage};
pub use trust::SafetyInfo;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::keystore::KeyStore;

/// A logged-in client with end-to-end encryption.
pub struct SecureClient {
    client: Client,
    path: PathBuf,
    store: KeyStore,
    identity: Identity,
    policy: ForwardSecrecyPolicy,
    /// Rebuilt from the store's `seen` at start; see [`KeyStore::seen`].
    replay: ReplayGuard,
    /// Channel id → (room id, encrypted), from the room listing.
    channels: HashMap<i64, ChannelInfo>,
}

#[derive(Debug, Clone, Copy)]
struct ChannelInfo {
    room_id: i64,
    encrypted: bool,
}

impl std::fmt::Debug for SecureClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureClient")
            .field("user_id", &self.store.user_id)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SecureClient {
    /// The SDK client underneath (for calls that need no encryption).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// My user id.
    pub fn user_id(&self) -> i64 {
        self.store.user_id
    }

    /// My identity's public bundle.
    pub fn bundle(&self) -> securechat_crypto::PublicBundle {
        self.identity.bundle()
    }

    /// My identity (secret keys): for callers that seal and open envelopes
    /// themselves with the crypto crate, such as the load generator, which
    /// must not pay for key-store writes per message.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// A channel key version I hold.
    pub fn channel_key(
        &self,
        channel_id: i64,
        version: u32,
    ) -> Result<securechat_crypto::ChannelKey> {
        self.key_of(channel_id, version)
    }

    /// The key store, read-only (what is pinned, which keys are held).
    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    /// The key store's path.
    pub fn store_path(&self) -> &Path {
        &self.path
    }

    /// Replaces the forward-secrecy policy (tests use small caps).
    pub fn set_policy(&mut self, policy: ForwardSecrecyPolicy) {
        self.policy = policy;
    }

    fn save(&self) -> Result<()> {
        self.store.save(&self.path)
    }

    /// The room of a channel and whether it is encrypted, from the room
    /// listing (refreshed when the channel is unknown).
    async fn channel_info(&mut self, channel_id: i64) -> Result<ChannelInfo> {
        if let Some(info) = self.channels.get(&channel_id) {
            return Ok(*info);
        }
        for room in self.client.rooms().await? {
            for channel in room.channels {
                self.channels.insert(
                    channel.id,
                    ChannelInfo {
                        room_id: channel.room_id,
                        encrypted: channel.is_encrypted,
                    },
                );
            }
        }
        self.channels
            .get(&channel_id)
            .copied()
            .ok_or_else(|| Error::UnexpectedResponse {
                status: 404,
                detail: format!("channel {channel_id} is not in any of my rooms"),
            })
    }
}

/// Unix seconds now.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
