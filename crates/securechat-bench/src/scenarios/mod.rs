//! The scenarios, their sizes at each scale, and what each reports.
//!
//! A target's accounts are registered once; every scenario then runs on a
//! freshly restarted server process (same data), so memory and CPU figures
//! belong to that scenario alone.

mod browser_search;
mod fanout;
mod history;
mod idle;
mod index_cost;
mod latency;
mod purge;
mod search;
mod startup;
mod throughput;

use std::path::Path;
use std::time::Duration;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::procstat::{Meter, Usage};
use crate::target::{Target, TargetKind, Toolchain};
use crate::world::{self, Account};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    Smoke,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioKind {
    Startup,
    Idle,
    Throughput,
    Fanout,
    Latency,
    Push,
    Logins,
    Encrypted,
    History,
    Search,
    IndexCost,
    BrowserSearch,
    Purge,
}

impl ScenarioKind {
    /// In the order they run.
    pub const ALL: [Self; 13] = [
        Self::Startup,
        Self::Idle,
        Self::Throughput,
        Self::IndexCost,
        Self::Purge,
        Self::Fanout,
        Self::Latency,
        Self::Push,
        Self::Logins,
        Self::Encrypted,
        Self::History,
        Self::Search,
        Self::BrowserSearch,
    ];

    /// Whether the scenario measures `target` (the peers have no search;
    /// the browser's index does not depend on the server's database).
    pub fn applies_to(self, target: TargetKind) -> bool {
        match self {
            Self::Search | Self::IndexCost | Self::Push | Self::Purge => target.is_securechat(),
            Self::BrowserSearch => target == TargetKind::SecurechatSqlite,
            _ => true,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Self::Startup => "startup",
            Self::Idle => "idle",
            Self::Throughput => "throughput",
            Self::Fanout => "fanout",
            Self::Latency => "latency",
            Self::Push => "push",
            Self::Logins => "logins",
            Self::Encrypted => "encrypted",
            Self::History => "history",
            Self::Search => "search",
            Self::IndexCost => "index-cost",
            Self::BrowserSearch => "browser-search",
            Self::Purge => "purge",
        }
    }
}

/// How big each scenario is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sizes {
    pub idle_connections: usize,
    pub idle_accounts: usize,
    pub throughput_senders: usize,
    pub throughput_channels: usize,
    pub throughput_window: usize,
    pub throughput_seconds: u64,
    /// Fan-out receivers are spread over this many accounts.
    pub fanout_accounts: usize,
    pub fanout_receivers: usize,
    pub fanout_messages: usize,
    pub fanout_big_senders: usize,
    pub fanout_big_receivers: usize,
    pub fanout_big_messages: usize,
    /// Latency: rooms × channels per room × members per room = clients.
    pub latency_rooms: usize,
    pub latency_channels_per_room: usize,
    pub latency_members: usize,
    pub latency_rate: u32,
    pub latency_seconds: u64,
    pub login_burst: usize,
    pub encrypted_rooms: usize,
    pub encrypted_rate: u32,
    pub history_channel_rows: i64,
    pub history_total_rows: i64,
    pub history_pages: usize,
    pub history_write_rate: u32,
    /// Messages seeded in the searched channels.
    pub search_messages: u64,
    /// Searches timed per query (at most), at least `search_min_queries`,
    /// and beyond that only while `search_seconds_per_query` lasts.
    pub search_queries: usize,
    pub search_min_queries: usize,
    pub search_seconds_per_query: u64,
    /// Encrypted messages the browser's local index backfills.
    pub browser_search_messages: u64,
    /// Searches timed per query in the browser (half as many of the common word).
    pub browser_search_queries: usize,
    /// Longest the browser scenario may run (it seeds through the SDK, one
    /// message at a time, then waits for the browser).
    pub browser_search_timeout_s: u64,
    /// Old messages seeded in the channel the retention purge empties.
    pub purge_messages: u64,
    /// Longest the purge scenario may run (its purge is paced to leave the
    /// database to the message path, so a million rows take minutes).
    pub purge_timeout_s: u64,
    /// Longest any one scenario may run before it is called failed.
    pub timeout_s: u64,
    /// Start-ups timed (the median is reported).
    pub startup_runs: usize,
}

/// Connections one process can hold under an open-file limit of `limit`
/// (the rest is room for the database, logs and listeners).
pub fn max_connections(limit: u64) -> usize {
    usize::try_from(limit.saturating_sub(1_000)).unwrap_or(usize::MAX)
}

impl Sizes {
    /// Caps the idle scenario at what both processes can open; the report
    /// says so in the scenario's note.
    pub fn fit_open_files(mut self, limit: u64) -> Self {
        self.idle_connections = self.idle_connections.min(max_connections(limit));
        self
    }
}

impl Scale {
    pub fn sizes(self) -> Sizes {
        match self {
            Self::Smoke => Sizes {
                idle_connections: 60,
                idle_accounts: 6,
                throughput_senders: 6,
                throughput_channels: 3,
                throughput_window: 4,
                throughput_seconds: 2,
                fanout_accounts: 10,
                fanout_receivers: 20,
                fanout_messages: 50,
                fanout_big_senders: 2,
                fanout_big_receivers: 30,
                fanout_big_messages: 20,
                latency_rooms: 2,
                latency_channels_per_room: 2,
                latency_members: 4,
                latency_rate: 100,
                latency_seconds: 3,
                login_burst: 6,
                encrypted_rooms: 1,
                encrypted_rate: 40,
                history_channel_rows: 2_000,
                history_total_rows: 5_000,
                history_pages: 50,
                history_write_rate: 20,
                search_messages: 3_000,
                search_queries: 20,
                search_min_queries: 5,
                search_seconds_per_query: 2,
                browser_search_messages: 400,
                browser_search_queries: 5,
                browser_search_timeout_s: 300,
                purge_messages: 5_000,
                purge_timeout_s: 300,
                timeout_s: 300,
                startup_runs: 2,
            },
            Self::Full => Sizes {
                idle_connections: 50_000,
                idle_accounts: 100,
                throughput_senders: 200,
                throughput_channels: 50,
                throughput_window: 8,
                throughput_seconds: 15,
                fanout_accounts: 100,
                fanout_receivers: 1_000,
                fanout_messages: 300,
                fanout_big_senders: 10,
                fanout_big_receivers: 10_000,
                fanout_big_messages: 10,
                latency_rooms: 100,
                latency_channels_per_room: 10,
                latency_members: 10,
                latency_rate: 2_000,
                latency_seconds: 20,
                login_burst: 200,
                encrypted_rooms: 10,
                encrypted_rate: 200,
                history_channel_rows: 1_000_000,
                history_total_rows: 5_000_000,
                history_pages: 2_000,
                history_write_rate: 200,
                search_messages: 1_000_000,
                search_queries: 1_000,
                search_min_queries: 50,
                search_seconds_per_query: 30,
                browser_search_messages: 20_000,
                browser_search_queries: 100,
                browser_search_timeout_s: 1_500,
                purge_messages: 1_000_000,
                purge_timeout_s: 1_800,
                timeout_s: 480,
                startup_runs: 5,
            },
        }
    }
}

/// Whether more of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One figure of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub better: Better,
    /// One of the scenario's headline figures (ratios are shown for these).
    pub headline: bool,
}

/// A scenario's result on one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub scenario: ScenarioKind,
    pub target: TargetKind,
    pub metrics: Vec<Metric>,
    pub server: Usage,
    pub generator: Usage,
    /// What the scenario checked and found true, or what went wrong.
    pub notes: Vec<String>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn summary(&self) -> String {
        let figures: Vec<String> = self
            .metrics
            .iter()
            .map(|m| format!("{} {:.2} {}", m.name, m.value, m.unit))
            .collect();
        match &self.error {
            Some(e) => format!("{:>10}: FAILED: {e}", self.scenario.slug()),
            None => format!(
                "{:>10}: {} | server {:.2} cores {:.0} MiB | generator {:.2} cores {:.0} MiB",
                self.scenario.slug(),
                figures.join(", "),
                self.server.cores,
                self.server.rss_mib,
                self.generator.cores,
                self.generator.rss_mib
            ),
        }
    }

    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }
}

/// What a scenario body returns: figures and checks.
#[derive(Default)]
pub struct Report {
    pub metrics: Vec<Metric>,
    pub notes: Vec<String>,
    /// (server, generator) usage measured by the scenario itself, when it
    /// restarts the server or has a set-up phase not worth counting.
    pub usage: Option<(Usage, Usage)>,
}

impl Report {
    pub fn headline(&mut self, name: &str, value: f64, unit: &str, better: Better) {
        self.push(name, value, unit, better, true);
    }

    pub fn figure(&mut self, name: &str, value: f64, unit: &str, better: Better) {
        self.push(name, value, unit, better, false);
    }

    fn push(&mut self, name: &str, value: f64, unit: &str, better: Better, headline: bool) {
        self.metrics.push(Metric {
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
            better,
            headline,
        });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

/// Each scenario's own people, so one scenario's rooms never add presence
/// traffic to another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    Idle,
    Throughput,
    Fanout,
    Latency,
    Encrypted,
    History,
    Search,
    BrowserSearch,
}

impl Sizes {
    fn slice_len(&self, slice: Slice) -> usize {
        match slice {
            Slice::Idle => self.idle_accounts,
            Slice::Throughput => self.throughput_senders,
            Slice::Fanout => self.fanout_accounts,
            Slice::Latency => self.latency_rooms * self.latency_members,
            Slice::Encrypted => self.encrypted_rooms * self.latency_members,
            Slice::History => 1,
            Slice::Search => SEARCH_SENDERS,
            Slice::BrowserSearch => 1 + BROWSER_SEARCH_SENDERS,
        }
    }

    const ORDER: [Slice; 8] = [
        Slice::Idle,
        Slice::Throughput,
        Slice::Fanout,
        Slice::Latency,
        Slice::Encrypted,
        Slice::History,
        Slice::Search,
        Slice::BrowserSearch,
    ];

    /// Accounts registered per target: every slice's.
    pub fn accounts(&self) -> usize {
        Self::ORDER.iter().map(|&s| self.slice_len(s)).sum()
    }

    fn slice_range(&self, slice: Slice) -> std::ops::Range<usize> {
        let mut start = 0;
        for s in Self::ORDER {
            let len = self.slice_len(s);
            if s == slice {
                return start..start + len;
            }
            start += len;
        }
        0..0
    }
}

/// Senders of the search scenario's messages (the first one searches).
const SEARCH_SENDERS: usize = 4;
/// Senders of the browser search scenario's messages (besides its reader).
const BROWSER_SEARCH_SENDERS: usize = 3;

/// Everything a scenario needs.
pub struct Ctx<'a> {
    pub target: &'a mut Target,
    pub accounts: &'a [Account],
    pub sizes: &'a Sizes,
    pub http: reqwest::Client,
}

impl Ctx<'_> {
    /// The accounts of one slice.
    pub fn accounts_for(&self, slice: Slice) -> &[Account] {
        let range = self.sizes.slice_range(slice);
        &self.accounts[range.start.min(self.accounts.len())..range.end.min(self.accounts.len())]
    }

    pub fn base(&self) -> String {
        self.target.base_url()
    }

    pub fn meter(&self) -> Meter {
        Meter::start(self.target.pid())
    }
}

/// Runs `scenarios` on a fresh `kind` server in `dir`.
pub async fn run_target(
    toolchain: &Toolchain,
    kind: TargetKind,
    dir: &Path,
    scenarios: &[ScenarioKind],
    sizes: &Sizes,
) -> Vec<Outcome> {
    let scenarios: Vec<ScenarioKind> = scenarios
        .iter()
        .copied()
        .filter(|s| s.applies_to(kind))
        .collect();
    let failed_all = |e: anyhow::Error| {
        scenarios
            .iter()
            .map(|&scenario| Outcome {
                scenario,
                target: kind,
                metrics: Vec::new(),
                server: Usage::default(),
                generator: Usage::default(),
                notes: Vec::new(),
                error: Some(format!("set-up failed: {e:#}")),
            })
            .collect()
    };
    let mut target = match Target::create(toolchain, kind, dir).await {
        Ok(t) => t,
        Err(e) => return failed_all(e),
    };
    let accounts = match world::accounts(&target.base_url(), sizes.accounts()).await {
        Ok(a) => a,
        Err(e) => {
            target.destroy().await;
            return failed_all(e);
        }
    };
    let mut outcomes = Vec::new();
    for &scenario in &scenarios {
        eprintln!("-- {} on {}", scenario.slug(), kind.label());
        let started = target.restart().await;
        let mut ctx = Ctx {
            target: &mut target,
            accounts: &accounts,
            sizes,
            http: reqwest::Client::new(),
        };
        let meter = ctx.meter();
        let result = match started {
            Err(e) => Err(e),
            Ok(_) => {
                let limit = Duration::from_secs(match scenario {
                    ScenarioKind::BrowserSearch => sizes.browser_search_timeout_s,
                    ScenarioKind::Purge => sizes.purge_timeout_s,
                    _ => sizes.timeout_s,
                });
                match tokio::time::timeout(limit, run_one(scenario, &mut ctx)).await {
                    Ok(r) => r,
                    Err(_) => Err(anyhow::anyhow!("did not finish within {limit:?}")),
                }
            }
        };
        let (server, generator) = meter.stop();
        let outcome = match result {
            Ok(report) => Outcome {
                scenario,
                target: kind,
                metrics: report.metrics,
                server: report.usage.map_or(server, |u| u.0),
                generator: report.usage.map_or(generator, |u| u.1),
                notes: report.notes,
                error: None,
            },
            Err(e) => Outcome {
                scenario,
                target: kind,
                metrics: Vec::new(),
                server,
                generator,
                notes: Vec::new(),
                error: Some(format!("{e:#}")),
            },
        };
        outcomes.push(outcome);
    }
    target.destroy().await;
    outcomes
}

async fn run_one(scenario: ScenarioKind, ctx: &mut Ctx<'_>) -> anyhow::Result<Report> {
    match scenario {
        ScenarioKind::Startup => startup::run(ctx).await,
        ScenarioKind::Idle => idle::run(ctx).await,
        ScenarioKind::Throughput => throughput::run(ctx).await,
        ScenarioKind::Fanout => fanout::run(ctx).await,
        ScenarioKind::Latency => latency::run(ctx, latency::Variant::Plain).await,
        ScenarioKind::Push => {
            let run = latency::run(ctx, latency::Variant::Push).await;
            let cleaned = latency::unsubscribe_all(ctx).await;
            run.and_then(|report| cleaned.map(|()| report))
        }
        ScenarioKind::Logins => latency::run(ctx, latency::Variant::LoginBurst).await,
        ScenarioKind::Encrypted => latency::run(ctx, latency::Variant::Encrypted).await,
        ScenarioKind::History => history::run(ctx).await,
        ScenarioKind::Search => search::run(ctx).await,
        ScenarioKind::IndexCost => index_cost::run(ctx).await,
        ScenarioKind::BrowserSearch => browser_search::run(ctx).await,
        ScenarioKind::Purge => purge::run(ctx).await,
    }
}

/// Reads and discards a connection's events until it closes, counting
/// them, so a busy server never finds a full client buffer.
pub fn drain(mut events: securechat_client::EventStream) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut n = 0;
        while events.recv().await.is_some() {
            n += 1;
        }
        n
    })
}

/// Microseconds as milliseconds.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}
