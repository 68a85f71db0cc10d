//! Fan-out: senders to one channel of many receivers. Reports deliveries
//! per second; every receiver checks by sequence number that it got each
//! message exactly once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use securechat_client::{EventStream, OutgoingMessage, SendOptions, Socket};
use tokio::sync::Semaphore;

use super::{Better, Ctx, Report, Slice};
use crate::world::{self, Account};

/// Messages one sender keeps in flight.
const WINDOW: usize = 32;
/// How long a send waits for its ack. A single-threaded server broadcasting
/// to 10,000 receivers may answer a send only after many seconds; what is
/// measured is deliveries per second, so a slow ack is part of the figure,
/// not a failure.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// How long receivers wait for stragglers after the last ack.
const GRACE: Duration = Duration::from_secs(20);

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let mut report = Report::default();
    let sizes = ctx.sizes;
    let small = round(
        ctx,
        1,
        sizes.fanout_receivers,
        sizes.fanout_messages,
        "fanout",
    )
    .await?;
    report.headline(
        "1 → many deliveries",
        small.rate,
        "deliveries/s",
        Better::Higher,
    );
    report.note(format!(
        "1 sender × {} messages → {} receivers: {} deliveries in {:.2} s, none lost or doubled",
        sizes.fanout_messages, sizes.fanout_receivers, small.deliveries, small.seconds
    ));
    let big = round(
        ctx,
        sizes.fanout_big_senders,
        sizes.fanout_big_receivers,
        sizes.fanout_big_messages,
        "fanout-big",
    )
    .await?;
    report.headline(
        "many → many deliveries",
        big.rate,
        "deliveries/s",
        Better::Higher,
    );
    report.note(format!(
        "{} senders × {} messages → {} receivers: {} deliveries in {:.2} s, none lost or doubled",
        sizes.fanout_big_senders,
        sizes.fanout_big_messages,
        sizes.fanout_big_receivers,
        big.deliveries,
        big.seconds
    ));
    Ok(report)
}

struct Round {
    deliveries: u64,
    seconds: f64,
    rate: f64,
}

async fn round(
    ctx: &mut Ctx<'_>,
    senders: usize,
    receivers: usize,
    messages: usize,
    name: &str,
) -> Result<Round> {
    let accounts: &[Account] = ctx.accounts_for(Slice::Fanout);
    let (_, channels) = world::room(&ctx.base(), accounts, name, 1).await?;
    let channel = channels[0];
    let receiver_tokens: Vec<&str> = (0..receivers)
        .map(|i| accounts[i % accounts.len()].token.as_str())
        .collect();
    let sender_tokens: Vec<&str> = (0..senders)
        .map(|i| accounts[i % accounts.len()].token.as_str())
        .collect();
    let receiving = world::connect_all(&ctx.base(), &receiver_tokens).await?;
    world::join_all(&receiving, |_| channel).await?;
    let sending = world::connect_all(&ctx.base(), &sender_tokens).await?;
    world::join_all(&sending, |_| channel).await?;

    let expected = senders * messages;
    let mut sockets = Vec::new();
    let mut readers = Vec::new();
    let started = Instant::now();
    for conn in receiving {
        sockets.push(conn.socket);
        readers.push(tokio::spawn(receive(conn.events, senders, messages)));
    }
    let mut sender_tasks = Vec::new();
    let mut sender_drains = Vec::new();
    for (s, conn) in sending.into_iter().enumerate() {
        sender_tasks.push(tokio::spawn(send(
            conn.socket.clone(),
            channel,
            s,
            messages,
        )));
        sockets.push(conn.socket);
        sender_drains.push(super::drain(conn.events));
    }
    for task in sender_tasks {
        task.await??;
    }
    let mut last = started;
    let mut deliveries = 0u64;
    let mut lost = 0usize;
    let mut doubled = 0usize;
    for reader in readers {
        let got = reader.await?;
        deliveries += got.received;
        lost += expected - got.distinct;
        doubled += got.doubled;
        last = last.max(got.last);
    }
    world::close_all(sockets).await;
    for d in sender_drains {
        d.abort();
    }
    if lost > 0 || doubled > 0 {
        bail!("{lost} deliveries lost and {doubled} doubled among {receivers} receivers");
    }
    let seconds = last.duration_since(started).as_secs_f64().max(1e-6);
    Ok(Round {
        deliveries,
        seconds,
        rate: deliveries as f64 / seconds,
    })
}

async fn send(socket: Socket, channel: i64, sender: usize, messages: usize) -> Result<()> {
    let window = Arc::new(Semaphore::new(WINDOW));
    let options = SendOptions {
        ack_timeout: ACK_TIMEOUT,
        ..SendOptions::default()
    };
    let mut inflight = FuturesUnordered::new();
    for seq in 0..messages {
        let permit = Arc::clone(&window).acquire_owned().await?;
        let socket = socket.clone();
        inflight.push(tokio::spawn(async move {
            let message =
                OutgoingMessage::new(channel, format!("f {sender} {seq} fan-out payload"));
            let sent = socket.send_message_with(&message, &options).await;
            drop(permit);
            sent.map(|_| ())
        }));
        while let Some(done) = futures_util::FutureExt::now_or_never(inflight.next()).flatten() {
            done??;
        }
    }
    while let Some(done) = inflight.next().await {
        done??;
    }
    Ok(())
}

struct Received {
    received: u64,
    distinct: usize,
    doubled: usize,
    last: Instant,
}

/// Reads `new_message` events until every (sender, seq) has come or the
/// stream has been quiet for [`GRACE`].
async fn receive(mut events: EventStream, senders: usize, messages: usize) -> Received {
    let mut seen = vec![false; senders * messages];
    let mut out = Received {
        received: 0,
        distinct: 0,
        doubled: 0,
        last: Instant::now(),
    };
    while out.distinct < seen.len() {
        let Ok(Some(event)) = tokio::time::timeout(GRACE, events.recv()).await else {
            break;
        };
        if event.name != "new_message" {
            continue;
        }
        let Some((s, seq)) = event
            .parse::<Delivered>()
            .ok()
            .and_then(|d| d.content)
            .as_deref()
            .and_then(parse)
        else {
            continue;
        };
        if s >= senders || seq >= messages {
            continue;
        }
        let Some(slot) = seen.get_mut(s * messages + seq) else {
            continue;
        };
        out.received += 1;
        out.last = Instant::now();
        if *slot {
            out.doubled += 1;
        } else {
            *slot = true;
            out.distinct += 1;
        }
    }
    // Keep reading so the connection never backs up until it is closed.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    out
}

/// The part of a `new_message` the receivers read (only that is parsed).
#[derive(serde::Deserialize)]
struct Delivered {
    content: Option<String>,
}

/// `f <sender> <seq> …` → (sender, seq).
fn parse(content: &str) -> Option<(usize, usize)> {
    let mut parts = content.split(' ');
    if parts.next()? != "f" {
        return None;
    }
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn sequence_numbers_parse() {
        assert_eq!(parse("f 3 17 fan-out payload"), Some((3, 17)));
        assert_eq!(parse("t 3 17"), None);
        assert_eq!(parse("f x 17"), None);
    }
}
