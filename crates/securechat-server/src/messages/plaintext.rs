//! Channels this node has seen to be plaintext.
//!
//! Whether a channel is encrypted is fixed when it is created, so once a
//! member's send has loaded the channel the fact never goes stale. Knowing
//! it lets a plaintext send skip the separate access query: the writer's
//! `INSERT` only stores rows whose sender is a member of the channel's room
//! (see [`super::writer`]), which is the same check, made in the
//! transaction that stores the message. A send that fails any validation
//! still goes the long way, so outsiders learn nothing from the errors.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// Entries kept before the set starts over (a few MiB at most).
const MAX_CHANNELS: usize = 100_000;

/// See the module documentation.
#[derive(Default)]
pub struct PlaintextChannels(Mutex<HashSet<i64>>);

impl PlaintextChannels {
    /// Whether `channel_id` is known to be a plaintext channel.
    pub fn contains(&self, channel_id: i64) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&channel_id)
    }

    /// Records a channel loaded from the database as plaintext.
    pub fn remember(&self, channel_id: i64) {
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if set.len() >= MAX_CHANNELS {
            set.clear();
        }
        set.insert(channel_id);
    }
}

#[cfg(test)]
mod tests {
    use super::PlaintextChannels;

    #[test]
    fn remembers_channels_and_stays_bounded() {
        let known = PlaintextChannels::default();
        assert!(!known.contains(7));
        known.remember(7);
        assert!(known.contains(7));
        for id in 0..super::MAX_CHANNELS as i64 {
            known.remember(1_000 + id);
        }
        assert!(known.0.lock().unwrap().len() <= super::MAX_CHANNELS);
    }
}
