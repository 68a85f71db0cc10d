//! The resume state of `securechat-cli import`: what an import made and
//! sent, by the source's keys, as an append-only log of JSON lines —
//! `{"kind":"room","key":…,"id":…}`, `channel` and `message` likewise —
//! one line written (a single append) as soon as the server answered, so
//! a run interrupted at any point (Ctrl-C, a crash, a lost connection)
//! leaves a log that a rerun reads to send only what is missing.
//!
//! A torn last line (the process killed mid-write) is ignored; the message
//! it recorded is then sent again with the same `client_msg_id`, which the
//! server answers with the message it already holds, so nothing is
//! duplicated. The file holds ids and source keys (channel names,
//! usernames, times), never message text; it is private (0600).

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::session::open_private_append;

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Record {
    Room { key: String, id: i64 },
    Channel { key: String, id: i64 },
    Message { key: String, id: i64 },
}

/// The state read back, and the file that further records append to.
pub struct State {
    path: PathBuf,
    file: fs::File,
    rooms: HashMap<String, i64>,
    channels: HashMap<String, i64>,
    /// Source message key → the new message's id (thread roots are looked
    /// up here): a few dozen bytes a message, the one thing an import
    /// holds per message.
    messages: HashMap<String, i64>,
}

impl State {
    /// Opens (or starts) the state at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = open_private_append(path)
            .with_context(|| format!("cannot open the import state {}", path.display()))?;
        let mut state = Self {
            path: path.to_owned(),
            file,
            rooms: HashMap::new(),
            channels: HashMap::new(),
            messages: HashMap::new(),
        };
        let reader = BufReader::new(
            fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        );
        for line in reader.split(b'\n') {
            let line = line.with_context(|| format!("cannot read {}", path.display()))?;
            match serde_json::from_slice::<Record>(&line) {
                Ok(Record::Room { key, id }) => {
                    state.rooms.insert(key, id);
                }
                Ok(Record::Channel { key, id }) => {
                    state.channels.insert(key, id);
                }
                Ok(Record::Message { key, id }) => {
                    state.messages.insert(key, id);
                }
                // A line torn by an interruption: what it recorded is
                // found again by its `client_msg_id`.
                Err(_) => {}
            }
        }
        if !ends_line(path).with_context(|| format!("cannot read {}", path.display()))? {
            // End a torn last line so the next record starts its own.
            state.append_raw(b"\n")?;
        }
        Ok(state)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn room(&self, key: &str) -> Option<i64> {
        self.rooms.get(key).copied()
    }

    pub fn channel(&self, key: &str) -> Option<i64> {
        self.channels.get(key).copied()
    }

    pub fn message(&self, key: &str) -> Option<i64> {
        self.messages.get(key).copied()
    }

    pub fn record_room(&mut self, key: &str, id: i64) -> Result<()> {
        self.rooms.insert(key.to_owned(), id);
        self.append(&Record::Room {
            key: key.to_owned(),
            id,
        })
    }

    pub fn record_channel(&mut self, key: &str, id: i64) -> Result<()> {
        self.channels.insert(key.to_owned(), id);
        self.append(&Record::Channel {
            key: key.to_owned(),
            id,
        })
    }

    pub fn record_message(&mut self, key: &str, id: i64) -> Result<()> {
        self.messages.insert(key.to_owned(), id);
        self.append(&Record::Message {
            key: key.to_owned(),
            id,
        })
    }

    /// Flushes what was appended to the disk (at the end of a run).
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_all()
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.append_raw(&line)
    }

    /// One `write_all` of a whole line on a file opened for appending.
    fn append_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// Whether the file is empty or ends with a line end.
fn ends_line(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}
