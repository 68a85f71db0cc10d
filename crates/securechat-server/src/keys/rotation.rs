//! Key rotation on membership change (the seed's `key_rotation_needed`).
//!
//! When someone joins or leaves a room, every encrypted channel of it that
//! already has a key gets a pending version one above the current one.
//! Members are told which version to make, for whom, and which one of them
//! should do it (an online member, owners and admins first), so they do not
//! all rotate at once. With nobody online, the first member who tries to
//! send is told to rotate instead (the seed's "first speaks" rule).

use serde_json::{Value, json};

use super::store;
use crate::rooms::store::{self as rooms, ChannelRow, MemberRow};
use crate::state::AppState;

/// A rotation to announce: to whom, and what.
pub struct Announcement {
    pub recipients: Vec<i64>,
    pub payload: Value,
}

/// Starts rotations in every keyed encrypted channel of `room_id`.
pub async fn on_membership_change(
    state: &AppState,
    room_id: i64,
    reason: &str,
    is_online: impl Fn(i64) -> bool,
) -> Result<Vec<Announcement>, sqlx::Error> {
    let channels = rooms::channels_of_room(&state.db, room_id).await?;
    let members = rooms::members(&state.db, room_id).await?;
    let mut out = Vec::new();
    for channel in channels.iter().filter(|c| c.is_encrypted) {
        if let Some(version) = store::begin_rotation(&state.db, channel.id).await? {
            let rotator = members
                .iter()
                .filter(|m| is_online(m.user_id))
                .min_by_key(|m| (role_rank(&m.role), m.user_id))
                .map(|m| m.user_id);
            out.push(Announcement {
                recipients: members.iter().map(|m| m.user_id).collect(),
                payload: payload(channel, version, reason, &members, rotator),
            });
        }
    }
    Ok(out)
}

/// What `key_rotation_needed` carries: the seed's `channel_id`,
/// `new_version`, `reason`, `members`, plus `rotator_id`.
pub fn payload(
    channel: &ChannelRow,
    version: i64,
    reason: &str,
    members: &[MemberRow],
    rotator: Option<i64>,
) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|m| json!({"id": m.user_id, "username": m.username}))
        .collect();
    json!({
        "channel_id": channel.id,
        "room_id": channel.room_id,
        "new_version": version,
        "reason": reason,
        "members": members,
        "rotator_id": rotator,
    })
}

fn role_rank(role: &str) -> u8 {
    match role {
        "owner" => 0,
        "admin" => 1,
        _ => 2,
    }
}
