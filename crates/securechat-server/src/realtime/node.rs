//! This node's real-time state: who is online, the typing throttle, the
//! send rate and the per-account socket cap. It lives apart from the layer
//! that starts Socket.IO (`mod.rs`) so that the handlers, which all need it,
//! do not import the module that imports them.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::cluster::Cluster;
use crate::config::SendRate;

/// Typing notices from one user in one channel are forwarded at most this often.
const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// Real-time state shared by the handlers of this node. With a
/// [`Cluster`], presence, the send rate and the typing throttle are counted
/// in Redis across all nodes; the local counts are still kept, to restore a
/// node's presence if Redis forgot it, and as the fallback when Redis does
/// not answer (limits then hold per node until it is back).
#[derive(Clone)]
pub struct Realtime {
    inner: Arc<RealtimeInner>,
    cluster: Option<Cluster>,
}

struct RealtimeInner {
    /// Open sockets per user on this node, for presence.
    online: Mutex<HashMap<i64, usize>>,
    /// Last forwarded typing notice per (user, channel).
    typing: Mutex<HashMap<(i64, i64), Instant>>,
    /// Per-user send rate (`None`: unlimited).
    sends: Option<(DefaultKeyedRateLimiter<i64>, SendRate)>,
    /// Sockets one user may hold open on this node (`None`: unlimited).
    sockets_per_user: Option<usize>,
}

/// A user already holds as many sockets on this node as allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySockets(pub usize);

impl Realtime {
    pub(super) fn new(
        cluster: Option<Cluster>,
        send_rate: SendRate,
        sockets_per_user: Option<usize>,
    ) -> Self {
        let sends = match send_rate {
            SendRate::Off => None,
            SendRate::Limited { per_second, burst } => {
                let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
                let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
                Some((
                    DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
                    send_rate,
                ))
            }
        };
        Self {
            inner: Arc::new(RealtimeInner {
                online: Mutex::new(HashMap::new()),
                typing: Mutex::new(HashMap::new()),
                sends,
                sockets_per_user,
            }),
            cluster,
        }
    }

    /// Counts a new socket of `user`; true if it is their first (now
    /// online). Refused, and not counted, when the user already holds as
    /// many sockets on this node as allowed: one account cannot take the
    /// node's connections (and file descriptors) from everyone else.
    pub(super) async fn socket_opened(&self, user: i64) -> Result<bool, TooManySockets> {
        let first_here = {
            let mut online = self.inner.online.lock().unwrap_or_else(|e| e.into_inner());
            let count = online.entry(user).or_insert(0);
            if let Some(cap) = self.inner.sockets_per_user
                && *count >= cap
            {
                return Err(TooManySockets(cap));
            }
            *count += 1;
            *count == 1
        };
        Ok(match &self.cluster {
            None => first_here,
            Some(cluster) => match cluster.socket_opened(user).await {
                Ok(first) => first,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis presence update failed");
                    first_here
                }
            },
        })
    }

    /// Counts a closed socket; true if it was the user's last (now offline).
    pub(super) async fn socket_closed(&self, user: i64) -> bool {
        let last_here = {
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
        };
        match &self.cluster {
            None => last_here,
            Some(cluster) => match cluster.socket_closed(user).await {
                Ok(last) => last,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis presence update failed");
                    last_here
                }
            },
        }
    }

    /// This node's socket counts per user.
    pub(super) fn local_counts(&self) -> HashMap<i64, usize> {
        self.inner
            .online
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Which of `users` have a socket (on any node).
    pub(super) async fn online_among(&self, users: &[i64]) -> HashSet<i64> {
        if let Some(cluster) = &self.cluster {
            match cluster.online_among(users).await {
                Ok(set) => return set,
                Err(e) => tracing::warn!(error = %e, "Redis presence query failed"),
            }
        }
        let online = self.inner.online.lock().unwrap_or_else(|e| e.into_inner());
        users
            .iter()
            .copied()
            .filter(|u| online.contains_key(u))
            .collect()
    }

    /// Whether a typing notice should be forwarded now.
    pub(super) async fn typing_allowed(&self, user: i64, channel: i64) -> bool {
        if let Some(cluster) = &self.cluster {
            match cluster.typing_allowed(user, channel, TYPING_INTERVAL).await {
                Ok(allowed) => return allowed,
                Err(e) => tracing::warn!(error = %e, "Redis typing throttle failed"),
            }
        }
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
    pub(super) async fn may_send(&self, user: i64) -> Result<(), Duration> {
        let Some((sends, SendRate::Limited { per_second, burst })) = &self.inner.sends else {
            return Ok(());
        };
        if let Some(cluster) = &self.cluster {
            match cluster.take_send_token(user, *per_second, *burst).await {
                Ok(verdict) => return verdict,
                Err(e) => tracing::warn!(error = %e, "Redis send rate check failed"),
            }
        }
        sends.check_key(&user).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}
