//! Registered slash commands: a room's admins register `/trigger` → URL
//! (with a description and a usage hint) for the room; running it in one
//! of the room's plaintext channels POSTs a Mattermost/Slack-style form to
//! the URL, and its JSON answer is either shown to the caller only
//! (`ephemeral`) or posted in the channel as the caller (`in_channel`).
//!
//! The built-ins (`/me`, `/topic`, `/invite`, `/kick`, `/leave`, `/mute`)
//! are the web client's: they map to the API calls that already exist,
//! whose authorization stays here. Registered commands never run in
//! encrypted channels: the server would have to see the text, and there
//! integrations are bots that are members of the room.
//!
//! - [`http`]: the routes (register, list, delete, run).
//! - [`request`]: the form body, the answer's meaning (pure) and the
//!   request through the SSRF-guarded clients of `outbound/`.
//! - [`store`]: the SQL.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::allow_hosts::AllowHosts;
use crate::outbound::Clients;

pub mod http;
pub mod request;
pub mod store;

/// Commands a room holds at most.
pub const MAX_PER_ROOM: i64 = 50;
/// Commands one person runs in a burst, and then per second.
const BURST: u32 = 10;
const PER_SECOND: u32 = 1;

/// This node's slash commands: the HTTP clients (built at start-up, like
/// the other outgoing requests'), the hosts allowed past the SSRF guard
/// (`WEBHOOK_ALLOW_HOSTS`, shared with webhooks) and the per-person rate
/// limit (each node counts its own).
pub struct Commands {
    pub clients: Clients,
    pub allow_hosts: AllowHosts,
    runs: DefaultKeyedRateLimiter<i64>,
}

impl Commands {
    /// Fails only if TLS cannot be set up.
    pub fn new(allow_hosts: AllowHosts) -> Result<Self, http_client::Error> {
        let quota = Quota::per_second(NonZeroU32::new(PER_SECOND).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN));
        Ok(Self {
            clients: Clients::new(request::TIMEOUT, request::TIMEOUT)?,
            allow_hosts,
            runs: DefaultKeyedRateLimiter::keyed(quota),
        })
    }

    /// `Ok` if `user_id` may run a command now, or how long to wait.
    pub fn may_run(&self, user_id: i64) -> Result<(), Duration> {
        self.runs.check_key(&user_id).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}
