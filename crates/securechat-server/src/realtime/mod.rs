//! Real-time events over Socket.IO v4 (socketioxide), at `/socket.io/`.
//!
//! - [`connect`]: the handshake (same-origin check, session from the cookie
//!   or `auth: {token}`), presence, and joining the socket's rooms.
//! - [`handlers`]: one function per client event; each authorizes its own
//!   action against the database — being connected proves nothing.
//! - [`bridge`]: turns committed room changes ([`RoomEvents`]) into pushes and
//!   removes sockets from rooms and channels at once on kick, ban or delete.
//! - [`ack`]: the `{success, …}` / `{success: false, message, code}` replies.
//! - [`names`]: the socket room names (`user:ID`, `room:ID`, `channel:ID`).
//! - [`node`]: this node's state — presence counts, typing throttle, send
//!   rate, socket cap ([`Realtime`]).
//! - [`sessions`]: closing sockets whose session ended (logout, password
//!   change, disabled account, expiry).
//!
//! - [`presence`]: who is online, announced to whoever shares a room; in a
//!   cluster, the heartbeat that takes a stopped node's users offline.
//! - [`viewing`]: which channel each tab shows, so that nobody gets a web
//!   push about a channel they are looking at.
//!
//! Every handler is generic over the socketioxide [`Adapter`]: standalone
//! ([`local_layer`]) they use the local adapter; with `REDIS_URL`
//! ([`cluster_layer`]) the Redis adapter, so every emit, join, leave and
//! disconnect reaches the matching sockets on every node. Each room event
//! and HTTP push is applied by the one node that produced it, through the
//! adapter, so it happens once cluster-wide.
//!
//! [`RoomEvents`]: crate::rooms::events::RoomEvents

use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, Emitter, LocalAdapter};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;

use socketioxide_redis::drivers::redis::RedisDriver;
use socketioxide_redis::{RedisAdapter, RedisAdapterCtr};

use crate::cluster::Cluster;
use crate::state::AppState;
use node::Realtime;

pub mod ack;
pub mod bridge;
pub mod connect;
pub mod deliver;
pub mod handlers;
pub mod names;
pub mod node;
pub mod presence;
pub mod sessions;
pub mod viewing;

/// Largest Socket.IO packet accepted (a 64 KiB envelope plus framing), on
/// every transport: a polling body, and a WebSocket frame or message, whose
/// length is checked when its header is read, before anything of it is
/// buffered (the library's WebSocket defaults would take 16 MiB frames and
/// 64 MiB messages, from anyone, before authentication).
const MAX_PAYLOAD: u64 = 96 * 1024;
/// Initial read buffer of each WebSocket (socketioxide's default is 4 KiB).
/// Chat frames are mostly far smaller; a larger frame grows the buffer as
/// needed, so this only trims the memory every idle connection holds.
const WS_READ_BUFFER: usize = 1024;
/// The Socket.IO layer for the router: standalone, or fanning out through
/// Redis to the other nodes.
pub enum RealtimeLayer {
    Local(SocketIoLayer<LocalAdapter>),
    Redis(SocketIoLayer<RedisAdapter<Emitter>>),
}

impl RealtimeLayer {
    /// Serves `/socket.io/` on `router`.
    pub fn apply(self, router: axum::Router<AppState>) -> axum::Router<AppState> {
        let router = match self {
            Self::Local(layer) => router.layer(layer),
            Self::Redis(layer) => router.layer(layer),
        };
        router.layer(axum::middleware::map_request(detach_handshake))
    }
}

/// Copies a Socket.IO request's URI and header values into allocations of
/// their own.
///
/// Hyper parses them as slices of the connection's read buffer (8–16 KiB),
/// and socketioxide keeps the handshake's request parts for the life of the
/// socket, so without this every WebSocket would pin that whole buffer: it
/// was the largest share of the memory held per idle connection.
async fn detach_handshake(mut req: axum::extract::Request) -> axum::extract::Request {
    if !req.uri().path().starts_with(SOCKET_IO_PATH) {
        return req;
    }
    let headers = req.headers();
    let mut copied = axum::http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let Ok(mut fresh) = axum::http::HeaderValue::from_bytes(value.as_bytes()) {
            fresh.set_sensitive(value.is_sensitive());
            copied.append(name.clone(), fresh);
        }
    }
    *req.headers_mut() = copied;
    if let Ok(uri) = axum::http::Uri::try_from(req.uri().to_string()) {
        // The router keeps a clone of the URI as it arrived, sharing the buffer too.
        if let Some(original) = req.extensions_mut().get_mut::<axum::extract::OriginalUri>() {
            original.0 = uri.clone();
        }
        *req.uri_mut() = uri;
    }
    req
}

/// Where socketioxide serves Socket.IO (its default).
const SOCKET_IO_PATH: &str = "/socket.io/";

/// Builds the standalone Socket.IO layer and starts the bridge from room
/// events to sockets.
pub fn local_layer(state: &AppState) -> RealtimeLayer {
    let realtime = Realtime::new(None, state.send_rate, state.sockets_per_user);
    let (layer, io) = builder(state, &realtime).build_layer();
    io.ns(
        "/",
        connect::on_connect::<LocalAdapter>.with(connect::authenticate::<LocalAdapter>),
    );
    start::<LocalAdapter>(io, state, realtime);
    RealtimeLayer::Local(layer)
}

/// Builds the Socket.IO layer of one node of a cluster: every emit, join,
/// leave and disconnect reaches the matching sockets on all nodes.
pub async fn cluster_layer(
    state: &AppState,
    cluster: Cluster,
    adapter: RedisAdapterCtr<RedisDriver>,
) -> anyhow::Result<RealtimeLayer> {
    let realtime = Realtime::new(
        Some(cluster.clone()),
        state.send_rate,
        state.sockets_per_user,
    );
    let (layer, io) = builder(state, &realtime)
        .with_adapter::<RedisAdapter<Emitter>>(adapter)
        .build_layer();
    type A = RedisAdapter<Emitter>;
    io.ns(
        "/",
        connect::on_connect::<A>.with(connect::authenticate::<A>),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot subscribe the Socket.IO namespace in Redis: {e}"))?;
    tokio::spawn(presence::heartbeat(
        io.clone(),
        state.clone(),
        realtime.clone(),
        cluster,
    ));
    start::<A>(io, state, realtime);
    Ok(RealtimeLayer::Redis(layer))
}

fn builder(state: &AppState, realtime: &Realtime) -> socketioxide::SocketIoBuilder<LocalAdapter> {
    SocketIo::builder()
        .max_payload(MAX_PAYLOAD)
        .ws_max_frame_size(MAX_PAYLOAD as usize)
        .ws_max_message_size(MAX_PAYLOAD as usize)
        .ws_read_buffer_size(WS_READ_BUFFER)
        .with_state(state.clone())
        .with_state(realtime.clone())
}

/// Starts the node's background work: the session sweep, the web push
/// fan-out (which asks the adapter who views a channel) and the bridge.
fn start<A: Adapter>(io: SocketIo<A>, state: &AppState, realtime: Realtime) {
    tokio::spawn(sessions::sweep(io.clone(), state.clone()));
    if let Some(messages) = state.webpush.take_fanout() {
        let adapter = io.clone();
        let viewers: crate::webpush::fanout::Viewers = std::sync::Arc::new(move |channel_id| {
            let io = adapter.clone();
            Box::pin(async move { viewing::viewers(&io, channel_id).await })
        });
        let state = state.clone();
        state.clone().webpush.spawn(async move {
            let db = state.db.for_background(crate::webpush::DB_CONNECTIONS);
            crate::webpush::fanout::run(state, db, messages, viewers).await;
        });
    }
    tokio::spawn(bridge::run(io, state.clone(), realtime));
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::{OriginalUri, Request};
    use axum::http::{HeaderValue, Uri};
    use bytes::Bytes;

    use super::detach_handshake;

    /// A request whose URI and header values are slices of `buffer`, as
    /// hyper builds them.
    fn parsed_from(buffer: &Bytes, path: &str) -> Request {
        let uri = Uri::from_maybe_shared(buffer.slice(0..path.len())).unwrap();
        let cookie = HeaderValue::from_maybe_shared(buffer.slice(path.len()..)).unwrap();
        let mut req = Request::builder()
            .uri(uri.clone())
            .body(Body::empty())
            .unwrap();
        req.headers_mut().insert("cookie", cookie);
        req.extensions_mut().insert(OriginalUri(uri));
        req
    }

    fn inside(buffer: &Bytes, bytes: &[u8]) -> bool {
        buffer.as_ptr_range().contains(&bytes.as_ptr())
    }

    #[tokio::test]
    async fn socket_io_requests_stop_sharing_the_read_buffer() {
        let path = "/socket.io/?EIO=4&transport=websocket";
        let buffer = Bytes::from(format!("{path}session=abc"));
        let req = detach_handshake(parsed_from(&buffer, path)).await;
        assert_eq!(req.uri(), path);
        assert_eq!(req.headers()["cookie"], "session=abc");
        assert!(!inside(&buffer, req.uri().path().as_bytes()));
        assert!(!inside(&buffer, req.headers()["cookie"].as_bytes()));
        let original = req.extensions().get::<OriginalUri>().unwrap();
        assert!(!inside(&buffer, original.0.path().as_bytes()));
    }

    #[tokio::test]
    async fn other_requests_are_left_alone() {
        let path = "/api/rooms";
        let buffer = Bytes::from(format!("{path}session=abc"));
        let req = detach_handshake(parsed_from(&buffer, path)).await;
        assert!(inside(&buffer, req.headers()["cookie"].as_bytes()));
    }
}
