//! History: pages of 50 from a channel of many rows (in a database of many
//! more), at random depths, while messages keep being written elsewhere.
//! Reports page latency as the client sees it (HTTP on loopback included),
//! overall and for the deepest tenth of the channel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use hdrhistogram::Histogram;
use securechat_client::{OutgoingMessage, new_client_msg_id};

use super::{Better, Ctx, Report, Slice, drain, ms};
use crate::db::{self, Seed};
use crate::world;

/// Readers fetching pages at once.
const READERS: usize = 4;
const PAGE: u32 = 50;

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let sizes = ctx.sizes;
    let accounts = ctx.accounts_for(Slice::History).to_vec();
    let (_, channels) = world::room(&ctx.base(), &accounts, "history", 2).await?;
    let (measured, filler) = (channels[0], channels[1]);

    ctx.target.stop().await?;
    let seeding = Instant::now();
    let (low, high) = db::seed_history(
        &ctx.target.database_url(),
        Seed {
            channel_id: measured,
            channel_rows: sizes.history_channel_rows,
            filler_channel_id: filler,
            total_rows: sizes.history_total_rows,
            sender_id: accounts[0].user_id,
        },
    )
    .await?;
    let seeded_in = seeding.elapsed();
    ctx.target.start().await?;
    let stored = db::count_messages(&ctx.target.database_url(), &[measured]).await?;
    if stored != sizes.history_channel_rows {
        bail!(
            "seeding stored {stored} rows, {} wanted",
            sizes.history_channel_rows
        );
    }

    // A writer keeps committing to the other channel meanwhile.
    let base = ctx.base();
    let conns = world::connect_all(&base, &[accounts[0].token.as_str()]).await?;
    world::join_all(&conns, |_| filler).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let mut conns = conns;
    let conn = conns.remove(0);
    let drainer = drain(conn.events);
    let writer = {
        let socket = conn.socket.clone();
        let stop = Arc::clone(&stop);
        let written = Arc::clone(&written);
        let period = Duration::from_secs_f64(1.0 / f64::from(sizes.history_write_rate));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let message = OutgoingMessage::new(filler, "written while history is read")
                    .client_msg_id(new_client_msg_id());
                socket.send_message(&message).await?;
                written.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        })
    };

    let meter = ctx.meter();
    let client = world::client(&base, &ctx.http, &accounts[0])?;
    let span = (high - low).max(1);
    let deep_limit = low + span / 10;
    let mut readers = Vec::new();
    let per_reader = sizes.history_pages / READERS;
    for r in 0..READERS {
        let client = client.clone();
        readers.push(tokio::spawn(async move {
            let mut all = Histogram::<u64>::new(3)?;
            let mut deep = Histogram::<u64>::new(3)?;
            let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (r as u64 + 1);
            for _ in 0..per_reader {
                // xorshift: a uniform depth, reproducible per reader.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let before =
                    low + 1 + i64::try_from(state % u64::try_from(span).unwrap_or(1)).unwrap_or(0);
                let began = Instant::now();
                let page = client
                    .history(
                        measured,
                        securechat_client::HistoryQuery::before(before).limit(PAGE),
                    )
                    .await?;
                let took = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
                let want = usize::try_from((before - low).min(i64::from(PAGE))).unwrap_or(0);
                if page.messages.len() < want.min(1) || page.messages.iter().any(|m| m.id >= before)
                {
                    anyhow::bail!(
                        "page before {before} is wrong ({} messages)",
                        page.messages.len()
                    );
                }
                all.record(took.max(1))?;
                if before <= deep_limit {
                    deep.record(took.max(1))?;
                }
            }
            anyhow::Ok((all, deep))
        }));
    }
    let started = Instant::now();
    let mut all = Histogram::<u64>::new(3)?;
    let mut deep = Histogram::<u64>::new(3)?;
    for r in readers {
        let (a, d) = r.await??;
        all.add(a)?;
        deep.add(d)?;
    }
    let reading = started.elapsed();
    let usage = meter.stop();
    stop.store(true, Ordering::Relaxed);
    writer.await??;
    conn.socket.close().await;
    drainer.abort();

    let mut report = Report {
        usage: Some(usage),
        ..Report::default()
    };
    report.headline(
        "page p50",
        ms(all.value_at_quantile(0.5)),
        "ms",
        Better::Lower,
    );
    report.headline(
        "page p99",
        ms(all.value_at_quantile(0.99)),
        "ms",
        Better::Lower,
    );
    report.figure(
        "deepest tenth p99",
        ms(deep.value_at_quantile(0.99)),
        "ms",
        Better::Lower,
    );
    report.figure(
        "pages",
        all.len() as f64 / reading.as_secs_f64(),
        "pages/s",
        Better::Higher,
    );
    report.note(format!(
        "{} pages of {PAGE} from a channel of {} rows in a table of {} (seeded in {:.1} s), \
         {READERS} readers, {} messages written meanwhile",
        all.len(),
        sizes.history_channel_rows,
        sizes.history_total_rows,
        seeded_in.as_secs_f64(),
        written.load(Ordering::Relaxed)
    ));
    Ok(report)
}
