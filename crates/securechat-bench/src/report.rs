//! The results file and the Markdown report with its latency chart.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::scenarios::{Better, Outcome, Scale, ScenarioKind};
use crate::target::TargetKind;

/// Everything one run measured, and where.
#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    pub scale: Scale,
    pub targets: Vec<TargetKind>,
    pub outcomes: Vec<Outcome>,
    pub seconds: f64,
    pub machine: String,
    pub command: String,
    pub date: String,
}

impl Results {
    pub fn new(
        scale: Scale,
        targets: &[TargetKind],
        outcomes: Vec<Outcome>,
        took: Duration,
    ) -> Self {
        Self {
            scale,
            targets: targets.to_vec(),
            outcomes,
            seconds: took.as_secs_f64(),
            machine: machine(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            date: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }

    fn outcome(&self, scenario: ScenarioKind, target: TargetKind) -> Option<&Outcome> {
        self.outcomes
            .iter()
            .find(|o| o.scenario == scenario && o.target == target)
    }
}

/// CPU model, cores, memory and kernel, from `/proc`.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cores} cores, {:.0} GiB RAM, Linux {}",
        mem_kib as f64 / 1_048_576.0,
        kernel.trim()
    )
}

/// Writes the report to `path` and the chart next to it. With `update`,
/// an existing report keeps its other sections: only the scenarios of this
/// run are replaced (or added), each saying when and how it was run, and
/// the chart is redrawn only if the latency scenario ran.
pub fn write(results: &Results, path: &Path, update: bool) -> Result<()> {
    let chart_name = "benchmarks-latency.svg";
    let previous = if update {
        std::fs::read_to_string(path).ok()
    } else {
        None
    };
    let text = match &previous {
        Some(previous) => merge(previous, results),
        None => markdown(results, chart_name),
    };
    let ran_latency = results
        .outcomes
        .iter()
        .any(|o| o.scenario == ScenarioKind::Latency);
    if previous.is_none() || ran_latency {
        let chart_path = path.with_file_name(chart_name);
        std::fs::write(&chart_path, chart(results))
            .with_context(|| format!("cannot write {}", chart_path.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `previous` with the sections of the scenarios in `results` replaced or
/// added (in the scenarios' order), the others kept as they were.
fn merge(previous: &str, results: &Results) -> String {
    let (preamble, sections) = split_sections(previous);
    let mut out = preamble.to_owned();
    let mut used = vec![false; sections.len()];
    for scenario in ScenarioKind::ALL {
        let heading = format!("## {}", title(scenario));
        let old = sections
            .iter()
            .position(|s| s.lines().next() == Some(&heading));
        if let Some(i) = old {
            used[i] = true;
        }
        if let Some(fresh) = section(results, scenario) {
            out.push_str(&fresh);
            let _ = writeln!(
                out,
                "_This section alone was re-run on {}: `{}`, {:?} scale, on {} (server and \
                 generator share it)._\n",
                results.date, results.command, results.scale, results.machine
            );
        } else if let Some(i) = old {
            out.push_str(sections[i]);
        }
    }
    for (section, used) in sections.iter().zip(used) {
        if !used {
            out.push_str(section);
        }
    }
    out
}

/// The text before the first `## ` heading, and each `## ` section.
fn split_sections(text: &str) -> (&str, Vec<&str>) {
    let mut starts: Vec<usize> = text.match_indices("\n## ").map(|(i, _)| i + 1).collect();
    if text.starts_with("## ") {
        starts.insert(0, 0);
    }
    let preamble = &text[..starts.first().copied().unwrap_or(text.len())];
    let sections = starts
        .iter()
        .enumerate()
        .map(|(k, &start)| &text[start..starts.get(k + 1).copied().unwrap_or(text.len())])
        .collect();
    (preamble, sections)
}

const SECURECHAT: TargetKind = TargetKind::SecurechatSqlite;
const PEERS: [TargetKind; 2] = [TargetKind::Node, TargetKind::Python];

fn markdown(results: &Results, chart: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Securechat and two reference servers driven by the same load generator \
         (`securechat-bench`, `crates/securechat-bench`), on the same machine, in one run. \
         Every figure below comes from that run; regenerate it with `make bench`.\n"
    );
    let _ = writeln!(out, "- **Date:** {}", results.date);
    let _ = writeln!(
        out,
        "- **Machine:** {} (server and generator share it)",
        results.machine
    );
    let _ = writeln!(out, "- **Command:** `{}`", results.command);
    let _ = writeln!(
        out,
        "- **Scale:** {:?}, {:.0} s in all",
        results.scale, results.seconds
    );
    let _ = writeln!(out, "- **Servers:**");
    for t in &results.targets {
        let _ = writeln!(out, "  - {}", t.label());
    }
    let _ = writeln!(
        out,
        "\nRatios compare Securechat (SQLite, the default deployment) with each peer on the \
         headline figures: above 1 means Securechat is better (more per second, or less time \
         and memory). Each scenario runs on a freshly started server process; \"server\" and \
         \"generator\" give the CPU (average cores busy) and memory of the server (with its \
         worker processes) and of the load generator during the scenario's measured phase (set-up excluded where the scenario has one).\n"
    );
    let _ = writeln!(out, "![Latency percentiles]({chart})\n");
    for scenario in ScenarioKind::ALL {
        if let Some(section) = section(results, scenario) {
            out.push_str(&section);
        }
    }
    out
}

/// One scenario's section, if it ran on any target.
fn section(results: &Results, scenario: ScenarioKind) -> Option<String> {
    let present: Vec<&Outcome> = results
        .targets
        .iter()
        .filter_map(|&t| results.outcome(scenario, t))
        .collect();
    if present.is_empty() {
        return None;
    }
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", title(scenario));
    let _ = writeln!(out, "{}\n", describe(scenario));
    let ran: Vec<TargetKind> = present.iter().map(|o| o.target).collect();
    scenario_table(&mut out, results, scenario, &ran);
    for o in &present {
        for note in &o.notes {
            let _ = writeln!(out, "- {}: {note}", o.target.label());
        }
        if let Some(e) = &o.error {
            let _ = writeln!(out, "- {}: **failed**: {e}", o.target.label());
        }
    }
    let _ = writeln!(out);
    Some(out)
}

/// The figures of `scenario` on `targets` (those it ran on).
fn scenario_table(
    out: &mut String,
    results: &Results,
    scenario: ScenarioKind,
    targets: &[TargetKind],
) {
    let mut names: Vec<(String, String, Better, bool)> = Vec::new();
    for &t in targets {
        if let Some(o) = results.outcome(scenario, t) {
            for m in &o.metrics {
                if !names.iter().any(|(n, ..)| *n == m.name) {
                    names.push((m.name.clone(), m.unit.clone(), m.better, m.headline));
                }
            }
        }
    }
    let peers: Vec<TargetKind> = PEERS
        .iter()
        .copied()
        .filter(|p| targets.contains(p))
        .collect();
    let with_ratio = targets.contains(&SECURECHAT);
    let _ = write!(out, "| figure |");
    for t in targets {
        let _ = write!(out, " {} |", short(*t));
    }
    if with_ratio {
        for p in &peers {
            let _ = write!(out, " vs {} |", short(*p));
        }
    }
    let _ = writeln!(out);
    let _ = write!(out, "|---|");
    for _ in targets {
        let _ = write!(out, "---:|");
    }
    if with_ratio {
        for _ in &peers {
            let _ = write!(out, "---:|");
        }
    }
    let _ = writeln!(out);
    let value =
        |t: TargetKind, name: &str| results.outcome(scenario, t).and_then(|o| o.metric(name));
    for (name, unit, better, headline) in &names {
        let label = if unit.is_empty() {
            name.clone()
        } else {
            format!("{name} ({unit})")
        };
        let label = if *headline {
            format!("**{label}**")
        } else {
            label
        };
        let _ = write!(out, "| {label} |");
        for &t in targets {
            let cell = match results.outcome(scenario, t) {
                Some(o) if o.error.is_some() => "failed".to_owned(),
                _ => value(t, name).map_or("–".to_owned(), fmt),
            };
            let _ = write!(out, " {cell} |");
        }
        if with_ratio {
            for &p in &peers {
                let cell = match (value(SECURECHAT, name), value(p, name)) {
                    (Some(ours), Some(theirs)) if *headline => ratio(ours, theirs, *better),
                    _ => String::new(),
                };
                let _ = write!(out, " {cell} |");
            }
        }
        let _ = writeln!(out);
    }
    for (label, pick) in [("server", true), ("generator", false)] {
        let _ = write!(out, "| {label} CPU / memory |");
        for &t in targets {
            let cell = results.outcome(scenario, t).map_or("–".to_owned(), |o| {
                let u = if pick { o.server } else { o.generator };
                if u.rss_mib == 0.0 {
                    // The scenario restarts the server itself (start-up).
                    "–".to_owned()
                } else {
                    format!("{:.2} cores / {:.0} MiB", u.cores, u.rss_mib)
                }
            });
            let _ = write!(out, " {cell} |");
        }
        if with_ratio {
            for _ in &peers {
                let _ = write!(out, " |");
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
}

/// "3.2×" where Securechat is better by that factor, "0.5×" where worse.
fn ratio(ours: f64, theirs: f64, better: Better) -> String {
    let r = match better {
        Better::Higher => ours / theirs,
        Better::Lower => theirs / ours,
    };
    if r.is_finite() {
        format!("{r:.1}×")
    } else {
        "–".into()
    }
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn short(t: TargetKind) -> &'static str {
    match t {
        TargetKind::SecurechatSqlite => "Securechat SQLite",
        TargetKind::SecurechatPostgres => "Securechat PostgreSQL",
        TargetKind::Node => "Node",
        TargetKind::Python => "Flask-SocketIO",
    }
}

fn title(s: ScenarioKind) -> &'static str {
    match s {
        ScenarioKind::Startup => "8. Start-up",
        ScenarioKind::Idle => "1. Idle connections",
        ScenarioKind::Throughput => "2. Throughput",
        ScenarioKind::Fanout => "3. Fan-out",
        ScenarioKind::Latency => "4. Latency",
        ScenarioKind::Push => "4b. Latency with Web Push",
        ScenarioKind::Logins => "6. Logins during load",
        ScenarioKind::Encrypted => "7. Encrypted channels",
        ScenarioKind::History => "5. History",
        ScenarioKind::Search => "9. Search",
        ScenarioKind::IndexCost => "10. Cost of the search index",
        ScenarioKind::BrowserSearch => "11. Search in the browser",
        ScenarioKind::Purge => "12. Retention purge under load",
    }
}

fn describe(s: ScenarioKind) -> &'static str {
    match s {
        ScenarioKind::Startup => {
            "What a deployment runs, the time from spawning the server to its first \
             authenticated Socket.IO connection (median of 5), and its memory when idle."
        }
        ScenarioKind::Idle => {
            "Authenticated sockets joined to one channel and held; memory per connection is \
             the growth of the server's RSS divided by the connections. Source addresses are \
             spread over 127.0.0.x to pass the ephemeral-port limit."
        }
        ScenarioKind::Throughput => {
            "Senders over many channels, each with a few messages in flight; a message counts \
             once its ack (sent after the commit) arrives. Afterwards the stored row count must \
             equal the acks."
        }
        ScenarioKind::Fanout => {
            "Senders to one channel of many receivers; each receiver checks every (sender, \
             sequence number) arrived exactly once. Deliveries per second run from the first \
             send to the last delivery."
        }
        ScenarioKind::Latency => {
            "Rooms of 10 people, 10 channels each, every member with a socket per channel; \
             senders fire on a fixed schedule, and latency runs from when a message was due to \
             its delivery to every other member (HDR histogram, corrected for coordinated \
             omission). Every delivery is checked to arrive."
        }
        ScenarioKind::Push => {
            "The latency scenario's rooms and load run twice on one server process: first with \
             nobody subscribed to Web Push, then with every receiver subscribed and asking for \
             every message of their channels, so each message is also decided, queued and sent \
             (RFC 8291 encrypted, RFC 8292 signed) to a stand-in push service in the generator, \
             within the server's per-person cap of 30 pushes a minute. Goal (issue 26): message \
             p99 with push within 10% of the figure without. Pushes per second run from the \
             first push received to the last. The peers have no Web Push."
        }
        ScenarioKind::Logins => {
            "The latency scenario with a burst of simultaneous logins (Argon2id) halfway \
             through: message p99 before the burst and while it lasts."
        }
        ScenarioKind::Encrypted => {
            "The latency scenario in end-to-end encrypted channels, smaller: each send is \
             sealed and signed and each delivery verified and opened by the generator with the \
             crypto crate. Securechat also checks each envelope's signature before storing it; \
             its keys are set up through the SDK (identities, signed membership log, shares). \
             The peers relay the envelopes unchecked."
        }
        ScenarioKind::History => {
            "Pages of 50 at random depths of a channel seeded straight into the database, \
             while a writer keeps committing to another channel; latency as the HTTP client \
             sees it."
        }
        ScenarioKind::Search => {
            "`GET /api/search` over a million messages of chat text in the searcher's channels \
             (English words drawn with a Zipf-like frequency, one message in eight in Chinese, \
             a rare word planted in 7), seeded straight into the database with the search index \
             kept by the schema as on any insert. One search at a time, latency as the HTTP \
             client sees it on loopback. Goal (issue 25): p99 ≤ 30 ms on SQLite for every query. \
             The peers have no search."
        }
        ScenarioKind::IndexCost => {
            "The throughput scenario's load with the search index kept on every insert and with \
             it switched off (SQLite: the FTS5 insert trigger dropped; PostgreSQL: the pg_trgm \
             index dropped), on one server process in rounds with, without, without, with. \
             Goal (issue 25): at most 10% lower throughput with the index. The peers have no \
             search index."
        }
        ScenarioKind::BrowserSearch => {
            "The web client's local index of encrypted channels (IndexedDB, sealed records \
             and blinded trigram postings, `web/src/search/`) in headless Chromium. One \
             encrypted channel's history of chat text (the search scenario's corpus: English, \
             one message in eight in Chinese, a rare word planted in 7) written by three \
             senders through the SDK, as clients write it; the reader's browser then backfills \
             it from the search panel's Resume to \"indexed\", and queries are typed into the \
             search box one at a time, each timed by the local index itself. Goals (issue 25): \
             the backfill of 20 000 messages in ≤ 60 s, every query's p99 ≤ 50 ms. Runs on \
             Securechat with SQLite only (the browser's index does not depend on the \
             server's database); the peers have no encrypted search. This section alone: \
             `make build browser-deps`, then `target/release/securechat-bench --targets \
             securechat-sqlite --scenarios browser-search --report docs/BENCHMARKS.md \
             --update-report`."
        }
        ScenarioKind::Purge => {
            "A channel seeded straight into the database with old messages (a million at \
             full scale); the throughput scenario's load runs in another room once before \
             and once right after the channel's room is given a one-day retention, while the \
             server's purge job deletes the seeded rows in the background (200 a transaction, \
             paced). Budget (issue 27): throughput during the purge at most 20% lower. \
             Reports the dip and how long the purge took. The peers have no retention."
        }
    }
}

/// Grouped bars of p50 / p99 / p99.9 for each target (log scale).
fn chart(results: &Results) -> String {
    let series: Vec<(TargetKind, [f64; 3])> = results
        .targets
        .iter()
        .filter_map(|&t| {
            let o = results.outcome(ScenarioKind::Latency, t)?;
            Some((t, [o.metric("p50")?, o.metric("p99")?, o.metric("p99.9")?]))
        })
        .collect();
    let (width, height) = (760.0, 360.0);
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 70.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(1.0_f64, f64::max);
    let min_exp = -1.0_f64; // 0.1 ms
    let max_exp = max.log10().ceil().max(1.0);
    let y = |v: f64| {
        let e = v.max(0.1).log10().clamp(min_exp, max_exp);
        top + plot_h * (1.0 - (e - min_exp) / (max_exp - min_exp))
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">Message latency at a constant rate (ms, log scale; lower is better)</text>"#,
        width / 2.0
    );
    let mut exp = min_exp;
    while exp <= max_exp {
        let v = 10f64.powf(exp);
        let yy = y(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            width - right,
            left - 6.0,
            yy + 4.0,
            if v < 1.0 {
                format!("{v:.1}")
            } else {
                format!("{v:.0}")
            }
        );
        exp += 1.0;
    }
    let colors = ["#4e79a7", "#f28e2b", "#e15759"];
    let labels = ["p50", "p99", "p99.9"];
    let group = plot_w / series.len().max(1) as f64;
    let bar = (group * 0.7 / 3.0).min(50.0);
    for (g, (target, values)) in series.iter().enumerate() {
        let gx = left + group * g as f64 + (group - bar * 3.0) / 2.0;
        for (k, v) in values.iter().enumerate() {
            let x = gx + bar * k as f64;
            let top_y = y(*v);
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{top_y:.1}" width="{:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                bar - 2.0,
                (top + plot_h - top_y).max(0.0),
                colors[k],
                x + bar / 2.0 - 1.0,
                top_y - 3.0,
                fmt(*v)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            left + group * g as f64 + group / 2.0,
            top + plot_h + 18.0,
            short(*target)
        );
    }
    for (k, label) in labels.iter().enumerate() {
        let x = left + 10.0 + 90.0 * k as f64;
        let yy = height - 22.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{yy}">{label}</text>"#,
            yy - 10.0,
            colors[k],
            x + 16.0
        );
    }
    let _ = writeln!(svg, "</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::{Better, Results, ScenarioKind, merge, ratio};
    use crate::scenarios::{Metric, Outcome, Scale};
    use crate::target::TargetKind;

    #[test]
    fn an_update_replaces_the_sections_run_and_keeps_the_others() {
        let previous = "# Benchmarks\n\nintro\n\n## 2. Throughput\n\nold throughput\n\n\
                        ## 9. Search\n\nold search\n\n## 5. History\n\nold history\n";
        let outcome = Outcome {
            scenario: ScenarioKind::Search,
            target: TargetKind::SecurechatSqlite,
            metrics: vec![Metric {
                name: "rare word p99".into(),
                value: 4.5,
                unit: "ms".into(),
                better: Better::Lower,
                headline: true,
            }],
            server: Default::default(),
            generator: Default::default(),
            notes: vec!["a note".into()],
            error: None,
        };
        let results = Results::new(
            Scale::Smoke,
            &[TargetKind::SecurechatSqlite],
            vec![outcome],
            std::time::Duration::from_secs(1),
        );
        let merged = merge(previous, &results);
        assert!(merged.starts_with("# Benchmarks\n\nintro\n\n## 2. Throughput\n\nold throughput"));
        assert!(merged.contains("old history"));
        assert!(!merged.contains("old search"));
        assert!(merged.contains("| **rare word p99 (ms)** | 4.50 |"));
        assert!(merged.contains("This section alone was re-run"));
        // In the scenarios' order: search runs after history.
        assert!(merged.find("## 5. History") < merged.find("## 9. Search"));
    }

    #[test]
    fn ratios_say_how_much_better() {
        assert_eq!(ratio(300.0, 100.0, Better::Higher), "3.0×");
        assert_eq!(ratio(2.0, 8.0, Better::Lower), "4.0×");
        assert_eq!(ratio(1.0, 0.0, Better::Lower), "0.0×");
    }
}
