//! Search in the browser: the web client's local index of an encrypted
//! channel (web/src/search/), in headless Chromium.
//!
//! The reader logs in through the web UI first, so their browser is one of
//! their devices; then senders write the channel's history the way every
//! client does, through the SDK's [`SecureClient::send`]: each message
//! sealed and signed, each key version made and shared by whoever needs it
//! (every 100 messages a device sends under a version, as the core rules).
//! The text is the search scenario's chat corpus (`corpus`): English with a
//! Zipf-like frequency, one message in eight in Chinese, a rare word in a
//! known few. The browser half (`tests/browser/bench-search.mjs`) then
//! times the backfill — from the search panel's Resume to "indexed" — and
//! queries typed into the search box, reading the local index's own time
//! for each, and checks that the rare word finds exactly its messages.
//!
//! It needs Node, the browser tests' packages (`make browser-deps`) and
//! Chromium; without Chromium it says so and measures nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use securechat_client::{MembershipChange, NewRoom, SecureClient};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

use super::{Better, Ctx, Report, Slice};
use crate::corpus::{Corpus, QUERIES, RARE_WORD};
use crate::procstat;
use crate::world::{self, PASSWORD};

/// The browser half, from the repository root (where `make bench` runs).
const SCRIPT: &str = "tests/browser/bench-search.mjs";
/// What the script imports, installed by `make browser-deps`.
const PLAYWRIGHT: &str = "tests/browser/node_modules/playwright-core";
/// Messages that carry the rare word.
const RARE_COUNT: u64 = 7;
/// The goals: the backfill of 20 000 messages, and every query's p99.
const GOAL_BACKFILL_S: f64 = 60.0;
const GOAL_MESSAGES: u64 = 20_000;
const GOAL_P99_MS: f64 = 50.0;
/// How long the browser may take to become a device after logging in.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// The Chromium the browser tests use.
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

#[derive(Deserialize)]
struct Backfill {
    ms: f64,
    indexed: u64,
    /// Milliseconds per step (see web/src/search/backfill.ts).
    spent: BTreeMap<String, f64>,
    /// (ms since Resume, messages read).
    samples: Vec<(f64, u64)>,
}

#[derive(Deserialize)]
struct Measured {
    kind: String,
    q: String,
    ms: Vec<f64>,
    hits: usize,
}

#[derive(Deserialize)]
struct Done {
    backfill: Backfill,
    queries: Vec<Measured>,
    user_agent: String,
}

/// The browser half's stdout, a JSON line at a time.
struct Script {
    lines: Lines<BufReader<ChildStdout>>,
}

impl Script {
    /// The next line whose `event` is not progress; a `failed` one is the error.
    async fn event(&mut self, within: Duration) -> Result<Value> {
        let line = tokio::time::timeout(within, self.lines.next_line())
            .await
            .context("the browser did not answer in time")?
            .context("reading the browser's output")?
            .context("the browser script ended without a result (its error is above)")?;
        let value: Value = serde_json::from_str(&line)
            .with_context(|| format!("the browser script printed {line:?}"))?;
        if value["event"] == "failed" {
            bail!("in the browser: {}", value["error"].as_str().unwrap_or("?"));
        }
        Ok(value)
    }
}

/// Nearest-rank percentile of `values` (sorted here), `q` in (0, 1].
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What the backfill's time went to, as "step x.x s (y%)", largest first,
/// and the largest step's name.
fn breakdown(backfill: &Backfill) -> (String, &'static str) {
    const STEPS: [(&str, &str); 7] = [
        ("fetch", "fetching pages of 200 (HTTP)"),
        (
            "read",
            "reading them with the E2EE core (WASM: signature checks and decryption, key and bundle fetches)",
        ),
        ("sealRecords", "sealing each message's record (AES-GCM)"),
        (
            "tokens",
            "splitting texts into trigrams and blinding the new ones (HMAC)",
        ),
        (
            "sealPostings",
            "sealing the posting chunks (AES-GCM, one per token and page)",
        ),
        ("store", "the IndexedDB write of each page"),
        (
            "progress",
            "saving the backfill's progress (sealed, IndexedDB)",
        ),
    ];
    let total = backfill.ms.max(1.0);
    let mut parts: Vec<(f64, &str, &'static str)> = STEPS
        .iter()
        .map(|(key, label)| {
            (
                backfill.spent.get(*key).copied().unwrap_or(0.0),
                *label,
                *key,
            )
        })
        .collect();
    let counted: f64 = parts.iter().map(|p| p.0).sum();
    parts.sort_by(|a, b| b.0.total_cmp(&a.0));
    let largest = parts.first().map_or("", |p| p.2);
    let mut text: Vec<String> = parts
        .iter()
        .map(|(ms, label, _)| format!("{label} {:.1} s ({:.0}%)", ms / 1000.0, 100.0 * ms / total))
        .collect();
    text.push(format!(
        "the rest (pauses between pages, the page's other work) {:.1} s",
        (total - counted).max(0.0) / 1000.0
    ));
    (text.join(", "), largest)
}

/// Why the largest step takes its time and what would cut it (web/src/search/).
fn fix_for(step: &str) -> &'static str {
    match step {
        "read" => {
            "reading is the cost: the E2EE core checks each envelope's signature and decrypts \
             it (WebAssembly, on the page's thread), fetches each key version the first time \
             a page meets one (a request and a share check per version, a new version every \
             few hundred messages), and saves its whole state once per page: a document that \
             grows with every message read (its replay records), so each page costs more than \
             the one before. Proposed fix: keep the replay records out of the document that is \
             saved whole (web/src/e2ee/core.ts and the core's state), and read in a Web Worker \
             so that reading overlaps the index writes"
        }
        "sealRecords" | "sealPostings" => {
            "sealing is one WebCrypto call per record and per posting chunk, thousands a page. \
             Proposed fix (web/src/search/index.ts): seal a page's records as one block, and \
             fewer, larger posting chunks (several pages per chunk)"
        }
        "tokens" => {
            "every trigram new to this page load costs an HMAC. Proposed fix \
             (web/src/search/index.ts): keep the blinded tokens of frequent trigrams, sealed, \
             in the index, so a reload does not blind them again"
        }
        "store" => {
            "each page's transaction puts one value per token. Proposed fix \
             (web/src/search/index.ts, db.ts): larger posting chunks, several pages per \
             transaction"
        }
        _ => "no single step dominates; see the split",
    }
}

/// Why a query kind takes its time and what would cut it (web/src/search/index.ts).
fn query_fix(kind: &str) -> &'static str {
    match kind {
        "common word" => {
            "the word's trigrams are in a large share of the messages: their posting lists \
             are read whole (a sealed chunk per token and backfill page) and the newest 1000 \
             matching records opened, each its own IndexedDB get and AES-GCM decryption. \
             Proposed fix (web/src/search/index.ts, db.ts): seal records in blocks (one per \
             backfill page), so a query opens a few blocks instead of a thousand records, and \
             merge a token's chunks as they accumulate"
        }
        "CJK 2 chars" => {
            "a two-character word has no trigram; it is looked up by the postings of its \
             two characters, each far more common than the word, so many candidates are \
             opened and checked. Proposed fix (securechat-search's index_tokens, \
             web/src/search/index.ts): post CJK character pairs as tokens too, so such a \
             word is one posting list"
        }
        "from: + word" => {
            "the sender is checked only after each candidate record is opened, and the \
             word's trigrams leave every message holding it (from anyone) a candidate. \
             Proposed fix (web/src/search/index.ts): post the sender as a blinded token of \
             its own, so the intersection of posting lists holds that sender's messages only"
        }
        _ => {
            "the trigrams leave few candidates, so a miss here is the machine (look at the \
             generator CPU figure, the browser's), not the index"
        }
    }
}

pub async fn run(ctx: &mut Ctx<'_>) -> Result<Report> {
    let sizes = ctx.sizes;
    let mut report = Report::default();
    let chromium = chromium();
    if !chromium.exists() {
        report.note(format!(
            "skipped: no Chromium at {} (install Debian's `chromium`, as `make browser-deps` \
             does, or set CHROMIUM_PATH)",
            chromium.display()
        ));
        return Ok(report);
    }
    if !Path::new(PLAYWRIGHT).exists() {
        bail!("{PLAYWRIGHT} is missing: run `make browser-deps` (from the repository root)");
    }
    let accounts = ctx.accounts_for(Slice::BrowserSearch).to_vec();
    let (reader, senders) = accounts.split_first().context("no accounts")?;
    let base = ctx.base();
    let total = sizes.browser_search_messages;

    // The reader's browser first: keys are shared with the devices it has.
    let mut child = Command::new("node")
        .arg(SCRIPT)
        .env("BENCH_URL", &base)
        .env("BENCH_USER", &reader.username)
        .env("BENCH_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start node (the browser half needs Node.js)")?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let mut script = Script {
        lines: BufReader::new(child.stdout.take().context("no stdout")?).lines(),
    };
    let ready = script.event(READY_WITHIN).await?;
    if ready["user_id"].as_i64() != Some(reader.user_id) {
        bail!("the browser logged in as {ready}, not {}", reader.username);
    }

    // The channel and its history, written as clients write it.
    let mut devices = Vec::new();
    for account in senders {
        let client = world::client(&base, &ctx.http, account)?;
        let path = ctx
            .target
            .dir
            .join(format!("browser-keys-{}.json", account.user_id));
        devices.push(
            SecureClient::open(client, path)
                .await
                .context("opening a key store")?,
        );
    }
    let owner = devices.first_mut().context("no senders")?;
    let room = owner
        .create_room(&NewRoom::private("browser-search"))
        .await?;
    let channel = owner.create_channel(room.id, "encrypted", true).await?.id;
    for user_id in std::iter::once(reader.user_id).chain(senders[1..].iter().map(|a| a.user_id)) {
        owner
            .change_membership(
                room.id,
                &MembershipChange::Add {
                    user_id,
                    admin: false,
                },
            )
            .await
            .context("adding a member with a signed entry")?;
    }
    let mut sockets = Vec::new();
    for device in &devices {
        let (socket, events) = device.client().socket().await?;
        sockets.push((socket, super::drain(events)));
    }
    let needles = [QUERIES.common, QUERIES.cjk2, QUERIES.cjk4];
    let mut containing = [0u64; 3];
    let mut filtered_from_sender = 0u64;
    let mut planted = Vec::new();
    let mut corpus = Corpus::new(total, RARE_COUNT);
    let seeding = Instant::now();
    for n in 0..total {
        let text = corpus.next_message();
        let k = usize::try_from(n).unwrap_or(0) % devices.len();
        let sent = devices[k]
            .send(&sockets[k].0, channel, &text)
            .await
            .with_context(|| format!("sending message {n}"))?;
        let lower = text.to_lowercase();
        for (count, needle) in containing.iter_mut().zip(needles) {
            *count += u64::from(lower.contains(needle));
        }
        if k == 0 && lower.contains(QUERIES.filtered) {
            filtered_from_sender += 1;
        }
        if text.contains(RARE_WORD) {
            planted.push(sent.id);
        }
        if (n + 1) % 5_000 == 0 {
            eprintln!("   {} of {total} encrypted messages sent", n + 1);
        }
    }
    let seeded_in = seeding.elapsed();
    let versions = devices
        .iter()
        .filter_map(|d| d.store().channel_keys.get(&channel).map(|v| v.len()))
        .max()
        .unwrap_or(0);
    for (socket, drain) in sockets {
        socket.close().await;
        drain.abort();
    }
    if u64::try_from(planted.len()).ok() != Some(RARE_COUNT) {
        bail!(
            "{} messages carry {RARE_WORD}, {RARE_COUNT} wanted",
            planted.len()
        );
    }

    let filter = format!("from:{} {}", senders[0].username, QUERIES.filtered);
    let runs = sizes.browser_search_queries;
    let queries = json!([
        {"kind": "common word", "q": QUERIES.common, "runs": runs.div_ceil(2)},
        {"kind": "rare word", "q": RARE_WORD, "runs": runs, "expect_ids": planted},
        {"kind": "CJK 2 chars", "q": QUERIES.cjk2, "runs": runs},
        {"kind": "CJK 4 chars", "q": QUERIES.cjk4, "runs": runs},
        {"kind": "from: + word", "q": filter, "runs": runs},
    ]);
    let line = json!({"total": total, "queries": queries}).to_string();
    stdin.write_all(format!("{line}\n").as_bytes()).await?;
    stdin.flush().await?;
    // The browser is this scenario's generator: Node and every Chromium process.
    let meter = ctx.meter();
    let browser_started = procstat::sample(child.id());
    let done = script
        .event(Duration::from_secs(sizes.browser_search_timeout_s))
        .await?;
    let browser = match (browser_started, procstat::sample(child.id())) {
        (Some(a), Some(b)) => a.until(&b),
        _ => procstat::Usage::default(),
    };
    report.usage = Some((meter.stop().0, browser));
    let status = child.wait().await?;
    if !status.success() {
        bail!("the browser script exited with {status}");
    }
    let done: Done = serde_json::from_value(done).context("the browser's figures")?;

    let backfill = &done.backfill;
    if backfill.indexed < total {
        bail!(
            "the backfill read {} of the {total} messages",
            backfill.indexed
        );
    }
    let seconds = backfill.ms / 1000.0;
    let rate = backfill.indexed as f64 / seconds.max(1e-3);
    report.headline("backfill", seconds, "s", Better::Lower);
    report.figure("backfill rate", rate, "msg/s", Better::Higher);
    // The goal is for 20 000 messages; a smaller run is judged at its rate.
    let (split, largest) = breakdown(backfill);
    let expected_s = seconds * GOAL_MESSAGES as f64 / backfill.indexed as f64;
    let verdict = if expected_s <= GOAL_BACKFILL_S {
        "met".to_owned()
    } else {
        format!(
            "**missed** ({:.0} s at this rate). Why: {}",
            expected_s,
            fix_for(largest)
        )
    };
    let halfway = backfill
        .samples
        .iter()
        .find(|(_, n)| *n >= backfill.indexed / 2)
        .map_or(String::new(), |(ms, _)| {
            format!("; half of them after {:.1} s", ms / 1000.0)
        });
    report.note(format!(
        "backfill: {} messages read and indexed in {seconds:.1} s ({rate:.0} msg/s){halfway}; \
         goal (issue 25): {GOAL_MESSAGES} in ≤ {GOAL_BACKFILL_S:.0} s: {verdict}",
        backfill.indexed
    ));
    report.note(format!(
        "where the backfill's {seconds:.1} s went (wall time of each step, one page after \
         the other): {split}; {} posting chunks written",
        backfill.spent.get("chunks").copied().unwrap_or(0.0)
    ));
    let share = |count: u64| 100.0 * count as f64 / total as f64;
    for q in &done.queries {
        let p50 = percentile(&q.ms, 0.5);
        let p99 = percentile(&q.ms, 0.99);
        report.figure(&format!("{} p50", q.kind), p50, "ms", Better::Lower);
        report.headline(&format!("{} p99", q.kind), p99, "ms", Better::Lower);
        let about = match q.kind.as_str() {
            "common word" => format!("in {:.1}% of the messages", share(containing[0])),
            "rare word" => format!("in {RARE_COUNT} messages, all {RARE_COUNT} found"),
            "CJK 2 chars" => format!(
                "in {:.1}% (below a trigram: looked up by its characters)",
                share(containing[1])
            ),
            "CJK 4 chars" => format!("in {:.1}%", share(containing[2])),
            _ => format!(
                "{:.2}% of all messages are from that sender with the word",
                share(filtered_from_sender)
            ),
        };
        let verdict = if p99 <= GOAL_P99_MS {
            "met".to_owned()
        } else {
            format!(
                "**missed** by {:.0} ms. Why: {}",
                p99 - GOAL_P99_MS,
                query_fix(&q.kind)
            )
        };
        report.note(format!(
            "{}: `{}`, {about}; {} results shown; local index p50 {p50:.1} ms, p99 {p99:.1} ms \
             over {} searches; goal p99 ≤ {GOAL_P99_MS:.0} ms: {verdict}",
            q.kind,
            q.q,
            q.hits,
            q.ms.len()
        ));
    }
    report.note(format!(
        "{total} messages from {} senders in one encrypted channel, each sent through the SDK \
         (sealed, signed, {versions} key versions made and shared as clients make them) in \
         {:.1} s; the reader's browser: Chromium {}, headless, on the same machine; query times are the \
         local index's own (`LocalIndex.search`, as the search panel records it), typed into the \
         search box one at a time; the server and generator figures cover the browser's part \
         (from Resume to the last query), the generator's being the browser's: Node and every \
         Chromium process, their memory summed (pages they share counted in each)",
        senders.len(),
        seeded_in.as_secs_f64(),
        done.user_agent
    ));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).rev().collect();
        assert_eq!(percentile(&values, 0.5), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
