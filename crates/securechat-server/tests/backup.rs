//! `securechat backup` and `securechat restore` against the real binary: a
//! backup taken while several sockets send and files are uploaded and
//! deleted restores to the manifest's row counts and file hashes, is
//! consistent (every message's channel and every live file's blob), and a
//! server started on it serves the messages and files; damaged, tampered
//! or misdirected archives are refused with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row, SqliteConnection};
use testkit::{Backend, Server, ask, backends, call, connect, room_and_channel, run_binary, token};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_of(path: &Path) -> String {
    hex(&Sha256::digest(std::fs::read(path).unwrap()))
}

/// The environment of `server` pointed at another data directory (and its
/// SQLite file).
fn env_for(server: &Server, dir: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = server
        .env()
        .iter()
        .filter(|(k, _)| k != "DATA_DIR" && k != "DATABASE_URL")
        .cloned()
        .collect();
    env.push(("DATA_DIR".into(), dir.display().to_string()));
    env.push((
        "DATABASE_URL".into(),
        format!("sqlite://{}", dir.join("securechat.db").display()),
    ));
    env
}

/// Every entry of an archive, read with the test's own tar and gzip
/// readers: (path, bytes).
fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_str().unwrap().to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.push((name, bytes));
    }
    out
}

fn manifest(path: &Path) -> Value {
    let all = entries(path);
    let (_, bytes) = all.iter().find(|(n, _)| n == "manifest.json").unwrap();
    serde_json::from_slice(bytes).unwrap()
}

/// Writes `entries` as a gzip-compressed tar archive at `path`.
fn write_archive(path: &Path, entries: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        builder
            .append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

async fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(conn)
        .await
        .unwrap()
}

async fn upload(server: &Server, token: &str, channel: i64, n: u64) -> Value {
    let bytes: Vec<u8> = (0..20_000u64)
        .map(|i| ((i * 31 + n * 7) % 251) as u8)
        .collect();
    let response = testkit::api_client()
        .post(server.url(&format!("/api/channels/{channel}/files?name=f{n}.bin")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Senders like the throughput scenario's: several sockets per account,
/// each sending acked messages one after another until told to stop; and
/// an uploader that posts files and deletes every third file message.
struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    uploaded: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    async fn start(server: &Server, channel: i64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let uploaded = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for (name, password) in [
            ("alice", "password123"),
            ("bob", "password456"),
            ("charlie", "password789"),
        ] {
            let token = token(server, name, password).await;
            for s in 0..2 {
                let (socket, events) = connect(server, &token).await;
                let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
                tasks.push(tokio::spawn(async move {
                    let _events = events;
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let ack = ask(
                            &socket,
                            "send_message",
                            json!({"channel_id": channel, "content": format!("{name}-{s}-{i}"),
                                   "client_msg_id": format!("{name}-{s}-{i}")}),
                        )
                        .await;
                        assert_eq!(ack["success"], true, "{ack}");
                        sent.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                }));
            }
        }
        let alice = token(server, "alice", "password123").await;
        let (socket, events) = connect(server, &alice).await;
        let base = server.base.clone();
        let (stop2, uploaded2) = (Arc::clone(&stop), Arc::clone(&uploaded));
        let client = testkit::api_client();
        tasks.push(tokio::spawn(async move {
            let _events = events;
            let mut n = 0u64;
            while !stop2.load(Ordering::Relaxed) {
                let bytes: Vec<u8> = (0..20_000u64)
                    .map(|i| ((i * 31 + n * 7) % 251) as u8)
                    .collect();
                let response = client
                    .post(format!("{base}/api/channels/{channel}/files?name=f{n}.bin"))
                    .bearer_auth(&alice)
                    .header("content-type", "application/octet-stream")
                    .body(bytes)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                let posted: Value = response.json().await.unwrap();
                if n % 3 == 2 {
                    let ack = ask(
                        &socket,
                        "delete_message",
                        json!({"message_id": posted["message"]["id"]}),
                    )
                    .await;
                    assert_eq!(ack["success"], true, "{ack}");
                }
                uploaded2.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
        Self {
            stop,
            sent,
            uploaded,
            tasks,
        }
    }

    async fn until(&self, messages: u64, files: u64) {
        for _ in 0..600 {
            if self.sent.load(Ordering::Relaxed) >= messages
                && self.uploaded.load(Ordering::Relaxed) >= files
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the load did not reach {messages} messages and {files} files");
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_the_throughput_scenario_writes_restores_to_identical_row_counts_and_file_hashes()
 {
    let server = Server::start_with(Backend::Sqlite, &[("SEND_RATE_LIMIT", "off")]).await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    let load = Load::start(&server, general).await;
    load.until(200, 6).await;

    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("backup.tar.gz");
    let env = server.env().to_vec();
    let to = archive.clone();
    let backup = tokio::task::spawn_blocking(move || {
        run_binary(&env, &["backup", "--to", to.to_str().unwrap()], None)
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&backup.stderr);
    assert!(backup.status.success(), "backup failed: {stderr}");
    assert!(stderr.contains("database snapshot taken"), "{stderr}");
    let hidden: Vec<String> = std::fs::read_dir(server.data_dir.join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "the backup left {hidden:?} in the files folder"
    );
    // Writes go on after the snapshot.
    let after = load.sent.load(Ordering::Relaxed);
    load.until(after + 30, 0).await;
    load.stop().await;

    let manifest = manifest(&archive);
    assert_eq!(manifest["format"], 1);
    assert_eq!(manifest["engine"], "sqlite");
    assert!(manifest["schema_version"].as_i64().unwrap() >= 21);
    let tables = manifest["tables"].as_object().unwrap();
    let snapshot_messages = tables["messages"].as_i64().unwrap();
    assert!(snapshot_messages >= 200, "{manifest}");
    let mut live = SqliteConnection::connect(&format!("sqlite://{}", server.db_path().display()))
        .await
        .unwrap();
    let live_messages = count(&mut live, "SELECT COUNT(*) FROM messages").await;
    assert!(
        live_messages > snapshot_messages,
        "the backup must be a snapshot of a database still being written: {live_messages} vs {snapshot_messages}"
    );

    // Restore into a fresh deployment.
    let fresh = tempfile::tempdir().unwrap();
    let restored = run_binary(
        &env_for(&server, fresh.path()),
        &["restore", "--from", archive.to_str().unwrap()],
        None,
    );
    assert!(
        restored.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&restored.stderr)
    );

    // Identical row counts, table by table, and every table counted.
    let mut db = SqliteConnection::connect(&format!(
        "sqlite://{}",
        fresh.path().join("securechat.db").display()
    ))
    .await
    .unwrap();
    for (table, rows) in tables {
        let n = count(&mut db, &format!("SELECT COUNT(*) FROM \"{table}\"")).await;
        assert_eq!(n, rows.as_i64().unwrap(), "rows of {table}");
    }
    for table in [
        "users",
        "rooms",
        "channels",
        "messages",
        "files",
        "_sqlx_migrations",
    ] {
        assert!(tables.contains_key(table), "{table} counted");
    }
    // Identical file hashes: every archived blob, and every live file row's
    // blob against the hash the upload recorded.
    let files_dir = fresh.path().join("files");
    let mut archived = 0;
    for (path, entry) in manifest["entries"].as_object().unwrap() {
        if let Some(key) = path.strip_prefix("files/") {
            assert_eq!(sha256_of(&files_dir.join(key)), entry["sha256"], "{path}");
            archived += 1;
        }
    }
    assert!(archived >= 3, "{manifest}");
    let rows = sqlx::query("SELECT storage_key, sha256 FROM files WHERE deleted_at IS NULL")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(rows.len(), archived);
    for row in &rows {
        let key: String = row.get("storage_key");
        let sha: String = row.get("sha256");
        assert_eq!(sha256_of(&files_dir.join(&key)), sha, "blob {key}");
    }
    // The snapshot is consistent.
    let orphans = count(
        &mut db,
        "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS \
         (SELECT 1 FROM channels c WHERE c.id = m.channel_id)",
    )
    .await;
    assert_eq!(orphans, 0, "every restored message's channel exists");
    let without_file = count(
        &mut db,
        "SELECT COUNT(*) FROM messages m WHERE m.file_id IS NOT NULL \
         AND m.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM files f WHERE f.id = m.file_id)",
    )
    .await;
    assert_eq!(without_file, 0, "every live file message has its file row");
    // A live message's file is live, unless its blob was deleted (with the
    // message, after the snapshot) before it could be copied: the backup
    // then marked it deleted and listed it.
    let vanished: Vec<String> = sqlx::query_scalar(
        "SELECT f.storage_key FROM messages m JOIN files f ON f.id = m.file_id \
         WHERE m.deleted_at IS NULL AND f.deleted_at IS NOT NULL",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let listed = manifest["missing_blobs"].as_array().unwrap();
    for key in &vanished {
        assert!(
            listed.contains(&json!(key)),
            "{key} is deleted but not listed"
        );
    }
    let deleted = count(
        &mut db,
        "SELECT COUNT(*) FROM messages WHERE file_id IS NOT NULL AND deleted_at IS NOT NULL",
    )
    .await;
    assert!(
        deleted > 0,
        "the load deleted file messages before the snapshot"
    );
    let last: i64 = sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE channel_id = $1")
        .bind(general)
        .fetch_one(&mut db)
        .await
        .unwrap();
    let file_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM files WHERE deleted_at IS NULL")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let file_sha: String = sqlx::query_scalar("SELECT sha256 FROM files WHERE id = $1")
        .bind(file_id)
        .fetch_one(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();

    // A server started on the restored data serves its messages and files,
    // to the accounts and with the keys of the original.
    let server2 = Server::start_on(fresh, &[]);
    let alice2 = token(&server2, "alice", "password123").await;
    let (_, history) = call(
        &server2,
        Some(&alice2),
        "GET",
        &format!("/api/channels/{general}/messages"),
        None,
    )
    .await;
    let ids: Vec<i64> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&last), "{history}");
    assert!(!ids.iter().any(|id| *id > last));
    let got = testkit::api_client()
        .get(server2.url(&format!("/api/files/{file_id}")))
        .bearer_auth(&alice2)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(hex(&Sha256::digest(got.bytes().await.unwrap())), file_sha);
    // And takes new writes.
    let posted = upload(&server2, &alice2, general, 9999).await;
    assert!(posted["message"]["id"].as_i64().unwrap() > last);
}

/// A damaged archive, an archive whose content no longer matches its
/// manifest, a non-empty target and a wrong `DATA_DIR` or destination are
/// refused with a message saying so, and leave nothing behind.
#[tokio::test]
async fn damaged_or_misdirected_backups_are_refused_clearly() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    upload(&server, &alice, general, 1).await;
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("b.tar.gz");
    let made = server.cli(&["backup", "--to", archive.to_str().unwrap()], None);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    // Never overwrites.
    let again = server.cli(&["backup", "--to", archive.to_str().unwrap()], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let refused = |path: &PathBuf, needle: &str| {
        let fresh = tempfile::tempdir().unwrap();
        let out = run_binary(
            &env_for(&server, fresh.path()),
            &["restore", "--from", path.to_str().unwrap()],
            None,
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "restored {}", path.display());
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
        assert!(
            !fresh.path().join("securechat.db").exists()
                && !fresh.path().join("secret_key").exists(),
            "a refused restore wrote into the deployment"
        );
    };

    // Bytes flipped in the compressed stream.
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0x5a;
    }
    let damaged = out.path().join("damaged.tar.gz");
    std::fs::write(&damaged, &bytes).unwrap();
    refused(&damaged, "damaged or not a Securechat backup");

    // Cut short.
    let truncated = out.path().join("truncated.tar.gz");
    std::fs::write(&truncated, &std::fs::read(&archive).unwrap()[..middle]).unwrap();
    refused(&truncated, "damaged or not a Securechat backup");

    // A well-formed archive whose file no longer matches the manifest.
    let mut all = entries(&archive);
    let blob = all
        .iter_mut()
        .find(|(n, _)| n.starts_with("files/"))
        .unwrap();
    blob.1[0] ^= 1;
    let tampered = out.path().join("tampered.tar.gz");
    write_archive(&tampered, &all);
    refused(&tampered, "does not match its manifest");

    // A database whose rows differ from the manifest's counts.
    let mut all = entries(&archive);
    let manifest_at = all.iter().position(|(n, _)| n == "manifest.json").unwrap();
    let mut m: Value = serde_json::from_slice(&all[manifest_at].1).unwrap();
    m["tables"]["users"] = json!(1000);
    all[manifest_at].1 = serde_json::to_vec(&m).unwrap();
    let miscounted = out.path().join("miscounted.tar.gz");
    write_archive(&miscounted, &all);
    refused(&miscounted, "rows differ from its manifest (users)");

    // Not an archive at all.
    let junk = out.path().join("junk.tar.gz");
    std::fs::write(&junk, b"hello").unwrap();
    refused(&junk, "damaged or not a Securechat backup");

    // Into the running deployment itself: not empty.
    let into_live = server.cli(&["restore", "--from", archive.to_str().unwrap()], None);
    assert!(!into_live.status.success());
    let stderr = String::from_utf8_lossy(&into_live.stderr);
    assert!(
        stderr.contains("holds accounts") && stderr.contains("--force"),
        "{stderr}"
    );

    // Another deployment in use is refused, then replaced with --force.
    let other = tempfile::tempdir().unwrap();
    let other_env = env_for(&server, other.path());
    assert!(
        run_binary(&other_env, &["init-db", "--demo"], None)
            .status
            .success()
    );
    let from = ["restore", "--from", archive.to_str().unwrap()];
    assert!(!run_binary(&other_env, &from, None).status.success());
    let forced = run_binary(&other_env, &[&from[..], &["--force"]].concat(), None);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let mut db = SqliteConnection::connect(&format!(
        "sqlite://{}",
        other.path().join("securechat.db").display()
    ))
    .await
    .unwrap();
    let m = manifest(&archive);
    for table in ["users", "messages", "files"] {
        let n = count(&mut db, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(Some(n), m["tables"][table].as_i64(), "{table}");
    }
    db.close().await.unwrap();

    // A wrong DATA_DIR, and a destination that cannot be written.
    let nowhere = out.path().join("nowhere");
    let wrong = run_binary(
        &env_for(&server, &nowhere),
        &[
            "backup",
            "--to",
            out.path().join("x.tar.gz").to_str().unwrap(),
        ],
        None,
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("DATA_DIR"));
    let empty = tempfile::tempdir().unwrap();
    let no_db = run_binary(
        &env_for(&server, empty.path()),
        &[
            "backup",
            "--to",
            out.path().join("y.tar.gz").to_str().unwrap(),
        ],
        None,
    );
    assert!(!no_db.status.success());
    assert!(String::from_utf8_lossy(&no_db.stderr).contains("no SQLite database"));
    assert!(
        !empty.path().join("securechat.db").exists(),
        "a backup created a database"
    );
    let unwritable = server.cli(&["backup", "--to", "/proc/securechat/b.tar.gz"], None);
    assert!(!unwritable.status.success());
    assert!(
        String::from_utf8_lossy(&unwritable.stderr).contains("cannot write in /proc/securechat")
    );
    // No partial archive is left next to the destination.
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

/// On PostgreSQL the archive holds the files and keys and says the
/// database is `pg_dump`'s to back up; restoring it into SQLite is refused
/// with what to do instead.
#[tokio::test]
async fn a_postgres_backup_names_pg_dump_and_keeps_the_files() {
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    let server = Server::start(Backend::Postgres).await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    let posted = upload(&server, &alice, general, 1).await;
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("pg.tar.gz");
    let made = server.cli(&["backup", "--to", archive.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert!(made.status.success(), "{stderr}");
    assert!(stderr.contains("pg_dump"), "{stderr}");
    let manifest = manifest(&archive);
    assert_eq!(manifest["engine"], "postgres");
    let entries = manifest["entries"].as_object().unwrap();
    assert!(!entries.contains_key("database/securechat.db"));
    let sha = posted["file"]["sha256"].as_str().unwrap();
    assert!(entries.values().any(|e| e["sha256"] == sha), "{manifest}");
    assert!(entries.contains_key("keys/secret_key"));

    // Restored into an empty deployment: files and keys back, the database
    // left to pg_restore.
    let fresh = tempfile::tempdir().unwrap();
    let restored = run_binary(
        &env_for(&server, fresh.path()),
        &["restore", "--from", archive.to_str().unwrap()],
        None,
    );
    let stderr = String::from_utf8_lossy(&restored.stderr);
    assert!(restored.status.success(), "{stderr}");
    assert!(stderr.contains("pg_restore"), "{stderr}");
    assert!(fresh.path().join("secret_key").is_file());
    assert!(!fresh.path().join("securechat.db").exists());
}

/// A file row whose blob is gone by the time it is copied (its message
/// deleted after the snapshot, the blob purged) is archived as deleted:
/// listed in the manifest, marked deleted in the snapshot, and the
/// restored server answers 404 for it instead of failing on a missing blob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_gone_before_it_is_copied_is_restored_as_a_deleted_file() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    let kept = upload(&server, &alice, general, 1).await;
    let gone = upload(&server, &alice, general, 2).await;
    let gone_id = gone["file"]["id"].as_i64().unwrap();
    // The blob vanishes as a purge would remove it.
    let key: String = {
        let mut db = SqliteConnection::connect(&format!("sqlite://{}", server.db_path().display()))
            .await
            .unwrap();
        sqlx::query_scalar("SELECT storage_key FROM files WHERE id = $1")
            .bind(gone_id)
            .fetch_one(&mut db)
            .await
            .unwrap()
    };
    std::fs::remove_file(server.data_dir.join("files").join(&key)).unwrap();

    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("b.tar.gz");
    let made = server.cli(&["backup", "--to", archive.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert!(made.status.success(), "{stderr}");
    assert!(stderr.contains("deleted after the snapshot"), "{stderr}");
    let manifest = manifest(&archive);
    assert_eq!(manifest["missing_blobs"], json!([key]));

    let fresh = tempfile::tempdir().unwrap();
    let restored = run_binary(
        &env_for(&server, fresh.path()),
        &["restore", "--from", archive.to_str().unwrap()],
        None,
    );
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let server2 = Server::start_on(fresh, &[]);
    let alice2 = token(&server2, "alice", "password123").await;
    let fetch = |id: i64| {
        testkit::api_client()
            .get(server2.url(&format!("/api/files/{id}")))
            .bearer_auth(&alice2)
            .send()
    };
    assert_eq!(fetch(gone_id).await.unwrap().status(), 404);
    let got = fetch(kept["file"]["id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        hex(&Sha256::digest(got.bytes().await.unwrap())),
        kept["file"]["sha256"].as_str().unwrap()
    );
}
