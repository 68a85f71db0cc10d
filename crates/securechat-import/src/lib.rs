//! Other chats' exports read into one model, for both importers: the
//! server's `securechat import` (plaintext channels, written straight to
//! the database) and `securechat-cli import` (encrypted channels, each
//! message sealed by the importing client).
//!
//! `mattermost.rs` reads the bulk export's JSONL a line at a time;
//! `slack.rs` the export zip, one day's file at a time; both map into
//! `model.rs` (rooms, channels, people, messages named by their source
//! keys) and hand each [`Item`] to a [`Sink`] as it is read, so memory
//! stays bounded whatever the export's size. `text.rs` holds the text
//! rules both importers share (lone surrogates, NUL, `[file: name]` lines,
//! the length cut).
//!
//! **Invariant:** no database and no network here; what an item becomes
//! (an account, a placeholder, an encrypted message) is the sink's rule.

mod mattermost;
mod model;
mod slack;
mod text;

use std::future::Future;
use std::path::{Path, PathBuf};

pub use model::{Channel, Item, Message, Person, Reaction, Room};
pub use text::{channel_name, message_text};

/// The format of the file to import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Mattermost,
    Slack,
}

impl Source {
    /// The source's name, as import maps and summaries name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mattermost => "mattermost",
            Self::Slack => "slack",
        }
    }
}

/// Why an export cannot be read at all (a line or a message that cannot
/// be read is an [`Item::Skipped`] instead, and the import goes on).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a zip archive (a Slack export is the zip Slack gives)", path.display())]
    NotZip { path: PathBuf },
    #[error("cannot read {name} in the archive: {detail}")]
    Entry { name: String, detail: String },
    #[error("{name} is not the JSON of a Slack export: {detail}")]
    NotSlack { name: String, detail: String },
}

/// Opens the export, saying which file could not be.
async fn open(path: &Path) -> Result<tokio::fs::File, Error> {
    tokio::fs::File::open(path)
        .await
        .map_err(|source| Error::Open {
            path: path.to_owned(),
            source,
        })
}

/// What consumes the items, in the order they are read: rooms, channels,
/// people, then messages, a thread's root before its replies.
pub trait Sink {
    /// The sink's error; a read failure becomes one.
    type Error: From<Error>;

    fn push(&mut self, item: Item) -> impl Future<Output = Result<(), Self::Error>>;
}

/// Reads the export at `path` into `sink`. `room_name` names the room a
/// Slack workspace becomes (a Mattermost team names its own).
pub async fn read<S: Sink>(
    source: Source,
    path: &Path,
    room_name: &str,
    sink: &mut S,
) -> Result<(), S::Error> {
    match source {
        Source::Mattermost => mattermost::read(path, sink).await,
        Source::Slack => slack::read(path, room_name, sink).await,
    }
}
