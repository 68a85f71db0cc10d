//! Replay detection for channel messages.
//!
//! The server relays and stores messages, so it can deliver one twice. The
//! signature cannot catch that (the replay is authentic); remembering each
//! authenticated `(channel, version, sender, counter)` does.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::message::MessageHeader;

/// The set of message identities already accepted. Record a header only
/// after [`crate::Envelope::decrypt`] succeeded, so forgeries cannot fill it.
#[derive(Debug, Default, Clone)]
pub struct ReplayGuard {
    seen: BTreeSet<(i64, u32, i64, u32)>,
}

impl ReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `header`, or fails with [`Error::Replay`] if it was seen before.
    pub fn check_and_record(&mut self, header: &MessageHeader) -> Result<()> {
        let id = (
            header.channel_id,
            header.key_version,
            header.sender_id,
            header.counter,
        );
        if self.seen.insert(id) {
            Ok(())
        } else {
            Err(Error::Replay {
                sender_id: header.sender_id,
                counter: header.counter,
            })
        }
    }

    /// Forgets everything about one channel key version (after deleting the key).
    pub fn forget_version(&mut self, channel_id: i64, key_version: u32) {
        self.seen
            .retain(|&(c, v, _, _)| !(c == channel_id && v == key_version));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_delivery_is_a_replay() {
        let mut g = ReplayGuard::new();
        let h = MessageHeader {
            channel_id: 1,
            key_version: 2,
            sender_id: 3,
            counter: 4,
        };
        assert_eq!(g.check_and_record(&h), Ok(()));
        assert_eq!(
            g.check_and_record(&h),
            Err(Error::Replay {
                sender_id: 3,
                counter: 4
            })
        );
        g.forget_version(1, 2);
        assert_eq!(g.check_and_record(&h), Ok(()));
    }
}
