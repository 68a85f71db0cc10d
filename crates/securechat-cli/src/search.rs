//! `securechat-cli search QUERY…`: the server's full-text search over the
//! plaintext messages I can read, plus what this device decrypts of my
//! encrypted channels (`local_search.rs`), in one list, most relevant first
//! (or `--newest`). Results found here are marked:
//!
//! ```text
//! Lobby/general · alice · 2026-12-06 23:10
//!   please **deploy** the release tonight
//! Night shift/vault · bob · 2026-12-06 23:12 · decrypted here
//!   **deploy** is done
//! ```
//!
//! The two sources are merged as the web client merges them
//! (`web/src/search/merge.ts`): by the score of `securechat-search` (the
//! server's own), then newest first; while the server has more pages than
//! were fetched, a local result is shown only if it ranks above the last
//! server result fetched, so no page would have put a server result above
//! it. The output ends with what was not searched, and why.

use std::fmt::Write as _;

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::Result;
use securechat_client::{Channel, MAX_SEARCH_PAGE, Message, Room, SearchPage, SearchQuery};
use securechat_search::Query;
use time::UtcOffset;
use time::format_description::well_known::Rfc3339;

use crate::local_search::{self, LocalOutcome};
use crate::output;
use crate::session::SessionFile;
use crate::target;

/// How many of each encrypted channel's newest messages are decrypted and
/// searched by default.
const DEFAULT_LOCAL_DEPTH: u32 = 2000;

#[derive(clap::Args)]
pub struct Args {
    /// Words, "phrases" and filters: from:alice, in:general,
    /// before:2026-03-31, after:2026-03-01, has:file, has:link.
    #[arg(required = true, value_name = "QUERY")]
    query: Vec<String>,
    /// Only this channel: `<room>/<channel>` (`@user` for a DM).
    #[arg(long = "in", value_name = "ROOM/CHANNEL")]
    channel: Option<String>,
    /// Newest first instead of most relevant first.
    #[arg(long)]
    newest: bool,
    /// How many results (1-200).
    #[arg(short = 'n', long, default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..=200))]
    limit: u32,
    /// How many of each encrypted channel's newest messages to decrypt and
    /// search on this device (0: none; the server cannot search them).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LOCAL_DEPTH)]
    local_depth: u32,
}

pub async fn run(args: Args, file: &SessionFile, store: PathBuf, offset: UtcOffset) -> Result<()> {
    let session = file.require()?;
    let client = session.client()?;
    let rooms = client
        .rooms()
        .await
        .map_err(|e| file.explain(&session, e))?;
    let text = args.query.join(" ");
    let mut query = SearchQuery::new(text.clone());
    let mut only = None;
    if let Some(spec) = &args.channel {
        let channel = target::resolve(&rooms, Some(spec), None)?.channel.id;
        only = Some(channel);
        query = query.in_channel(channel);
    }
    if args.newest {
        query = query.newest_first();
    }
    let wanted = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let mut pages: Vec<SearchPage> = Vec::new();
    let mut found = 0;
    loop {
        let page = client
            .search(&query.clone().limit(MAX_SEARCH_PAGE))
            .await
            .map_err(|e| file.explain(&session, e))?;
        found += page.results.len();
        let next = page.next.clone();
        pages.push(page);
        match next {
            Some(next) if found < wanted => query = query.after_page(next),
            _ => break,
        }
    }
    // The server accepted the query, so the same rules accept it here.
    let parsed = Query::parse(&text).unwrap_or_default();
    let encrypted: Vec<(String, &Channel)> = rooms
        .iter()
        .flat_map(|r| {
            r.channels
                .iter()
                .filter(|c| c.is_encrypted && only.is_none_or(|id| id == c.id))
                .map(move |c| (format!("{}/{}", r.display_name(), c.name), c))
        })
        .collect();
    let depth = usize::try_from(args.local_depth).unwrap_or(usize::MAX);
    let local = if encrypted.is_empty() {
        Local::Nothing
    } else if depth == 0 {
        Local::Off(encrypted.len())
    } else if !store.exists() {
        Local::NoKeyStore(encrypted.len())
    } else if parsed.is_empty() {
        Local::Nothing
    } else {
        match crate::keys::open(file, store).await {
            Ok((_, mut secure)) => {
                match local_search::search(&mut secure, &encrypted, &parsed, depth).await {
                    Ok(outcome) => Local::Done(outcome, depth),
                    Err(error) => Local::Failed(encrypted.len(), format!("{error:#}")),
                }
            }
            Err(error) => Local::Failed(encrypted.len(), format!("{error:#}")),
        }
    };
    let places = Places {
        rooms: &rooms,
        encrypted: &encrypted,
    };
    output::write_all(&render(
        &pages,
        &local,
        &parsed,
        &places,
        Shown {
            wanted,
            newest: args.newest,
            offset,
        },
    ))
}

/// What the search of encrypted channels on this device came to.
enum Local {
    /// No encrypted channel (or an empty query).
    Nothing,
    /// `--local-depth 0`: this many channels left out.
    Off(usize),
    /// No key store here to decrypt with.
    NoKeyStore(usize),
    /// The key store or the server failed.
    Failed(usize, String),
    /// Searched, up to this many messages per channel.
    Done(LocalOutcome, usize),
}

/// Names for the places results were written.
struct Places<'a> {
    rooms: &'a [Room],
    encrypted: &'a [(String, &'a Channel)],
}

/// How the list is shown.
struct Shown {
    wanted: usize,
    newest: bool,
    offset: UtcOffset,
}

/// A result from either source, as it is ordered and printed.
struct Hit<'a> {
    id: i64,
    place: String,
    sender: Option<&'a str>,
    created_at: &'a str,
    snippet: Vec<(&'a str, bool)>,
    score: i64,
    local: bool,
}

impl<'a> Hit<'a> {
    fn of(
        message: &'a Message,
        place: String,
        snippet: Vec<(&'a str, bool)>,
        score: i64,
        local: bool,
    ) -> Self {
        Self {
            id: message.id,
            place,
            sender: message.sender_username.as_deref(),
            created_at: &message.created_at,
            snippet,
            score,
            local,
        }
    }
}

/// `a` before `b`: higher score, then newer (only newer with `--newest`).
fn order(a: &Hit<'_>, b: &Hit<'_>, newest: bool) -> Ordering {
    let by_score = if newest {
        Ordering::Equal
    } else {
        b.score.cmp(&a.score)
    };
    by_score.then(b.id.cmp(&a.id))
}

/// One list: the server's hits as fetched, and the local hits that rank
/// within them (all of them once the server has no more); each message once.
fn merge<'a>(
    server: Vec<Hit<'a>>,
    server_done: bool,
    local: Vec<Hit<'a>>,
    newest: bool,
) -> Vec<Hit<'a>> {
    let shown: Vec<Hit<'a>> = match server.last() {
        Some(last) if !server_done => local
            .into_iter()
            .filter(|h| order(h, last, newest) == Ordering::Less)
            .collect(),
        _ => local,
    };
    let mut seen = HashSet::new();
    let mut all: Vec<Hit<'a>> = server
        .into_iter()
        .chain(shown)
        .filter(|h| seen.insert(h.id))
        .collect();
    all.sort_by(|a, b| order(a, b, newest));
    all
}

/// `one` for 1, else `n` and `many`.
fn counted(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_owned()
    } else {
        format!("{n} {many}")
    }
}

/// The results (at most `wanted`), then what was not searched.
fn render(
    pages: &[SearchPage],
    local: &Local,
    query: &Query,
    places: &Places<'_>,
    shown: Shown,
) -> String {
    let mut out = String::new();
    let server: Vec<Hit<'_>> = pages
        .iter()
        .flat_map(|p| &p.results)
        .map(|r| {
            let place = match places.rooms.iter().find(|room| room.id == r.room.id) {
                Some(room) => format!("{}/{}", room.display_name(), r.channel.name),
                None => format!("{}/{}", r.room.name, r.channel.name),
            };
            let content = r.message.content.as_deref().unwrap_or_default();
            let runs = r.snippet.iter().map(|s| (s.text.as_str(), s.is_match));
            let score = securechat_search::score(content, &query.terms);
            Hit::of(&r.message, place, runs.collect(), score, false)
        })
        .collect();
    let server_more = pages.last().is_some_and(|p| p.next.is_some());
    let local_hits: Vec<Hit<'_>> = match local {
        Local::Done(outcome, _) => outcome
            .hits
            .iter()
            .map(|h| {
                let place = places
                    .encrypted
                    .iter()
                    .find(|(_, c)| c.id == h.message.channel_id)
                    .map(|(place, _)| place.clone())
                    .unwrap_or_default();
                let runs = h.snippet.iter().map(|s| (s.text.as_str(), s.is_match));
                Hit::of(&h.message, place, runs.collect(), h.score, true)
            })
            .collect(),
        _ => Vec::new(),
    };
    let merged = merge(server, !server_more, local_hits, shown.newest);
    let results = &merged[..merged.len().min(shown.wanted)];
    if results.is_empty() {
        out.push_str("No messages found.\n");
    }
    for hit in results {
        let sender = hit.sender.unwrap_or("(gone)");
        let when = time::OffsetDateTime::parse(hit.created_at, &Rfc3339)
            .ok()
            .and_then(|t| {
                t.to_offset(shown.offset)
                    .format(time::macros::format_description!(
                        "[year]-[month]-[day] [hour]:[minute]"
                    ))
                    .ok()
            })
            .unwrap_or_default();
        let mark = if hit.local { " · decrypted here" } else { "" };
        let _ = writeln!(out, "{} · {sender} · {when}{mark}", hit.place);
        let mut line = String::from("  ");
        for (text, is_match) in &hit.snippet {
            if *is_match {
                let _ = write!(line, "**{text}**");
            } else {
                line.push_str(text);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if server_more || merged.len() > results.len() {
        let _ = writeln!(out, "(more results: raise -n, or narrow the search)");
    }
    let channels = |n: usize| counted(n, "1 encrypted channel was", "encrypted channels were");
    let messages = |n: usize| counted(n, "1 message", "messages");
    let not_searched = match local {
        Local::Off(n) => Some((*n, "--local-depth is 0".to_owned())),
        Local::NoKeyStore(n) => Some((*n, "this device has no key store".to_owned())),
        Local::Failed(n, error) => Some((*n, format!("decrypting here failed: {error}"))),
        Local::Nothing | Local::Done(..) => None,
    };
    if let Some((n, why)) = not_searched {
        let _ = writeln!(
            out,
            "({} not searched: the server cannot read them, and {why})",
            channels(n)
        );
    }
    if let Local::Done(outcome, depth) = local {
        let _ = writeln!(
            out,
            "({} searched on this device: {} decrypted, at most the newest {depth} of each)",
            channels(outcome.channels),
            messages(outcome.read)
        );
        if outcome.unreadable > 0 {
            let _ = writeln!(
                out,
                "(not searched: {} that could not be decrypted or verified here)",
                messages(outcome.unreadable)
            );
        }
        if outcome.without_key > 0 {
            let _ = writeln!(
                out,
                "(no message could be read in {} of them: no key on this device; see `securechat-cli request-key`)",
                outcome.without_key
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: i64, score: i64, local: bool) -> Hit<'static> {
        Hit {
            id,
            place: String::new(),
            sender: None,
            created_at: "",
            snippet: Vec::new(),
            score,
            local,
        }
    }

    fn ids(hits: &[Hit<'_>]) -> Vec<i64> {
        hits.iter().map(|h| h.id).collect()
    }

    #[test]
    fn local_hits_rank_within_what_the_server_has_shown_until_it_is_done() {
        let server = || vec![hit(10, 900, false), hit(9, 500, false)];
        let local = || vec![hit(20, 700, true), hit(21, 100, true)];
        assert_eq!(ids(&merge(server(), false, local(), false)), [10, 20, 9]);
        assert_eq!(ids(&merge(server(), true, local(), false)), [10, 20, 9, 21]);
        assert_eq!(ids(&merge(server(), true, local(), true)), [21, 20, 10, 9]);
    }

    #[test]
    fn a_message_found_by_both_is_listed_once() {
        let merged = merge(vec![hit(5, 10, false)], true, vec![hit(5, 10, true)], false);
        assert_eq!(ids(&merged), [5]);
        assert!(!merged[0].local);
    }
}
