//! The forward-secrecy policy: rotation by message count and key age, on top
//! of the mandatory rotation when a member leaves or is removed.
//!
//! Why rotation rather than a per-sender hash ratchet: in the seed's protocol
//! every member holds the channel key of a version and a new member may be
//! handed it to read history (`request_key`). A hash ratchet whose root is
//! that shared key gives no forward secrecy while the root is kept, and
//! keeping ratchet states to read history (as Megolm clients do) undoes it
//! too. Rotation keeps one key per version, which the server can enforce
//! (messages under an old version are refused) and which bounds what one
//! stolen key reveals: at most `max_messages` messages per sender and
//! `max_age_secs` of traffic. Clients that want stronger forward secrecy
//! delete versions older than their retention window; history under deleted
//! versions is then unreadable, which is the trade-off, written in
//! `docs/PROTOCOL.md`.
//!
//! Two layers enforce it. The server counts messages per channel version and
//! asks for a rotation ([`ForwardSecrecyPolicy::rotation_due`]). Clients do not
//! trust the server to do so: a sender refuses to exceed the per-sender cap or
//! the age limit ([`SendCounter::next`]), and a reader rejects counters above
//! the cap ([`ForwardSecrecyPolicy::check_received`]), so even a server that
//! never rotates cannot stretch one key over unbounded traffic.
//!
//! Counters are per sending *device*: the envelope's 32-bit counter carries a
//! device tag in its upper 16 bits and the device's sequence number under
//! that version in its lower 16 ([`device_counter`]). Two browsers of one
//! person therefore never send the same counter (which readers would report
//! as a replay), and the cap applies to each device's sequence.

use crate::error::{Error, Result};

/// Megolm's (Element's) defaults: 100 messages, one week.
pub const DEFAULT_MAX_MESSAGES: u32 = 100;
/// One week in seconds.
pub const DEFAULT_MAX_AGE_SECS: u64 = 7 * 24 * 60 * 60;

/// The envelope counter of a device's `sequence`-th message under a version:
/// the device tag in the upper 16 bits, the sequence in the lower 16.
pub fn device_counter(device: u16, sequence: u32) -> u32 {
    (u32::from(device) << 16) | (sequence & 0xFFFF)
}

/// The sending device's tag of an envelope counter.
pub fn counter_device(counter: u32) -> u16 {
    // The shift leaves 16 bits: the conversion cannot fail.
    u16::try_from(counter >> 16).unwrap_or(u16::MAX)
}

/// The device's sequence number of an envelope counter.
pub fn counter_sequence(counter: u32) -> u32 {
    counter & 0xFFFF
}

/// Why a channel key must be rotated; carried in `key_rotation_needed.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationReason {
    /// A member left, was kicked or banned (post-removal secrecy).
    MemberRemoved,
    /// A member was added (the newcomer gets the new version only).
    MemberAdded,
    /// The version carried its maximum number of messages.
    MessageLimit,
    /// The version is older than the maximum age.
    KeyAge,
}

impl RotationReason {
    /// The string used in `key_rotation_needed.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationReason::MemberRemoved => "member_removed",
            RotationReason::MemberAdded => "member_added",
            RotationReason::MessageLimit => "message_limit",
            RotationReason::KeyAge => "key_age",
        }
    }
}

impl core::fmt::Display for RotationReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Limits on how much one channel key version may protect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardSecrecyPolicy {
    /// Messages per sender per version (clients) and per version in total (server).
    pub max_messages: u32,
    /// Maximum age of a version, in seconds.
    pub max_age_secs: u64,
}

impl Default for ForwardSecrecyPolicy {
    fn default() -> Self {
        ForwardSecrecyPolicy {
            max_messages: DEFAULT_MAX_MESSAGES,
            max_age_secs: DEFAULT_MAX_AGE_SECS,
        }
    }
}

impl ForwardSecrecyPolicy {
    /// Server side: is a rotation due for a version that has carried
    /// `messages` messages in total and was created at `created_at`
    /// (unix seconds)?
    pub fn rotation_due(&self, messages: u64, created_at: u64, now: u64) -> Option<RotationReason> {
        if messages >= u64::from(self.max_messages) {
            Some(RotationReason::MessageLimit)
        } else if now.saturating_sub(created_at) >= self.max_age_secs {
            Some(RotationReason::KeyAge)
        } else {
            None
        }
    }

    /// Reader side: rejects a message whose counter shows its sending device
    /// ignored the per-device cap.
    pub fn check_received(&self, counter: u32) -> Result<()> {
        if counter_sequence(counter) >= self.max_messages {
            return Err(Error::PolicyViolation {
                counter,
                limit: self.max_messages.saturating_sub(1),
            });
        }
        Ok(())
    }
}

/// A sender's counter for one channel key version. Persist it with the key;
/// a counter that goes backwards only makes the sender's own messages look
/// like replays to readers, it never weakens encryption (salts are random).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendCounter {
    /// When this client obtained (created or received) the key version, unix seconds.
    pub key_obtained_at: u64,
    /// This device's sequence number for its next message under the version.
    pub next_counter: u32,
    /// This device's tag (0 for a client that has only one device).
    pub device: u16,
}

impl SendCounter {
    /// A counter for a key version obtained at `key_obtained_at`.
    pub fn new(key_obtained_at: u64) -> Self {
        SendCounter {
            key_obtained_at,
            next_counter: 0,
            device: 0,
        }
    }

    /// Returns the envelope counter for the next message ([`device_counter`])
    /// and advances, or says which rotation must happen first.
    pub fn next(&mut self, policy: &ForwardSecrecyPolicy, now: u64) -> Result<u32> {
        if self.next_counter >= policy.max_messages {
            return Err(Error::RotationRequired(RotationReason::MessageLimit));
        }
        if now.saturating_sub(self.key_obtained_at) >= policy.max_age_secs {
            return Err(Error::RotationRequired(RotationReason::KeyAge));
        }
        let counter = self.next_counter;
        self.next_counter = counter.saturating_add(1);
        Ok(device_counter(self.device, counter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_stops_at_the_message_cap() {
        let policy = ForwardSecrecyPolicy {
            max_messages: 3,
            max_age_secs: 100,
        };
        let mut c = SendCounter::new(1000);
        assert_eq!(c.next(&policy, 1000), Ok(0));
        assert_eq!(c.next(&policy, 1001), Ok(1));
        assert_eq!(c.next(&policy, 1002), Ok(2));
        assert_eq!(
            c.next(&policy, 1003),
            Err(Error::RotationRequired(RotationReason::MessageLimit))
        );
    }

    #[test]
    fn sender_stops_at_the_age_limit() {
        let policy = ForwardSecrecyPolicy::default();
        let mut c = SendCounter::new(10);
        assert_eq!(c.next(&policy, 10 + DEFAULT_MAX_AGE_SECS - 1), Ok(0));
        assert_eq!(
            c.next(&policy, 10 + DEFAULT_MAX_AGE_SECS),
            Err(Error::RotationRequired(RotationReason::KeyAge))
        );
    }

    #[test]
    fn reader_rejects_counters_above_the_cap() {
        let policy = ForwardSecrecyPolicy::default();
        assert_eq!(policy.check_received(99), Ok(()));
        assert_eq!(
            policy.check_received(100),
            Err(Error::PolicyViolation {
                counter: 100,
                limit: 99
            })
        );
    }

    #[test]
    fn devices_have_their_own_counters_and_caps() {
        let policy = ForwardSecrecyPolicy {
            max_messages: 2,
            max_age_secs: 100,
        };
        let mut a = SendCounter {
            device: 7,
            ..SendCounter::new(0)
        };
        let first = a.next(&policy, 0).unwrap();
        assert_eq!(first, 7 << 16);
        assert_eq!((counter_device(first), counter_sequence(first)), (7, 0));
        assert_eq!(a.next(&policy, 0), Ok((7 << 16) | 1));
        assert!(a.next(&policy, 0).is_err());
        // Another device's counters differ, and the cap is on the sequence.
        assert_ne!(device_counter(8, 0), first);
        assert_eq!(policy.check_received(device_counter(9, 1)), Ok(()));
        assert!(policy.check_received(device_counter(9, 2)).is_err());
    }

    #[test]
    fn server_rotation_schedule() {
        let policy = ForwardSecrecyPolicy::default();
        assert_eq!(policy.rotation_due(99, 0, 1), None);
        assert_eq!(
            policy.rotation_due(100, 0, 1),
            Some(RotationReason::MessageLimit)
        );
        assert_eq!(
            policy.rotation_due(0, 5, 5 + DEFAULT_MAX_AGE_SECS),
            Some(RotationReason::KeyAge)
        );
        // A clock behind the creation time never triggers (no underflow).
        assert_eq!(policy.rotation_due(0, 50, 10), None);
    }
}
