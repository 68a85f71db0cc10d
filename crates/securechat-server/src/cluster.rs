//! State shared by the nodes of a cluster, in Redis (`REDIS_URL`).
//!
//! Several identical `securechat serve` nodes share one PostgreSQL database,
//! which holds everything that must survive. Redis holds what is only
//! meaningful while nodes run, and must be the same on every node:
//!
//! - socket fan-out: socketioxide's Redis adapter (its own pub/sub
//!   channels), set up from [`Cluster::connect`];
//! - presence: how many sockets each user has on each node, so a user is
//!   online while any node has one of their sockets;
//! - node liveness: each node refreshes a key with a short TTL; the others
//!   reap a node whose key expired (it crashed or was killed), so its users
//!   go offline within [`NODE_TTL`] plus one [`HEARTBEAT`];
//! - the per-user send rate and the typing throttle.
//!
//! Login lockout needs nothing here: its counters are in the database.
//!
//! Every multi-key update is one Lua script, so concurrent nodes never see
//! a half-done change. Keys (all under `REDIS_PREFIX:`, default
//! `securechat:`; the adapter's channels start with `REDIS_PREFIX-`): `node:{id}` (alive),
//! `nodes` (set of ids), `presence:{id}` (hash user → sockets on that node),
//! `online` (hash user → sockets on all nodes), `send:{user}` (token bucket),
//! `typing:{user}:{channel}`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;
use redis::Script;
use redis::aio::ConnectionManager;
use socketioxide_redis::drivers::redis::RedisDriver;
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};

/// How long a node counts as alive after its last heartbeat.
pub const NODE_TTL: Duration = Duration::from_secs(15);
/// How often a node refreshes its liveness and looks for dead nodes.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// One socket more for a user on this node; returns the user's sockets on
/// all nodes (1 means they just came online).
const OPEN: &str = r"
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
";

/// One socket fewer; returns the user's sockets left on all nodes (0 means
/// they just went offline), or -1 if this node's count was already reaped.
const CLOSE: &str = r"
local here = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if here <= 0 then return -1 end
if here == 1 then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
local total = redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
if total <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]); return 0 end
return total
";

/// Refreshes this node's liveness. If the node had been reaped (it paused
/// past the TTL), its local counts (ARGV[3..], user/count pairs) are put
/// back first.
const HEARTBEAT_SCRIPT: &str = r"
local known = redis.call('EXISTS', KEYS[1]) == 1 or redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[4], ARGV[1])
if not known then
  redis.call('DEL', KEYS[2])
  for i = 3, #ARGV, 2 do
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1])
  end
end
return 0
";

/// Removes a node whose liveness key expired; returns the users who had
/// sockets only there (now offline). Does nothing for a live node, so two
/// nodes reaping the same one at once cannot count twice.
const REAP: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return {} end
local counts = redis.call('HGETALL', KEYS[2])
local gone = {}
for i = 1, #counts, 2 do
  local total = redis.call('HINCRBY', KEYS[3], counts[i], -tonumber(counts[i + 1]))
  if total <= 0 then
    redis.call('HDEL', KEYS[3], counts[i])
    table.insert(gone, counts[i])
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
return gone
";

/// Token bucket on Redis's clock (nodes' clocks may differ): ARGV = rate per
/// second, burst. Returns 0 if a token was taken, else milliseconds to wait.
const TAKE_TOKEN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
if tokens >= 1 then
  redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
  return 0
end
return math.ceil((1 - tokens) * 1000 / rate)
";

/// A connection to the cluster's Redis, for one node. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    conn: ConnectionManager,
    prefix: Arc<str>,
    /// Set by [`Cluster::leave`]: the heartbeat must not register us again.
    left: Arc<AtomicBool>,
    node: Arc<str>,
    scripts: Arc<Scripts>,
}

struct Scripts {
    open: Script,
    close: Script,
    heartbeat: Script,
    reap: Script,
    take_token: Script,
}

impl Cluster {
    /// Connects to `url` (RESP3 is required by the adapter's push
    /// subscriptions and added if the URL does not say), registers this
    /// node, and returns the Socket.IO adapter constructor as well.
    pub async fn connect(
        url: &str,
        prefix: &str,
    ) -> anyhow::Result<(Self, RedisAdapterCtr<RedisDriver>)> {
        let url = with_resp3(url);
        let client = redis::Client::open(url.as_str()).context("REDIS_URL is not a valid URL")?;
        let conn = client
            .get_connection_manager()
            .await
            .context("cannot connect to Redis (REDIS_URL)")?;
        let config = RedisAdapterConfig::new().with_prefix(prefix.to_owned());
        let adapter = RedisAdapterCtr::new_with_redis_config(&client, config)
            .await
            .context("cannot subscribe to Redis (REDIS_URL; Redis 7+ is needed for RESP3)")?;
        let mut id = [0u8; 8];
        rand::rng().fill_bytes(&mut id);
        let node: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let cluster = Self {
            conn,
            prefix: format!("{prefix}:").into(),
            left: Arc::new(AtomicBool::new(false)),
            node: node.into(),
            scripts: Arc::new(Scripts {
                open: Script::new(OPEN),
                close: Script::new(CLOSE),
                heartbeat: Script::new(HEARTBEAT_SCRIPT),
                reap: Script::new(REAP),
                take_token: Script::new(TAKE_TOKEN),
            }),
        };
        cluster.heartbeat(&HashMap::new()).await?;
        tracing::info!(node = %cluster.node, "joined the cluster");
        Ok((cluster, adapter))
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// How many nodes are registered (live, or dead and not yet reaped).
    pub async fn node_count(&self) -> redis::RedisResult<i64> {
        redis::cmd("SCARD")
            .arg(self.key("nodes"))
            .query_async(&mut self.conn.clone())
            .await
    }

    /// Counts a new socket of `user` on this node; true if the user has no
    /// other socket on any node (they just came online).
    pub async fn socket_opened(&self, user: i64) -> redis::RedisResult<bool> {
        let total: i64 = self
            .scripts
            .open
            .key(self.key(&format!("presence:{}", self.node)))
            .key(self.key("online"))
            .arg(user)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(total == 1)
    }

    /// Counts a closed socket; true if it was the user's last on any node.
    pub async fn socket_closed(&self, user: i64) -> redis::RedisResult<bool> {
        let total: i64 = self
            .scripts
            .close
            .key(self.key(&format!("presence:{}", self.node)))
            .key(self.key("online"))
            .arg(user)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(total == 0)
    }

    /// Which of `users` have a socket on some node.
    pub async fn online_among(&self, users: &[i64]) -> redis::RedisResult<HashSet<i64>> {
        if users.is_empty() {
            return Ok(HashSet::new());
        }
        let counts: Vec<Option<i64>> = redis::cmd("HMGET")
            .arg(self.key("online"))
            .arg(users)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(users
            .iter()
            .zip(counts)
            .filter(|(_, c)| c.is_some_and(|c| c > 0))
            .map(|(&u, _)| u)
            .collect())
    }

    /// Refreshes this node's liveness; `local` (user → sockets here) is
    /// written back if the node had been reaped meanwhile.
    pub async fn heartbeat(&self, local: &HashMap<i64, usize>) -> redis::RedisResult<()> {
        if self.left.load(Ordering::SeqCst) {
            return Ok(());
        }
        let ttl = u64::try_from(NODE_TTL.as_millis()).unwrap_or(u64::MAX);
        let mut call = self.scripts.heartbeat.prepare_invoke();
        call.key(self.key(&format!("node:{}", self.node)))
            .key(self.key(&format!("presence:{}", self.node)))
            .key(self.key("online"))
            .key(self.key("nodes"))
            .arg(&*self.node)
            .arg(ttl);
        for (user, count) in local {
            call.arg(*user).arg(*count);
        }
        call.invoke_async::<i64>(&mut self.conn.clone()).await?;
        Ok(())
    }

    /// Reaps every node whose liveness expired; returns the users who went
    /// offline with them.
    pub async fn reap_dead_nodes(&self) -> redis::RedisResult<Vec<i64>> {
        let nodes: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.key("nodes"))
            .query_async(&mut self.conn.clone())
            .await?;
        let mut gone = Vec::new();
        for node in nodes.iter().filter(|n| n.as_str() != &*self.node) {
            let users: Vec<i64> = self
                .scripts
                .reap
                .key(self.key(&format!("node:{node}")))
                .key(self.key(&format!("presence:{node}")))
                .key(self.key("online"))
                .key(self.key("nodes"))
                .arg(node)
                .invoke_async(&mut self.conn.clone())
                .await?;
            if !users.is_empty() {
                tracing::warn!(node, users = users.len(), "reaped a node that stopped");
            }
            gone.extend(users);
        }
        Ok(gone)
    }

    /// Leaves the cluster on a clean shutdown: this node's users who have no
    /// socket elsewhere are offline at once rather than after the TTL.
    pub async fn leave(&self) -> redis::RedisResult<Vec<i64>> {
        self.left.store(true, Ordering::SeqCst);
        let _: i64 = redis::cmd("DEL")
            .arg(self.key(&format!("node:{}", self.node)))
            .query_async(&mut self.conn.clone())
            .await?;
        self.scripts
            .reap
            .key(self.key(&format!("node:{}", self.node)))
            .key(self.key(&format!("presence:{}", self.node)))
            .key(self.key("online"))
            .key(self.key("nodes"))
            .arg(&*self.node)
            .invoke_async(&mut self.conn.clone())
            .await
    }

    /// Takes one token from `user`'s send bucket (`per_second`, `burst`);
    /// `Err(wait)` when empty.
    pub async fn take_send_token(
        &self,
        user: i64,
        per_second: u32,
        burst: u32,
    ) -> redis::RedisResult<Result<(), Duration>> {
        let wait_ms: u64 = self
            .scripts
            .take_token
            .key(self.key(&format!("send:{user}")))
            .arg(per_second)
            .arg(burst)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(if wait_ms == 0 {
            Ok(())
        } else {
            Err(Duration::from_millis(wait_ms))
        })
    }

    /// Whether a typing notice of `user` in `channel` may be forwarded: at
    /// most one per `interval` across all nodes.
    pub async fn typing_allowed(
        &self,
        user: i64,
        channel: i64,
        interval: Duration,
    ) -> redis::RedisResult<bool> {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(&format!("typing:{user}:{channel}")))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(ms)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(set.is_some())
    }
}

/// `url` with `protocol=resp3` unless it names a protocol.
fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

#[cfg(test)]
mod tests {
    use super::with_resp3;

    #[test]
    fn resp3_is_requested_unless_the_url_says() {
        assert_eq!(
            with_resp3("redis://h:6379"),
            "redis://h:6379?protocol=resp3"
        );
        assert_eq!(
            with_resp3("redis://h/0?x=1"),
            "redis://h/0?x=1&protocol=resp3"
        );
        assert_eq!(
            with_resp3("redis://h?protocol=resp2"),
            "redis://h?protocol=resp2"
        );
    }
}
