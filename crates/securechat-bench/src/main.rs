//! `securechat-bench`: the load generator.
//!
//! It starts each server under test itself (Securechat on SQLite and on
//! PostgreSQL, the Node `socket.io` peer, the Flask-SocketIO peer), drives
//! them with the same scenarios through the SDK's Socket.IO client, checks
//! what it measured (row counts equal acks, no delivery lost or duplicated)
//! and writes the figures as JSON and, optionally, as the Markdown report.
//!
//! - `target`: starting, restarting and stopping a server under test;
//! - `procstat`: CPU time and memory of a process, from `/proc`;
//! - `world`: accounts, rooms, channels and many sockets;
//! - `scenarios/`: one file per scenario;
//! - `db`: seeding history and counting rows, straight in the database;
//! - `report`: the Markdown report and its latency chart.

mod db;
mod procstat;
mod report;
mod scenarios;
mod target;
mod world;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;

use scenarios::{Outcome, Scale, ScenarioKind};
use target::{TargetKind, Toolchain};

/// The generator shares the machine with the server it measures, so its
/// own CPU is kept low. Its sockets' events are decoded on one runtime
/// thread and dropped on another; glibc's allocator serves that pattern
/// from its slow path (a fifth of the generator's time under the
/// throughput scenario), mimalloc from per-thread free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Drives Securechat and its peers with the same scenarios and reports the figures.
#[derive(Parser, Debug)]
#[command(name = "securechat-bench", version)]
struct Args {
    /// `smoke`: seconds and tiny sizes, checking correctness; `full`: the published figures.
    #[arg(long, value_enum, default_value = "full")]
    scale: Scale,
    /// Servers to drive, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "securechat-sqlite,securechat-postgres,node,python"
    )]
    targets: Vec<TargetKind>,
    /// Scenarios to run, comma-separated (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    scenarios: Option<Vec<ScenarioKind>>,
    /// The securechat server binary.
    #[arg(
        long,
        env = "SECURECHAT_BIN",
        default_value = "target/release/securechat"
    )]
    securechat_bin: PathBuf,
    /// The directory holding the peers (`node/`, `python/`).
    #[arg(long, default_value = "bench/peers")]
    peers_dir: PathBuf,
    /// The Python virtual environment of the Flask-SocketIO peer.
    #[arg(
        long,
        env = "BENCH_PYTHON_VENV",
        default_value = "target/bench-peer-python"
    )]
    python_venv: PathBuf,
    /// A PostgreSQL URL whose user may create databases; each run gets a fresh one.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// Where results and the servers' data go.
    #[arg(long, default_value = "target/bench")]
    out_dir: PathBuf,
    /// Also write the Markdown report here (its chart goes next to it).
    #[arg(long)]
    report: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    // Tens of thousands of sockets: lift the open-file limit for this
    // process and the servers it starts (they inherit it).
    let open_files = raise_open_files();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(args, open_files))
}

async fn run(args: Args, open_files: u64) -> Result<()> {
    // Absolute: the peers run in their own directories.
    let absolute = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let toolchain = Toolchain {
        securechat_bin: absolute(&args.securechat_bin),
        peers_dir: absolute(&args.peers_dir),
        python_venv: absolute(&args.python_venv),
        postgres_url: args.postgres_url.clone(),
    };
    toolchain.check(&args.targets)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let out_dir = absolute(&args.out_dir);
    let scenarios = args
        .scenarios
        .clone()
        .unwrap_or_else(|| ScenarioKind::ALL.to_vec());
    let sizes = args.scale.sizes().fit_open_files(open_files);
    let started = Instant::now();
    let mut outcomes: Vec<Outcome> = Vec::new();
    for &kind in &args.targets {
        eprintln!("== {} ==", kind.label());
        let dir = out_dir.join("run").join(kind.slug());
        let found = scenarios::run_target(&toolchain, kind, &dir, &scenarios, &sizes).await;
        for outcome in &found {
            eprintln!("{}", outcome.summary());
        }
        outcomes.extend(found);
        // The run's databases can be gigabytes: keep only the results.
        let _ = std::fs::remove_dir_all(&dir);
    }
    let elapsed = started.elapsed();
    let results = report::Results::new(args.scale, &args.targets, outcomes, elapsed);
    let json_path = args.out_dir.join("results.json");
    std::fs::write(&json_path, serde_json::to_vec_pretty(&results)?)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    eprintln!("results: {}", json_path.display());
    if let Some(path) = &args.report {
        report::write(&results, path)?;
        eprintln!("report: {}", path.display());
    }
    // A peer that cannot sustain a full-scale scenario is a finding, shown
    // in the report; a Securechat failure, or any failure of the smoke run
    // (which checks correctness, not capacity), is an error.
    let failed: Vec<String> = results
        .outcomes
        .iter()
        .filter(|o| args.scale == Scale::Smoke || o.target.is_securechat())
        .filter_map(|o| {
            o.error
                .as_ref()
                .map(|e| format!("{} on {}: {e}", o.scenario.slug(), o.target.label()))
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} scenario(s) failed:\n{}",
            failed.len(),
            failed.join("\n")
        )
    }
}

/// Raises the open-file limit as far as allowed; returns the soft limit.
fn raise_open_files() -> u64 {
    const WANTED: u64 = 1 << 20;
    let (_, hard) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
    // With CAP_SYS_RESOURCE the hard limit rises too; anyone may raise the
    // soft one to the hard one.
    if rlimit::Resource::NOFILE.set(WANTED, WANTED).is_err() {
        let _ = rlimit::Resource::NOFILE.set(hard, hard);
    }
    let (soft, _) = rlimit::Resource::NOFILE.get().unwrap_or((hard, hard));
    if soft < WANTED {
        eprintln!(
            "note: open files are limited to {soft} per process here (no CAP_SYS_RESOURCE): \
             the idle scenario holds at most {} connections",
            scenarios::max_connections(soft)
        );
    }
    soft
}
