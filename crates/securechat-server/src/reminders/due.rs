//! Delivering reminders when they fall due: every second, claim what is due
//! (on every node at once if there are several: each reminder goes to one)
//! and push `reminder_due` to every socket of its person. A node that is
//! down delivers late, never twice.

use std::time::Duration;

use super::store;
use crate::notify::Notifier;
use crate::push::{Audience, ReminderDue, ServerEvent};
use crate::storage::{Db, now_ms};

/// How often due reminders are looked for.
const EVERY: Duration = Duration::from_secs(1);
/// Reminders claimed per round.
const BATCH: i64 = 200;
/// How long a delivered reminder is kept (for nothing but a late look).
const KEEP_FIRED_MS: i64 = 24 * 3600 * 1000;

/// One round: delivers what is due; returns how many.
pub async fn deliver(db: &Db, notify: &Notifier) -> Result<usize, sqlx::Error> {
    let due = store::claim_due(db, now_ms(), BATCH).await?;
    for r in &due {
        notify.push(
            ServerEvent::ReminderDue(ReminderDue {
                id: r.id,
                channel_id: r.channel_id,
                note: r.note.clone(),
                due_at: r.due_at,
            }),
            Audience::Users(vec![r.user_id]),
        );
    }
    Ok(due.len())
}

/// Delivers due reminders until the task is aborted.
pub async fn run(db: Db, notify: Notifier) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        rounds += 1;
        match deliver(&db, &notify).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(reminders = n, "reminders delivered"),
            Err(e) => tracing::warn!(error = %e, "reminder delivery failed; retrying"),
        }
        if rounds.is_multiple_of(3600)
            && let Err(e) = store::forget_fired(&db, now_ms() - KEEP_FIRED_MS).await
        {
            tracing::warn!(error = %e, "old reminders not removed");
        }
    }
}
