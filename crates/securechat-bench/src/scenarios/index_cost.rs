//! Cost of the search index: the throughput scenario's load, timed with the
//! index kept on every insert and with it switched off, on the same server
//! process and database. Rounds run with, without, without, with (ABBA), so
//! a drift of the machine (other load, a growing table) weighs on both
//! sides alike, and the index is switched off and back only once.
//!
//! Switching it off: SQLite drops the trigger that indexes each new row
//! (`messages_fts_insert`, migration 0013) and afterwards re-creates it and
//! indexes the rows written meanwhile; PostgreSQL drops the `pg_trgm` GIN
//! index and afterwards builds it again. Either way the database ends as
//! the migrations left it, which the scenario checks.

use std::time::Instant;

use anyhow::{Result, bail};

use super::throughput::{self, Measured};
use super::{Better, Ctx, Report, Slice};
use crate::db;
use crate::target::TargetKind;
use crate::world;

/// The issue's goal: throughput with the index at most this much lower.
const GOAL_PERCENT: f64 = 10.0;
/// Round labels start every message text; the check after the run counts
/// the unindexed rounds' rows in the index by it.
const WITH: &str = "withidx";
const WITHOUT: &str = "sansidx";

/// Migration 0013's trigger, as it creates it.
const SQLITE_TRIGGER: &str = "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages \
     WHEN new.content IS NOT NULL BEGIN \
     INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content); END";
/// Migration 0013's index, as it creates it.
const POSTGRES_INDEX: &str = "CREATE INDEX messages_content_trgm ON messages \
     USING gin (content gin_trgm_ops) WHERE content IS NOT NULL";

/// Why the index costs SQLite what it does, and the proposed fix.
const SQLITE_WHY: &str = "every insert tokenizes the text into trigrams and adds them to the \
     FTS5 index inside the single writer's transaction (and FTS5 merges its segments as they \
     accumulate), so the index's work is on the path of every ack. Proposed fix (server): keep \
     the index off that path, a background task indexing committed rows in batches behind a \
     high-water mark (the search statement checks the few rows above the mark with LIKE, so \
     nothing committed is missed); and measure FTS5's `automerge`/`crisismerge` settings, \
     which trade merge work at insert time for query time";
/// Why the index costs PostgreSQL what it does, and the proposed fix.
const POSTGRES_WHY: &str = "every insert adds its trigrams to the GIN index (its pending list \
     is flushed into the index by the inserting backend once full), inside the transaction \
     acked. Proposed fix (server): a larger `gin_pending_list_limit` on the index, or the same \
     background indexing with a high-water mark as on SQLite";

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let sizes = ctx.sizes;
    let senders = ctx.accounts_for(Slice::Throughput).to_vec();
    let (_, channels) = world::room(
        &ctx.base(),
        &senders,
        "index-cost",
        sizes.throughput_channels,
    )
    .await?;
    let url = ctx.target.database_url();
    let sqlite = ctx.target.kind == TargetKind::SecurechatSqlite;

    let mut with: Vec<Measured> = Vec::new();
    let mut without: Vec<Measured> = Vec::new();
    let first_unindexed;
    // Each round's texts (and client message ids) differ: a repeated id
    // would be taken for a retry and not stored again.
    let label = |base: &str, round: usize| format!("{base}{round}r");
    // With.
    with.push(throughput::measure(ctx, &senders, &channels, &label(WITH, 1)).await?);
    // Off.
    if sqlite {
        first_unindexed = db::scalar(&url, "SELECT COALESCE(MAX(id), 0) + 1 FROM messages").await?;
        db::execute(&url, "DROP TRIGGER messages_fts_insert").await?;
    } else {
        first_unindexed = 0;
        db::execute(&url, "DROP INDEX messages_content_trgm").await?;
    }
    // Without, twice; the index comes back even if a round fails, so the
    // scenarios after this one find the schema as the migrations left it.
    let mut failed = None;
    for round in 2..=3 {
        match throughput::measure(ctx, &senders, &channels, &label(WITHOUT, round)).await {
            Ok(m) => without.push(m),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // Back on, as the migration left it.
    let restoring = Instant::now();
    if sqlite {
        db::execute(&url, SQLITE_TRIGGER).await?;
        db::execute(
            &url,
            &format!(
                "INSERT INTO messages_fts (rowid, content) SELECT id, content FROM messages \
                 WHERE id >= {first_unindexed} AND content IS NOT NULL"
            ),
        )
        .await?;
    } else {
        db::execute(&url, POSTGRES_INDEX).await?;
    }
    let restored_in = restoring.elapsed();
    if let Some(e) = failed {
        return Err(e);
    }
    // With, again.
    with.push(throughput::measure(ctx, &senders, &channels, &label(WITH, 4)).await?);

    // Every unindexed round's row is in the index again.
    let unindexed: u64 = without.iter().map(|m| m.acks).sum();
    if sqlite {
        let indexed = db::scalar(
            &url,
            &format!("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH '\"{WITHOUT}\"'"),
        )
        .await?;
        if u64::try_from(indexed).ok() != Some(unindexed) {
            bail!(
                "after the trigger came back the FTS index holds {indexed} of the {unindexed} \
                 rows written without it"
            );
        }
    } else {
        let present = db::scalar(
            &url,
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'messages_content_trgm'",
        )
        .await?;
        if present != 1 {
            bail!("the pg_trgm index messages_content_trgm did not come back");
        }
    }

    let mean = |runs: &[Measured]| runs.iter().map(Measured::rate).sum::<f64>() / runs.len() as f64;
    let (indexed_rate, plain_rate) = (mean(&with), mean(&without));
    let cost = 100.0 * (plain_rate - indexed_rate) / plain_rate;
    let mut report = Report {
        usage: Some(with[0].usage),
        ..Report::default()
    };
    report.figure("with the index", indexed_rate, "msg/s", Better::Higher);
    report.figure("without it", plain_rate, "msg/s", Better::Higher);
    report.headline("cost of the index", cost, "%", Better::Lower);
    let rounds = |runs: &[Measured]| {
        runs.iter()
            .map(|m| format!("{:.0}", m.rate()))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let verdict = if cost <= GOAL_PERCENT {
        "met".to_owned()
    } else {
        format!(
            "**missed** by {:.1} points. Why: {}",
            cost - GOAL_PERCENT,
            if sqlite { SQLITE_WHY } else { POSTGRES_WHY }
        )
    };
    report.note(format!(
        "goal: throughput with the index at most {GOAL_PERCENT:.0}% lower than without it; \
         it is {cost:.1}% lower (a negative figure is noise: the index cost less than the \
         rounds vary): {verdict}"
    ));
    report.note(format!(
        "the throughput scenario's load ({} senders × {} in flight over {} channels, {} s a \
         round), rounds with, without, without, with the index on one server process: with \
         {} msg/s, without {} msg/s",
        senders.len(),
        sizes.throughput_window,
        channels.len(),
        sizes.throughput_seconds,
        rounds(&with),
        rounds(&without)
    ));
    report.note(if sqlite {
        format!(
            "without = migration 0013's insert trigger dropped; then re-created and the \
             {unindexed} rows written meanwhile indexed ({:.1} s), all of them found in \
             messages_fts afterwards",
            restored_in.as_secs_f64()
        )
    } else {
        format!(
            "without = the pg_trgm GIN index dropped; then built again ({:.1} s)",
            restored_in.as_secs_f64()
        )
    });
    Ok(report)
}
