//! Disappearing messages in encrypted channels: the timer comes from the
//! room's signed membership log (`disappearing` entries), never from the
//! server.
//!
//! The server also keeps a per-channel setting and stamps each message with
//! an `expires_at`; it is the adversary here, so both are hints. A message
//! disappears at the EARLIER of the log's expiry and the server's: the
//! server may remove a message sooner (it could drop it anyway), but it
//! cannot make it last longer by lengthening, dropping or omitting the
//! timer. A server setting that differs from the log's is reported, and the
//! log's is the one shown.
//!
//! A timer applies to the messages sent after it was set (the signed
//! timestamp of its entry), never to older history. A message's time is
//! the server's `created_at`: envelopes carry no time of their own.

use std::collections::BTreeMap;

use securechat_crypto::{Action, MembershipLog};
use serde::Serialize;

use crate::error::Result;
use crate::machine::Machine;

/// A channel's disappearing-message setting as the client shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimerView {
    /// The timer to show and apply, in seconds; `None` when off.
    pub seconds: Option<u32>,
    /// What the server says.
    pub server_seconds: Option<u32>,
    /// Whether `seconds` comes from the room's signed log (an encrypted
    /// channel) rather than from the server (a plaintext channel).
    pub signed: bool,
    /// The server's setting differs from the signed one: the server (or a
    /// stale client) misstates it. The shell tells the person.
    pub mismatch: bool,
}

/// Every channel of `log` whose timer was ever set, with its changes as
/// `[set_at, seconds]` in log order.
pub(crate) fn timers_of(log: &MembershipLog) -> BTreeMap<i64, Vec<[u64; 2]>> {
    log.state()
        .timers
        .iter()
        .map(|(&channel, changes)| {
            let list = changes
                .iter()
                .map(|c| [c.set_at, u64::from(c.seconds)])
                .collect();
            (channel, list)
        })
        .collect()
}

impl Machine {
    /// Keeps the timers of the verified `log`'s channels, so later
    /// [`Machine::message_expiry`] and [`Machine::channel_timer`] answers
    /// follow them. Called on every verification.
    pub(crate) fn take_timers(&mut self, log: &MembershipLog) {
        for (channel, changes) in timers_of(log) {
            if self.state.channel_timers.get(&channel) != Some(&changes) {
                self.state.channel_timers.insert(channel, changes);
                self.touch();
            }
        }
    }

    /// The entry that sets the disappearing timer of `channel_id` (a
    /// registered encrypted channel of `room_id`) to `seconds` (0: off),
    /// signed by me on top of the verified log `entries`, for the shell to
    /// post before it changes the server's setting; `None` when the log
    /// already has that timer. The log's rules refuse a member
    /// (`log_unauthorized`) and an unregistered channel
    /// (`log_invalid_transition`); a timer outside 5 minutes..4 weeks is
    /// `invalid_field`.
    pub fn set_disappearing(
        &mut self,
        room_id: i64,
        entries: &[String],
        channel_id: i64,
        seconds: u32,
        now: u64,
    ) -> Result<Option<String>> {
        let mut log = self.verify_log(room_id, entries)?;
        if log.state().timer(channel_id) == seconds && log.channels().contains(&channel_id) {
            return Ok(None);
        }
        let identity = self.identity()?;
        let entry = log.append(
            identity,
            Action::SetDisappearing {
                channel: channel_id,
                seconds,
            },
            now,
        )?;
        Ok(Some(entry.to_wire()))
    }

    /// Whether the client applies the signed timers to `channel_id`: a
    /// channel it saw encrypted or whose room's log gave it one.
    fn signed_timers(&self, channel_id: i64) -> bool {
        self.state.encrypted_channels.contains(&channel_id)
            || self.state.channel_timers.contains_key(&channel_id)
    }

    /// The current timer of `channel_id` and whether the server's
    /// `server_seconds` agrees. For an encrypted channel the timer is the
    /// one its room's verified log sets (off if none); for a plaintext
    /// channel, which has no signed log of its own, the server's.
    pub fn channel_timer(&self, channel_id: i64, server_seconds: Option<u32>) -> TimerView {
        let server_seconds = server_seconds.filter(|&s| s > 0);
        if !self.signed_timers(channel_id) {
            return TimerView {
                seconds: server_seconds,
                server_seconds,
                signed: false,
                mismatch: false,
            };
        }
        let seconds = self
            .state
            .channel_timers
            .get(&channel_id)
            .and_then(|changes| changes.last())
            .and_then(|&[_, s]| u32::try_from(s).ok())
            .filter(|&s| s > 0);
        TimerView {
            seconds,
            server_seconds,
            signed: true,
            mismatch: seconds != server_seconds,
        }
    }

    /// When a message of `channel_id` created at `created_at` (ms, the
    /// server's time) disappears, in ms; `None` if it does not. The
    /// earlier of the signed timer's expiry (encrypted channels) and the
    /// server's `expires_at`: the server can only shorten a message's life.
    pub fn message_expiry(
        &self,
        channel_id: i64,
        created_at: i64,
        server_expires_at: Option<i64>,
    ) -> Option<i64> {
        let signed = if self.signed_timers(channel_id) {
            let sent = u64::try_from(created_at.max(0) / 1000).unwrap_or(0);
            let timer = self
                .state
                .channel_timers
                .get(&channel_id)
                .and_then(|changes| changes.iter().rev().find(|&&[at, _]| at <= sent))
                .map_or(0, |&[_, s]| s);
            (timer > 0).then(|| {
                created_at.saturating_add(
                    i64::try_from(timer)
                        .unwrap_or(i64::MAX)
                        .saturating_mul(1000),
                )
            })
        } else {
            None
        };
        match (signed, server_expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    // Test code: a panic is how a test fails.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::State;

    fn machine(timers: &[(i64, Vec<[u64; 2]>)], encrypted: &[i64]) -> Machine {
        let mut state = State::new("http://x/", 1);
        state.channel_timers = timers.iter().cloned().collect();
        state.encrypted_channels = encrypted.iter().copied().collect();
        Machine::new(state).unwrap()
    }

    #[test]
    fn the_server_can_only_make_a_message_disappear_sooner() {
        // Channel 5: 5 minutes from t=1000 s.
        let m = machine(&[(5, vec![[1000, 300]])], &[5]);
        let sent = 2_000_000; // ms, after the timer was set
        let signed = sent + 300_000;
        assert_eq!(m.message_expiry(5, sent, None), Some(signed), "omitted");
        assert_eq!(
            m.message_expiry(5, sent, Some(signed + 1)),
            Some(signed),
            "lengthened"
        );
        assert_eq!(
            m.message_expiry(5, sent, Some(sent + 60_000)),
            Some(sent + 60_000)
        );
        // Older history keeps its life, unless the server says otherwise.
        assert_eq!(m.message_expiry(5, 999_000, None), None);
        assert_eq!(m.message_expiry(5, 999_000, Some(5)), Some(5));
    }

    #[test]
    fn each_message_keeps_the_timer_in_force_when_it_was_sent() {
        let m = machine(&[(5, vec![[100, 300], [200, 86_400], [300, 0]])], &[5]);
        assert_eq!(m.message_expiry(5, 150_000, None), Some(450_000));
        assert_eq!(
            m.message_expiry(5, 250_000, None),
            Some(250_000 + 86_400_000)
        );
        assert_eq!(m.message_expiry(5, 350_000, None), None);
    }

    #[test]
    fn the_shown_setting_is_the_logs_and_a_different_claim_is_reported() {
        let m = machine(&[(5, vec![[100, 3600]])], &[5, 6]);
        let shown = m.channel_timer(5, Some(3600));
        assert_eq!(
            (shown.seconds, shown.mismatch, shown.signed),
            (Some(3600), false, true)
        );
        assert_eq!(m.channel_timer(5, None).seconds, Some(3600));
        assert!(m.channel_timer(5, None).mismatch, "dropped");
        assert!(m.channel_timer(5, Some(86_400)).mismatch, "lengthened");
        let invented = m.channel_timer(6, Some(300));
        assert_eq!((invented.seconds, invented.mismatch), (None, true));
        // A plaintext channel has only the server's word.
        let plain = m.channel_timer(7, Some(300));
        assert_eq!(
            (plain.seconds, plain.mismatch, plain.signed),
            (Some(300), false, false)
        );
        assert_eq!(m.message_expiry(7, 1000, Some(301_000)), Some(301_000));
        assert_eq!(m.message_expiry(7, 1000, None), None);
    }
}
