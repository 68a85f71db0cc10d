//! Throughput: many senders over many channels, each message acked only
//! after its commit. Reports acked messages per second and checks that the
//! database holds exactly as many rows as there were acks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use hdrhistogram::Histogram;
use securechat_client::{OutgoingMessage, Socket};

use super::{Better, Ctx, Report, Slice, drain, ms};
use crate::{db, world};

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let mut report = Report::default();
    let sizes = ctx.sizes;
    let senders = ctx.accounts_for(Slice::Throughput);
    let (_, channels) = world::room(
        &ctx.base(),
        senders,
        "throughput",
        sizes.throughput_channels,
    )
    .await?;
    let tokens: Vec<&str> = senders.iter().map(|a| a.token.as_str()).collect();
    let conns = world::connect_all(&ctx.base(), &tokens).await?;
    world::join_all(&conns, |i| channels[i % channels.len()]).await?;
    let before = db::count_messages(&ctx.target.database_url(), &channels).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    let mut sockets = Vec::new();
    let mut drains = Vec::new();
    for (i, conn) in conns.into_iter().enumerate() {
        let channel = channels[i % channels.len()];
        for w in 0..sizes.throughput_window {
            workers.push(tokio::spawn(sender(
                conn.socket.clone(),
                channel,
                format!("t{i}w{w}"),
                Arc::clone(&stop),
            )));
        }
        sockets.push(conn.socket);
        drains.push(drain(conn.events));
    }
    let meter = ctx.meter();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(sizes.throughput_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acks = 0u64;
    let mut latency = Histogram::<u64>::new(3)?;
    for worker in workers {
        let (n, h) = worker.await??;
        acks += n;
        latency.add(h)?;
    }
    let elapsed = started.elapsed();
    report.usage = Some(meter.stop());
    let stored = db::count_messages(&ctx.target.database_url(), &channels).await? - before;
    if u64::try_from(stored).ok() != Some(acks) {
        bail!("{acks} messages were acked but {stored} rows were stored");
    }
    report.headline(
        "acked messages",
        acks as f64 / elapsed.as_secs_f64(),
        "msg/s",
        Better::Higher,
    );
    report.figure(
        "ack p50",
        ms(latency.value_at_quantile(0.5)),
        "ms",
        Better::Lower,
    );
    report.figure(
        "ack p99",
        ms(latency.value_at_quantile(0.99)),
        "ms",
        Better::Lower,
    );
    report.note(format!(
        "{} senders × {} in flight over {} channels for {:.1} s; {acks} acks = {stored} stored rows",
        senders.len(),
        sizes.throughput_window,
        channels.len(),
        elapsed.as_secs_f64()
    ));
    world::close_all(sockets).await;
    for d in drains {
        d.abort();
    }
    Ok(report)
}

/// Sends one message at a time until told to stop; returns the acks and
/// their latencies (µs).
async fn sender(
    socket: Socket,
    channel: i64,
    prefix: String,
    stop: Arc<AtomicBool>,
) -> Result<(u64, Histogram<u64>)> {
    let mut latency = Histogram::<u64>::new(3)?;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let message = OutgoingMessage::new(
            channel,
            format!("{prefix} message {n} of the throughput run"),
        )
        .client_msg_id(format!("{prefix}-{n}"));
        let sent = Instant::now();
        socket.send_message(&message).await?;
        latency.record(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX))?;
        n += 1;
    }
    Ok((n, latency))
}
