//! Which channel a tab shows, for Web Push: a person whose tab shows a
//! channel, visibly, gets no push about its messages (they see them).
//!
//! A client emits `viewing` with `{channel_id, visible}` when its tab
//! switches channel or is hidden or shown (`channel_id` null: none). The
//! socket is then in the socket room `viewing:ID` of that channel while
//! visible, and in none otherwise; leaving with the socket is automatic.
//! [`viewers`] asks the adapter which users have a socket in that room —
//! on every node of a cluster.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};

use super::{ack, names};
use crate::auth::AuthUser;
use crate::rooms::access::RoomAccess;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Viewing {
    /// The channel the tab shows, or null.
    pub channel_id: Option<i64>,
    /// Whether the tab is visible (`document.visibilityState`).
    pub visible: bool,
}

/// The `viewing` event: members only; replaces what the socket viewed.
pub async fn viewing<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<Viewing>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    let shown = req.channel_id.filter(|_| req.visible);
    if let Some(channel_id) = shown
        && let Err(e) = RoomAccess::member_channel(&state.db, &user, channel_id).await
    {
        return ack::err(ack, &e);
    }
    let before: Vec<names::Room> = socket
        .rooms()
        .into_iter()
        .filter(|r| r.starts_with("viewing:"))
        .collect();
    socket.leave(before);
    if let Some(channel_id) = shown {
        socket.join(names::viewing(channel_id));
    }
    ack::ok(
        ack,
        json!({"channel_id": req.channel_id, "visible": req.visible}),
    );
}

/// The users with a socket that shows `channel_id` visibly, on any node.
/// On a failure (Redis down) nobody: a push too many beats none.
pub async fn viewers<A: Adapter>(io: &SocketIo<A>, channel_id: i64) -> HashSet<i64> {
    match io.within(names::viewing(channel_id)).rooms().await {
        Ok(rooms) => rooms.iter().filter_map(|r| names::user_id(r)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell who views a channel");
            HashSet::new()
        }
    }
}
