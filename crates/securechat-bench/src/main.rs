//! `securechat-bench`: the load generator.
//!
//! It starts each server under test itself (Securechat on SQLite and on
//! PostgreSQL, the Node `socket.io` peer, the Flask-SocketIO peer), drives
//! them with the same scenarios through the SDK's Socket.IO client, checks
//! what it measured (row counts equal acks, no delivery lost or duplicated)
//! and writes the figures as JSON and, optionally, as the Markdown report.
//!
//! - `suite`: the run — every chosen scenario on every target, then the
//!   results and the report;
//! - `target`: starting, restarting and stopping a server under test;
//! - `procstat`: CPU time and memory of a process, from `/proc`;
//! - `world`: accounts, rooms, channels and many sockets;
//! - `scenarios/`: one file per scenario;
//! - `corpus`: the search scenario's chat text;
//! - `db`: seeding history and counting rows, straight in the database;
//! - `pushsink`: the push scenario's stand-in push service;
//! - `report`: the Markdown report and its latency chart.

mod corpus;
mod db;
mod procstat;
mod pushsink;
mod report;
mod scenarios;
mod suite;
mod target;
mod world;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;

use scenarios::{Scale, ScenarioKind};
use target::TargetKind;

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
    /// Keep the other sections of an existing report: replace (or add) only
    /// the sections of the scenarios run now, each marked with its own run.
    #[arg(long, requires = "report")]
    update_report: bool,
    /// Said with the run in the report (e.g. what else loaded the machine).
    #[arg(long)]
    run_note: Option<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    // Tens of thousands of sockets: lift the open-file limit for this
    // process and the servers it starts (they inherit it).
    let open_files = suite::raise_open_files();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(suite::run(args, open_files))
}
