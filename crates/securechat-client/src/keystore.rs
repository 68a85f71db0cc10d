//! The local key store: everything end-to-end encryption must remember
//! between runs, in one JSON file only its owner can read (mode 0600),
//! written atomically (a private temporary file renamed over the old one),
//! so a crash never leaves half a store and the secrets are never readable
//! by others, not even for a moment.
//!
//! It holds secrets (the identity export, channel keys) and trust decisions
//! (pinned bundles, membership-log heads). The server sees none of it; losing
//! the file loses the identity unless a backup was made
//! (`SecureClient::backup`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The file format version; a store written by a newer format is refused
/// rather than misread.
const FORMAT: u32 = 1;

/// Everything one user's client keeps.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyStore {
    /// Always [`FORMAT`].
    pub format: u32,
    /// The server this store belongs to (a store is per server and user).
    #[serde(default)]
    pub server: String,
    /// Whose store this is.
    pub user_id: i64,
    /// My identity export (`Identity::export`), once generated or restored.
    #[serde(default)]
    pub identity: Option<String>,
    /// Pinned bundles per user (trust on first use).
    #[serde(default)]
    pub pins: BTreeMap<i64, Pin>,
    /// Channel keys: channel → version → key.
    #[serde(default)]
    pub channel_keys: BTreeMap<i64, BTreeMap<u32, StoredKey>>,
    /// The last verified membership-log head of each room.
    #[serde(default)]
    pub log_pins: BTreeMap<i64, LogPin>,
    /// My outstanding key requests: channel → request ids.
    #[serde(default)]
    pub my_requests: BTreeMap<i64, BTreeSet<i64>>,
    /// Others' key requests waiting for my explicit approval, by request id.
    #[serde(default)]
    pub inbox: BTreeMap<i64, KeyRequest>,
    /// Messages already accepted: `channel:version:sender:counter` → message
    /// id, so reading history again is not mistaken for a replay while the
    /// same envelope under another message id is.
    #[serde(default)]
    pub seen: BTreeMap<String, i64>,
}

/// What I trust for one user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pin {
    /// The accepted bundle (wire form).
    pub current: String,
    /// Every bundle ever accepted, oldest first, the current one included
    /// (membership entries signed under an older key still verify).
    #[serde(default)]
    pub accepted: Vec<String>,
    /// A different bundle the server offered and I have not accepted
    /// (`securechat-cli trust <user>`): the user gets no key meanwhile.
    #[serde(default)]
    pub offered: Option<String>,
}

/// One channel key version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// `ChannelKey::export`.
    pub key: String,
    /// When I obtained it (unix seconds), for the age cap of sending.
    pub obtained_at: u64,
    /// The counter my next message under this version carries.
    #[serde(default)]
    pub next_counter: u32,
}

/// The `(seq, head hash)` of the last membership log I verified.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogPin {
    pub seq: u64,
    /// Hex of the entry hash.
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
}

/// A `channel_key_request` waiting for approval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyRequest {
    pub request_id: i64,
    pub channel_id: i64,
    pub requester_id: i64,
    #[serde(default)]
    pub requester_username: String,
    /// The version asked for (the channel's current one when asked).
    #[serde(default)]
    pub key_version: Option<u32>,
}

impl KeyStore {
    /// An empty store for `user_id` on `server`.
    pub fn new(server: &str, user_id: i64) -> Self {
        Self {
            format: FORMAT,
            server: server.to_owned(),
            user_id,
            ..Self::default()
        }
    }

    /// Reads the store at `path`; `None` if there is no file yet.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(store_error(path, format!("cannot read: {e}"))),
        };
        let store: Self = serde_json::from_slice(&bytes)
            .map_err(|e| store_error(path, format!("damaged ({e})")))?;
        if store.format != FORMAT {
            return Err(store_error(
                path,
                format!(
                    "written in format {} (this client reads {FORMAT})",
                    store.format
                ),
            ));
        }
        Ok(Some(store))
    }

    /// Writes the store atomically with mode 0600 (its directory 0700 when
    /// created here).
    pub fn save(&self, path: &Path) -> Result<()> {
        let fail = |e: io::Error| store_error(path, format!("cannot write: {e}"));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(fail)?;
        }
        let bytes = serde_json::to_vec_pretty(self)?;
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        let temporary = path.with_file_name(name);
        let written = (|| {
            let mut file = create_private_file(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&temporary, path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written.map_err(fail)
    }

    /// The stored key of `channel_id` at `version`.
    pub fn key(&self, channel_id: i64, version: u32) -> Option<&StoredKey> {
        self.channel_keys.get(&channel_id)?.get(&version)
    }

    /// The newest version of `channel_id` I hold.
    pub fn latest_version(&self, channel_id: i64) -> Option<u32> {
        self.channel_keys
            .get(&channel_id)?
            .keys()
            .next_back()
            .copied()
    }
}

/// The key used in [`KeyStore::seen`].
pub(crate) fn seen_key(channel_id: i64, version: u32, sender_id: i64, counter: u32) -> String {
    format!("{channel_id}:{version}:{sender_id}:{counter}")
}

fn store_error(path: &Path, detail: String) -> Error {
    Error::KeyStore {
        path: PathBuf::from(path),
        detail,
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A leftover temporary file keeps its old mode: set it again.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// `[u8; 32]` as 64 hex digits.
mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        if text.len() != 64 || !text.is_ascii() {
            return Err(D::Error::custom("expected 64 hex digits"));
        }
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                .map_err(|_| D::Error::custom("expected 64 hex digits"))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_private_mode_and_no_leftover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("keys.json");
        assert!(KeyStore::load(&path).unwrap().is_none());
        let mut store = KeyStore::new("http://x", 7);
        store.log_pins.insert(
            3,
            LogPin {
                seq: 2,
                hash: [0xab; 32],
            },
        );
        store.channel_keys.entry(5).or_default().insert(
            2,
            StoredKey {
                key: "k".into(),
                obtained_at: 10,
                next_counter: 4,
            },
        );
        store.save(&path).unwrap();
        store.save(&path).unwrap();
        let back = KeyStore::load(&path).unwrap().unwrap();
        assert_eq!(back.user_id, 7);
        assert_eq!(back.log_pins[&3].hash, [0xab; 32]);
        assert_eq!(back.key(5, 2).unwrap().next_counter, 4);
        assert_eq!(back.latest_version(5), Some(2));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    }

    #[test]
    fn damaged_or_foreign_stores_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        fs::write(&path, b"{not json").unwrap();
        assert!(matches!(KeyStore::load(&path), Err(Error::KeyStore { .. })));
        fs::write(&path, br#"{"format": 9, "user_id": 1}"#).unwrap();
        assert!(matches!(KeyStore::load(&path), Err(Error::KeyStore { .. })));
    }
}
