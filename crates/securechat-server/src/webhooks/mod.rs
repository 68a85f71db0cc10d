//! Incoming webhooks: a URL per plaintext channel whose holder posts
//! messages to it with a Slack-compatible JSON body — CI results, alerts,
//! reminders. Room admins and the owner make, list and delete them.
//!
//! A webhook's message goes through the same path as a person's
//! (`messages::service::post_from_webhook`): the group-commit insert, web
//! push, the `new_message` event to the channel's sockets, the search
//! index. It is stored as sent by the webhook's maker, so the insert's
//! membership rule covers it (a maker who left the room leaves a webhook
//! that no longer posts), and carries the webhook's id, name and icon, so
//! clients show it as the integration, marked as a bot.
//!
//! Encrypted channels have none: the server holds no key to write in them,
//! and there integrations are bots that are members.
//!
//! - [`http`]: the routes, and the incoming URL's `POST`.
//! - [`incoming`]: the body and who the message is shown as (pure).
//! - [`store`]: the SQL; the secret is stored as a keyed hash only.
//! - [`outgoing`]: outgoing webhooks — new messages POSTed, signed, from a
//!   durable queue in the background.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::background::Background;
use crate::config::allow_hosts::AllowHosts;
use crate::storage::Db;

pub mod http;
pub mod incoming;
pub mod outgoing;
pub mod store;

/// Webhooks a channel holds at most.
pub const MAX_PER_CHANNEL: i64 = 10;
/// Largest body an incoming webhook reads; past it the request is refused
/// before the rest is read.
pub const MAX_BODY: usize = 16 * 1024;
/// Messages one webhook posts in a burst, and then per second.
const BURST: u32 = 20;
const PER_SECOND: u32 = 1;

/// Incoming or outgoing: the two kinds share their management routes' rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Incoming,
    Outgoing,
}

/// PostgreSQL connections of the outgoing webhooks' tasks, which run on
/// the background thread with a pool of their own.
pub const DB_CONNECTIONS: u32 = 2;

/// This node's webhooks: the incoming per-webhook rate limit (each node
/// counts its own; behind a load balancer the limit is per node), and the
/// outgoing side's settings, bells and background thread.
pub struct Webhooks {
    posts: DefaultKeyedRateLimiter<i64>,
    /// `WEBHOOK_ALLOW_HOSTS`.
    pub allow_hosts: AllowHosts,
    /// Rung by the message path after each new message (the dispatcher).
    pub new_messages: Notify,
    /// Rung when deliveries were queued (the sender).
    pub queued: Notify,
    background: Background,
}

impl Webhooks {
    /// Also starts the background thread outgoing webhooks run on.
    pub fn new(allow_hosts: AllowHosts) -> std::io::Result<Self> {
        let quota = Quota::per_second(NonZeroU32::new(PER_SECOND).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN));
        Ok(Self {
            posts: DefaultKeyedRateLimiter::keyed(quota),
            allow_hosts,
            new_messages: Notify::new(),
            queued: Notify::new(),
            background: Background::start("webhooks")?,
        })
    }

    /// Runs an outgoing-webhook task on the background thread.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.background.spawn(task)
    }

    /// Runs one of the outgoing webhooks' writes where it cannot hold up
    /// the message path ([`Background::write`]).
    pub async fn write<T, F>(&self, db: &Db, work: F) -> Result<T, sqlx::Error>
    where
        F: Future<Output = Result<T, sqlx::Error>> + Send + 'static,
        T: Send + 'static,
    {
        self.background.write(db, work).await
    }

    /// A message was committed: the dispatcher looks, without the message
    /// path waiting.
    pub fn message_stored(&self) {
        self.new_messages.notify_one();
    }

    /// `Ok` if webhook `id` may post now, or how long to wait.
    pub fn may_post(&self, id: i64) -> Result<(), Duration> {
        self.posts.check_key(&id).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_webhook_gets_its_own_burst() {
        let limits = Webhooks::new(AllowHosts::none("WEBHOOK_ALLOW_HOSTS")).unwrap();
        for _ in 0..BURST {
            assert!(limits.may_post(1).is_ok());
        }
        let wait = limits.may_post(1).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limits.may_post(2).is_ok());
    }
}
