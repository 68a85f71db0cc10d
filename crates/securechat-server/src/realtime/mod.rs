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
//! - [`sessions`]: closing sockets whose session ended (logout, password
//!   change, disabled account, expiry).
//!
//! Every handler is generic over the socketioxide [`Adapter`], so the Redis
//! adapter (for several nodes) drops in without touching them.
//!
//! [`RoomEvents`]: crate::rooms::events::RoomEvents

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota};
use socketioxide::SocketIo;
use socketioxide::adapter::LocalAdapter;
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;

use crate::state::AppState;

pub mod ack;
pub mod bridge;
pub mod connect;
pub mod handlers;
pub mod names;
pub mod sessions;

/// Largest Socket.IO packet accepted (a 64 KiB envelope plus framing).
const MAX_PAYLOAD: u64 = 96 * 1024;
/// Messages a user may send in a burst, then per second.
const SEND_BURST: u32 = 30;
const SEND_PER_SECOND: u32 = 10;
/// Typing notices from one user in one channel are forwarded at most this often.
const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// Real-time state shared by the handlers of this node.
#[derive(Clone)]
pub struct Realtime {
    inner: Arc<RealtimeInner>,
}

struct RealtimeInner {
    /// Open sockets per user, for presence.
    online: Mutex<HashMap<i64, usize>>,
    /// Last forwarded typing notice per (user, channel).
    typing: Mutex<HashMap<(i64, i64), Instant>>,
    /// Per-user send rate.
    sends: DefaultKeyedRateLimiter<i64>,
}

impl Realtime {
    fn new() -> Self {
        let burst = NonZeroU32::new(SEND_BURST).unwrap_or(NonZeroU32::MIN);
        let rate = NonZeroU32::new(SEND_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: Arc::new(RealtimeInner {
                online: Mutex::new(HashMap::new()),
                typing: Mutex::new(HashMap::new()),
                sends: DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            }),
        }
    }

    /// Counts a new socket of `user`; true if it is their first (now online).
    fn socket_opened(&self, user: i64) -> bool {
        let mut online = self.inner.online.lock().unwrap_or_else(|e| e.into_inner());
        let count = online.entry(user).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// Counts a closed socket; true if it was the user's last (now offline).
    fn socket_closed(&self, user: i64) -> bool {
        let mut online = self.inner.online.lock().unwrap_or_else(|e| e.into_inner());
        match online.get_mut(&user) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                online.remove(&user);
                true
            }
            None => false,
        }
    }

    /// Whether the user has a socket on this node.
    fn is_online(&self, user: i64) -> bool {
        let online = self.inner.online.lock().unwrap_or_else(|e| e.into_inner());
        online.contains_key(&user)
    }

    /// Whether a typing notice should be forwarded now.
    fn typing_allowed(&self, user: i64, channel: i64) -> bool {
        let now = Instant::now();
        let mut typing = self.inner.typing.lock().unwrap_or_else(|e| e.into_inner());
        if typing.len() > 100_000 {
            typing.retain(|_, at| now.duration_since(*at) < TYPING_INTERVAL);
        }
        match typing.get(&(user, channel)) {
            Some(at) if now.duration_since(*at) < TYPING_INTERVAL => false,
            _ => {
                typing.insert((user, channel), now);
                true
            }
        }
    }

    /// `Ok` if the user may send now, or how long to wait.
    fn may_send(&self, user: i64) -> Result<(), Duration> {
        self.inner.sends.check_key(&user).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}

/// Builds the Socket.IO layer for the router and starts the bridge from
/// room events to sockets.
pub fn layer(state: &AppState) -> SocketIoLayer<LocalAdapter> {
    let realtime = Realtime::new();
    let (layer, io) = SocketIo::builder()
        .max_payload(MAX_PAYLOAD)
        .with_state(state.clone())
        .with_state(realtime.clone())
        .build_layer();
    register(&io);
    tokio::spawn(sessions::sweep(io.clone(), state.clone()));
    tokio::spawn(bridge::run(io, state.clone(), realtime));
    layer
}

/// Registers the default namespace with its handshake middleware. The
/// handlers are generic; only this registration names the adapter.
fn register(io: &SocketIo<LocalAdapter>) {
    io.ns(
        "/",
        connect::on_connect::<LocalAdapter>.with(connect::authenticate::<LocalAdapter>),
    );
}
