//! Latency at a constant rate: rooms of `members` people, each with
//! several channels; every member has a socket in each of their room's
//! channels. Each channel's sender fires on a fixed schedule whether or not
//! earlier sends were answered, and latency is measured from the moment a
//! message was *due*, so a stalled server (or generator) shows up in the
//! figures instead of quietly lowering the rate: the correction for
//! coordinated omission.
//!
//! Variants: plaintext; with a login burst halfway through (message
//! latency before vs during the burst); end-to-end encrypted with real
//! client-side encryption (sealed and signed per send, verified and opened
//! per delivery with the crypto crate); plaintext twice on one server
//! process, without Web Push and then with every receiver subscribed for
//! every message of their channels, the pushes going to a stand-in push
//! service ([`crate::pushsink`]): message latency with the push fan-out and
//! sender at work against the same load without them, and the rate at
//! which the server sends pushes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{StreamExt, TryStreamExt};
use hdrhistogram::Histogram;
use securechat_client::{
    Client, EventStream, MembershipChange, NewRoom, NotifyLevel, SecureClient, Socket,
    new_client_msg_id,
};
use securechat_crypto::{
    ChannelKey, Envelope, Identity, MessageBinding, MessageKind, PublicBundle,
};
use serde_json::{Value, json};

use super::{Better, Ctx, Report, ms};
use crate::procstat::Usage;
use crate::pushsink::{self, PushSink};
use crate::world::{self, Account};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Plain,
    LoginBurst,
    Encrypted,
    Push,
}

/// Latencies of messages due in the first stretch are not counted.
const WARM_UP_SHARE: f64 = 0.15;
/// How long receivers wait for a delivery before giving up on more.
const GRACE: Duration = Duration::from_secs(10);
/// Once every send is acked, how long a quiet receiver still waits.
const SETTLE: Duration = Duration::from_millis(500);
/// After the run, the push queue counts as drained once the stand-in push
/// service has heard nothing for this long…
const PUSH_QUIET: Duration = Duration::from_secs(3);
/// …or after this long at most.
const PUSH_DRAIN_LIMIT: Duration = Duration::from_secs(120);
/// Subscription and settings requests in flight while setting up.
const SETUP_CONCURRENCY: usize = 32;

/// The keys of an encrypted run: who signs and what each channel is sealed with.
struct Crypto {
    identities: HashMap<i64, Arc<Identity>>,
    bundles: HashMap<i64, PublicBundle>,
    keys: HashMap<i64, ChannelKey>,
    /// The room of each channel, which envelopes bind (0 for the peers,
    /// which relay envelopes unchecked).
    rooms: HashMap<i64, i64>,
}

/// One channel of the run and its members' sockets.
struct Channel {
    id: i64,
    members: Vec<i64>,
}

pub async fn run(ctx: &mut Ctx<'_>, variant: Variant) -> Result<Report> {
    let sizes = ctx.sizes;
    let (rooms, rate) = match variant {
        Variant::Encrypted => (sizes.encrypted_rooms, sizes.encrypted_rate),
        _ => (sizes.latency_rooms, sizes.latency_rate),
    };
    let members = sizes.latency_members;
    let per_room = sizes.latency_channels_per_room;
    let accounts = ctx.accounts_for(variant_slice(variant));
    if accounts.len() < rooms * members {
        bail!(
            "{} accounts registered, {} needed",
            accounts.len(),
            rooms * members
        );
    }
    let base = ctx.base();

    // Rooms, channels and (encrypted) keys.
    let mut channels = Vec::new();
    let mut crypto = None;
    if variant == Variant::Encrypted && ctx.target.kind.is_securechat() {
        let mut found = Crypto {
            identities: HashMap::new(),
            bundles: HashMap::new(),
            keys: HashMap::new(),
            rooms: HashMap::new(),
        };
        for r in 0..rooms {
            let group = &accounts[r * members..(r + 1) * members];
            channels.extend(
                securechat_room(
                    &ctx.http,
                    &base,
                    &ctx.target.dir,
                    group,
                    per_room,
                    r,
                    &mut found,
                )
                .await?,
            );
        }
        crypto = Some(found);
    } else {
        for r in 0..rooms {
            let group = &accounts[r * members..(r + 1) * members];
            let (_, ids) = plain_room(&ctx.http, &base, group, per_room, r, variant).await?;
            channels.extend(ids.into_iter().map(|id| Channel {
                id,
                members: group.iter().map(|a| a.user_id).collect(),
            }));
        }
        if variant == Variant::Encrypted {
            crypto = Some(local_keys(accounts, &channels)?);
        }
    }
    let crypto = crypto.map(Arc::new);
    let crypto_used = crypto.is_some();
    let mut report = Report::default();
    let measured = if variant == Variant::Push {
        // The same rooms and load twice on one server process: first with
        // nobody subscribed, then with every receiver subscribed to push.
        let without = measure(ctx, variant, accounts, &channels, rate, None).await?;
        let sink = PushSink::start(ctx.target.push_port).await?;
        subscribe_all(&ctx.http, &base, accounts, &channels, &sink).await?;
        let with = measure(ctx, variant, accounts, &channels, rate, None).await?;
        let pushes = sink.settle(PUSH_QUIET, PUSH_DRAIN_LIMIT).await;
        let before = percentiles(&without, sizes.latency_seconds as f64)?;
        let after = percentiles(&with, sizes.latency_seconds as f64)?;
        report.headline("p99 without push", ms(before.p99), "ms", Better::Lower);
        report.headline("p99 with push", ms(after.p99), "ms", Better::Lower);
        report.figure("p50 without push", ms(before.p50), "ms", Better::Lower);
        report.figure("p50 with push", ms(after.p50), "ms", Better::Lower);
        report.figure("p99.9 with push", ms(after.p999), "ms", Better::Lower);
        report.figure(
            "p99 change with push",
            (after.p99 as f64 / before.p99.max(1) as f64 - 1.0) * 100.0,
            "%",
            Better::Lower,
        );
        push_figures(&mut report, &pushes, with.last_due)?;
        with
    } else {
        measure(ctx, variant, accounts, &channels, rate, crypto).await?
    };
    let seconds = sizes.latency_seconds as f64;
    report.usage = Some((measured.server, measured.generator));
    let warm_up = (seconds * WARM_UP_SHARE * 1e6) as u64;
    let mut all = Histogram::<u64>::new(3)?;
    let mut quiet = Histogram::<u64>::new(3)?;
    let mut loud = Histogram::<u64>::new(3)?;
    for &(due, latency) in &measured.samples {
        if due < warm_up {
            continue;
        }
        all.record(latency)?;
        if let Some(b) = &measured.burst {
            if due >= b.start_us && due <= b.end_us {
                loud.record(latency)?;
            } else if due < b.start_us {
                quiet.record(latency)?;
            }
        }
    }
    let label = match variant {
        Variant::Encrypted => "encrypted ",
        _ => "",
    };
    if let Some(b) = &measured.burst {
        report.headline(
            "p99 before the burst",
            ms(quiet.value_at_quantile(0.99)),
            "ms",
            Better::Lower,
        );
        report.headline(
            "p99 during the burst",
            ms(loud.value_at_quantile(0.99)),
            "ms",
            Better::Lower,
        );
        report.headline("logins", b.rate, "logins/s", Better::Higher);
        report.figure("login p99", b.p99_ms, "ms", Better::Lower);
        report.note(format!(
            "{} logins at once, halfway through; they took {:.2} s",
            b.count,
            (b.end_us - b.start_us) as f64 / 1e6
        ));
    } else if variant != Variant::Push {
        report.headline(
            &format!("{label}p50"),
            ms(all.value_at_quantile(0.5)),
            "ms",
            Better::Lower,
        );
        report.headline(
            &format!("{label}p99"),
            ms(all.value_at_quantile(0.99)),
            "ms",
            Better::Lower,
        );
        report.headline(
            &format!("{label}p99.9"),
            ms(all.value_at_quantile(0.999)),
            "ms",
            Better::Lower,
        );
        report.figure(&format!("{label}max"), ms(all.max()), "ms", Better::Lower);
    }
    report.figure(
        "rate achieved",
        measured.sent as f64 / seconds,
        "msg/s",
        Better::Higher,
    );
    report.figure("server CPU", measured.server.cores, "cores", Better::Lower);
    report.note(format!(
        "{} clients in {} channels of {members}, {rate} msg/s for {seconds:.0} s: {} sent, \
         {} deliveries, all arrived{}{}",
        measured.clients,
        channels.len(),
        measured.sent,
        measured.samples.len(),
        if crypto_used {
            ", each decrypted and verified"
        } else {
            ""
        },
        if variant == Variant::Push {
            " (the run with push; the run without it had the same load, all arrived too)"
        } else {
            ""
        }
    ));
    Ok(report)
}

/// What one measured stretch of the schedule found.
struct Measured {
    /// (due µs after its t0, latency µs) per delivery.
    samples: Vec<(u64, u64)>,
    sent: u64,
    clients: usize,
    burst: Option<Burst>,
    server: Usage,
    generator: Usage,
    /// When the last message of the schedule was due.
    last_due: Instant,
}

/// p50, p99 and p99.9 after the warm-up, in µs.
struct Percentiles {
    p50: u64,
    p99: u64,
    p999: u64,
}

fn percentiles(measured: &Measured, seconds: f64) -> Result<Percentiles> {
    let warm_up = (seconds * WARM_UP_SHARE * 1e6) as u64;
    let mut all = Histogram::<u64>::new(3)?;
    for &(due, latency) in &measured.samples {
        if due >= warm_up {
            all.record(latency)?;
        }
    }
    Ok(Percentiles {
        p50: all.value_at_quantile(0.5),
        p99: all.value_at_quantile(0.99),
        p999: all.value_at_quantile(0.999),
    })
}

/// Connects every member's socket to each of their channels, runs the
/// schedule at `rate` for the scenario's seconds, and checks that every
/// message was acked and delivered to every other member.
async fn measure(
    ctx: &Ctx<'_>,
    variant: Variant,
    accounts: &[Account],
    channels: &[Channel],
    rate: u32,
    crypto: Option<Arc<Crypto>>,
) -> Result<Measured> {
    let sizes = ctx.sizes;
    let members = sizes.latency_members;
    let base = ctx.base();
    // One socket per (channel, member).
    let tokens_by_user: HashMap<i64, &str> = accounts
        .iter()
        .map(|a| (a.user_id, a.token.as_str()))
        .collect();
    let mut tokens = Vec::new();
    let mut channel_of = Vec::new();
    for channel in channels {
        for user in &channel.members {
            tokens.push(tokens_by_user[user]);
            channel_of.push(channel.id);
        }
    }
    let conns = world::connect_all(&base, &tokens).await?;
    world::join_all(&conns, |i| channel_of[i]).await?;
    let clients = conns.len();

    // Receivers, then the schedule.
    let seconds = sizes.latency_seconds as f64;
    let t0 = Instant::now() + Duration::from_millis(200);
    let mut sockets = Vec::with_capacity(clients);
    let mut readers = Vec::with_capacity(clients);
    let done = Arc::new(AtomicBool::new(false));
    for (i, conn) in conns.into_iter().enumerate() {
        let channel_index = i / members;
        let member_index = i % members;
        readers.push(tokio::spawn(receive(
            conn.events,
            t0,
            channel_index,
            member_index,
            crypto.clone(),
            Arc::clone(&done),
        )));
        sockets.push(conn.socket);
    }
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let per_channel = f64::from(rate) / channels.len() as f64;
    let period = Duration::from_secs_f64(1.0 / per_channel);
    let mut schedulers = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        let sockets: Vec<Socket> = sockets[c * members..(c + 1) * members].to_vec();
        let offset = period.mul_f64(c as f64 / channels.len() as f64);
        schedulers.push(tokio::spawn(schedule(
            sockets,
            channel.id,
            c,
            channel.members.clone(),
            t0,
            offset,
            period,
            seconds,
            crypto.clone(),
            Arc::clone(&sent),
            Arc::clone(&failed),
        )));
    }
    let meter = ctx.meter();
    // The login burst, halfway.
    let burst = if variant == Variant::LoginBurst {
        let accounts: Vec<Account> = accounts.to_vec();
        let base = base.clone();
        let burst_size = sizes.login_burst;
        Some(tokio::spawn(async move {
            tokio::time::sleep_until((t0 + Duration::from_secs_f64(seconds / 2.0)).into()).await;
            login_burst(&base, &accounts, burst_size, t0).await
        }))
    } else {
        None
    };
    for s in schedulers {
        s.await??;
    }
    done.store(true, Ordering::Relaxed);
    let burst = match burst {
        Some(b) => Some(b.await??),
        None => None,
    };
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let mut undecryptable = 0u64;
    for r in readers {
        let got = r.await?;
        samples.extend(got.samples);
        undecryptable += got.undecryptable;
    }
    let (server, generator) = meter.stop();
    let last_due = t0 + Duration::from_secs_f64(seconds);
    world::close_all(sockets).await;

    let sent = sent.load(Ordering::Relaxed);
    let failed = failed.load(Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} of {sent} sends were refused or timed out");
    }
    if undecryptable > 0 {
        bail!("{undecryptable} deliveries did not decrypt and verify");
    }
    let expected = sent * (members as u64 - 1);
    if samples.len() as u64 != expected {
        bail!("{} deliveries arrived, {expected} expected", samples.len());
    }
    Ok(Measured {
        samples,
        sent,
        clients,
        burst,
        server,
        generator,
        last_due,
    })
}

/// Which accounts a variant uses (encrypted rooms get their own people).
fn variant_slice(variant: Variant) -> super::Slice {
    match variant {
        Variant::Encrypted => super::Slice::Encrypted,
        _ => super::Slice::Latency,
    }
}

/// Every account subscribes to the stand-in push service, and every member
/// asks for a push about every message of their channels (the default
/// would be mentions only).
async fn subscribe_all(
    http: &reqwest::Client,
    base: &str,
    accounts: &[Account],
    channels: &[Channel],
    sink: &PushSink,
) -> Result<()> {
    let by_user: HashMap<i64, &Account> = accounts.iter().map(|a| (a.user_id, a)).collect();
    let mut calls = Vec::new();
    for account in accounts {
        let client = world::client(base, http, account)?;
        let subscription = pushsink::subscription(sink.endpoint(account.user_id));
        calls.push(Box::pin(async move {
            client.subscribe_push(&subscription).await?;
            anyhow::Ok(())
        })
            as futures_util::future::BoxFuture<'_, Result<()>>);
    }
    for channel in channels {
        for user in &channel.members {
            let client = world::client(base, http, by_user[user])?;
            let id = channel.id;
            calls.push(Box::pin(async move {
                client
                    .set_channel_notifications(id, Some(NotifyLevel::All), None)
                    .await?;
                anyhow::Ok(())
            }));
        }
    }
    futures_util::stream::iter(calls)
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .context("subscribing the receivers to push")?;
    Ok(())
}

/// Removes the push scenario's subscriptions, so that later scenarios on
/// the same accounts send no pushes (run whether the scenario succeeded or not).
pub async fn unsubscribe_all(ctx: &Ctx<'_>) -> Result<()> {
    let base = ctx.base();
    let port = ctx.target.push_port;
    let mut calls = Vec::new();
    for account in ctx.accounts_for(super::Slice::Latency) {
        let client = world::client(&base, &ctx.http, account)?;
        let endpoint = pushsink::endpoint(port, account.user_id);
        calls.push(async move { client.unsubscribe_push(&endpoint).await });
    }
    futures_util::stream::iter(calls)
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .context("removing the push subscriptions")?;
    Ok(())
}

/// The push figures: how many arrived, at what rate the server sent them
/// (first to last arrival), and how long after the last message was due
/// the queue was empty.
fn push_figures(report: &mut Report, pushes: &pushsink::Received, last_due: Instant) -> Result<()> {
    if pushes.malformed > 0 {
        bail!(
            "{} pushes were not encrypted and signed as RFC 8291/8292 require",
            pushes.malformed
        );
    }
    let Some((first, last)) = pushes.span else {
        bail!("no push arrived");
    };
    let span = last.saturating_duration_since(first).as_secs_f64();
    let rate = if span > 0.0 {
        pushes.pushes as f64 / span
    } else {
        pushes.pushes as f64
    };
    report.headline("pushes sent", rate, "pushes/s", Better::Higher);
    report.figure("pushes", pushes.pushes as f64, "pushes", Better::Higher);
    report.figure(
        "queue drained",
        last.saturating_duration_since(last_due).as_secs_f64(),
        "s after the last message",
        Better::Lower,
    );
    report.note(format!(
        "{} pushes (encrypted, VAPID-signed) reached the stand-in push service over {span:.1} s; \
         every receiver was subscribed and asked for every message, within the per-person cap \
         of 30 a minute",
        pushes.pushes
    ));
    Ok(())
}

/// A public room of `group` with `channels` channels (flagged encrypted for
/// the peers' encrypted run: they relay envelopes without looking).
async fn plain_room(
    http: &reqwest::Client,
    base: &str,
    group: &[Account],
    channels: usize,
    r: usize,
    variant: Variant,
) -> Result<(i64, Vec<i64>)> {
    let owner = world::client(base, http, &group[0])?;
    let name = format!(
        "{}-{r}",
        match variant {
            Variant::Encrypted => "enc",
            Variant::Push => "push",
            _ => "lat",
        }
    );
    let room = owner.create_room(&NewRoom::public(&name)).await?;
    let mut ids = Vec::new();
    for k in 0..channels {
        ids.push(
            owner
                .create_channel(room.id, &format!("c{k}"), variant == Variant::Encrypted)
                .await?
                .id,
        );
    }
    for member in &group[1..] {
        world::client(base, http, member)?
            .join_room(room.id)
            .await?;
    }
    Ok((room.id, ids))
}

/// Securechat's encrypted room, set up the way its clients do it: every
/// member publishes an identity, the owner adds them with signed membership
/// entries, the owner's first message creates and shares key version 1,
/// every member fetches and verifies their share.
async fn securechat_room(
    http: &reqwest::Client,
    base: &str,
    dir: &Path,
    group: &[Account],
    channels: usize,
    r: usize,
    crypto: &mut Crypto,
) -> Result<Vec<Channel>> {
    let mut devices = Vec::new();
    for account in group {
        let client = world::client(base, http, account)?;
        let path = dir.join(format!("keys-{}.json", account.user_id));
        devices.push(
            SecureClient::open(client, path)
                .await
                .context("opening a key store")?,
        );
    }
    let (owner, others) = devices.split_first_mut().context("empty group")?;
    let room = owner
        .client()
        .create_room(&NewRoom::private(format!("enc-{r}")))
        .await?;
    let mut ids = Vec::new();
    for k in 0..channels {
        ids.push(
            owner
                .client()
                .create_channel(room.id, &format!("c{k}"), true)
                .await?
                .id,
        );
    }
    for other in others.iter() {
        owner
            .change_membership(
                room.id,
                &MembershipChange::Add {
                    user_id: other.user_id(),
                    admin: false,
                },
            )
            .await
            .context("adding a member with a signed entry")?;
    }
    let (socket, events) = owner.client().socket().await?;
    let drain = super::drain(events);
    for &id in &ids {
        owner
            .send(&socket, id, "key set-up")
            .await
            .context("first encrypted message")?;
    }
    socket.close().await;
    drain.abort();
    for other in others.iter_mut() {
        for &id in &ids {
            other
                .fetch_key(id, 1)
                .await
                .context("fetching a channel key")?;
        }
    }
    for device in &devices {
        let identity = Identity::import(&device.identity()?.export())?;
        crypto.bundles.insert(device.user_id(), identity.bundle());
        crypto
            .identities
            .insert(device.user_id(), Arc::new(identity));
    }
    for &id in &ids {
        crypto.keys.insert(id, devices[0].channel_key(id, 1)?);
        crypto.rooms.insert(id, room.id);
    }
    Ok(ids
        .into_iter()
        .map(|id| Channel {
            id,
            members: group.iter().map(|a| a.user_id).collect(),
        })
        .collect())
}

/// For the peers, which keep no keys: identities and channel keys made by
/// the generator itself, the same crypto as Securechat's clients.
fn local_keys(accounts: &[Account], channels: &[Channel]) -> Result<Crypto> {
    let mut crypto = Crypto {
        identities: HashMap::new(),
        bundles: HashMap::new(),
        keys: HashMap::new(),
        rooms: HashMap::new(),
    };
    for account in accounts {
        let identity = Identity::generate(account.user_id)?;
        crypto.bundles.insert(account.user_id, identity.bundle());
        crypto
            .identities
            .insert(account.user_id, Arc::new(identity));
    }
    for channel in channels {
        crypto.keys.insert(channel.id, ChannelKey::generate()?);
    }
    Ok(crypto)
}

/// Sends channel `c`'s messages on schedule: message `i` is due at
/// `t0 + offset + i × period`, sent by member `i mod members`, never waiting for
/// an earlier ack.
#[allow(clippy::too_many_arguments)]
async fn schedule(
    sockets: Vec<Socket>,
    channel_id: i64,
    c: usize,
    members: Vec<i64>,
    t0: Instant,
    offset: Duration,
    period: Duration,
    seconds: f64,
    crypto: Option<Arc<Crypto>>,
    sent: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) -> Result<()> {
    let end = Duration::from_secs_f64(seconds);
    let mut acks = Vec::new();
    let mut i: u64 = 0;
    loop {
        let due = offset + period.mul_f64(i as f64);
        if due >= end {
            break;
        }
        tokio::time::sleep_until((t0 + due).into()).await;
        let m = usize::try_from(i).unwrap_or(0) % members.len();
        let due_us = due.as_micros();
        let text = format!("l {c} {m} {i} {due_us} latency payload");
        let body = match &crypto {
            None => {
                json!({"channel_id": channel_id, "content": text, "client_msg_id": new_client_msg_id()})
            }
            Some(crypto) => {
                let sender = members[m];
                let counter = u32::try_from(i / members.len() as u64).unwrap_or(u32::MAX);
                let binding = MessageBinding {
                    room_id: crypto.rooms.get(&channel_id).copied().unwrap_or(0),
                    kind: MessageKind::Message,
                    target_id: 0,
                    reply_to: 0,
                };
                let envelope = Envelope::encrypt(
                    &crypto.identities[&sender],
                    &crypto.keys[&channel_id],
                    channel_id,
                    1,
                    counter,
                    &binding,
                    text.as_bytes(),
                )?;
                json!({"channel_id": channel_id, "envelope": envelope.to_wire(), "key_version": 1,
                       "client_msg_id": new_client_msg_id()})
            }
        };
        let socket = sockets[m].clone();
        let sent = Arc::clone(&sent);
        let failed = Arc::clone(&failed);
        acks.push(tokio::spawn(async move {
            let ack = socket
                .emit_with_ack("send_message", &body, Duration::from_secs(30))
                .await;
            sent.fetch_add(1, Ordering::Relaxed);
            if !matches!(ack, Ok(ref v) if v.get("success") == Some(&Value::Bool(true))) {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        }));
        i += 1;
    }
    for ack in acks {
        ack.await?;
    }
    Ok(())
}

struct Received {
    /// (due µs after t0, latency µs) per delivery.
    samples: Vec<(u64, u64)>,
    undecryptable: u64,
}

/// Records every delivery of a message sent by another member of this
/// socket's channel.
async fn receive(
    mut events: EventStream,
    t0: Instant,
    channel_index: usize,
    member_index: usize,
    crypto: Option<Arc<Crypto>>,
    done: Arc<AtomicBool>,
) -> Received {
    let mut out = Received {
        samples: Vec::new(),
        undecryptable: 0,
    };
    let mut last = Instant::now();
    loop {
        let event = match tokio::time::timeout(Duration::from_millis(100), events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(_) => {
                let quiet = last.elapsed();
                if quiet > GRACE || (done.load(Ordering::Relaxed) && quiet > SETTLE) {
                    break;
                }
                continue;
            }
        };
        last = Instant::now();
        if event.name != "new_message" {
            continue;
        }
        let now = Instant::now();
        let Ok(data) = event.parse::<Delivered>() else {
            continue;
        };
        let text: String = match &crypto {
            None => match data.content {
                Some(t) => t,
                None => continue,
            },
            Some(crypto) => match open(crypto, &data) {
                Some(t) => t,
                None => {
                    out.undecryptable += 1;
                    continue;
                }
            },
        };
        let Some((c, m, due_us)) = parse(&text) else {
            continue;
        };
        if c != channel_index || m == member_index {
            continue;
        }
        let due = t0 + Duration::from_micros(due_us);
        let latency =
            u64::try_from(now.saturating_duration_since(due).as_micros()).unwrap_or(u64::MAX);
        out.samples.push((due_us, latency.max(1)));
    }
    out
}

/// The part of a `new_message` the receivers read (only that is parsed).
#[derive(serde::Deserialize)]
struct Delivered {
    channel_id: i64,
    sender_id: Option<i64>,
    content: Option<String>,
    envelope: Option<String>,
}

/// Verifies and decrypts a delivered envelope.
fn open(crypto: &Crypto, data: &Delivered) -> Option<String> {
    let channel_id = data.channel_id;
    let sender = data.sender_id?;
    let envelope = Envelope::parse(data.envelope.as_deref()?).ok()?;
    let plain = envelope
        .decrypt(
            crypto.keys.get(&channel_id)?,
            crypto.bundles.get(&sender)?,
            channel_id,
            1,
        )
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// `l <channel> <member> <i> <due µs> …` → (channel, member, due µs).
fn parse(text: &str) -> Option<(usize, usize, u64)> {
    let mut parts = text.split(' ');
    if parts.next()? != "l" {
        return None;
    }
    let c = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let _i: u64 = parts.next()?.parse().ok()?;
    Some((c, m, parts.next()?.parse().ok()?))
}

struct Burst {
    count: usize,
    start_us: u64,
    end_us: u64,
    rate: f64,
    p99_ms: f64,
}

/// `count` logins at once (existing accounts, new sessions).
async fn login_burst(base: &str, accounts: &[Account], count: usize, t0: Instant) -> Result<Burst> {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let account = accounts[i % accounts.len()].clone();
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::new(&base)?;
            let began = Instant::now();
            client.login(&account.username, world::PASSWORD).await?;
            anyhow::Ok(began.elapsed())
        }));
    }
    let mut latency = Histogram::<u64>::new(3)?;
    for t in tasks {
        let took = t.await??;
        latency.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX))?;
    }
    let took = started.elapsed();
    let since =
        |at: Instant| u64::try_from(at.saturating_duration_since(t0).as_micros()).unwrap_or(0);
    Ok(Burst {
        count,
        start_us: since(started),
        end_us: since(started + took),
        rate: count as f64 / took.as_secs_f64(),
        p99_ms: ms(latency.value_at_quantile(0.99)),
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn payloads_parse() {
        assert_eq!(
            parse("l 4 2 17 123456 latency payload"),
            Some((4, 2, 123_456))
        );
        assert_eq!(parse("f 4 2 17 123456"), None);
        assert_eq!(parse("l 4 2"), None);
    }
}
