//! One outgoing delivery: which messages a webhook fires on ([`fires_on`]),
//! the JSON it POSTs ([`payload`]), its signature ([`signature`]), the
//! request through the SSRF-guarded clients, and what the answer means
//! ([`outcome`]). All but the request are pure.
//!
//! The signature is `X-Securechat-Signature: sha256=<hex>`, HMAC-SHA256
//! under the webhook's secret over `<timestamp>.<body>`, where the
//! timestamp (Unix seconds) is sent as `X-Securechat-Timestamp`: a
//! receiver recomputes it, compares in constant time, and refuses old
//! timestamps to stop replays.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::store::{Attempted, Claimed, Posted};
use crate::outbound::Clients;
use crate::outbound::guard::Target;

/// Tries of one delivery before it is given up.
pub const MAX_ATTEMPTS: i64 = 8;
const BACKOFF_MS: i64 = 1000;
const MAX_BACKOFF_MS: i64 = 3600 * 1000;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a webhook with `keywords` fires on `message`, and on which
/// keyword: live plaintext messages of people (never a webhook's own
/// posts, so integrations cannot loop), holding one of the keywords as a
/// whole word in any case, or any such message without keywords.
pub fn fires_on(keywords: &[String], message: &Posted) -> Option<Option<String>> {
    if message.webhook_id.is_some() || message.deleted_at.is_some() {
        return None;
    }
    let text = message.content.as_deref()?;
    if keywords.is_empty() {
        return Some(None);
    }
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    keywords
        .iter()
        .find(|k| words.iter().any(|w| w == *k))
        .map(|k| Some(k.clone()))
}

/// The JSON body of a delivery about `message` (fixed when it is queued,
/// so every retry signs the same bytes).
pub fn payload(
    webhook_id: i64,
    channel_id: i64,
    message: &Posted,
    trigger: Option<&str>,
) -> String {
    json!({
        "event": "message",
        "webhook_id": webhook_id,
        "room_id": message.room_id,
        "channel_id": channel_id,
        "channel_name": message.channel_name,
        "trigger_word": trigger,
        "message": {
            "id": message.id,
            "text": message.content,
            "user_id": message.sender_id,
            "username": message.sender_username,
            "created_at": crate::storage::rfc3339(message.created_at),
            "thread_root_id": message.thread_root_id,
        },
    })
    .to_string()
}

/// `sha256=<hex>` of HMAC-SHA256 under `secret` over `<timestamp>.<body>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP status, with `Retry-After` in seconds if it gave one.
    Status(u16, Option<u64>),
    /// No answer (refused, reset, TLS failure, timeout) or a URL the guard
    /// refuses now, and why.
    Unreachable(String),
}

/// What the queue does after `answer` to the `attempts`-th try at `now`:
/// 2xx delivered; 429, 5xx and no answer retried with backoff (or
/// `Retry-After`) until the last attempt; any other status failed.
pub fn outcome(attempts: i64, answer: &Answer, now: i64, jitter: f64) -> Attempted {
    let (last_status, last_error, retry_after) = match answer {
        Answer::Status(code, after) => (Some(i64::from(*code)), None, *after),
        Answer::Unreachable(why) => (None, Some(why.clone()), None),
    };
    let status = match answer {
        Answer::Status(200..=299, _) => "delivered",
        Answer::Status(429 | 500..=599, _) | Answer::Unreachable(_) if attempts < MAX_ATTEMPTS => {
            "pending"
        }
        _ => "failed",
    };
    let due_at = (status == "pending").then(|| {
        now + crate::outbound::retry_delay_ms(
            attempts,
            retry_after,
            jitter,
            BACKOFF_MS,
            MAX_BACKOFF_MS,
        )
    });
    Attempted {
        status,
        due_at,
        last_status,
        last_error,
    }
}

/// Sends one claimed delivery, signed with `secret`, through `clients`;
/// the receiver's answer. Logs name the host only and never the payload.
pub async fn send(
    clients: &Clients,
    allow: &crate::config::allow_hosts::AllowHosts,
    row: &Claimed,
    secret: &str,
    now_secs: i64,
) -> Answer {
    let Some(url) = row.url.as_deref() else {
        return Answer::Unreachable("the webhook was deleted".into());
    };
    let target = match Target::parse(url, allow) {
        Ok(target) => target,
        Err(e) => return Answer::Unreachable(e.to_string()),
    };
    let sent = clients
        .for_target(&target)
        .post(target.url.clone())
        .header(http_client::header::CONTENT_TYPE, "application/json")
        .header("X-Securechat-Timestamp", now_secs.to_string())
        .header(
            "X-Securechat-Signature",
            signature(secret, now_secs, &row.payload),
        )
        .header("X-Securechat-Delivery", row.id.to_string())
        .body(row.payload.clone())
        .send()
        .await;
    match sent {
        Ok(response) => {
            let (status, retry_after) = crate::outbound::status_and_retry_after(&response);
            Answer::Status(status, retry_after)
        }
        Err(e) => {
            tracing::debug!(host = %target.host(), error = %e, "outgoing webhook unreachable");
            Answer::Unreachable("no answer (connection failed or timed out)".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: Option<&str>) -> Posted {
        Posted {
            id: 7,
            room_id: 2,
            channel_name: "general".into(),
            sender_id: Some(1),
            sender_username: Some("alice".into()),
            content: text.map(str::to_owned),
            created_at: 0,
            deleted_at: None,
            thread_root_id: None,
            webhook_id: None,
        }
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let keys = vec!["deploy".to_owned(), "alert".to_owned()];
        assert_eq!(
            fires_on(&keys, &message(Some("please DEPLOY now"))),
            Some(Some("deploy".into()))
        );
        assert_eq!(fires_on(&keys, &message(Some("redeployed"))), None);
        assert_eq!(
            fires_on(&keys, &message(Some("alert: disk"))),
            Some(Some("alert".into()))
        );
        assert_eq!(fires_on(&[], &message(Some("anything"))), Some(None));
        assert_eq!(fires_on(&[], &message(None)), None, "encrypted or deleted");
        let mut own = message(Some("deploy"));
        own.webhook_id = Some(3);
        assert_eq!(fires_on(&keys, &own), None, "a webhook's own post");
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231 test case 2's key and data, with the data split as
        // "<timestamp>.<body>": "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", 0, "what do ya want for nothing?").len(),
            "sha256=".len() + 64
        );
        let sig = signature("Jefe", 1_700_000_000, "{}");
        assert!(sig.starts_with("sha256="));
        assert_ne!(sig, signature("Jefe", 1_700_000_001, "{}"));
        assert_ne!(sig, signature("jefe", 1_700_000_000, "{}"));
    }

    #[test]
    fn failures_are_retried_with_backoff_until_the_last_attempt() {
        let done = outcome(1, &Answer::Status(204, None), 0, 0.0);
        assert_eq!(
            (done.status, done.due_at, done.last_status),
            ("delivered", None, Some(204))
        );
        let retry = outcome(1, &Answer::Status(500, None), 1_000, 0.0);
        assert_eq!((retry.status, retry.due_at), ("pending", Some(2_000)));
        let retry = outcome(3, &Answer::Unreachable("x".into()), 0, 0.0);
        assert_eq!((retry.status, retry.due_at), ("pending", Some(4_000)));
        let retry = outcome(1, &Answer::Status(429, Some(30)), 0, 0.0);
        assert_eq!(retry.due_at, Some(30_000));
        let gone = outcome(1, &Answer::Status(404, None), 0, 0.0);
        assert_eq!((gone.status, gone.due_at), ("failed", None));
        let last = outcome(MAX_ATTEMPTS, &Answer::Status(503, None), 0, 0.0);
        assert_eq!(last.status, "failed");
    }
}
