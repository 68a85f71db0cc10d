//! SQL for device lists, device prekeys and the per-device share mailbox.
//!
//! Every rule is a condition of the write that depends on it: a list is
//! stored only over an older one, a prekey only over a lower-numbered one
//! and only while the list it was checked against is still the stored one,
//! and a mailbox share only while the prekey it names is its device's
//! current one.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// The stored device list of `user_id` (wire form).
pub async fn device_list(db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT device_list FROM device_lists WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })
}

/// A new device list, verified by the caller.
#[derive(Debug, Clone)]
pub struct NewList<'a> {
    pub user_id: i64,
    pub version: i64,
    pub fingerprint: &'a str,
    pub device_list: &'a str,
    /// The listed device ids.
    pub device_ids: &'a [i64],
}

/// `device_id` is not one of the ids in `$2`, a JSON array bound as text.
const NOT_LISTED_SQLITE: [&str; 2] = [
    "DELETE FROM device_prekeys WHERE user_id = $1 \
     AND device_id NOT IN (SELECT value FROM json_each($2))",
    "DELETE FROM device_shares WHERE recipient_id = $1 \
     AND device_id NOT IN (SELECT value FROM json_each($2))",
];
const NOT_LISTED_POSTGRES: [&str; 2] = [
    "DELETE FROM device_prekeys WHERE user_id = $1 \
     AND device_id NOT IN (SELECT value::bigint FROM jsonb_array_elements_text($2::jsonb))",
    "DELETE FROM device_shares WHERE recipient_id = $1 \
     AND device_id NOT IN (SELECT value::bigint FROM jsonb_array_elements_text($2::jsonb))",
];

/// Stores `list` if the stored one is older, or was signed by another
/// identity (the person reset theirs), and in the same transaction deletes
/// the prekeys and pending shares of every device that left it. Returns
/// whether it was stored: of two lists with the same version, one wins.
pub async fn put_device_list(db: &Db, list: &NewList<'_>, now: i64) -> Result<bool, sqlx::Error> {
    let ids = serde_json::to_string(list.device_ids).unwrap_or_else(|_| "[]".into());
    let not_listed = match db {
        Db::Sqlite { .. } => NOT_LISTED_SQLITE,
        Db::Postgres(_) => NOT_LISTED_POSTGRES,
    };
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let stored: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO device_lists (user_id, version, fingerprint, device_list, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET \
             version = excluded.version, fingerprint = excluded.fingerprint, \
             device_list = excluded.device_list, updated_at = excluded.updated_at \
             WHERE device_lists.version < excluded.version \
             OR device_lists.fingerprint <> excluded.fingerprint \
             RETURNING user_id",
        )
        .bind(list.user_id)
        .bind(list.version)
        .bind(list.fingerprint)
        .bind(list.device_list)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if stored.is_none() {
            return Ok(false);
        }
        for sql in not_listed {
            sqlx::query(sql)
                .bind(list.user_id)
                .bind(ids.clone())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    })
}

/// A device's current prekey and when the device was last seen.
#[derive(Debug, Clone, FromRow)]
pub struct PrekeyRow {
    pub device_id: i64,
    pub prekey: String,
    pub last_seen_at: i64,
}

/// The current prekeys of `user_id`'s devices.
pub async fn prekeys(db: &Db, user_id: i64) -> Result<Vec<PrekeyRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, PrekeyRow>(
            "SELECT device_id, prekey, last_seen_at FROM device_prekeys \
             WHERE user_id = $1 ORDER BY device_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// The current prekey id of one device, if it published one.
pub async fn prekey_id(db: &Db, user_id: i64, device_id: i64) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT prekey_id FROM device_prekeys WHERE user_id = $1 AND device_id = $2",
        )
        .bind(user_id)
        .bind(device_id)
        .fetch_optional(pool)
        .await
    })
}

/// A new prekey, verified by the caller against list `list_version`.
#[derive(Debug, Clone)]
pub struct NewPrekey<'a> {
    pub user_id: i64,
    pub device_id: i64,
    pub list_version: i64,
    pub prekey_id: i64,
    pub prekey: &'a str,
    pub created_ms: i64,
}

/// What became of a new prekey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrekeyPut {
    Stored,
    /// The stored prekey's id is not lower.
    Stale,
    /// The device list changed since the prekey was checked against it.
    ListChanged,
}

/// Stores a device's prekey if its id is higher than the stored one's, and
/// marks the device seen. The list row is locked first and must still be
/// the version the prekey was verified against, so a prekey never lands
/// for a device that a concurrent list change removed.
pub async fn put_prekey(db: &Db, new: &NewPrekey<'_>, now: i64) -> Result<PrekeyPut, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let locked = sqlx::query(
            "UPDATE device_lists SET version = version WHERE user_id = $1 AND version = $2",
        )
        .bind(new.user_id)
        .bind(new.list_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if locked == 0 {
            return Ok(PrekeyPut::ListChanged);
        }
        let stored: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO device_prekeys (user_id, device_id, prekey_id, prekey, created_ms, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id, device_id) DO UPDATE SET prekey_id = excluded.prekey_id, \
             prekey = excluded.prekey, created_ms = excluded.created_ms, \
             last_seen_at = excluded.last_seen_at \
             WHERE device_prekeys.prekey_id < excluded.prekey_id RETURNING device_id",
        )
        .bind(new.user_id)
        .bind(new.device_id)
        .bind(new.prekey_id)
        .bind(new.prekey)
        .bind(new.created_ms)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if stored.is_none() {
            return Ok(PrekeyPut::Stale);
        }
        tx.commit().await?;
        Ok(PrekeyPut::Stored)
    })
}

/// Marks a device seen now.
pub async fn seen(db: &Db, user_id: i64, device_id: i64, now: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE device_prekeys SET last_seen_at = $3 WHERE user_id = $1 AND device_id = $2",
        )
        .bind(user_id)
        .bind(device_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// A key share sealed to one device's prekey.
#[derive(Debug, Clone, FromRow)]
pub struct MailboxShare {
    pub channel_id: i64,
    pub key_version: i64,
    pub recipient_id: i64,
    pub device_id: i64,
    pub prekey_id: i64,
    pub sender_id: i64,
    pub encrypted_key: String,
    pub is_key_rotation: bool,
    pub created_at: i64,
    /// The share's key commitment (hex).
    pub key_commitment: Option<String>,
}

/// Locks the recipient device's prekey row for the rest of the transaction
/// on `conn`, if `prekey_id` is still its current prekey. Returns false
/// otherwise (rotated since, or the device left the list), so a share is
/// stored only to a current prekey of a listed device: a list change that
/// removes the device waits for this transaction and then deletes the share.
pub async fn lock_prekey<'c, DB, E>(conn: E, share: &MailboxShare) -> Result<bool, sqlx::Error>
where
    DB: sqlx::Database,
    E: 'c + sqlx::Executor<'c, Database = DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let locked: Option<(i64,)> = sqlx::query_as(
        "UPDATE device_prekeys SET prekey_id = prekey_id \
         WHERE user_id = $1 AND device_id = $2 AND prekey_id = $3 RETURNING device_id",
    )
    .bind(share.recipient_id)
    .bind(share.device_id)
    .bind(share.prekey_id)
    .fetch_optional(conn)
    .await?;
    Ok(locked.is_some())
}

/// Stores a share in its device's mailbox, replacing only a copy from the
/// same sender. Returns whether anything was written. Call after
/// [`lock_prekey`], in the same transaction.
pub async fn insert_share<'c, DB, E>(conn: E, share: &MailboxShare) -> Result<bool, sqlx::Error>
where
    DB: sqlx::Database,
    E: 'c + sqlx::Executor<'c, Database = DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let written: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO device_shares (channel_id, key_version, recipient_id, device_id, prekey_id, \
         sender_id, encrypted_key, is_key_rotation, created_at, key_commitment) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (channel_id, key_version, recipient_id, device_id) DO UPDATE SET \
         prekey_id = excluded.prekey_id, encrypted_key = excluded.encrypted_key, \
         is_key_rotation = excluded.is_key_rotation, created_at = excluded.created_at, \
         key_commitment = excluded.key_commitment \
         WHERE device_shares.sender_id = excluded.sender_id \
         AND (device_shares.key_commitment IS NULL \
              OR device_shares.key_commitment = excluded.key_commitment) \
         RETURNING id",
    )
    .bind(share.channel_id)
    .bind(share.key_version)
    .bind(share.recipient_id)
    .bind(share.device_id)
    .bind(share.prekey_id)
    .bind(share.sender_id)
    .bind(share.encrypted_key.clone())
    .bind(share.is_key_rotation)
    .bind(share.created_at)
    .bind(share.key_commitment.clone())
    .fetch_optional(conn)
    .await?;
    Ok(written.is_some())
}

/// Deletes the mailbox shares of a key version from anyone but `sender`:
/// what an earlier claimant of the version shared before its claim expired.
pub async fn drop_other_senders<'c, DB, E>(
    conn: E,
    channel_id: i64,
    key_version: i64,
    sender_id: i64,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    E: 'c + sqlx::Executor<'c, Database = DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query(
        "DELETE FROM device_shares WHERE channel_id = $1 AND key_version = $2 \
         AND sender_id <> $3",
    )
    .bind(channel_id)
    .bind(key_version)
    .bind(sender_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// One share in a device's mailbox, as the device reads it.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct MailboxRow {
    pub id: i64,
    pub channel_id: i64,
    pub key_version: i64,
    pub sender_id: i64,
    /// The sealed share (format 3), sealed to this device's prekey.
    pub encrypted_key: String,
    pub is_key_rotation: bool,
}

/// A page of a device's mailbox: shares with ids above `after`, oldest first.
pub async fn mailbox(
    db: &Db,
    user_id: i64,
    device_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<MailboxRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, MailboxRow>(
            "SELECT id, channel_id, key_version, sender_id, encrypted_key, is_key_rotation \
             FROM device_shares WHERE recipient_id = $1 AND device_id = $2 AND id > $3 \
             ORDER BY id LIMIT $4",
        )
        .bind(user_id)
        .bind(device_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Deletes the given shares from a device's mailbox (only that device's);
/// returns how many were deleted.
pub async fn acknowledge(
    db: &Db,
    user_id: i64,
    device_id: i64,
    ids: &[i64],
) -> Result<u64, sqlx::Error> {
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let sql = match db {
        Db::Sqlite { .. } => {
            "DELETE FROM device_shares WHERE recipient_id = $1 AND device_id = $2 \
             AND id IN (SELECT value FROM json_each($3))"
        }
        Db::Postgres(_) => {
            "DELETE FROM device_shares WHERE recipient_id = $1 AND device_id = $2 \
             AND id IN (SELECT value::bigint FROM jsonb_array_elements_text($3::jsonb))"
        }
    };
    with_db!(db, write, |pool| {
        sqlx::query(sql)
            .bind(user_id)
            .bind(device_id)
            .bind(ids.clone())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Deletes mailbox shares stored before `before` (UTC ms).
pub async fn purge_shares(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM device_shares WHERE created_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// A device link relayed between two sessions of one person.
#[derive(Debug, Clone, FromRow)]
pub struct LinkRow {
    pub offer: String,
    pub answer: Option<String>,
    pub payload: Option<String>,
    pub expires_at: i64,
}

/// Opens a link under `code_hash`, unless the person already has `max`
/// links open (expired ones are deleted first): one statement, so the cap
/// holds in the write. Returns whether it was stored.
pub async fn open_link(
    db: &Db,
    user_id: i64,
    code_hash: &str,
    offer: &str,
    expires_at: i64,
    now: i64,
    max: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM device_links WHERE user_id = $1 AND expires_at <= $2")
            .bind(user_id)
            .bind(now)
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO device_links (code_hash, user_id, offer, expires_at) \
             SELECT $1, $2, $3, $4 \
             WHERE (SELECT COUNT(*) FROM device_links WHERE user_id = $2) < $5 \
             ON CONFLICT (code_hash) DO NOTHING",
        )
        .bind(code_hash)
        .bind(user_id)
        .bind(offer)
        .bind(expires_at)
        .bind(max)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// A person's live link by its code's hash.
pub async fn link(
    db: &Db,
    user_id: i64,
    code_hash: &str,
    now: i64,
) -> Result<Option<LinkRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, LinkRow>(
            "SELECT offer, answer, payload, expires_at FROM device_links \
             WHERE code_hash = $1 AND user_id = $2 AND expires_at > $3",
        )
        .bind(code_hash)
        .bind(user_id)
        .bind(now)
        .fetch_optional(pool)
        .await
    })
}

/// Stores the approving device's answer, only once per link.
pub async fn answer_link(
    db: &Db,
    user_id: i64,
    code_hash: &str,
    answer: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE device_links SET answer = $1 \
             WHERE code_hash = $2 AND user_id = $3 AND expires_at > $4 AND answer IS NULL",
        )
        .bind(answer)
        .bind(code_hash)
        .bind(user_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Stores the sealed payload, only once and only after an answer.
pub async fn link_payload(
    db: &Db,
    user_id: i64,
    code_hash: &str,
    payload: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE device_links SET payload = $1 WHERE code_hash = $2 AND user_id = $3 \
             AND expires_at > $4 AND answer IS NOT NULL AND payload IS NULL",
        )
        .bind(payload)
        .bind(code_hash)
        .bind(user_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Closes a link (the new device took its payload, or gave up).
pub async fn close_link(db: &Db, user_id: i64, code_hash: &str) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM device_links WHERE code_hash = $1 AND user_id = $2")
            .bind(code_hash)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Deletes expired links.
pub async fn purge_links(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM device_links WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
