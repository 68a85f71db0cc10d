//! `securechat-cli import mattermost|slack FILE [--room NAME]`: another
//! chat's export into end-to-end encrypted channels, encrypted here. The
//! server's `securechat import` writes plaintext channels straight to its
//! database; it cannot encrypt, so this client does, on the same parser
//! (`securechat-import`).
//!
//! Each source room becomes a private room (`--room NAME`: one room for
//! all), each channel an encrypted channel of it, registered in the room's
//! signed membership log; a private channel becomes a private room of its
//! own, as the server's import does, so only the people added to it read
//! it. Each message is sealed and sent by the SDK's encrypting send, a
//! thread reply in its root's thread.
//!
//! **Attribution rule:** the envelope is signed by this device, so an
//! imported message is honestly the importer's; its original author and
//! time are its first line, inside the encrypted text —
//! `alice · 2021-03-04 05:06 UTC (imported)` (`(imported, edited)` for an
//! edited one: its final text is what comes in) — then the original text.
//! Nothing of them reaches the server in plaintext. Reactions are not
//! imported (one would be the importer's, not its person's); people are not
//! made accounts (the author is named in the text); files come in as a
//! `[file: name]` line, as the server's import does.
//!
//! Resume: `import_state.rs` records each room, channel and message made
//! as it goes; a rerun sends only what is missing. Every message's
//! `client_msg_id` is derived from its channel and source key, so even a
//! message sent but not recorded is never stored twice. Rooms and
//! encrypted channels are found again by name. Memory is bounded by the
//! parser's streaming and the ids kept per message; the server's send rate
//! limit is waited out by the SDK (`rate_limited` answers with their
//! retry-after).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use securechat_client::{NewRoom, OutgoingMessage, Role, SecureClient, Socket};
use securechat_import::{Channel, Item, Message, Person, Room, Sink, Source};
use sha2::{Digest, Sha256};

use crate::import_state::State;
use crate::import_summary::Summary;
use crate::keys;
use crate::session::SessionFile;

/// The longest imported text (attribution line included): the server's
/// limit on a plaintext message, which clients keep for encrypted text too.
const MAX_TEXT: usize = 8 * 1024;
/// Progress is printed every this many messages.
const PROGRESS_EVERY: u64 = 100;
/// Numbered names tried when a channel name is taken by another channel.
const NAME_TRIES: u32 = 50;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A Mattermost bulk export (JSONL, `mattermost export bulk`).
    Mattermost,
    /// A Slack export (the zip of Slack's "Export data").
    Slack,
}

#[derive(clap::Args)]
pub struct Args {
    /// The export's format.
    #[arg(value_enum)]
    format: Format,
    /// The export file.
    file: PathBuf,
    /// Import every channel into this room (made if missing; reused if I
    /// am its owner or admin). Default: a room per Mattermost team, named
    /// after it; for Slack, "Slack".
    #[arg(long, value_name = "NAME")]
    room: Option<String>,
    /// The resume state (default: beside the session file, named after
    /// the export and the room).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Stop after sending this many messages; the same command later goes
    /// on from there.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
}

pub async fn run(args: Args, file: &SessionFile, store: PathBuf) -> Result<()> {
    let source = match args.format {
        Format::Mattermost => Source::Mattermost,
        Format::Slack => Source::Slack,
    };
    let room_name = args.room.clone().unwrap_or_else(|| "Slack".to_owned());
    // A first pass counts the messages (for the progress) and refuses a
    // file that is not an export before anything is made.
    let mut count = Count::default();
    securechat_import::read(source, &args.file, &room_name, &mut count).await?;
    if count.messages == 0 {
        bail!(
            "{} holds no message readable as {} ({} unreadable lines)",
            args.file.display(),
            match source {
                Source::Mattermost => "a Mattermost bulk export (JSONL)",
                Source::Slack => "a Slack export",
            },
            count.unreadable
        );
    }
    let state_path = match &args.state {
        Some(path) => path.clone(),
        None => default_state(file, source, &args.file, args.room.as_deref())?,
    };
    let state = State::open(&state_path)?;
    let (_, secure) = keys::open(file, store).await?;
    let (socket, events) = secure.client().socket().await?;
    // Nothing here reads events: a dropped stream lets the connection run.
    drop(events);
    let mut import = Encrypt {
        secure,
        socket,
        state,
        room: args.room,
        total: count.messages,
        limit: args.limit,
        rooms: HashMap::new(),
        people: HashMap::new(),
        summary: Summary::default(),
        started: Instant::now(),
        channel_label: String::new(),
    };
    let result = securechat_import::read(source, &args.file, &room_name, &mut import).await;
    import.socket.close().await;
    import.state.sync()?;
    let stopped = match result {
        Ok(()) => false,
        Err(error) if error.is::<LimitReached>() => true,
        Err(error) => {
            eprintln!("{}", import.summary.finish(import.started));
            return Err(error.context(format!(
                "import interrupted; run the same command again to go on (state: {})",
                import.state.path().display()
            )));
        }
    };
    crate::output::write_all(&import.summary.finish(import.started))?;
    if stopped {
        crate::output::write_all(&format!(
            "Stopped after {} messages (--limit); run the same command again to go on.\n",
            import.summary.messages
        ))?;
    }
    Ok(())
}

/// `import-<source>-<digest>.jsonl` beside the session file, the digest
/// of the export's full path and the room: the same command finds it again.
fn default_state(
    file: &SessionFile,
    source: Source,
    export: &Path,
    room: Option<&str>,
) -> Result<PathBuf> {
    let full = std::fs::canonicalize(export)
        .with_context(|| format!("cannot open {}", export.display()))?;
    let mut digest = Sha256::new();
    digest.update(full.to_string_lossy().as_bytes());
    digest.update([0]);
    digest.update(room.unwrap_or_default().as_bytes());
    let hex: String = digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(file
        .path()
        .with_file_name(format!("import-{}-{hex}.jsonl", source.name())))
}

/// The `client_msg_id` of an imported message: its channel and source key
/// hashed, so a rerun (even one without the state file) sends the same id
/// and the server answers with the message it already stored.
fn client_msg_id(channel_id: i64, key: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"securechat-cli import\0");
    digest.update(channel_id.to_string().as_bytes());
    digest.update([0]);
    digest.update(key.as_bytes());
    let hex: String = digest.finalize()[..20]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("import-{hex}")
}

/// The attribution line: `alice · 2021-03-04 05:06 UTC (imported)`.
fn attribution(author: &str, at_ms: i64, edited: bool) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .map_or_else(|| "unknown time".to_owned(), |t| format!("{t} UTC"));
    let what = if edited {
        "imported, edited"
    } else {
        "imported"
    };
    format!("{author} · {when} ({what})")
}

/// The first pass: messages and unreadable lines counted, nothing kept.
#[derive(Default)]
struct Count {
    messages: u64,
    unreadable: u64,
}

impl Sink for Count {
    type Error = anyhow::Error;

    async fn push(&mut self, item: Item) -> Result<()> {
        match item {
            Item::Message(_) => self.messages += 1,
            Item::Skipped("unreadable line") => self.unreadable += 1,
            _ => {}
        }
        Ok(())
    }
}

/// `--limit` reached: the read stops there, and the summary says so.
#[derive(Debug)]
struct LimitReached;

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the --limit of messages was reached")
    }
}

impl std::error::Error for LimitReached {}

/// The second pass: each item made or sent, encrypted.
struct Encrypt {
    secure: SecureClient,
    socket: Socket,
    state: State,
    room: Option<String>,
    total: u64,
    limit: Option<u64>,
    /// Source room key → room id.
    rooms: HashMap<String, i64>,
    /// Source person key → how the attribution names them.
    people: HashMap<String, String>,
    summary: Summary,
    started: Instant,
    /// The channel being imported, for the progress line.
    channel_label: String,
}

impl Sink for Encrypt {
    type Error = anyhow::Error;

    async fn push(&mut self, item: Item) -> Result<()> {
        match item {
            Item::Room(r) => self.source_room(r).await,
            Item::Channel(c) => self.channel(c).await,
            Item::Person(p) => {
                self.person(p);
                Ok(())
            }
            Item::Message(m) => self.message(m).await,
            Item::Skipped(why) => {
                self.summary.skip(why);
                Ok(())
            }
        }
    }
}

impl Encrypt {
    async fn source_room(&mut self, r: Room) -> Result<()> {
        let name = self.room.clone().unwrap_or(r.name);
        let id = self.room_for(&r.key, &name).await?;
        self.rooms.insert(r.key, id);
        Ok(())
    }

    /// The room recorded for `key`, else my room named `name` (reused),
    /// else a new private room with its signed log started.
    async fn room_for(&mut self, key: &str, name: &str) -> Result<i64> {
        if let Some(id) = self.state.room(key) {
            return Ok(id);
        }
        let rooms = self.secure.client().rooms().await?;
        let id = match rooms.iter().find(|r| !r.is_dm() && r.name == name) {
            Some(room) if matches!(room.my_role, Some(Role::Owner | Role::Admin)) => {
                self.summary.rooms_reused += 1;
                room.id
            }
            Some(_) => bail!("a room named {name} exists and I am not its owner or admin"),
            None => {
                let created = self
                    .secure
                    .create_room(&NewRoom::private(name))
                    .await
                    .with_context(|| format!("cannot create the room {name}"))?;
                self.summary.rooms_made += 1;
                created.id
            }
        };
        self.state.record_room(key, id)?;
        Ok(id)
    }

    async fn channel(&mut self, c: Channel) -> Result<()> {
        if self.state.channel(&c.key).is_some() {
            self.summary.channels_reused += 1;
            return Ok(());
        }
        let room = if c.private {
            let name = if c.name.trim().is_empty() {
                "Imported"
            } else {
                &c.name
            };
            self.room_for(&format!("private:{}", c.key), name).await?
        } else {
            match self.rooms.get(&c.room) {
                Some(&room) => room,
                None => {
                    self.summary.skip("channel of an unknown team");
                    return Ok(());
                }
            }
        };
        let id = self.encrypted_channel(room, &c.name).await?;
        self.state.record_channel(&c.key, id)?;
        Ok(())
    }

    /// The room's encrypted channel of this name (reused), else a new one
    /// under the first free name (`name`, `name-2`, …).
    async fn encrypted_channel(&mut self, room: i64, source_name: &str) -> Result<i64> {
        let base = channel_name(source_name);
        let existing = self.secure.client().room(room).await?.channels;
        if let Some(c) = existing.iter().find(|c| c.name == base && c.is_encrypted) {
            self.summary.channels_reused += 1;
            return Ok(c.id);
        }
        for n in 1..=NAME_TRIES {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if existing.iter().any(|c| c.name == name) {
                continue;
            }
            match self.secure.create_channel(room, &name, true).await {
                Ok(made) => {
                    self.summary.channels_made += 1;
                    return Ok(made.id);
                }
                Err(error) if error.status() == Some(409) => continue,
                Err(error) => {
                    return Err(anyhow!(error).context(format!("cannot create #{name}")));
                }
            }
        }
        bail!("no free name for channel {source_name}")
    }

    fn person(&mut self, p: Person) {
        let name = if p.deleted {
            format!("{} (deactivated)", p.username)
        } else {
            p.username
        };
        self.people.insert(p.key, name);
    }

    async fn message(&mut self, m: Message) -> Result<()> {
        self.summary.read += 1;
        let Some(channel_id) = self.state.channel(&m.channel) else {
            self.summary
                .skip("message in an unknown or skipped channel");
            return Ok(());
        };
        self.summary.reactions_left += m.reactions.len() as u64;
        if self.state.message(&m.key).is_some() {
            self.summary.already += 1;
            return self.progress(&m.channel);
        }
        if self
            .limit
            .is_some_and(|limit| self.summary.messages >= limit)
        {
            return Err(LimitReached.into());
        }
        let author = self.people.get(&m.sender).unwrap_or(&m.sender);
        let header = attribution(author, m.created_at, m.edited_at.is_some());
        let room = MAX_TEXT.saturating_sub(header.len() + 1);
        let (text, cut) = securechat_import::message_text(&m.text, &m.files, room);
        let Some(text) = text else {
            self.summary.skip("empty message");
            return Ok(());
        };
        let mut outgoing = OutgoingMessage::new(channel_id, format!("{header}\n{text}"))
            .client_msg_id(client_msg_id(channel_id, &m.key));
        if let Some(root) = &m.thread_root {
            match self.state.message(root) {
                Some(root_id) => {
                    outgoing = outgoing.in_thread(root_id, false);
                    self.summary.replies += 1;
                }
                None => self.summary.orphans += 1,
            }
        }
        let sent = self
            .secure
            .send_message(&self.socket, &outgoing)
            .await
            .with_context(|| format!("cannot send the message {}", m.key))?;
        self.state.record_message(&m.key, sent.id)?;
        self.summary.messages += 1;
        self.summary.files += m.files.len() as u64;
        if cut {
            self.summary.truncated += 1;
        }
        self.progress(&m.channel)
    }

    /// A progress line on standard error every [`PROGRESS_EVERY`] messages
    /// and at each new channel.
    fn progress(&mut self, channel: &str) -> Result<()> {
        let done = self.summary.messages + self.summary.already;
        if channel != self.channel_label || done.is_multiple_of(PROGRESS_EVERY) {
            if channel != self.channel_label {
                self.channel_label = channel.to_owned();
            }
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            eprintln!(
                "import: {done}/{} messages ({}), {:.1} sent/s",
                self.total,
                self.channel_label,
                self.summary.messages as f64 / secs
            );
        }
        Ok(())
    }
}

/// The longest channel name the server takes.
const CHANNEL_NAME_MAX: usize = 64;

/// A valid channel name for a source's (the server checks it again).
fn channel_name(name: &str) -> String {
    securechat_import::channel_name(name, CHANNEL_NAME_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribution_and_ids_are_stable() {
        assert_eq!(
            attribution("alice", 1_614_834_367_000, false),
            "alice · 2021-03-04 05:06 UTC (imported)"
        );
        assert!(attribution("bob", 0, true).ends_with("(imported, edited)"));
        let id = client_msg_id(7, "acme/town-square/alice/1");
        assert_eq!(id, client_msg_id(7, "acme/town-square/alice/1"));
        assert_ne!(id, client_msg_id(8, "acme/town-square/alice/1"));
        assert!(id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(channel_name("town square!"), "town-square-");
        assert_eq!(channel_name("???"), "imported");
    }
}
