//! SQL for resources.

use sqlx::FromRow;

use crate::storage::{Db, escape_like};
use crate::with_db;

#[derive(Debug, Clone, FromRow)]
pub struct ResourceRow {
    pub id: i64,
    pub room_id: i64,
    pub channel_id: Option<i64>,
    pub title: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub envelope: Option<String>,
    pub key_version: Option<i64>,
    pub file_id: Option<i64>,
    pub pinned: bool,
    pub created_by: Option<i64>,
    pub created_by_username: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! select_resources {
    ($tail:literal) => {
        concat!(
            "SELECT r.id, r.room_id, r.channel_id, r.title, r.url, r.description, \
             r.envelope, r.key_version, r.file_id, r.pinned, r.created_by, \
             u.username AS created_by_username, r.created_at, r.updated_at \
             FROM resources r LEFT JOIN users u ON u.id = r.created_by ",
            $tail
        )
    };
}

/// The fields a resource is made or edited with.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub title: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub envelope: Option<String>,
    pub key_version: Option<i64>,
    pub file_id: Option<i64>,
    pub pinned: bool,
}

pub async fn insert(
    db: &Db,
    room_id: i64,
    channel_id: Option<i64>,
    fields: &Fields,
    created_by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar(
            "INSERT INTO resources (room_id, channel_id, title, url, description, envelope, \
             key_version, file_id, pinned, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(room_id)
        .bind(channel_id)
        .bind(&fields.title)
        .bind(&fields.url)
        .bind(&fields.description)
        .bind(&fields.envelope)
        .bind(fields.key_version)
        .bind(fields.file_id)
        .bind(fields.pinned)
        .bind(created_by)
        .bind(now)
        .fetch_one(pool)
        .await
    })
}

pub async fn update(db: &Db, id: i64, fields: &Fields, now: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE resources SET title = $1, url = $2, description = $3, envelope = $4, \
             key_version = $5, file_id = $6, pinned = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&fields.title)
        .bind(&fields.url)
        .bind(&fields.description)
        .bind(&fields.envelope)
        .bind(fields.key_version)
        .bind(fields.file_id)
        .bind(fields.pinned)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM resources WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() > 0)
    })
}

/// One resource (read on the writer so a just-made one is seen).
pub async fn get(db: &Db, id: i64) -> Result<Option<ResourceRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, ResourceRow>(select_resources!("WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// A room's resources, pinned first then newest, optionally of one channel
/// and matching `search` in title, description or URL (plaintext ones only:
/// encrypted resources are searched by the clients that can read them).
pub async fn list(
    db: &Db,
    room_id: i64,
    channel_id: Option<i64>,
    search: Option<&str>,
    limit: i64,
) -> Result<Vec<ResourceRow>, sqlx::Error> {
    let pattern = search.map(|s| format!("%{}%", escape_like(&s.to_lowercase())));
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ResourceRow>(select_resources!(
            "WHERE r.room_id = $1 AND ($2 IS NULL OR r.channel_id = $2) \
             AND ($3 IS NULL OR LOWER(COALESCE(r.title, '') || ' ' || COALESCE(r.description, '') \
             || ' ' || COALESCE(r.url, '')) LIKE $3 ESCAPE '\\') \
             ORDER BY r.pinned DESC, r.id DESC LIMIT $4"
        ))
        .bind(room_id)
        .bind(channel_id)
        .bind(pattern)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Whether a resource refers to the file (which keeps it downloadable).
pub async fn file_in_use(db: &Db, file_id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM resources WHERE file_id = $1")
            .bind(file_id)
            .fetch_one(pool)
            .await
            .map(|n| n > 0)
    })
}
