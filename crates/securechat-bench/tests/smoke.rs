//! The load generator at smoke scale: every scenario on Securechat (SQLite,
//! and PostgreSQL when `TEST_DATABASE_URL` is set) and on both peers when
//! they are installed (`make bench-peers`; `BENCH_PEERS=1` makes them
//! required). Sizes are tiny; what is checked is that each scenario runs
//! and its own checks hold (rows equal acks, no delivery lost or doubled,
//! every envelope verifies), so the benchmark cannot rot.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_scenario_runs_and_checks_out_at_smoke_scale() {
    let root = root();
    let server = std::env::var_os("SECURECHAT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/debug/securechat"));
    assert!(
        server.exists(),
        "the securechat server binary is missing at {}: run `cargo build -p securechat-server`",
        server.display()
    );
    let mut targets = vec!["securechat-sqlite"];
    let postgres = std::env::var("TEST_DATABASE_URL").ok();
    if postgres.is_some() {
        targets.push("securechat-postgres");
    }
    let peers_required = std::env::var("BENCH_PEERS").is_ok_and(|v| v == "1");
    let node_ready = root
        .join("bench/peers/node/node_modules/socket.io")
        .exists();
    let python_ready = root.join("target/bench-peer-python/bin/gunicorn").exists();
    if peers_required {
        assert!(
            node_ready && python_ready,
            "BENCH_PEERS=1 but the peers are not installed: run `make bench-peers`"
        );
    }
    if node_ready {
        targets.push("node");
    }
    if python_ready {
        targets.push("python");
    }
    let out = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_securechat-bench"));
    command
        .current_dir(&root)
        .args(["--scale", "smoke", "--targets", &targets.join(",")])
        .arg("--securechat-bin")
        .arg(&server)
        .arg("--out-dir")
        .arg(out.path())
        .arg("--report")
        .arg(out.path().join("BENCHMARKS.md"));
    if let Some(url) = &postgres {
        command.env("BENCH_DATABASE_URL", url);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "securechat-bench failed:\n{stderr}"
    );

    // The results name every scenario on every target, with figures.
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("results.json")).unwrap()).unwrap();
    let outcomes = results["outcomes"].as_array().unwrap();
    // Search, the index's cost, Web Push and the retention purge run on
    // Securechat only, search in the browser on Securechat with SQLite only.
    let securechat = targets
        .iter()
        .filter(|t| t.starts_with("securechat"))
        .count();
    assert_eq!(
        outcomes.len(),
        8 * targets.len() + 4 * securechat + 1,
        "{stderr}"
    );
    // The browser scenario measures nothing only where there is no Chromium
    // to measure in, and says so.
    let chromium = std::env::var_os("CHROMIUM_PATH")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    for outcome in outcomes {
        assert!(outcome["error"].is_null(), "{outcome}");
        let skipped = outcome["scenario"] == "browser-search"
            && !chromium.exists()
            && outcome["notes"][0]
                .as_str()
                .is_some_and(|n| n.starts_with("skipped: no Chromium"));
        assert!(
            skipped || !outcome["metrics"].as_array().unwrap().is_empty(),
            "{outcome}"
        );
    }
    // Every Securechat target sent pushes to the stand-in push service.
    let pushed: Vec<f64> = outcomes
        .iter()
        .filter(|o| o["scenario"] == "push")
        .filter_map(|o| {
            o["metrics"]
                .as_array()?
                .iter()
                .find(|m| m["name"] == "pushes")?["value"]
                .as_f64()
        })
        .collect();
    assert_eq!(pushed.len(), securechat, "{stderr}");
    assert!(pushed.iter().all(|&n| n > 0.0), "{pushed:?}");
    // Every Securechat target purged its seeded channel and timed the load
    // without and during the purge.
    let purged: Vec<&serde_json::Value> = outcomes
        .iter()
        .filter(|o| o["scenario"] == "purge")
        .collect();
    assert_eq!(purged.len(), securechat, "{stderr}");
    for outcome in purged {
        let names: Vec<&str> = outcome["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["name"].as_str())
            .collect();
        for name in [
            "without a purge",
            "during the purge",
            "throughput dip",
            "purge time",
        ] {
            assert!(names.contains(&name), "{outcome}");
        }
    }
    let report = std::fs::read_to_string(out.path().join("BENCHMARKS.md")).unwrap();
    for heading in [
        "Idle connections",
        "Throughput",
        "Fan-out",
        "Latency",
        "History",
        "Logins",
        "Encrypted",
        "Start-up",
        "Search",
        "Cost of the search index",
        "Search in the browser",
        "Latency with Web Push",
        "Retention purge under load",
    ] {
        assert!(report.contains(heading), "report lacks {heading}");
    }
    let chart = std::fs::read_to_string(out.path().join("benchmarks-latency.svg")).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("p99.9"));
}
