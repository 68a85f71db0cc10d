//! Taking a backup: the snapshot, then the blobs its rows name, the key
//! files and the manifest, into a temporary file beside the destination
//! that becomes the archive only once complete.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use tempfile::NamedTempFile;

use super::manifest::{self, Entry, HashingReader, Manifest};
use super::{Deployment, Progress, mebibytes, store};
use crate::files::config::StoreConfig;
use crate::storage::{now_ms, rfc3339};

type Archive = tar::Builder<GzEncoder<BufWriter<File>>>;

/// What a finished backup holds.
#[derive(Debug)]
pub struct Summary {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub bytes: u64,
}

/// Writes a backup of `deployment` to the new file `to`.
pub async fn backup(deployment: &Deployment, to: &Path) -> anyhow::Result<Summary> {
    if !deployment.data_dir.is_dir() {
        bail!(
            "DATA_DIR {} is not a directory: nothing to back up (check DATA_DIR / --data-dir)",
            deployment.data_dir.display()
        );
    }
    if to.exists() {
        bail!(
            "{} already exists; a backup never overwrites a file",
            to.display()
        );
    }
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    // The archive and the snapshot are written beside the destination:
    // same file system, so the final rename is atomic and the space
    // checked is the space used.
    let partial = tempfile::Builder::new()
        .prefix(".securechat-backup-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(".securechat-snapshot-")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let writer = BufWriter::new(
        partial
            .reopen()
            .with_context(|| format!("cannot write in {}", dir.display()))?,
    );
    let mut archive = tar::Builder::new(GzEncoder::new(writer, Compression::default()));
    let mut entries = BTreeMap::new();

    let (engine, schema_version, tables, missing) = match deployment.sqlite_path()? {
        Some(db) => {
            let snapshot = scratch.path().join("securechat.db");
            let (schema, tables, missing) =
                sqlite(deployment, &db, &snapshot, &mut archive, &mut entries).await?;
            ("sqlite", schema, tables, missing)
        }
        None => {
            eprintln!(
                "securechat: the PostgreSQL database is not part of this archive: back it up \
                 with `pg_dump --format=custom` (run it before this command, so every file row \
                 it holds has its blob here). Backing up the files and keys."
            );
            if let StoreConfig::Local(files) = &deployment.files {
                let keys = blobs_on_disk(files)?;
                let mut progress = Progress::new("files archived", keys.len());
                for key in &keys {
                    if let Some(entry) = append_blob(&mut archive, &files.join(key), key, None)? {
                        progress.step(entry.size);
                        entries.insert(format!("{}{key}", manifest::FILES_DIR), entry);
                    }
                }
                progress.print();
            }
            ("postgres", 0, BTreeMap::new(), Vec::new())
        }
    };
    if let StoreConfig::S3 { bucket, .. } = &deployment.files {
        eprintln!(
            "securechat: FILE_STORE=s3: the uploaded files stay in the bucket {bucket:?} and are \
             not in this archive; back the bucket up with its own versioning or replication."
        );
    }
    for name in manifest::KEY_FILES {
        let path = deployment.data_dir.join(name);
        if let Some(entry) = append_file(&mut archive, &path, &format!("keys/{name}"))? {
            entries.insert(format!("{}{name}", manifest::KEYS_DIR), entry);
        }
    }
    let manifest = Manifest {
        format: manifest::FORMAT,
        securechat_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: rfc3339(now_ms()),
        engine: engine.to_owned(),
        schema_version,
        tables,
        entries,
        missing_blobs: missing,
    };
    let json = serde_json::to_vec_pretty(&manifest).context("cannot encode the manifest")?;
    append_bytes(&mut archive, manifest::MANIFEST, &json)?;
    finish(archive, partial, to).map(|bytes| Summary {
        path: to.to_owned(),
        manifest,
        bytes,
    })
}

/// The SQLite part: snapshot, blobs of its live rows, then the snapshot
/// itself. Returns the schema version, rows per table and vanished blobs.
async fn sqlite(
    deployment: &Deployment,
    db: &Path,
    snapshot: &Path,
    archive: &mut Archive,
    entries: &mut BTreeMap<String, Entry>,
) -> anyhow::Result<(i64, BTreeMap<String, i64>, Vec<String>)> {
    if !db.is_file() {
        bail!(
            "there is no SQLite database at {}: check DATA_DIR and DATABASE_URL",
            db.display()
        );
    }
    let started = Instant::now();
    let mut live = store::open_existing(db).await?;
    if store::schema_version(&mut live).await? == 0 {
        bail!("{} is not a Securechat database", db.display());
    }
    let pinned = match &deployment.files {
        StoreConfig::Local(dir) => Pinned::new(dir)?,
        StoreConfig::S3 { .. } => Pinned::default(),
    };
    store::vacuum_into(&mut live, snapshot).await?;
    drop(live);
    let size = std::fs::metadata(snapshot).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "securechat: database snapshot taken ({}, {:.1} s)",
        mebibytes(size),
        started.elapsed().as_secs_f64()
    );

    let mut conn = store::open_existing(snapshot).await?;
    let rows = store::live_blobs(&mut conn).await?;
    let mut missing = Vec::new();
    if let StoreConfig::Local(files) = &deployment.files {
        let mut progress = Progress::new("files archived", rows.len());
        for row in &rows {
            let entry = tokio::task::block_in_place(|| {
                let path = pinned.path(files, &row.storage_key);
                append_blob(archive, &path, &row.storage_key, Some(&row.sha256))
            })?;
            match entry {
                Some(entry) => {
                    progress.step(entry.size);
                    entries.insert(format!("{}{}", manifest::FILES_DIR, row.storage_key), entry);
                }
                None => missing.push(row.storage_key.clone()),
            }
        }
        progress.print();
    }
    if !missing.is_empty() {
        store::mark_deleted(&mut conn, &missing, now_ms()).await?;
        eprintln!(
            "securechat: {} file(s) were deleted after the snapshot; marked deleted in it",
            missing.len()
        );
    }
    let schema = store::schema_version(&mut conn).await?;
    let tables = store::row_counts(&mut conn).await?;
    sqlx::Connection::close(conn).await.ok();
    let entry = tokio::task::block_in_place(|| append_file(archive, snapshot, manifest::DATABASE))?
        .context("the snapshot file vanished")?;
    entries.insert(manifest::DATABASE.to_owned(), entry);
    Ok((schema, tables, missing))
}

/// Hard links, made just before the snapshot, to every blob then on disk,
/// in a hidden folder inside the files folder: a blob whose message is
/// deleted after the snapshot stays readable here until it is copied,
/// though the server has removed its name. Removed when the backup ends.
/// A blob uploaded between the links and the snapshot is read from the
/// files folder itself. Without hard links (another file system's
/// limits), every blob is read from the files folder.
#[derive(Default)]
struct Pinned {
    links: Option<tempfile::TempDir>,
}

impl Pinned {
    fn new(files: &Path) -> anyhow::Result<Self> {
        let keys = blobs_on_disk(files)?;
        if keys.is_empty() {
            return Ok(Self::default());
        }
        let Ok(links) = tempfile::Builder::new()
            .prefix(".securechat-backup-")
            .tempdir_in(files)
        else {
            return Ok(Self::default());
        };
        for key in &keys {
            // A blob removed meanwhile, or a file system without hard
            // links: that blob is read from its own name later.
            let _ = std::fs::hard_link(files.join(key), links.path().join(key));
        }
        Ok(Self { links: Some(links) })
    }

    /// Where to read the blob `key` of the files folder `files`.
    fn path(&self, files: &Path, key: &str) -> PathBuf {
        if let Some(links) = &self.links {
            let pinned = links.path().join(key);
            if pinned.is_file() {
                return pinned;
            }
        }
        files.join(key)
    }
}

/// Names in the local files folder that can be blobs.
fn blobs_on_disk(dir: &Path) -> anyhow::Result<Vec<String>> {
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut keys = Vec::new();
    for item in read {
        let item = item.with_context(|| format!("cannot list {}", dir.display()))?;
        if let Some(name) = item.file_name().to_str()
            && manifest::is_blob_name(name)
        {
            keys.push(name.to_owned());
        }
    }
    keys.sort();
    Ok(keys)
}

/// Appends the blob `key` from `path`; `None` if it is gone. A hash
/// differing from the recorded one is reported, and the bytes are kept as
/// they are (the server refuses to serve them either way).
fn append_blob(
    archive: &mut Archive,
    path: &Path,
    key: &str,
    recorded: Option<&str>,
) -> anyhow::Result<Option<Entry>> {
    let entry = append_file(archive, path, &format!("files/{key}"))?;
    if let (Some(entry), Some(recorded)) = (&entry, recorded)
        && !entry.sha256.eq_ignore_ascii_case(recorded)
    {
        eprintln!("securechat: warning: the stored file {key} does not match its recorded SHA-256");
    }
    Ok(entry)
}

/// Appends the file at `path` as `name`; `None` if there is no such file.
/// The file is opened once, so a removal while it is copied cannot cut it
/// short.
fn append_file(archive: &mut Archive, path: &Path, name: &str) -> anyhow::Result<Option<Entry>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let size = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let mut header = header(size);
    let mut reader = HashingReader::new(file.take(size));
    archive
        .append_data(&mut header, name, &mut reader)
        .with_context(|| format!("cannot write the archive (copying {})", path.display()))?;
    let entry = reader.finish();
    if entry.size != size {
        bail!("{} changed while it was copied", path.display());
    }
    Ok(Some(entry))
}

fn append_bytes(archive: &mut Archive, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut header = header(bytes.len() as u64);
    archive
        .append_data(&mut header, name, bytes)
        .context("cannot write the archive")
}

fn header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(now_ms() / 1000).unwrap_or(0));
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// Ends the archive, syncs it to disk and gives it its name; returns its
/// size.
fn finish(archive: Archive, partial: NamedTempFile, to: &Path) -> anyhow::Result<u64> {
    let fail = || format!("cannot write the archive in {}", partial.path().display());
    let gzip = archive.into_inner().with_context(fail)?;
    let mut buffered = gzip.finish().with_context(fail)?;
    buffered.flush().with_context(fail)?;
    let file = buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(fail)?;
    file.sync_all().with_context(fail)?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    partial
        .persist_noclobber(to)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot create {}", to.display()))?;
    Ok(bytes)
}
