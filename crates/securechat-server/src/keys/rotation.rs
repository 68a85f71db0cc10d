//! Key rotation on membership change (the seed's `key_rotation_needed`).
//!
//! When someone joins or leaves a room, every encrypted channel of it that
//! already has a key gets a pending version one above the current one —
//! written by the membership change's own transaction
//! ([`super::store::begin_rotations`]). Here, afterwards, members are told which
//! version to make, for whom, and which one of them should do it (an
//! online member, owners and admins first), so they do not all rotate at
//! once. With nobody online, or if this announcement is lost (a crash, a
//! lagging bridge), the first member who tries to send is told to rotate
//! instead (the seed's "first speaks" rule).

use super::store::PendingRotation;
use crate::push::{KeyRotationNeeded, RotationMember};
use crate::rooms::store::{ChannelRow, MemberRow};

/// A rotation to announce: to whom, and what.
pub struct Announcement {
    pub recipients: Vec<i64>,
    pub payload: KeyRotationNeeded,
}

/// The announcements of `rotations`, started in the room whose `channels`
/// and `members` are given (channels deleted since are left out), each
/// naming an online rotator if there is one.
pub fn announcements(
    channels: &[ChannelRow],
    members: &[MemberRow],
    rotations: &[PendingRotation],
    reason: &str,
    is_online: impl Fn(i64) -> bool,
) -> Vec<Announcement> {
    let rotator = members
        .iter()
        .filter(|m| is_online(m.user_id))
        .min_by_key(|m| (role_rank(&m.role), m.user_id))
        .map(|m| m.user_id);
    rotations
        .iter()
        .filter_map(|r| {
            channels
                .iter()
                .find(|c| c.id == r.channel_id)
                .map(|c| (c, r))
        })
        .map(|(channel, rotation)| Announcement {
            recipients: members.iter().map(|m| m.user_id).collect(),
            payload: payload(channel, rotation.version, reason, members, rotator),
        })
        .collect()
}

/// What `key_rotation_needed` carries: the seed's `channel_id`,
/// `new_version`, `reason`, `members`, plus `rotator_id`.
pub fn payload(
    channel: &ChannelRow,
    version: i64,
    reason: &str,
    members: &[MemberRow],
    rotator: Option<i64>,
) -> KeyRotationNeeded {
    KeyRotationNeeded {
        channel_id: channel.id,
        room_id: channel.room_id,
        new_version: version,
        reason: reason.to_owned(),
        members: members
            .iter()
            .map(|m| RotationMember {
                id: m.user_id,
                username: m.username.clone(),
            })
            .collect(),
        rotator_id: rotator,
    }
}

fn role_rank(role: &str) -> u8 {
    match role {
        "owner" => 0,
        "admin" => 1,
        _ => 2,
    }
}
