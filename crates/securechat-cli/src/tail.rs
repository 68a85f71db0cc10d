//! `securechat-cli tail <room>/<channel>`: the last N messages, then new
//! ones as they arrive, one `[HH:MM] sender: text` line each (local time).
//!
//! The history comes over HTTP; then the socket joins the channel with
//! `after` = the newest message printed, so nothing committed in between is
//! lost. When the connection drops, `tail` reconnects with exponential
//! backoff and resumes the same way from the last message it printed.
//! Messages are printed once each: live events that race a (re)join are
//! recognised by id.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use anyhow::{Result, anyhow};
use securechat_client::{
    Body, Client, Error, Event, Handled, HistoryQuery, MAX_HISTORY_PAGE, Message, MessageDeleted,
    SecureClient,
};
use serde::Deserialize;
use time::UtcOffset;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Mutex;

use crate::output::{self, Written};
use crate::session::SessionFile;
use crate::target::{self, Target};

#[derive(clap::Args)]
pub struct Args {
    /// `<room>/<channel>` (case-insensitive; `@user` for a DM).
    #[arg(value_name = "ROOM/CHANNEL", required_unless_present = "channel_id")]
    target: Option<String>,
    /// The channel by id instead of by name.
    #[arg(long, value_name = "ID", conflicts_with = "target")]
    channel_id: Option<i64>,
    /// How many past messages to print first (0-200).
    #[arg(short = 'n', long, default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_HISTORY_PAGE)))]
    lines: u32,
}

pub async fn run(
    args: Args,
    file: &SessionFile,
    store: std::path::PathBuf,
    offset: UtcOffset,
) -> Result<()> {
    let session = file.require()?;
    let client = session.client()?;
    let (me, rooms) = match tokio::try_join!(client.me(), client.rooms()) {
        Ok(found) => found,
        Err(error) => return Err(file.explain(&session, error)),
    };
    let target = target::resolve(&rooms, args.target.as_deref(), args.channel_id)?;
    let mut printer = Printer::new(offset);
    // Encrypted channels: decrypt and verify with the key store, and answer
    // key events (rotations, shares, requests) while tailing.
    let secure = if target.channel.is_encrypted {
        Some(Mutex::new(crate::keys::open(file, store).await?.1))
    } else {
        None
    };

    let page = client
        .history(
            target.channel.id,
            HistoryQuery::latest().limit(args.lines.max(1)),
        )
        .await
        .map_err(|e| file.explain(&session, e))?;
    let newest = page.messages.first().map_or(0, |m| m.id);
    let shown = usize::try_from(args.lines).unwrap_or(usize::MAX);
    let mut past: Vec<Message> = page.messages.into_iter().take(shown).collect();
    past.reverse();
    let follow = Follow {
        client: &client,
        target: &target,
        me: me.id,
        secure,
    };
    for message in &past {
        let text = follow.text(message).await;
        if printer.message(message, &text)? == Written::ReaderGone {
            return Ok(());
        }
    }
    printer.last_id = printer.last_id.max(newest);

    let mut backoff = Backoff::new();
    loop {
        match follow.once(&mut printer, &mut backoff).await {
            Ok(Ended::ReaderGone) => return Ok(()),
            Ok(Ended::Disconnected(why)) => {
                let wait = backoff.next_wait();
                eprintln!("securechat-cli: disconnected ({why}); reconnecting in {wait:.1?}");
                tokio::time::sleep(wait).await;
            }
            Err(Failure::Transient(error)) => {
                let wait = backoff.next_wait();
                eprintln!("securechat-cli: cannot reconnect ({error}); retrying in {wait:.1?}");
                tokio::time::sleep(wait).await;
            }
            Err(Failure::Fatal(error)) => return Err(fatal_error(file, &session, error)),
        }
    }
}

fn fatal_error(
    file: &SessionFile,
    session: &crate::session::Session,
    error: Fatal,
) -> anyhow::Error {
    match error {
        Fatal::Sdk(error) => file.explain(session, error),
        Fatal::Other(error) => error,
    }
}

/// Why one connection's run ended.
enum Ended {
    ReaderGone,
    Disconnected(String),
}

enum Failure {
    /// Worth retrying: the server or the network is away.
    Transient(Error),
    /// Retrying cannot help.
    Fatal(Fatal),
}

enum Fatal {
    Sdk(Error),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Fatal(Fatal::Other(error))
    }
}

/// Sorts SDK errors: the server saying no is final; the rest (the network,
/// a server restarting or overloaded) is weather.
fn classify(error: Error) -> Failure {
    match &error {
        Error::Api(api) if api.status >= 500 || api.status == 429 => Failure::Transient(error),
        Error::Api(_) | Error::Rejected(_) | Error::NotLoggedIn | Error::InvalidUrl { .. } => {
            Failure::Fatal(Fatal::Sdk(error))
        }
        _ => Failure::Transient(error),
    }
}

struct Follow<'a> {
    client: &'a Client,
    target: &'a Target,
    me: i64,
    secure: Option<Mutex<SecureClient>>,
}

impl Follow<'_> {
    /// Connects, catches up from the last message printed, and prints live
    /// events until the connection ends.
    async fn once(&self, printer: &mut Printer, backoff: &mut Backoff) -> Result<Ended, Failure> {
        let channel = self.target.channel.id;
        let (socket, mut events) = match self.client.socket().await {
            Ok(connected) => connected,
            Err(refused @ Error::ConnectRefused { .. }) => {
                // Refused at the handshake: an ended session, or a server
                // still starting. The HTTP API tells which (401 is final).
                return Err(match self.client.me().await {
                    Ok(_) => Failure::Transient(refused),
                    Err(error) => classify(error),
                });
            }
            Err(error) => return Err(classify(error)),
        };
        let missed = self
            .client
            .resume_channel(&socket, channel, printer.last_id)
            .await
            .map_err(classify)?;
        backoff.reset();
        for message in &missed {
            let text = self.text(message).await;
            if printer.message(message, &text)? == Written::ReaderGone {
                return Ok(Ended::ReaderGone);
            }
        }
        while let Some(event) = events.recv().await {
            self.key_event(&event).await;
            if self.event(printer, &event).await? == Written::ReaderGone {
                socket.close().await;
                return Ok(Ended::ReaderGone);
            }
        }
        let why = events
            .disconnect_reason()
            .map_or_else(|| "connection lost".to_owned(), |r| r.to_string());
        Ok(Ended::Disconnected(why))
    }

    /// What to print for a message: its text, decrypted and verified in an
    /// encrypted channel, or why it cannot be trusted.
    async fn text(&self, message: &Message) -> String {
        let Some(secure) = &self.secure else {
            return text(message);
        };
        match secure.lock().await.read(message.clone()).await {
            Ok(read) => match read.body {
                Body::Verified { text, .. } | Body::Plain(text) => text,
                Body::Deleted => "(deleted)".to_owned(),
                Body::Injected { content } => format!(
                    "[UNENCRYPTED, INJECTED - not from a member's client] {}",
                    content.unwrap_or_default()
                ),
                Body::Undecryptable { reason } => format!("[cannot decrypt: {reason}]"),
            },
            Err(error) => format!("[cannot decrypt: {error}]"),
        }
    }

    /// Lets the key store answer key events; what it did goes to stderr.
    async fn key_event(&self, event: &Event) {
        let Some(secure) = &self.secure else {
            return;
        };
        match secure.lock().await.handle_event(event).await {
            Ok(Handled::Ignored(_)) => {}
            Ok(Handled::Rotated(d)) => eprintln!(
                "securechat-cli: rotated channel {} to key version {} (shared with {} members, {} left out)",
                d.channel_id,
                d.version,
                d.shared_with.len(),
                d.skipped.len()
            ),
            Ok(Handled::KeyAccepted {
                channel_id,
                version,
            }) => {
                eprintln!("securechat-cli: received key version {version} of channel {channel_id}");
            }
            Ok(Handled::Rejected(why)) => {
                eprintln!(
                    "securechat-cli: WARNING: refused a {} event: {why}",
                    event.name
                );
            }
            Ok(Handled::RequestQueued(r)) => eprintln!(
                "securechat-cli: {} asks for the key of channel {}: `securechat-cli approve {}`",
                r.requester_username, r.channel_id, r.request_id
            ),
            Ok(Handled::KeyChanged { user_id }) => eprintln!(
                "securechat-cli: WARNING: the key of user {user_id} CHANGED; they get no key \
                 until you compare safety numbers (`verify`) and `trust` them"
            ),
            Err(error) => eprintln!("securechat-cli: cannot handle {}: {error}", event.name),
        }
    }

    async fn event(&self, printer: &mut Printer, event: &Event) -> Result<Written, Failure> {
        let channel = self.target.channel.id;
        let room = self.target.room.id;
        let written = match event.name.as_str() {
            "new_message" | "message_edited" => match event.parse::<Message>() {
                Ok(m) if m.channel_id == channel && event.name == "new_message" => {
                    let text = self.text(&m).await;
                    printer.message(&m, &text)?
                }
                Ok(m) if m.channel_id == channel => {
                    let text = self.text(&m).await;
                    printer.edited(&m, &text)?
                }
                _ => Written::Ok,
            },
            "message_deleted" => match event.parse::<MessageDeleted>() {
                Ok(d) if d.channel_id == channel => printer.deleted(&d)?,
                _ => Written::Ok,
            },
            "member_left" => match event.parse::<RoomUser>() {
                Ok(left) if left.room_id == room && left.user_id == Some(self.me) => {
                    let how = left.reason.as_deref().unwrap_or("removed");
                    return Err(anyhow!(
                        "you are no longer a member of {} ({how})",
                        self.target.room.display_name()
                    )
                    .into());
                }
                _ => Written::Ok,
            },
            "channel_deleted" | "room_deleted" => match event.parse::<RoomUser>() {
                Ok(gone)
                    if gone.room_id == room
                        && (event.name == "room_deleted" || gone.channel_id == Some(channel)) =>
                {
                    return Err(anyhow!("{} was deleted", self.target.label()).into());
                }
                _ => Written::Ok,
            },
            _ => Written::Ok,
        };
        Ok(written)
    }
}

/// The fields tail needs from membership and deletion events.
#[derive(Deserialize)]
struct RoomUser {
    room_id: i64,
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    channel_id: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
}

/// How many message ids to remember for deduplication.
const REMEMBERED: usize = 10_000;

/// Formats messages and prints each id once.
struct Printer {
    offset: UtcOffset,
    /// The newest id printed: where a reconnection resumes.
    last_id: i64,
    seen: HashSet<i64>,
    order: VecDeque<i64>,
    senders: HashMap<i64, String>,
}

impl Printer {
    fn new(offset: UtcOffset) -> Self {
        Self {
            offset,
            last_id: 0,
            seen: HashSet::new(),
            order: VecDeque::new(),
            senders: HashMap::new(),
        }
    }

    /// Prints a message unless it was printed already.
    fn message(&mut self, message: &Message, text: &str) -> Result<Written> {
        if !self.seen.insert(message.id) {
            return Ok(Written::Ok);
        }
        self.order.push_back(message.id);
        let sender = sender(message);
        self.senders.insert(message.id, sender.clone());
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
            self.senders.remove(&old);
        }
        self.last_id = self.last_id.max(message.id);
        self.write(&format_line(
            self.offset,
            &message.created_at,
            &sender,
            text,
        ))
    }

    fn edited(&mut self, message: &Message, text: &str) -> Result<Written> {
        let at = message.edited_at.as_deref().unwrap_or(&message.created_at);
        let who = format!("{} (edited)", sender(message));
        self.write(&format_line(self.offset, at, &who, text))
    }

    fn deleted(&mut self, deleted: &MessageDeleted) -> Result<Written> {
        let line = match self.senders.get(&deleted.id) {
            Some(sender) => format!("* a message from {sender} was deleted\n"),
            None => "* a message was deleted\n".to_owned(),
        };
        self.write(&line)
    }

    fn write(&self, line: &str) -> Result<Written> {
        output::write(line)
    }
}

fn sender(message: &Message) -> String {
    message
        .sender_username
        .clone()
        .unwrap_or_else(|| "(deleted user)".to_owned())
}

fn text(message: &Message) -> String {
    if message.deleted {
        "(deleted)".to_owned()
    } else if let Some(content) = &message.content {
        content.clone()
    } else if message.envelope.is_some() {
        "(encrypted message; this client cannot decrypt it)".to_owned()
    } else {
        String::new()
    }
}

/// `[HH:MM] sender: text`, later lines of the text indented under it.
fn format_line(offset: UtcOffset, created_at: &str, sender: &str, text: &str) -> String {
    let clock = time::OffsetDateTime::parse(created_at, &Rfc3339)
        .ok()
        .and_then(|t| {
            t.to_offset(offset)
                .format(time::macros::format_description!("[hour]:[minute]"))
                .ok()
        })
        .unwrap_or_else(|| "--:--".to_owned());
    let text = text.trim_end().replace('\n', "\n        ");
    format!("[{clock}] {sender}: {text}\n")
}

/// Reconnection delays: 0.25 s doubling to 30 s, with ±20% jitter so that
/// many clients cut off together do not return together.
struct Backoff {
    attempt: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(30);

    fn new() -> Self {
        Self { attempt: 0 }
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }

    fn next_wait(&mut self) -> Duration {
        let base = Self::FIRST
            .saturating_mul(1 << self.attempt.min(10))
            .min(Self::MAX);
        self.attempt = self.attempt.saturating_add(1);
        let jitter = f64::from(random_u8()) / 255.0 * 0.4 + 0.8;
        base.mul_f64(jitter)
    }
}

fn random_u8() -> u8 {
    securechat_client::new_client_msg_id()
        .bytes()
        .fold(0u8, |acc, b| acc.wrapping_mul(31).wrapping_add(b))
}

/// For `main`: the process's UTC offset, read before any thread starts
/// (the `time` crate refuses to read it later, as that is unsound).
pub fn local_offset() -> UtcOffset {
    UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lines_are_local_time_sender_and_text() {
        let utc = UtcOffset::UTC;
        assert_eq!(
            format_line(utc, "2025-03-04T09:07:00Z", "alice", "hi"),
            "[09:07] alice: hi\n"
        );
        let plus_two = UtcOffset::from_hms(2, 0, 0).unwrap();
        assert_eq!(
            format_line(plus_two, "2025-03-04T23:30:00.123Z", "bob", "two\nlines\n"),
            "[01:30] bob: two\n        lines\n"
        );
        assert_eq!(format_line(utc, "garbage", "x", "y"), "[--:--] x: y\n");
    }

    #[test]
    fn backoff_grows_to_its_cap_and_resets() {
        let mut backoff = Backoff::new();
        let first = backoff.next_wait();
        assert!(first >= Duration::from_millis(200) && first <= Duration::from_millis(300));
        for _ in 0..20 {
            assert!(backoff.next_wait() <= Backoff::MAX.mul_f64(1.2));
        }
        assert!(backoff.next_wait() >= Backoff::MAX.mul_f64(0.8));
        backoff.reset();
        assert!(backoff.next_wait() <= Duration::from_millis(300));
    }
}
