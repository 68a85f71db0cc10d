//! Idle: many authenticated sockets joined to a channel and held. Reports
//! server memory per connection and how fast connections ramp up.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{Better, Ctx, Report, Slice, drain};
use crate::procstat::sample;
use crate::world;

fn open_files() -> u64 {
    rlimit::Resource::NOFILE.get().map_or(0, |(soft, _)| soft)
}

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let mut report = Report::default();
    let n = ctx.sizes.idle_connections;
    let accounts = ctx.accounts_for(Slice::Idle);
    let (_, channels) = world::room(&ctx.base(), accounts, "idle", 1).await?;
    let channel = channels[0];
    let pid = ctx.target.pid();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server_before = pid.and_then(|p| sample(Some(p)));
    let me_before = sample(None);

    let tokens: Vec<&str> = (0..n)
        .map(|i| accounts[i % accounts.len()].token.as_str())
        .collect();
    let started = Instant::now();
    let conns = world::connect_all(&ctx.base(), &tokens).await?;
    world::join_all(&conns, |_| channel).await?;
    let ramp = started.elapsed();
    let mut sockets = Vec::with_capacity(conns.len());
    let mut drains = Vec::with_capacity(conns.len());
    for conn in conns {
        drains.push(drain(conn.events));
        sockets.push(conn.socket);
    }
    // Held: let buffers settle, then check every connection is still up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let alive = sockets.iter().filter(|s| s.is_connected()).count();
    if alive != n {
        bail!("{} of {n} connections dropped while idle", n - alive);
    }
    let server_after = pid.and_then(|p| sample(Some(p)));
    let me_after = sample(None);
    report.headline("connections", n as f64, "", Better::Higher);
    report.headline(
        "ramp",
        n as f64 / ramp.as_secs_f64(),
        "conn/s",
        Better::Higher,
    );
    if let (Some(a), Some(b)) = (server_before, server_after) {
        let per = (b.rss_kib.saturating_sub(a.rss_kib)) as f64 / n as f64;
        report.headline("server memory per connection", per, "KiB", Better::Lower);
        report.figure(
            "server RSS held",
            b.rss_kib as f64 / 1024.0,
            "MiB",
            Better::Lower,
        );
    }
    if let (Some(a), Some(b)) = (me_before, me_after) {
        let per = (b.rss_kib.saturating_sub(a.rss_kib)) as f64 / n as f64;
        report.figure("generator memory per connection", per, "KiB", Better::Lower);
    }
    report.note(format!(
        "{n} sockets of {} accounts, each joined to one channel; all {alive} still connected after 3 s \
         (at most {} here: the machine limits open files per process to {})",
        accounts.len(),
        super::max_connections(open_files()),
        open_files()
    ));
    world::close_all(sockets).await;
    for d in drains {
        d.abort();
    }
    Ok(report)
}
