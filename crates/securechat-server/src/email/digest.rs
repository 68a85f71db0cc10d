//! The digest task: every `EMAIL_DRAIN_SECS`, on every node, it finds the
//! people with a due digest, claims each one's (`store::pending::claim`:
//! read and deleted messages dropped, the person's slot taken, the rows
//! leased, in one transaction), mails it, and deletes the rows, or on a
//! failure puts them back for a retry with exponential backoff (given up
//! after [`MAX_ATTEMPTS`]). A node that dies while mailing leaves its rows
//! leased for [`LEASE_MS`]; the next claim after that mails them. So a
//! digest goes out once, unless a node dies between the SMTP server's
//! acceptance and the deletion that follows it.
//!
//! The log names no address, no content and no token.

use super::Email;
use super::compose::{self, Item};
use super::store::pending::{self, Claimed, Outcome, Row};
use crate::state::AppState;
use crate::storage::now_ms;

/// People whose digests are claimed per look at the queue.
const BATCH: i64 = 50;
/// How long a claimed digest is this node's: longer than an SMTP exchange.
pub const LEASE_MS: i64 = 120_000;
/// Sends tried before a digest's messages are given up.
pub const MAX_ATTEMPTS: i64 = 10;
/// The longest wait between two tries.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// Runs until the task is aborted (shutdown); nothing without email.
pub async fn run(state: AppState) {
    let Some(email) = state.email.as_ref() else {
        return;
    };
    let period = std::time::Duration::from_millis(u64::try_from(email.drain_ms).unwrap_or(30_000));
    tracing::info!(
        delay_secs = email.delay_ms / 1000,
        drain_secs = email.drain_ms / 1000,
        "email digests are on"
    );
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        drain(&state, email).await;
    }
}

/// One look at the queue: every due digest mailed (or put back).
async fn drain(state: &AppState, email: &Email) {
    let people = match pending::due_people(&state.db, now_ms(), email.delay_ms, BATCH).await {
        Ok(people) => people,
        Err(e) => {
            tracing::warn!(error = %e, "reading the email digest queue failed");
            return;
        }
    };
    for user_id in people {
        let claimed =
            match pending::claim(&state.db, user_id, now_ms(), email.delay_ms, LEASE_MS).await {
                Ok(Some(claimed)) => claimed,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming an email digest failed");
                    continue;
                }
            };
        let outcome = mail(state, email, &claimed).await;
        match pending::settle(&state.db, &claimed, outcome).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                messages = n,
                "email digest given up after repeated failures"
            ),
            // The rows stay leased and are claimed again after the lease.
            Err(e) => tracing::warn!(error = %e, "recording an email digest's outcome failed"),
        }
    }
}

/// Mails one claimed digest.
async fn mail(state: &AppState, email: &Email, claimed: &Claimed) -> Outcome {
    if claimed.rows.is_empty() {
        return Outcome::Sent;
    }
    let items: Vec<Item> = claimed.rows.iter().map(item).collect();
    let token = super::unsubscribe_token(&state.keys, claimed.user_id, claimed.verified_at);
    let stop = email.unsubscribe_url(&token);
    let mail = compose::digest(&items, &email.app_url(), &stop);
    match email.send(&claimed.address, &mail, Some(&stop)).await {
        Ok(()) => {
            tracing::info!(messages = items.len(), "email digest sent");
            Outcome::Sent
        }
        Err(e) => {
            let attempts = claimed.rows.iter().map(|r| r.attempts).max().unwrap_or(1);
            tracing::warn!(error = %e, attempts, "mailing an email digest failed; it is retried");
            Outcome::Failed {
                retry_at: now_ms() + backoff(email.drain_ms, attempts),
                max_attempts: MAX_ATTEMPTS,
            }
        }
    }
}

/// The wait after the `attempts`-th failed try: the drain period, doubled
/// with each try, at most an hour.
fn backoff(drain_ms: i64, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    drain_ms
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_MS)
}

fn item(row: &Row) -> Item {
    Item {
        channel_id: row.channel_id,
        channel: row.channel.clone(),
        room: row.room.clone(),
        is_dm: row.room_kind == "dm",
        encrypted: row.is_encrypted,
        sender: row.sender.clone(),
        // Never anything of an encrypted channel, whatever is stored.
        text: if row.is_encrypted {
            None
        } else {
            row.content.clone()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(backoff(30_000, 1), 30_000);
        assert_eq!(backoff(30_000, 2), 60_000);
        assert_eq!(backoff(30_000, 4), 240_000);
        assert_eq!(backoff(30_000, 9), MAX_BACKOFF_MS);
        assert_eq!(backoff(30_000, 0), 30_000);
        assert_eq!(backoff(i64::MAX / 2, 20), MAX_BACKOFF_MS);
    }
}
