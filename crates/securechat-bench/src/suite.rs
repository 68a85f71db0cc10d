//! The run: each chosen scenario on each target, in turn; the results as
//! JSON and, when asked, the Markdown report.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::Args;
use crate::report;
use crate::scenarios::{self, Outcome, Scale, ScenarioKind};
use crate::target::Toolchain;

/// Runs the chosen scenarios on each target in turn and writes what they
/// measured; an error names every scenario that failed where failure counts.
pub async fn run(args: Args, open_files: u64) -> Result<()> {
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
    let mut results = report::Results::new(args.scale, &args.targets, outcomes, elapsed);
    if let Some(note) = &args.run_note {
        results.machine = format!("{}; {note}", results.machine);
    }
    let json_path = args.out_dir.join("results.json");
    std::fs::write(&json_path, serde_json::to_vec_pretty(&results)?)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    eprintln!("results: {}", json_path.display());
    if let Some(path) = &args.report {
        report::write(&results, path, args.update_report)?;
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
pub fn raise_open_files() -> u64 {
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
