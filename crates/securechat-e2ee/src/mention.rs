//! Channel-wide mentions in encrypted channels.
//!
//! A room's owner may let only its owner and admins use `@channel`,
//! `@here`, `@everyone` and `@room` once the room has more members than a
//! size they set. In a plaintext channel the server refuses such a message;
//! in an encrypted one it cannot read it, so each client applies the rule:
//! the sender's refuses to send, and a reader does not count the mention
//! (no notification, no highlight) from someone the room's *verified*
//! membership log does not make owner or admin, in a room the log shows
//! above the size. Roles and size come from [`crate::State::log_roles`],
//! kept by log verification, never from the server's listing.
//!
//! What a mention is (code spans excluded) is `securechat_search`'s rule,
//! shared with the server and the page.

use serde::Serialize;

use crate::machine::Machine;

/// What a message's text means for me.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mention {
    /// It mentions me: by name, or by a channel-wide mention its sender may use.
    pub mentions_me: bool,
    /// It holds a channel-wide mention.
    pub channel_wide: bool,
    /// Its sender may use a channel-wide mention in this room.
    pub allowed: bool,
}

impl Machine {
    /// Whether `sender_id` may use a channel-wide mention in `room_id`
    /// when the room's setting is `max_members` (`None`: anyone may). A
    /// room whose log I have not verified counts as above any size, with
    /// no admins: a mention is then not counted rather than trusted.
    pub fn may_mention_channel(
        &self,
        room_id: i64,
        sender_id: i64,
        max_members: Option<u64>,
    ) -> bool {
        let Some(max) = max_members else {
            return true;
        };
        match self.state.log_roles.get(&room_id) {
            Some(roles) => roles.admins.contains(&sender_id) || roles.members <= max,
            None => false,
        }
    }

    /// What `text`, from `sender_id` in `room_id`, means for me (`username`).
    pub fn mention(
        &self,
        room_id: i64,
        sender_id: i64,
        text: &str,
        username: &str,
        max_members: Option<u64>,
    ) -> Mention {
        let channel_wide = securechat_search::mentions_channel(text);
        let allowed = self.may_mention_channel(room_id, sender_id, max_members);
        let by_name = securechat_search::mentions_by_name(text, username);
        Mention {
            mentions_me: by_name || (channel_wide && allowed),
            channel_wide,
            allowed,
        }
    }
}
