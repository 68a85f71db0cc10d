//! Requests the server makes to URLs that people give it — Web Push
//! endpoints (`webpush/`) and outgoing webhooks (`webhooks/`) — and what
//! both need: the SSRF guard ([`guard`]), the HTTP clients that go only
//! where the guard allows ([`Clients`]), and the retry schedule
//! ([`retry_delay_ms`]).

use std::time::Duration;

pub mod guard;

use guard::Target;

/// Two HTTP clients: one for URLs that must be public (its resolver drops
/// every other address, [`guard::PublicOnly`]), one for the operator's
/// allowed hosts. Both follow no redirect (a redirect would lead past the
/// guard), use no proxy, and give up on slow connects and slow answers.
pub struct Clients {
    public: http_client::Client,
    allowed: http_client::Client,
}

impl Clients {
    /// Fails only if TLS cannot be set up (no crypto provider installed).
    pub fn new(connect: Duration, request: Duration) -> Result<Self, http_client::Error> {
        let builder = || {
            http_client::Client::builder()
                .no_proxy()
                .redirect(http_client::redirect::Policy::none())
                .connect_timeout(connect)
                .timeout(request)
                .pool_idle_timeout(Duration::from_secs(60))
                .user_agent(concat!("Securechat/", env!("CARGO_PKG_VERSION")))
        };
        Ok(Self {
            public: builder().dns_resolver(guard::PublicOnly).build()?,
            allowed: builder().build()?,
        })
    }

    /// The client for `target`.
    pub fn for_target(&self, target: &Target) -> &http_client::Client {
        if target.allowed {
            &self.allowed
        } else {
            &self.public
        }
    }
}

/// An answer's status and its `Retry-After` in seconds, if it gave one
/// (the body is not read: for both callers it says nothing the status
/// does not).
pub fn status_and_retry_after(response: &http_client::Response) -> (u16, Option<u64>) {
    let retry_after = response
        .headers()
        .get(http_client::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    (response.status().as_u16(), retry_after)
}

/// When to try again after the `attempts`-th try failed: `Retry-After`
/// (seconds) if the other end gave one, else `base_ms` doubled per earlier
/// attempt plus up to a fifth of it (`jitter`, 0 to 1), never below
/// `base_ms` nor above `max_ms`.
pub fn retry_delay_ms(
    attempts: i64,
    retry_after: Option<u64>,
    jitter: f64,
    base_ms: i64,
    max_ms: i64,
) -> i64 {
    let backoff = base_ms
        .saturating_mul(1 << (attempts - 1).clamp(0, 30))
        .min(max_ms);
    match retry_after {
        Some(secs) => i64::try_from(secs.saturating_mul(1000))
            .unwrap_or(max_ms)
            .clamp(base_ms, max_ms),
        None => backoff + (backoff as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64,
    }
}
