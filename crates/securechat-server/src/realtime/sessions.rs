//! A socket authenticates once, at the handshake; these close it when its
//! session ends. Logout, "log out everywhere" and password changes close
//! the affected sockets at once, on every node (each socket is in a
//! `session:HASH` room, which remote nodes report through the adapter);
//! anything else (an account disabled from the CLI, expiry) is caught by
//! each node's periodic sweep of its own sockets.

use std::time::Duration;

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use super::deliver::{Via, deliver};
use super::names;
use crate::auth::{AuthUser, store};
use crate::push::{Audience, ServerEvent, SessionEnded};
use crate::state::AppState;
use crate::storage::now_ms;

/// What a socket is told before it is closed.
const ENDED: ServerEvent = ServerEvent::SessionEnded(SessionEnded {
    message: "Your session has ended; log in again",
});

/// How often every socket's session is re-checked.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// Re-checks all sockets' sessions every [`SWEEP_INTERVAL`].
pub async fn sweep<A: Adapter>(io: SocketIo<A>, state: AppState) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.tick().await;
    loop {
        tick.tick().await;
        close_ended(&io, &state, None).await;
    }
}

/// Closes this node's sockets (of `user_id`, or of everyone) whose session
/// is no longer valid, telling them `session_ended` first.
pub async fn close_ended<A: Adapter>(io: &SocketIo<A>, state: &AppState, user_id: Option<i64>) {
    let now = now_ms();
    for socket in io.sockets() {
        let Some(user) = socket.extensions.get::<AuthUser>() else {
            continue;
        };
        if user_id.is_some_and(|id| id != user.id) {
            continue;
        }
        match store::session_user(&state.db, &user.session_hash, now).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                deliver(Via::Socket(&socket), &ENDED, Audience::Me).await;
                let _ = socket.disconnect();
            }
            Err(e) => tracing::warn!(error = %e, "cannot check a socket's session"),
        }
    }
}

/// Closes the sockets of `user_id`, on every node, whose session is no
/// longer valid. Falls back to this node's sockets if the other nodes
/// cannot be asked (their sweep then catches the rest).
pub async fn close_ended_of_user<A: Adapter>(io: &SocketIo<A>, state: &AppState, user_id: i64) {
    let sockets = match io.to(names::user(user_id)).fetch_sockets().await {
        Ok(sockets) => sockets,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the user's sockets on other nodes");
            return close_ended(io, state, Some(user_id)).await;
        }
    };
    let now = now_ms();
    for socket in sockets {
        let rooms = match socket.rooms().await {
            Ok(rooms) => rooms,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a socket's rooms");
                continue;
            }
        };
        let Some(hash) = rooms.iter().find_map(|r| names::session_hash(r)) else {
            continue;
        };
        match store::session_user(&state.db, &hash, now).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                // Told on the socket itself, so the event goes the way the
                // disconnect goes and arrives before it on any node.
                deliver(Via::Remote(&socket), &ENDED, Audience::Me).await;
                if let Err(e) = socket.disconnect().await {
                    tracing::warn!(error = %e, "cannot close a socket of an ended session");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot check a socket's session"),
        }
    }
}
