//! The manifest: what a backup archive holds, written as its last entry
//! (`manifest.json`) once every hash is known, and checked entry by entry
//! on restore.

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The archive layout this build writes and reads.
pub const FORMAT: u32 = 1;
/// The manifest's name in the archive.
pub const MANIFEST: &str = "manifest.json";
/// The SQLite snapshot's name in the archive.
pub const DATABASE: &str = "database/securechat.db";
/// Folder of the server's key files in the archive.
pub const KEYS_DIR: &str = "keys/";
/// Folder of the uploaded files' blobs in the archive.
pub const FILES_DIR: &str = "files/";
/// The key files `DATA_DIR` may hold (`config/`): the generated secret key
/// and VAPID key. Nothing else in `DATA_DIR` is read or written.
pub const KEY_FILES: [&str; 2] = ["secret_key", crate::config::push::VAPID_KEY_FILE];

/// Largest manifest accepted on restore (a list of every blob).
pub const MAX_MANIFEST: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The `securechat` version that wrote the archive.
    pub securechat_version: String,
    pub created_at: String,
    /// `sqlite` (the database is in the archive) or `postgres` (it is not:
    /// `pg_dump` backs it up).
    pub engine: String,
    /// The highest migration applied to the snapshot (0 without one).
    pub schema_version: i64,
    /// Rows per table of the snapshot.
    pub tables: BTreeMap<String, i64>,
    /// Every entry but the manifest, by path in the archive.
    pub entries: BTreeMap<String, Entry>,
    /// Blobs of file rows in the snapshot that were deleted before they
    /// could be copied (their message was deleted after the snapshot); the
    /// rows are marked deleted in the snapshot, so the restored server
    /// purges them like any deleted file.
    pub missing_blobs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub size: u64,
    /// Hex SHA-256 of the entry's bytes.
    pub sha256: String,
}

/// Reads through to `inner`, hashing and counting what passes.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// What was read so far.
    pub fn finish(self) -> Entry {
        Entry {
            size: self.size,
            sha256: hex(&self.hasher.finalize()),
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `name` may be a blob's name: the server makes them as hex
/// (`files::new_storage_key`), so anything else in an archive is refused
/// before it can name a path.
pub fn is_blob_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `path` is an entry this format defines.
pub fn is_known_entry(path: &str) -> bool {
    path == DATABASE
        || path
            .strip_prefix(KEYS_DIR)
            .is_some_and(|k| KEY_FILES.contains(&k))
        || path.strip_prefix(FILES_DIR).is_some_and(is_blob_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_formats_own_paths_are_entries() {
        assert!(is_known_entry("database/securechat.db"));
        assert!(is_known_entry("keys/secret_key"));
        assert!(is_known_entry("keys/vapid_private_key"));
        assert!(is_known_entry("files/0123abcd"));
        for bad in [
            "files/../secret",
            "files/",
            "files/a/b",
            "keys/other",
            "/etc/passwd",
            "database/../x",
            "manifest.json",
        ] {
            assert!(!is_known_entry(bad), "{bad}");
        }
    }

    #[test]
    fn the_hashing_reader_hashes_what_it_reads() {
        let mut reader = HashingReader::new(&b"abc"[..]);
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        let entry = reader.finish();
        assert_eq!(entry.size, 3);
        assert_eq!(
            entry.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
