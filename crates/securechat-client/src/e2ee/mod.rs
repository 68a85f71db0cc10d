//! End-to-end encryption for the SDK: [`SecureClient`] wraps a logged-in
//! [`Client`] with the `securechat-e2ee` core ([`Machine`]) and a key store
//! file. It is the core's I/O shell: it fetches what the core asks for
//! (bundles, the membership log, my sealed copies), posts what it answers
//! (shares, log entries, envelopes), and saves the state after each change.
//! Every trust decision is the core's; the browser runs the same core as
//! WebAssembly. Modules:
//!
//! - `api.rs`: the REST calls (bundles, backup, shares, requests, the log);
//! - `trust.rs`: opening (identity), backup and restore, pinning, `trust`,
//!   safety numbers;
//! - `members.rs`: fetching and verifying the membership log, starting it,
//!   signed membership changes;
//! - `devices.rs`: this device's list and prekeys, other people's devices,
//!   and the device's share mailbox;
//! - `link.rs`: linking a new device through the server's relay;
//! - `keys.rs`: making versions, shares, key requests, the event handler;
//! - `messages.rs`: sending and reading messages.

mod api;
mod backup;
mod devices;
mod keys;
mod link;
mod members;
mod messages;
mod trust;

use std::collections::HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use securechat_crypto::{ForwardSecrecyPolicy, Identity};
use securechat_e2ee::{ChannelFacts, Machine, RoomFacts, State, StateStore};

pub use api::{LogPage, MyShare, PublishedKey};
pub use devices::{DevicesPage, MailboxShare, ServedDevice};
pub use keys::{Distribution, Handled};
pub use link::{Carry, LinkState, PendingLink};
pub use members::MembershipChange;
pub use messages::{Body, ReadMessage};
pub use securechat_e2ee::SafetyInfo;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::keystore::FileStore;

/// A logged-in client with end-to-end encryption.
pub struct SecureClient {
    client: Client,
    store: FileStore,
    machine: Machine,
    /// My bundle: `open` and `restore` only build a client with an identity.
    bundle: securechat_crypto::PublicBundle,
    /// What the room listing says of each channel (refreshed when unknown
    /// or when the server refuses a send).
    channels: HashMap<i64, ChannelFacts>,
}

impl std::fmt::Debug for SecureClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureClient")
            .field("user_id", &self.machine.user_id())
            .field("path", &self.store.path())
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
        self.machine.user_id()
    }

    /// My identity's public bundle.
    pub fn bundle(&self) -> securechat_crypto::PublicBundle {
        self.bundle.clone()
    }

    /// My identity (secret keys): for callers that seal and open envelopes
    /// themselves with the crypto crate, such as the load generator, which
    /// must not pay for key-store writes per message.
    pub fn identity(&self) -> Result<&Identity> {
        Ok(self.machine.identity()?)
    }

    /// A channel key version I hold.
    pub fn channel_key(
        &self,
        channel_id: i64,
        version: u32,
    ) -> Result<securechat_crypto::ChannelKey> {
        Ok(self.machine.channel_key(channel_id, version)?)
    }

    /// The core's state, read-only (what is pinned, which keys are held).
    pub fn store(&self) -> &State {
        self.machine.state()
    }

    /// The key store's path.
    pub fn store_path(&self) -> &Path {
        self.store.path()
    }

    /// This device's tag (the upper half of its message counters).
    pub fn device(&self) -> u16 {
        self.machine.device()
    }

    /// Replaces the forward-secrecy policy (tests use small caps).
    pub fn set_policy(&mut self, policy: ForwardSecrecyPolicy) {
        self.machine.set_policy(policy);
    }

    /// Saves the state if the last core call changed it.
    fn save(&mut self) -> Result<()> {
        if self.machine.take_dirty() {
            self.store.save(self.machine.state())?;
        }
        Ok(())
    }

    /// What the server says of a channel, from the room listing (fetched
    /// when unknown, or again with `refresh`).
    async fn channel_facts(&mut self, channel_id: i64, refresh: bool) -> Result<ChannelFacts> {
        if !refresh && let Some(facts) = self.channels.get(&channel_id) {
            return Ok(facts.clone());
        }
        let rooms = self.client.rooms().await?;
        // A room seen as a DM stays one (its log holds exactly two people),
        // and a room seen private stays private (its log is never public).
        let facts: Vec<RoomFacts> = rooms
            .iter()
            .map(|room| RoomFacts {
                id: room.id,
                is_dm: room.is_dm(),
                is_private: room.is_private,
                my_role: room.my_role.map(|r| r.to_string()),
            })
            .collect();
        self.machine.observe_rooms(&facts);
        self.save()?;
        for room in rooms {
            for channel in room.channels {
                self.channels.insert(
                    channel.id,
                    ChannelFacts {
                        id: channel.id,
                        room_id: channel.room_id,
                        is_encrypted: channel.is_encrypted,
                        key_version: u32::try_from(channel.key_version).unwrap_or(0),
                        pending_version: channel
                            .pending_version
                            .and_then(|v| u32::try_from(v).ok()),
                    },
                );
            }
        }
        self.channels
            .get(&channel_id)
            .cloned()
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
