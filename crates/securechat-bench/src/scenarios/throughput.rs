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
use crate::procstat::Usage;
use crate::world::Account;
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
    let run = measure(ctx, senders, &channels, "").await?;
    report.usage = Some(run.usage);
    report.headline("acked messages", run.rate(), "msg/s", Better::Higher);
    report.figure(
        "ack p50",
        ms(run.latency.value_at_quantile(0.5)),
        "ms",
        Better::Lower,
    );
    report.figure(
        "ack p99",
        ms(run.latency.value_at_quantile(0.99)),
        "ms",
        Better::Lower,
    );
    report.note(format!(
        "{} senders × {} in flight over {} channels for {:.1} s; {} acks = {} stored rows",
        senders.len(),
        sizes.throughput_window,
        channels.len(),
        run.elapsed.as_secs_f64(),
        run.acks,
        run.acks
    ));
    Ok(report)
}

/// What one timed run of senders measured.
pub struct Measured {
    pub acks: u64,
    pub elapsed: Duration,
    /// Ack latencies (µs).
    pub latency: Histogram<u64>,
    /// (server, generator) usage while sending.
    pub usage: (Usage, Usage),
}

impl Measured {
    /// Acked messages per second.
    pub fn rate(&self) -> f64 {
        self.acks as f64 / self.elapsed.as_secs_f64()
    }
}

/// Connects `senders`, joins them over `channels`, sends for the scale's
/// throughput time with its window of messages in flight, and checks that
/// the stored rows equal the acks. `label` starts every text (so a later
/// check can find one run's rows).
pub async fn measure(
    ctx: &Ctx<'_>,
    senders: &[Account],
    channels: &[i64],
    label: &str,
) -> Result<Measured> {
    let sizes = ctx.sizes;
    let tokens: Vec<&str> = senders.iter().map(|a| a.token.as_str()).collect();
    let conns = world::connect_all(&ctx.base(), &tokens).await?;
    world::join_all(&conns, |i| channels[i % channels.len()]).await?;
    let before = db::count_messages(&ctx.target.database_url(), channels).await?;

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
                format!("{label}t{i}w{w}"),
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
    let usage = meter.stop();
    let stored = db::count_messages(&ctx.target.database_url(), channels).await? - before;
    if u64::try_from(stored).ok() != Some(acks) {
        bail!("{acks} messages were acked but {stored} rows were stored");
    }
    world::close_all(sockets).await;
    for d in drains {
        d.abort();
    }
    Ok(Measured {
        acks,
        elapsed,
        latency,
        usage,
    })
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
