//! One push request (RFC 8030 §5): the payload encrypted for the
//! subscription, `TTL`, `Content-Encoding: aes128gcm`, the VAPID
//! `Authorization`, POSTed to the endpoint through a client that follows
//! no redirect, uses no proxy, gives up on slow connects and slow answers,
//! reads no response body and, for endpoints that are not allowed hosts,
//! connects only to public addresses (`outbound::guard::PublicOnly`). Then what
//! the answer means for the queued row ([`outcome`], pure).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_client::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};

use super::ece::{self, Ephemeral, UaKeys};
use super::store::queue::{Claimed, Outcome};
use super::vapid::{self, TOKEN_LIFETIME_SECS, VapidKey};
use crate::outbound::Clients;
use crate::outbound::guard::Target;

/// How long a push service may keep an undelivered push (the `TTL`
/// header), and how long a queued push is worth trying: a day-old chat
/// notification is noise.
pub const TTL_SECS: i64 = 24 * 3600;
/// Tries of one push before it is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// The first retry's delay; each further one doubles, up to [`MAX_BACKOFF_MS`].
const BACKOFF_MS: i64 = 1000;
const MAX_BACKOFF_MS: i64 = 3600 * 1000;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Signed VAPID headers per audience, reused until an hour before they
/// expire: one signature per push service per 11 hours instead of per push.
#[derive(Default)]
pub struct Tokens(Mutex<HashMap<String, (String, i64)>>);

impl Tokens {
    fn header(&self, key: &VapidKey, audience: &str, subject: &str, now_secs: i64) -> String {
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((header, expires)) = cache.get(audience)
            && *expires - now_secs > 3600
        {
            return header.clone();
        }
        if cache.len() > 1000 {
            cache.clear();
        }
        let expires = now_secs + TOKEN_LIFETIME_SECS;
        let header = key.authorization(audience, subject, expires);
        cache.insert(audience.to_owned(), (header.clone(), expires));
        header
    }
}

/// What a push service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP status, with `Retry-After` in seconds if it gave one.
    Status(u16, Option<u64>),
    /// No answer: connection refused or reset, TLS failure, timeout.
    Unreachable,
}

/// What the queue does with `row` after `answer` at `now`: delivered or
/// refused for good → the row goes; 404/410 → the subscription goes;
/// 429, 5xx and no answer → retried after `Retry-After` or an exponential
/// backoff (with `jitter`, 0 to 1, of a fifth of it), unless this was the
/// last attempt.
pub fn outcome(row: &Claimed, answer: Answer, now: i64, jitter: f64) -> Outcome {
    let done = Outcome::Done { id: row.id };
    let retry_after = match answer {
        Answer::Status(200..=299, _) => return done,
        Answer::Status(404 | 410, _) => {
            return Outcome::Gone {
                subscription_id: row.subscription_id,
            };
        }
        Answer::Status(429 | 500..=599, after) => after,
        Answer::Unreachable => None,
        Answer::Status(_, _) => return done,
    };
    if row.attempts >= MAX_ATTEMPTS {
        return done;
    }
    let delay = crate::outbound::retry_delay_ms(
        row.attempts,
        retry_after,
        jitter,
        BACKOFF_MS,
        MAX_BACKOFF_MS,
    );
    Outcome::Retry {
        id: row.id,
        due_at: now + delay,
    }
}

/// What a send needs besides the row.
pub struct Context {
    pub clients: Clients,
    pub tokens: Tokens,
    pub vapid: VapidKey,
    pub subject: String,
    pub allow_hosts: crate::config::allow_hosts::AllowHosts,
}

/// Sends one claimed row and says what became of it. Logs name the
/// endpoint's host only (its path identifies a browser) and never the
/// payload.
pub async fn send(ctx: &Context, row: &Claimed, now: i64) -> Outcome {
    let done = Outcome::Done { id: row.id };
    if now - row.created_at > TTL_SECS * 1000 {
        tracing::debug!(
            push = row.id,
            "web push expired before it could be delivered"
        );
        return done;
    }
    let (Some(endpoint), Some(p256dh), Some(auth)) = (&row.endpoint, &row.p256dh, &row.auth) else {
        return done;
    };
    let target = match Target::parse(endpoint, &ctx.allow_hosts) {
        Ok(target) => target,
        Err(e) => {
            tracing::warn!(push = row.id, reason = %e, "web push endpoint refused at send time");
            return done;
        }
    };
    // On the background runtime (see `crate::background`), so the two
    // scalar multiplications cost the message path nothing.
    let body = match (URL_SAFE_NO_PAD.decode(p256dh), URL_SAFE_NO_PAD.decode(auth)) {
        (Ok(p), Ok(a)) => UaKeys::parse(&p, &a)
            .ok()
            .map(|k| Ephemeral::random().and_then(|e| ece::encrypt(&k, e, row.payload.as_bytes()))),
        _ => None,
    };
    let Some(Ok(body)) = body else {
        tracing::warn!(
            push = row.id,
            "web push could not be encrypted for its subscription"
        );
        return done;
    };
    let authorization = ctx.tokens.header(
        &ctx.vapid,
        &vapid::audience(&target.url),
        &ctx.subject,
        now / 1000,
    );
    let answer = post(ctx, &target, body, authorization).await;
    // Retries count from the answer: `Retry-After` means after it, and a
    // request that waited for CPU or a slow service must not shorten the
    // backoff.
    let result = outcome(row, answer, crate::storage::now_ms(), rand::random::<f64>());
    if !matches!(result, Outcome::Done { .. }) || !matches!(answer, Answer::Status(200..=299, _)) {
        let status = match answer {
            Answer::Status(code, _) => code.to_string(),
            Answer::Unreachable => "unreachable".to_owned(),
        };
        tracing::info!(push = row.id, host = %target.host(), status, attempt = row.attempts,
            outcome = ?result, "web push not delivered");
    }
    result
}

async fn post(ctx: &Context, target: &Target, body: Vec<u8>, authorization: String) -> Answer {
    let sent = ctx
        .clients
        .for_target(target)
        .post(target.url.clone())
        .header("TTL", TTL_SECS.to_string())
        .header(CONTENT_ENCODING, "aes128gcm")
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(AUTHORIZATION, authorization)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let (status, retry_after) = crate::outbound::status_and_retry_after(&response);
            Answer::Status(status, retry_after)
        }
        Err(e) => {
            tracing::debug!(host = %target.host(), error = %e, "push service unreachable");
            Answer::Unreachable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(attempts: i64) -> Claimed {
        Claimed {
            id: 5,
            subscription_id: 9,
            payload: "{}".into(),
            attempts,
            created_at: 0,
            endpoint: None,
            p256dh: None,
            auth: None,
        }
    }

    #[test]
    fn accepted_pushes_and_permanent_refusals_leave_the_queue() {
        for status in [200, 201, 202, 204] {
            assert_eq!(
                outcome(&row(1), Answer::Status(status, None), 0, 0.0),
                Outcome::Done { id: 5 }
            );
        }
        for status in [400, 401, 403, 413] {
            assert_eq!(
                outcome(&row(1), Answer::Status(status, None), 0, 0.0),
                Outcome::Done { id: 5 }
            );
        }
    }

    #[test]
    fn gone_subscriptions_are_removed() {
        for status in [404, 410] {
            assert_eq!(
                outcome(&row(1), Answer::Status(status, None), 0, 0.0),
                Outcome::Gone { subscription_id: 9 }
            );
        }
    }

    #[test]
    fn failures_are_retried_with_doubling_backoff_and_retry_after() {
        let at = |attempts, answer, jitter| match outcome(&row(attempts), answer, 1_000, jitter) {
            Outcome::Retry { due_at, .. } => due_at - 1_000,
            other => panic!("{other:?}"),
        };
        assert_eq!(at(1, Answer::Status(500, None), 0.0), 1_000);
        assert_eq!(at(2, Answer::Status(503, None), 0.0), 2_000);
        assert_eq!(at(3, Answer::Unreachable, 0.0), 4_000);
        assert_eq!(at(3, Answer::Unreachable, 1.0), 4_800);
        assert_eq!(at(1, Answer::Status(429, Some(30)), 0.5), 30_000);
        assert_eq!(at(1, Answer::Status(503, Some(0)), 0.0), 1_000);
        assert_eq!(
            at(1, Answer::Status(503, Some(u64::MAX)), 0.0),
            MAX_BACKOFF_MS
        );
        assert_eq!(at(MAX_ATTEMPTS - 1, Answer::Unreachable, 0.0), 64_000);
        assert_eq!(
            outcome(&row(MAX_ATTEMPTS), Answer::Unreachable, 0, 0.0),
            Outcome::Done { id: 5 }
        );
    }
}
