//! Key retention: a client deletes the channel keys it obtained longer ago
//! than the retention it states, so a device stolen later opens no older
//! history than that, whatever the server kept. The newest version of each
//! channel is always kept (it is the one sent under, and read with, now).
//!
//! The default is [`DEFAULT_KEY_RETENTION_DAYS`]; a shell may state another
//! (the web client and the SDK pass theirs on every start and daily).

use crate::machine::Machine;

/// How long a client keeps a channel key it no longer sends under, in days,
/// unless it states otherwise.
pub const DEFAULT_KEY_RETENTION_DAYS: u64 = 365;

/// The shortest retention accepted, in days: below it a person would lose
/// last week's messages on a device that was merely offline.
pub const MIN_KEY_RETENTION_DAYS: u64 = 30;

const DAY: u64 = 24 * 60 * 60;

impl Machine {
    /// Deletes every channel key obtained more than `days` (at least
    /// [`MIN_KEY_RETENTION_DAYS`]) before `now` (seconds), except the
    /// newest version of each channel. Returns how many were deleted.
    pub fn forget_old_keys(&mut self, now: u64, days: u64) -> usize {
        let cutoff = now.saturating_sub(days.max(MIN_KEY_RETENTION_DAYS).saturating_mul(DAY));
        let mut forgotten = 0;
        for keys in self.state.channel_keys.values_mut() {
            let newest = keys.keys().next_back().copied();
            let before = keys.len();
            keys.retain(|version, key| Some(*version) == newest || key.obtained_at >= cutoff);
            forgotten += before - keys.len();
        }
        if forgotten > 0 {
            self.touch();
        }
        forgotten
    }
}

#[cfg(test)]
mod tests {
    // Test code: a panic is how a test fails.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{State, StoredKey};

    fn key(obtained_at: u64) -> StoredKey {
        StoredKey {
            key: securechat_crypto::ChannelKey::generate()
                .unwrap()
                .export()
                .to_string(),
            obtained_at,
            next_counter: 0,
            made_at: Some(1),
            members: vec![1],
        }
    }

    #[test]
    fn keys_past_the_retention_are_deleted_but_each_channels_newest_stays() {
        let now = 1_000 * DAY;
        let mut state = State::new("http://x/", 1);
        let old = state.channel_keys.entry(5).or_default();
        old.insert(1, key(now - 400 * DAY));
        old.insert(2, key(now - 200 * DAY));
        old.insert(3, key(now - DAY));
        // A channel whose only key is old: it is still the one in use.
        state
            .channel_keys
            .entry(6)
            .or_default()
            .insert(1, key(now - 900 * DAY));
        let mut machine = Machine::new(state).unwrap();
        machine.take_dirty();

        assert_eq!(machine.forget_old_keys(now, DEFAULT_KEY_RETENTION_DAYS), 1);
        assert!(machine.take_dirty(), "the deletion is saved");
        let kept: Vec<u32> = machine.state().channel_keys[&5].keys().copied().collect();
        assert_eq!(kept, vec![2, 3]);
        assert_eq!(machine.state().channel_keys[&6].len(), 1);
        assert_eq!(machine.forget_old_keys(now, DEFAULT_KEY_RETENTION_DAYS), 0);
        assert!(!machine.take_dirty());

        // A stated retention below the floor counts as the floor.
        assert_eq!(machine.forget_old_keys(now, 1), 1);
        let kept: Vec<u32> = machine.state().channel_keys[&5].keys().copied().collect();
        assert_eq!(kept, vec![3]);
    }
}
