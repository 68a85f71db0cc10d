//! A socket authenticates once, at the handshake; these close it when its
//! session ends. Logout, "log out everywhere" and password changes through
//! this server close the affected sockets at once; anything else (an
//! account disabled from the CLI, expiry, another node) is caught by a
//! periodic sweep.

use std::time::Duration;

use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use crate::auth::{AuthUser, store};
use crate::state::AppState;
use crate::storage::now_ms;

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
                let _ = socket.emit(
                    "session_ended",
                    &json!({"message": "Your session has ended; log in again"}),
                );
                let _ = socket.disconnect();
            }
            Err(e) => tracing::warn!(error = %e, "cannot check a socket's session"),
        }
    }
}
