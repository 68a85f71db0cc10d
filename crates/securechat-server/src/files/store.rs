//! SQL for file records.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// A stored file.
#[derive(Debug, Clone, FromRow)]
pub struct FileRow {
    pub id: i64,
    pub channel_id: i64,
    pub uploader_id: Option<i64>,
    pub storage_key: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub is_encrypted: bool,
    pub created_at: i64,
    /// The message that carries it, once posted.
    pub message_id: Option<i64>,
}

macro_rules! select_files {
    ($tail:literal) => {
        concat!(
            "SELECT f.id, f.channel_id, f.uploader_id, f.storage_key, f.name, \
             f.content_type, f.size, f.sha256, f.is_encrypted, f.created_at, \
             m.id AS message_id FROM files f LEFT JOIN messages m ON m.file_id = f.id ",
            $tail
        )
    };
}

/// What an upload records.
pub struct NewFile<'a> {
    pub channel_id: i64,
    pub uploader_id: i64,
    pub storage_key: &'a str,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub is_encrypted: bool,
    pub now: i64,
}

/// File ids are drawn at random from this range: unguessable (2^52
/// values, so a member cannot find someone else's upload by counting), and
/// exact as JavaScript numbers.
const FILE_IDS: std::ops::Range<i64> = (1 << 32)..(1 << 53);

/// Records a stored upload if it fits its uploader's quota (`quota`
/// bytes): `None`, recording nothing, if it does not. The quota is checked
/// in the insert itself, with the uploader's row locked first, so parallel
/// uploads by one person take turns and each counts the others. The id is
/// random; the rare collision is retried with another.
pub async fn insert(db: &Db, new: &NewFile<'_>, quota: u64) -> Result<Option<i64>, sqlx::Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match insert_with_id(db, new, quota, rand::random_range(FILE_IDS)).await {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && attempt < 3 => continue,
            other => return other,
        }
    }
}

async fn insert_with_id(
    db: &Db,
    new: &NewFile<'_>,
    quota: u64,
    id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let quota = i64::try_from(quota).unwrap_or(i64::MAX);
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET username = username WHERE id = $1")
            .bind(new.uploader_id)
            .execute(&mut *tx)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO files (id, channel_id, uploader_id, storage_key, name, content_type, \
             size, sha256, is_encrypted, created_at) \
             SELECT $11, $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE (SELECT COALESCE(SUM(size), 0) FROM files \
                    WHERE uploader_id = $2 AND deleted_at IS NULL) + $6 <= $10 \
             RETURNING id",
        )
        .bind(new.channel_id)
        .bind(new.uploader_id)
        .bind(new.storage_key)
        .bind(new.name)
        .bind(new.content_type)
        .bind(new.size)
        .bind(new.sha256)
        .bind(new.is_encrypted)
        .bind(new.now)
        .bind(quota)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// A live (not deleted) file. Read on the writer so a just-made record is seen.
pub async fn live(db: &Db, id: i64) -> Result<Option<FileRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, FileRow>(select_files!("WHERE f.id = $1 AND f.deleted_at IS NULL"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// The channel's files that are posted in a message, newest first (in the
/// order of their messages: file ids are random), after the file `before`
/// when given (keyset; an unknown `before` gives nothing).
pub async fn of_channel(
    db: &Db,
    channel_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<FileRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, FileRow>(select_files!(
            "WHERE f.channel_id = $1 AND f.deleted_at IS NULL AND m.id IS NOT NULL \
             AND m.id < CASE WHEN CAST($2 AS BIGINT) IS NULL THEN 9223372036854775807 \
             ELSE (SELECT b.id FROM messages b WHERE b.file_id = $2) END \
             ORDER BY m.id DESC LIMIT $3"
        ))
        .bind(channel_id)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Bytes a user keeps stored (what counts against the quota).
pub async fn used_by(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files \
             WHERE uploader_id = $1 AND deleted_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(pool)
        .await
    })
}

/// Files whose blob should go: deleted, in a channel that no longer exists,
/// or uploaded before `unposted_before` and never posted in a message or
/// attached to a resource.
pub async fn to_purge(
    db: &Db,
    unposted_before: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, (i64, String)>(
            "SELECT f.id, f.storage_key FROM files f WHERE f.deleted_at IS NOT NULL \
             OR NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = f.channel_id) \
             OR (f.created_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = f.id) \
                 AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.file_id = f.id)) \
             ORDER BY f.id LIMIT $2",
        )
        .bind(unposted_before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Forgets a file whose blob is gone.
pub async fn forget(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}
