//! Start-up: what a deployment runs (binary or installed packages), the
//! time from spawning the server to its first authenticated Socket.IO
//! connection, and memory when idle.

use std::time::{Duration, Instant};

use anyhow::Result;
use securechat_client::SocketOptions;

use super::{Better, Ctx, Report};

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let mut report = Report::default();
    let (size, what) = ctx.target.install_size()?;
    report.headline(
        "install size",
        size as f64 / 1_048_576.0,
        "MiB",
        Better::Lower,
    );
    report.note(format!("install size counts {what}"));
    let token = ctx.accounts[0].token.clone();
    let runs = ctx.sizes.startup_runs;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        ctx.target.stop().await?;
        let started = Instant::now();
        ctx.target.start().await?;
        let options = SocketOptions::new(&ctx.base())?.token(&token);
        let (socket, _events) = loop {
            match securechat_client::Socket::connect(options.clone()).await {
                Ok(pair) => break pair,
                Err(e) if started.elapsed() > Duration::from_secs(30) => return Err(e.into()),
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        };
        times.push(started.elapsed());
        socket.close().await;
    }
    times.sort();
    let median = times[times.len() / 2];
    report.headline(
        "start to first connection",
        median.as_secs_f64() * 1000.0,
        "ms",
        Better::Lower,
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Some(sample) = ctx
        .target
        .pid()
        .and_then(|p| crate::procstat::sample(Some(p)))
    {
        report.headline(
            "idle RSS",
            sample.rss_kib as f64 / 1024.0,
            "MiB",
            Better::Lower,
        );
    }
    report.note(format!(
        "median of {runs} start-ups, each spawn → first authenticated socket"
    ));
    Ok(report)
}
