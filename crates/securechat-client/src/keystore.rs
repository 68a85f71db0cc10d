//! The SDK's and the CLI's [`StateStore`]: the E2EE core's state document
//! in one JSON file only its owner can read (mode 0600), written atomically
//! (a private temporary file renamed over the old one), so a crash never
//! leaves half a store and the secrets are never readable by others, not
//! even for a moment.
//!
//! It holds secrets (the identity export, channel keys) and trust decisions
//! (pinned bundles, membership-log heads). The server sees none of it; losing
//! the file loses the identity unless a backup was made
//! (`SecureClient::backup`). Files written before the core existed (format 1)
//! load unchanged.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use securechat_e2ee::{State, StateStore};

use crate::error::{Error, Result};

/// The key store file at a path.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// The store at `path` (nothing is read until [`StateStore::load`]).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl StateStore for FileStore {
    type Error = Error;

    fn load(&self) -> Result<Option<State>> {
        let path = &self.path;
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(store_error(path, format!("cannot read: {e}"))),
        };
        State::from_json(&text)
            .map(Some)
            .map_err(|detail| store_error(path, detail))
    }

    /// Writes the store atomically with mode 0600 (its directory 0700 when
    /// created here).
    fn save(&self, state: &State) -> Result<()> {
        let path = &self.path;
        let fail = |e: io::Error| store_error(path, format!("cannot write: {e}"));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(fail)?;
        }
        let bytes = state.to_json().into_bytes();
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

#[cfg(test)]
mod tests {
    use super::*;
    use securechat_e2ee::{LogPin, StoredKey};

    #[test]
    fn round_trips_with_private_mode_and_no_leftover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("keys.json");
        let store = FileStore::new(&path);
        assert!(store.load().unwrap().is_none());
        let mut state = State::new("http://x", 7);
        state.log_pins.insert(
            3,
            LogPin {
                seq: 2,
                hash: [0xab; 32],
                changed_at: 1,
            },
        );
        state.channel_keys.entry(5).or_default().insert(
            2,
            StoredKey {
                key: "k".into(),
                obtained_at: 10,
                next_counter: 4,
                made_at: Some(1),
                members: vec![7, 8],
            },
        );
        store.save(&state).unwrap();
        store.save(&state).unwrap();
        let back = store.load().unwrap().unwrap();
        assert_eq!(back, state);
        assert_eq!(back.key(5, 2).unwrap().next_counter, 4);
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
        let store = FileStore::new(&path);
        assert!(matches!(store.load(), Err(Error::KeyStore { .. })));
        fs::write(&path, br#"{"format": 9, "user_id": 1}"#).unwrap();
        assert!(matches!(store.load(), Err(Error::KeyStore { .. })));
    }
}
