//! Searching encrypted channels on this device.
//!
//! The server cannot read encrypted channels, so `search` also reads them
//! here: for each one, the newest messages (at most `--local-depth`), a
//! page at a time, newest first, decrypted and verified by the key store
//! (`SecureClient::read`), then matched, scored and cut into a snippet by
//! `securechat-search` — the server's own rules, so these results sort
//! among the server's by the same score. Only what verifies is searched;
//! nothing decrypted is written anywhere.
//!
//! What the history does not tell this client is not guessed: the SDK's
//! messages do not say whether a file is attached, so `has:file` finds
//! nothing here, and a decrypted file note (a JSON object with a `kind`,
//! which carries the file's key) is never searched or shown.

use std::io::IsTerminal;

use anyhow::Result;
use securechat_client::{Body, Channel, HistoryQuery, MAX_HISTORY_PAGE, Message, SecureClient};
use securechat_search::{Query, Segment, has_link, matches_all, score, snippet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One message of an encrypted channel that matched.
pub struct LocalHit {
    pub message: Message,
    pub score: i64,
    pub snippet: Vec<Segment>,
}

/// What the search of encrypted channels found and read.
#[derive(Default)]
pub struct LocalOutcome {
    pub hits: Vec<LocalHit>,
    /// Encrypted channels whose history was read.
    pub channels: usize,
    /// Messages decrypted, verified and searched.
    pub read: usize,
    /// Messages that could not be decrypted or verified (not searched).
    pub unreadable: usize,
    /// Channels of which not one message could be read (no key here).
    pub without_key: usize,
}

/// Whether `text` is a structured note (a file's or a resource's), never chat text.
fn is_note(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("kind").is_some_and(serde_json::Value::is_string))
}

/// When `message` was sent, in ms since the epoch (`None` if unreadable).
fn sent_ms(message: &Message) -> Option<i64> {
    let at = OffsetDateTime::parse(&message.created_at, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Whether a decrypted message passes `query`'s words and filters, as the
/// server's statement decides for a plaintext one.
fn passes(query: &Query, channel: &Channel, message: &Message, text: &str) -> bool {
    if query.has_file || !matches_all(text, &query.terms) {
        return false;
    }
    if query.has_link && !has_link(text) {
        return false;
    }
    if let Some(name) = &query.channel
        && channel.name.to_lowercase() != *name
    {
        return false;
    }
    if let Some(from) = &query.from
        && message.sender_username.as_deref().map(str::to_lowercase) != Some(from.clone())
    {
        return false;
    }
    if query.before_ms.is_some() || query.after_ms.is_some() {
        let Some(sent) = sent_ms(message) else {
            return false;
        };
        if query.before_ms.is_some_and(|before| sent >= before)
            || query.after_ms.is_some_and(|after| sent < after)
        {
            return false;
        }
    }
    true
}

/// Reads up to `depth` of the newest messages of each of `channels` and
/// keeps those matching `query`. Progress goes to standard error.
pub async fn search(
    secure: &mut SecureClient,
    channels: &[(String, &Channel)],
    query: &Query,
    depth: usize,
) -> Result<LocalOutcome> {
    let mut out = LocalOutcome::default();
    let tty = std::io::stderr().is_terminal();
    for (place, channel) in channels {
        out.channels += 1;
        let mut read_here = 0;
        let mut readable_here = 0;
        let mut before: Option<i64> = None;
        while read_here < depth {
            let want = u32::try_from(depth - read_here)
                .unwrap_or(u32::MAX)
                .min(MAX_HISTORY_PAGE);
            let page_query = match before {
                Some(id) => HistoryQuery::before(id),
                None => HistoryQuery::latest(),
            };
            let page = secure
                .client()
                .history(channel.id, page_query.limit(want))
                .await?;
            let (mut readable, mut failed) = (0, 0);
            let count = page.messages.len();
            before = page.messages.last().map(|m| m.id);
            for message in page.messages {
                read_here += 1;
                let read = secure.read(message).await?;
                let text = match read.body {
                    Body::Verified { text, .. } => text,
                    Body::Deleted => continue,
                    Body::Plain(_) | Body::Injected { .. } | Body::Undecryptable { .. } => {
                        failed += 1;
                        continue;
                    }
                };
                readable += 1;
                out.read += 1;
                if is_note(&text) || !passes(query, channel, &read.message, &text) {
                    continue;
                }
                out.hits.push(LocalHit {
                    score: score(&text, &query.terms),
                    snippet: snippet(&text, &query.terms),
                    message: read.message,
                });
            }
            if tty {
                eprint!("\rsecurechat-cli: decrypting {place}: {read_here} messages");
            }
            out.unreadable += failed;
            readable_here += readable;
            if readable == 0 && failed > 0 {
                // Not one message of a page opened: no key here for what
                // lies further back either (each message would ask the
                // server for it again).
                if readable_here == 0 {
                    out.without_key += 1;
                }
                break;
            }
            if !page.has_more || count == 0 {
                break;
            }
        }
        if tty {
            eprintln!();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(sender: &str, created_at: &str) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": 7, "channel_id": 3, "sender_username": sender, "created_at": created_at,
        }))
        .unwrap()
    }

    fn channel(name: &str) -> Channel {
        serde_json::from_value(serde_json::json!({"id": 3, "room_id": 1, "name": name})).unwrap()
    }

    #[test]
    fn filters_apply_to_decrypted_text_as_the_server_applies_them() {
        let m = message("Alice", "2026-03-15T10:00:00Z");
        let c = channel("Vault");
        let pass = |q: &str, text: &str| passes(&Query::parse(q).unwrap(), &c, &m, text);
        assert!(pass("deploy from:alice in:#vault", "Deploy tonight"));
        assert!(!pass("deploy from:bob", "deploy"));
        assert!(!pass("deploy in:general", "deploy"));
        assert!(pass("after:2026-03-14 before:2026-03-16", "x"));
        assert!(!pass("after:2026-03-15", "x"), "after the whole day");
        assert!(!pass("before:2026-03-15", "x"));
        assert!(pass("has:link", "see https://example.org"));
        assert!(!pass("has:link", "no link"));
        assert!(
            !pass("has:file", "a caption"),
            "attachments are unknown here"
        );
    }

    #[test]
    fn file_notes_are_not_chat_text() {
        assert!(is_note(r#"{"kind":"file","file_id":1,"key":"k"}"#));
        assert!(!is_note("{not json"));
        assert!(!is_note(r#"{"text":"x"}"#));
        assert!(!is_note("plain words"));
    }
}
