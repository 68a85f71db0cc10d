//! Bringing a backup back into a stopped, empty deployment: everything is
//! read into a staging folder in `DATA_DIR` and checked against the
//! manifest before anything is moved into place.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use flate2::read::GzDecoder;

use super::manifest::{self, Entry, HashingReader, Manifest};
use super::{Deployment, Progress, store};
use crate::files::config::StoreConfig;

/// What a finished restore brought back.
#[derive(Debug)]
pub struct Summary {
    pub manifest: Manifest,
    pub files: usize,
}

/// Restores the archive `from` into `deployment`, which must be empty
/// unless `replace` is set.
pub async fn restore(
    deployment: &Deployment,
    from: &Path,
    replace: bool,
) -> anyhow::Result<Summary> {
    let archive = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let db_path = deployment.sqlite_path()?;
    if let Some(reason) = in_use(deployment, db_path.as_deref()).await?
        && !replace
    {
        bail!(
            "{reason}: restore only into an empty deployment, or pass --force to replace it \
             (stop the server first)"
        );
    }
    std::fs::create_dir_all(&deployment.data_dir)
        .with_context(|| format!("cannot create {}", deployment.data_dir.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".securechat-restore-")
        .tempdir_in(&deployment.data_dir)
        .with_context(|| format!("cannot write in {}", deployment.data_dir.display()))?;
    let (manifest, read) = tokio::task::block_in_place(|| unpack(archive, staging.path()))
        .with_context(|| {
            format!(
                "the archive {} is damaged or not a Securechat backup",
                from.display()
            )
        })?;
    verify_entries(&manifest, &read)?;

    let has_database = read.contains_key(manifest::DATABASE);
    match (manifest.engine.as_str(), &db_path, has_database) {
        ("sqlite", Some(_), true) => {}
        ("sqlite", None, true) => bail!(
            "this backup holds an SQLite database and DATABASE_URL is PostgreSQL: restore it \
             into an SQLite deployment, then move it with `securechat migrate-to-postgres`"
        ),
        ("postgres", _, false) => eprintln!(
            "securechat: this backup comes from a PostgreSQL deployment and holds no database: \
             restore the database with `pg_restore` from its `pg_dump`."
        ),
        (engine, _, _) => bail!("the manifest's engine {engine:?} does not match its entries"),
    }
    let staged_db = staging.path().join(manifest::DATABASE);
    if has_database {
        check_database(&staged_db, &manifest).await?;
    }

    let blobs: Vec<&str> = read
        .keys()
        .filter_map(|p| p.strip_prefix(manifest::FILES_DIR))
        .collect();
    if !blobs.is_empty() {
        let StoreConfig::Local(files_dir) = &deployment.files else {
            bail!(
                "FILE_STORE=s3: this build restores files into a local folder only; restore \
                 with FILE_STORE=local, then copy DATA_DIR/files into the bucket"
            );
        };
        std::fs::create_dir_all(files_dir)
            .with_context(|| format!("cannot create {}", files_dir.display()))?;
        let mut progress = Progress::new("restored files", blobs.len());
        for key in &blobs {
            let from = staging.path().join(manifest::FILES_DIR).join(key);
            move_into_place(&from, &files_dir.join(key))?;
            progress.step(
                read.get(&format!("{}{key}", manifest::FILES_DIR))
                    .map_or(0, |e| e.size),
            );
        }
        progress.print();
    }
    for name in manifest::KEY_FILES {
        let entry = format!("{}{name}", manifest::KEYS_DIR);
        if read.contains_key(&entry) {
            move_into_place(
                &staging.path().join(&entry),
                &deployment.data_dir.join(name),
            )?;
        }
    }
    if let (Some(db), true) = (db_path, has_database) {
        for suffix in ["-wal", "-shm"] {
            let mut side = db.clone().into_os_string();
            side.push(suffix);
            remove_if_present(Path::new(&side))?;
        }
        move_into_place(&staged_db, &db)?;
    }
    Ok(Summary {
        files: blobs.len(),
        manifest,
    })
}

/// Why the deployment is not empty, if it is not: a database with
/// accounts, key files, or blobs.
async fn in_use(deployment: &Deployment, db: Option<&Path>) -> anyhow::Result<Option<String>> {
    if let Some(db) = db
        && db.is_file()
    {
        let mut conn = store::open_existing(db).await?;
        let used = store::has_accounts(&mut conn).await?;
        sqlx::Connection::close(conn).await.ok();
        if used {
            return Ok(Some(format!(
                "the database {} holds accounts",
                db.display()
            )));
        }
    }
    for name in manifest::KEY_FILES {
        let path = deployment.data_dir.join(name);
        if path.exists() {
            return Ok(Some(format!("{} exists", path.display())));
        }
    }
    if let StoreConfig::Local(dir) = &deployment.files
        && let Ok(mut items) = std::fs::read_dir(dir)
        && items.next().is_some()
    {
        return Ok(Some(format!("{} is not empty", dir.display())));
    }
    Ok(None)
}

/// Reads every entry into `staging`, hashing it; returns the manifest and
/// what was read.
fn unpack(archive: File, staging: &Path) -> anyhow::Result<(Manifest, BTreeMap<String, Entry>)> {
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(archive)));
    let mut read = BTreeMap::new();
    let mut manifest = None;
    let mut progress = Progress::new("read entries", 0);
    for item in tar.entries()? {
        let item = item?;
        if item.header().entry_type() != tar::EntryType::Regular {
            bail!("the archive holds something other than plain files");
        }
        let path = item.path()?.to_str().map(str::to_owned);
        let Some(path) = path else {
            bail!("an entry's name is not UTF-8");
        };
        if path == manifest::MANIFEST {
            let mut text = String::new();
            item.take(manifest::MAX_MANIFEST)
                .read_to_string(&mut text)
                .context("cannot read the manifest")?;
            manifest =
                Some(serde_json::from_str::<Manifest>(&text).context("the manifest is not valid")?);
            continue;
        }
        if !manifest::is_known_entry(&path) {
            bail!("unexpected entry {path:?}");
        }
        if read.contains_key(&path) {
            bail!("the entry {path:?} appears twice");
        }
        let target = staging.join(&path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut out = private_file(&target)?;
        let mut reader = HashingReader::new(item);
        std::io::copy(&mut reader, &mut out)
            .with_context(|| format!("cannot unpack {path} (is the disk full?)"))?;
        out.sync_all()
            .with_context(|| format!("cannot write {}", target.display()))?;
        let entry = reader.finish();
        progress.step(entry.size);
        read.insert(path, entry);
    }
    // The end-of-archive blocks come before gzip's trailer: reading to the
    // end makes the decoder check the CRC of everything above.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink())?;
    let manifest = manifest.context("the archive has no manifest.json")?;
    if manifest.format != manifest::FORMAT {
        bail!(
            "archive format {} is not the one this build reads ({})",
            manifest.format,
            manifest::FORMAT
        );
    }
    Ok((manifest, read))
}

/// Every entry matches the manifest, and the manifest lists nothing absent.
fn verify_entries(manifest: &Manifest, read: &BTreeMap<String, Entry>) -> anyhow::Result<()> {
    for (path, entry) in read {
        match manifest.entries.get(path) {
            None => bail!("the archive holds {path}, which its manifest does not list"),
            Some(listed) if listed != entry => bail!(
                "{path} does not match its manifest (SHA-256 {} expected, {} found): the \
                 archive is damaged",
                listed.sha256,
                entry.sha256
            ),
            Some(_) => {}
        }
    }
    if let Some(absent) = manifest.entries.keys().find(|p| !read.contains_key(*p)) {
        bail!("the manifest lists {absent}, which the archive lacks: it is incomplete");
    }
    Ok(())
}

/// The staged database is sound, of a schema this build knows, and holds
/// the rows the manifest counted.
async fn check_database(path: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let mut conn = store::open_existing(path).await?;
    let check = store::quick_check(&mut conn).await?;
    if check != "ok" {
        bail!("the database in the archive fails SQLite's integrity check: {check}");
    }
    let schema = store::schema_version(&mut conn).await?;
    if schema != manifest.schema_version {
        bail!(
            "the database's schema version is {schema}, its manifest says {}",
            manifest.schema_version
        );
    }
    let latest = crate::storage::latest_migration();
    if schema > latest {
        bail!(
            "the backup comes from a newer Securechat (schema {schema}; this build knows up to \
             {latest}): restore it with that version or a later one"
        );
    }
    let counts = store::row_counts(&mut conn).await?;
    sqlx::Connection::close(conn).await.ok();
    if counts != manifest.tables {
        let differs = manifest
            .tables
            .iter()
            .find(|(table, rows)| counts.get(*table) != Some(rows))
            .map_or_else(|| "the table list".to_owned(), |(t, _)| t.clone());
        bail!("the database's rows differ from its manifest ({differs})");
    }
    Ok(())
}

/// Moves `from` to `to`, replacing it; copies across file systems.
fn move_into_place(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(dir) = to.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    let partial = PathBuf::from(format!("{}.restoring", to.display()));
    std::fs::copy(from, &partial)
        .with_context(|| format!("cannot write {} (is the disk full?)", partial.display()))?;
    std::fs::rename(&partial, to).with_context(|| format!("cannot create {}", to.display()))
}

/// A new file readable by its owner only: the staged key files and
/// database are as private as the originals.
fn private_file(path: &Path) -> anyhow::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}
