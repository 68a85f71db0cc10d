//! The handshake and the life of a connection.

use std::sync::Arc;

use serde::Deserialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};

use super::deliver::{Via, deliver};
use super::node::Realtime;
use super::{handlers, names, presence};
use crate::auth::AuthUser;
use crate::auth::session::presented_token;
use crate::error::Error;
use crate::http::is_same_origin;
use crate::push::{self, Audience, ServerEvent};
use crate::rooms::store as rooms;
use crate::state::AppState;

/// The `auth` payload of the handshake: `io(url, {auth: {token}})`.
#[derive(Debug, Deserialize)]
pub struct ConnectAuth {
    pub token: Option<String>,
}

/// Why a handshake was refused; sent to the client as `connect_error`.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("cross-site connections are refused")]
    CrossSite,
    #[error("not signed in: log in and connect with the session cookie or auth.token")]
    Unauthenticated,
    #[error("the server could not check the session; try again")]
    Unavailable,
    #[error(
        "this account already has {0} connections open here: close some tabs or devices and try again"
    )]
    TooManySockets(usize),
    #[error("this site requires two-factor sign-in: turn it on in your account settings first")]
    EnrolmentRequired,
}

/// Connect middleware: refuses cross-site handshakes and anonymous ones,
/// stores the signed-in user on the socket, joins its rooms and registers
/// the event handlers.
///
/// All of this happens here, before socketioxide answers the CONNECT packet:
/// the connect handler itself runs on a spawned task, so a client's first
/// event could otherwise arrive before any handler exists, and a push to the
/// user's rooms could miss the new socket.
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    State(realtime): State<Realtime>,
    TryData(auth): TryData<ConnectAuth>,
) -> Result<(), HandshakeError> {
    let parts = socket.req_parts();
    let headers = &parts.headers;
    if !is_same_origin(
        headers,
        parts.uri.authority().map(|a| a.as_str()),
        state.web.public_origin.as_deref(),
    ) {
        tracing::warn!("refused a cross-site Socket.IO handshake");
        return Err(HandshakeError::CrossSite);
    }
    let auth_token = auth.ok().and_then(|a| a.token);
    let token = auth_token
        .as_deref()
        .or_else(|| presented_token(headers, &state.web))
        .ok_or(HandshakeError::Unauthenticated)?;
    let user = AuthUser::from_token(&state, token)
        .await
        .map_err(|e| match e {
            Error::Forbidden { .. } => HandshakeError::EnrolmentRequired,
            _ => HandshakeError::Unavailable,
        })?
        .ok_or(HandshakeError::Unauthenticated)?;
    // Counted here, before the CONNECT answer (and before the socket joins
    // anything), so that a client that opens a second socket and then
    // closes the first is never seen with zero, and a refused one leaves
    // no trace.
    let first = realtime
        .socket_opened(user.id)
        .await
        .map_err(|super::node::TooManySockets(cap)| HandshakeError::TooManySockets(cap))?;
    socket.join(names::user(user.id));
    socket.join(names::session(&user.session_hash));
    let circle = match rooms::circle_of(&state.db, user.id).await {
        // A bot's socket hears only the rooms of its token.
        Ok(mut circle) => {
            circle.rooms.retain(|&room_id| !user.out_of_scope(room_id));
            circle
        }
        Err(_) => {
            realtime.socket_closed(user.id).await;
            return Err(HandshakeError::Unavailable);
        }
    };
    for &room_id in &circle.rooms {
        socket.join(names::room(room_id));
    }
    socket.extensions.insert(Handshake {
        first,
        circle: Arc::new(circle),
    });
    socket.extensions.insert(user);
    handlers::register(&socket);
    crate::metrics::get().sockets.inc();
    socket.on_disconnect(on_disconnect::<A>);
    Ok(())
}

/// What the handshake learnt that the connect handler needs, taken out of
/// the socket's extensions there (not kept for the socket's life).
#[derive(Clone)]
struct Handshake {
    /// The socket was its user's first open one: they came online.
    first: bool,
    circle: Arc<rooms::Circle>,
}

/// A socket is connected: announce the user's presence if it is their
/// first socket on any node, and tell the socket who is online.
pub async fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    State(realtime): State<Realtime>,
    Extension(user): Extension<AuthUser>,
) {
    let Some(Handshake { first, circle }) = socket.extensions.remove::<Handshake>() else {
        return;
    };
    if first {
        announce_presence(&socket, circle.rooms.clone(), user.id, true).await;
    }
    tell_who_is_online(&socket, &realtime, &circle.peers).await;
    tracing::debug!(user_id = user.id, "socket connected");
}

/// Gives a new socket the presence of everyone it shares a room with who is
/// online (on any node): one `presence_snapshot {online: [user ids]}`, after
/// which `presence` events keep it current. One event rather than one per
/// person keeps the socket's outgoing queue short (its memory is held for
/// the life of the connection) and the handshake cheap.
async fn tell_who_is_online<A: Adapter>(socket: &SocketRef<A>, realtime: &Realtime, peers: &[i64]) {
    let mut online: Vec<i64> = realtime.online_among(peers).await.into_iter().collect();
    online.sort_unstable();
    let event = ServerEvent::PresenceSnapshot(push::PresenceSnapshot { online });
    deliver(Via::Socket(socket), &event, Audience::Me).await;
}

async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    State(realtime): State<Realtime>,
    Extension(user): Extension<AuthUser>,
) {
    crate::metrics::get().sockets.dec();
    if realtime.socket_closed(user.id).await {
        let rooms = presence::rooms_to_tell(&state, user.id).await;
        announce_presence(&socket, rooms, user.id, false).await;
    }
}

/// Tells everyone in `rooms` (the chat rooms `user_id` belongs to) but
/// this socket that they came or went.
async fn announce_presence<A: Adapter>(
    socket: &SocketRef<A>,
    rooms: Vec<i64>,
    user_id: i64,
    online: bool,
) {
    let to = Audience::OthersInRooms(rooms);
    presence::announce(Via::Socket(socket), to, user_id, online).await;
}
