//! Retention purge under load: a channel seeded with old messages (a
//! million at full scale) straight into the database, then the throughput
//! scenario's load in other channels, timed once before any policy and
//! once right after the channel's room is given a one-day retention, which
//! sets the server's purge job deleting every seeded row in the
//! background. Reports throughput without and during the purge, the dip,
//! and how long the purge took; checks that every seeded row is gone and
//! every acked message stored.
//!
//! The server under test runs its purge job every second
//! (`RETENTION_PURGE_SECS=1`, `target.rs`), so it starts within a second of
//! the policy as it would within a minute by default.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::throughput;
use super::{Better, Ctx, Report, Slice};
use crate::db::{self, Seed};
use crate::world;

/// The budget: throughput during the purge at most this much lower.
const BUDGET_PERCENT: f64 = 20.0;

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let sizes = ctx.sizes;
    let senders = ctx.accounts_for(Slice::Throughput).to_vec();
    let owner = &senders[0];
    let (_, channels) = world::room(
        &ctx.base(),
        &senders,
        "purge-load",
        sizes.throughput_channels,
    )
    .await?;
    let (old_room, old) = world::room(&ctx.base(), &senders[..1], "purge-old", 1).await?;
    let old = old[0];

    // Seeded with the server stopped, as the history scenario does: the
    // rows are dated 2023, so any retention policy finds them due.
    ctx.target.stop().await?;
    let seeding = Instant::now();
    let rows = i64::try_from(sizes.purge_messages)?;
    db::seed_history(
        &ctx.target.database_url(),
        Seed {
            channel_id: old,
            channel_rows: rows,
            filler_channel_id: old,
            total_rows: rows,
            sender_id: owner.user_id,
        },
    )
    .await?;
    let seeded_in = seeding.elapsed();
    ctx.target.start().await?;
    let url = ctx.target.database_url();
    let stored = db::count_messages(&url, &[old]).await?;
    if stored != rows {
        bail!("seeding stored {stored} rows, {rows} wanted");
    }

    let before = throughput::measure(ctx, &senders, &channels, "nopurge").await?;

    let set = ctx
        .http
        .put(format!("{}/api/rooms/{old_room}/retention", ctx.base()))
        .bearer_auth(&owner.token)
        .json(&serde_json::json!({"days": 1}))
        .send()
        .await
        .context("setting the retention policy")?;
    if !set.status().is_success() {
        bail!("setting the retention policy answered {}", set.status());
    }
    let purge_started = Instant::now();
    let during = throughput::measure(ctx, &senders, &channels, "inpurge").await?;
    let left_after_round = db::count_messages(&url, &[old]).await?;
    loop {
        let left = db::count_messages(&url, &[old]).await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let purge_took = purge_started.elapsed();
    // The load's own messages are all still there (rows = acks was checked
    // per round), and nothing of the load's channels was purged.
    let kept = db::count_messages(&url, &channels).await?;
    let acked = i64::try_from(before.acks + during.acks)?;
    if kept < acked {
        bail!("{acked} messages were acked in the load's channels but {kept} remain");
    }

    let dip = 100.0 * (before.rate() - during.rate()) / before.rate();
    let mut report = Report {
        usage: Some(during.usage),
        ..Report::default()
    };
    report.figure("without a purge", before.rate(), "msg/s", Better::Higher);
    report.figure("during the purge", during.rate(), "msg/s", Better::Higher);
    report.headline("throughput dip", dip, "%", Better::Lower);
    report.headline("purge time", purge_took.as_secs_f64(), "s", Better::Lower);
    report.figure(
        "purge rate",
        rows as f64 / purge_took.as_secs_f64(),
        "msg/s",
        Better::Higher,
    );
    let verdict = if dip <= BUDGET_PERCENT {
        "met".to_owned()
    } else {
        format!("**missed** by {:.1} points", dip - BUDGET_PERCENT)
    };
    report.note(format!(
        "budget: throughput during the purge at most {BUDGET_PERCENT:.0}% lower than without \
         it; it is {dip:.1}% lower (a negative figure is noise): {verdict}"
    ));
    report.note(format!(
        "{rows} messages seeded in one channel ({:.1} s, server stopped), then a one-day \
         retention set on its room; the purge deleted them all in {:.1} s ({:.0} msg/s). \
         The throughput scenario's load ({} senders × {} in flight over {} channels of \
         another room, {} s a round) ran once before the policy ({:.0} msg/s) and once from \
         the moment it was set ({:.0} msg/s); {left_after_round} seeded rows were still \
         there when that round ended{}",
        seeded_in.as_secs_f64(),
        purge_took.as_secs_f64(),
        rows as f64 / purge_took.as_secs_f64(),
        senders.len(),
        sizes.throughput_window,
        channels.len(),
        sizes.throughput_seconds,
        before.rate(),
        during.rate(),
        if left_after_round == 0 {
            " (the purge ended within the round, so part of the round ran without it)"
        } else {
            " (the round ran wholly during the purge)"
        }
    ));
    Ok(report)
}
