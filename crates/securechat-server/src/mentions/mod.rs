//! Channel-wide mentions (`@channel`, `@here`, `@everyone`, `@room`): in a
//! room of more members than its owner's setting, only the owner and
//! admins may use them.
//!
//! What a mention is comes from `securechat_search::mention`, the rule the
//! browser runs too. The server enforces the size rule in plaintext
//! channels, where it reads the text; in encrypted channels it cannot, and
//! each client applies it by the verified membership log
//! (`securechat-e2ee`), so a server lying about roles or the room's size
//! changes nothing there.
//!
//! - [`http`]: the owner's setting (`PUT /api/rooms/{id}/mention_settings`),
//!   pushed with the pin setting as `room_settings_updated`.
//! - [`store`]: the SQL.

pub mod http;
pub mod store;

use crate::error::Error;
use crate::rooms::access::RoomAccess;
use crate::rooms::model::Action;
use crate::state::AppState;

/// The largest size the owner may set: above the member cap of any room.
pub const MAX_SETTING: i64 = 100_000;

/// Refuses `text` in `access`'s room when it holds a channel-wide mention
/// the sender may not use: not an owner or admin, in a room of more
/// members than its setting.
pub async fn check(state: &AppState, access: &RoomAccess, text: &str) -> Result<(), Error> {
    if !securechat_search::mentions_channel(text) || access.require(Action::MentionChannel).is_ok()
    {
        return Ok(());
    }
    let (max, members) = store::limit_and_size(&state.db, access.room.id).await?;
    match max {
        Some(max) if members > max => Err(Error::forbidden(
            "channel_mention_not_allowed",
            format!(
                "Only the room's owner and admins may use @channel, @here, @everyone or @room \
                 in this room ({members} members; the owner allows it to everyone up to {max}). \
                 Mention people by name instead"
            ),
        )),
        _ => Ok(()),
    }
}
