//! The channel keys (and what binds them to their rooms) that travel to
//! another device of mine: in a link's payload, for the channels the person
//! chose, and in the key backup, so that a browser restored from the
//! recovery key reads the history too.
//!
//! Both carry the same thing and merge it the same way: a key already held
//! here is never replaced, and the receiving device counts its own messages
//! from zero (its envelope counters carry its own device tag).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::state::{State, StoredKey};

/// Channel keys with their rooms, and the rooms and channels they were seen
/// as (encrypted, DM, private), so a downgrade is still noticed there.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct History {
    #[serde(default)]
    pub channel_keys: BTreeMap<i64, BTreeMap<u32, StoredKey>>,
    #[serde(default)]
    pub channel_rooms: BTreeMap<i64, i64>,
    #[serde(default)]
    pub encrypted_channels: BTreeSet<i64>,
    #[serde(default)]
    pub dm_rooms: BTreeSet<i64>,
    #[serde(default)]
    pub private_rooms: BTreeSet<i64>,
}

impl History {
    /// The keys of the channels `carry` selects, from `state`.
    pub fn collect(state: &State, carry: impl Fn(i64) -> bool) -> Self {
        let channel_keys: BTreeMap<i64, BTreeMap<u32, StoredKey>> = state
            .channel_keys
            .iter()
            .filter(|(channel, _)| carry(**channel))
            .map(|(channel, keys)| {
                let keys = keys
                    .iter()
                    .map(|(version, key)| {
                        let mut key = key.clone();
                        key.next_counter = 0;
                        (*version, key)
                    })
                    .collect();
                (*channel, keys)
            })
            .collect();
        Self {
            channel_rooms: state
                .channel_rooms
                .iter()
                .filter(|(channel, _)| channel_keys.contains_key(channel))
                .map(|(channel, room)| (*channel, *room))
                .collect(),
            channel_keys,
            encrypted_channels: state.encrypted_channels.clone(),
            dm_rooms: state.dm_rooms.clone(),
            private_rooms: state.private_rooms.clone(),
        }
    }

    /// How many keys it carries.
    pub fn key_count(&self) -> usize {
        self.channel_keys.values().map(BTreeMap::len).sum()
    }

    /// Drops the `n` keys obtained longest ago (to fit a size cap).
    pub fn drop_oldest(&mut self, n: usize) {
        let mut all: Vec<(u64, i64, u32)> = self
            .channel_keys
            .iter()
            .flat_map(|(channel, keys)| {
                keys.iter()
                    .map(|(version, key)| (key.obtained_at, *channel, *version))
            })
            .collect();
        all.sort_unstable();
        for (_, channel, version) in all.into_iter().take(n) {
            if let Some(keys) = self.channel_keys.get_mut(&channel) {
                keys.remove(&version);
                if keys.is_empty() {
                    self.channel_keys.remove(&channel);
                    self.channel_rooms.remove(&channel);
                }
            }
        }
    }

    /// Merges into `state`; returns how many channels it brought keys for.
    /// Keys and room bindings already held are kept.
    pub fn merge_into(self, state: &mut State) -> usize {
        let channels = self.channel_keys.len();
        for (channel, keys) in self.channel_keys {
            let held = state.channel_keys.entry(channel).or_default();
            for (version, key) in keys {
                held.entry(version).or_insert(key);
            }
        }
        for (channel, room) in self.channel_rooms {
            state.channel_rooms.entry(channel).or_insert(room);
        }
        state.encrypted_channels.extend(self.encrypted_channels);
        state.dm_rooms.extend(self.dm_rooms);
        state.private_rooms.extend(self.private_rooms);
        channels
    }
}
