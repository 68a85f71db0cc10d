//! Presence: `presence {user_id, online}` to everyone who shares a room
//! with the user, when their first socket opens and their last closes — on
//! any node. A new socket first gets a `presence_snapshot` (see
//! [`super::connect`]). In a cluster, the heartbeat keeps this node alive in Redis and
//! takes the users of a node that stopped without closing its sockets
//! (crash, SIGKILL, lost network) offline once its liveness expires.

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use super::deliver::{Via, deliver};
use super::node::Realtime;
use crate::cluster::{Cluster, HEARTBEAT};
use crate::push::{self, Audience, ServerEvent};
use crate::rooms::store as rooms;
use crate::state::AppState;

/// Every chat room `user_id` belongs to.
pub async fn rooms_to_tell(state: &AppState, user_id: i64) -> Vec<i64> {
    match rooms::room_ids_of(&state.db, user_id).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::error!(error = %e, "cannot list rooms for presence");
            Vec::new()
        }
    }
}

/// Pushes the presence change to `to`.
pub async fn announce<A: Adapter>(via: Via<'_, A>, to: Audience, user_id: i64, online: bool) {
    let event = ServerEvent::Presence(push::Presence { user_id, online });
    deliver(via, &event, to).await;
}

/// Every [`HEARTBEAT`]: refresh this node's liveness, then reap stopped
/// nodes and announce their users offline.
pub async fn heartbeat<A: Adapter>(
    io: SocketIo<A>,
    state: AppState,
    realtime: Realtime,
    cluster: Cluster,
) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        if let Err(e) = cluster.heartbeat(&realtime.local_counts()).await {
            tracing::warn!(error = %e, "cluster heartbeat failed");
            continue;
        }
        match cluster.reap_dead_nodes().await {
            Ok(gone) => {
                for user_id in gone {
                    let rooms = rooms_to_tell(&state, user_id).await;
                    announce(Via::Server(&io), Audience::Rooms(rooms), user_id, false).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "reaping stopped nodes failed"),
        }
    }
}
