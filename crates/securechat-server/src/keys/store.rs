//! SQL for public keys, sealed channel keys, key requests, key backups and
//! channel key versions. Shares sealed to a device's prekey are stored in
//! that device's mailbox (`devices::store`), in the same transactions.

use sqlx::FromRow;

use crate::devices::store as devices;
use crate::storage::Db;
use crate::with_db;

/// A user's published bundle.
#[derive(Debug, Clone, FromRow)]
pub struct PublicKeyRow {
    pub public_key: String,
    pub fingerprint: String,
    pub updated_at: i64,
}

/// Stores a user's bundle; returns whether it replaced a different one.
pub async fn set_public_key(
    db: &Db,
    user_id: i64,
    public_key: &str,
    fingerprint: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let previous: Option<String> =
            sqlx::query_scalar("SELECT fingerprint FROM user_keys WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if previous.as_deref() == Some(fingerprint) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO user_keys (user_id, public_key, fingerprint, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             public_key = excluded.public_key, fingerprint = excluded.fingerprint, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(public_key)
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO user_key_history (user_id, fingerprint, public_key, changed_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(fingerprint)
        .bind(public_key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(previous.is_some())
    })
}

/// A user's published bundle.
pub async fn public_key(db: &Db, user_id: i64) -> Result<Option<PublicKeyRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, PublicKeyRow>(
            "SELECT public_key, fingerprint, updated_at FROM user_keys WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// One bundle a user published, and when.
#[derive(Debug, Clone, FromRow)]
pub struct KeyHistoryRow {
    pub public_key: String,
    pub fingerprint: String,
    pub changed_at: i64,
}

/// Every bundle a user has published, oldest first. Bundles recorded before
/// history kept them (empty `public_key`) are left out.
pub async fn key_history(db: &Db, user_id: i64) -> Result<Vec<KeyHistoryRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, KeyHistoryRow>(
            "SELECT public_key, fingerprint, changed_at FROM user_key_history \
             WHERE user_id = $1 AND public_key <> '' ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// A stored sealed key.
#[derive(Debug, Clone, FromRow)]
pub struct ShareRow {
    pub channel_id: i64,
    pub key_version: i64,
    pub recipient_id: i64,
    pub sender_id: i64,
    pub encrypted_key: String,
    pub is_key_rotation: bool,
    pub created_at: i64,
    /// The share's key commitment (hex), none for format 1.
    pub key_commitment: Option<String>,
}

/// How long a claim on a pending key version holds against other members.
///
/// The first share of a new version claims it for its sender until the
/// sender's own copy makes it current. A claimant that crashes or goes
/// offline halfway would otherwise block the channel for ever (nobody else
/// could make that version); after this long without a share from the
/// claimant, another member may take the claim over. Two minutes is far
/// longer than sealing and uploading one share per member takes.
pub const CLAIM_TIMEOUT_MS: i64 = 120_000;

/// Upsert of one sealed copy: a conflicting row is replaced only by a share
/// from the same sender, so nobody overwrites another member's key.
/// Stores one recipient's sealed copy of a channel key, replacing only a
/// copy from the same sender. Returns whether anything was written (false:
/// another member's copy is already stored). Runs on a pool or inside a
/// transaction, on either database.
async fn insert_share<'c, DB, E>(conn: E, share: &ShareRow) -> Result<bool, sqlx::Error>
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
    // A row comes back only when the copy was inserted or replaced.
    let written: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO channel_keys (channel_id, key_version, recipient_id, \
         sender_id, encrypted_key, is_key_rotation, created_at, key_commitment) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (channel_id, key_version, recipient_id) DO UPDATE SET \
         encrypted_key = excluded.encrypted_key, is_key_rotation = excluded.is_key_rotation, \
         created_at = excluded.created_at, key_commitment = excluded.key_commitment \
         WHERE channel_keys.sender_id = excluded.sender_id \
         AND (channel_keys.key_commitment IS NULL \
              OR channel_keys.key_commitment = excluded.key_commitment) \
         RETURNING recipient_id",
    )
    .bind(share.channel_id)
    .bind(share.key_version)
    .bind(share.recipient_id)
    .bind(share.sender_id)
    .bind(share.encrypted_key.clone())
    .bind(share.is_key_rotation)
    .bind(share.created_at)
    .bind(share.key_commitment.clone())
    .fetch_optional(conn)
    .await?;
    Ok(written.is_some())
}

/// The device prekey a format-3 share is sealed to: such a share goes to
/// that device's mailbox instead of the per-user copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceTarget {
    pub device_id: i64,
    pub prekey_id: i64,
}

/// What became of one sealed copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    Stored,
    /// A copy from another sender is already stored for this recipient.
    Exists,
    /// The prekey it is sealed to is no longer its device's current one,
    /// or the device left the recipient's list.
    StalePrekey,
}

/// Stores one sealed copy on `conn`: the per-user copy ([`insert_share`]),
/// or for `device` a mailbox share, only while the prekey it names is
/// still current (locked for the rest of the transaction).
async fn store_copy<DB, C>(
    conn: &mut C,
    share: &ShareRow,
    device: Option<DeviceTarget>,
) -> Result<Copied, sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut C: sqlx::Executor<'e, Database = DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let Some(device) = device else {
        return Ok(if insert_share(&mut *conn, share).await? {
            Copied::Stored
        } else {
            Copied::Exists
        });
    };
    let mail = devices::MailboxShare {
        channel_id: share.channel_id,
        key_version: share.key_version,
        recipient_id: share.recipient_id,
        device_id: device.device_id,
        prekey_id: device.prekey_id,
        sender_id: share.sender_id,
        encrypted_key: share.encrypted_key.clone(),
        is_key_rotation: share.is_key_rotation,
        created_at: share.created_at,
        key_commitment: share.key_commitment.clone(),
    };
    if !devices::lock_prekey(&mut *conn, &mail).await? {
        return Ok(Copied::StalePrekey);
    }
    Ok(if devices::insert_share(&mut *conn, &mail).await? {
        Copied::Stored
    } else {
        Copied::Exists
    })
}

/// Stores a share that answers a key request ([`store_copy`]), in a
/// transaction of its own.
pub async fn put_share(
    db: &Db,
    share: &ShareRow,
    device: Option<DeviceTarget>,
) -> Result<Copied, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let copied = store_copy(&mut *tx, share, device).await?;
        if copied == Copied::Stored {
            tx.commit().await?;
        }
        Ok(copied)
    })
}

/// What became of a share that creates a key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Stored; `promoted` when it was the creator's own copy and made the
    /// version current.
    Stored { promoted: bool },
    /// Another member holds a fresh claim on this version, or created it.
    Taken,
    /// Neither the current version, the pending one, nor the next.
    Stale { current: i64 },
    /// A copy from another sender is already stored for this recipient.
    Exists,
    /// A format-3 share to a prekey that is no longer current.
    StalePrekey,
}

/// Stores a share that creates a key version (purpose `initial` or
/// `rotation`), in one transaction:
///
/// 1. the sender claims the version — in one conditional `UPDATE`, which
///    succeeds when it is the pending version and unclaimed, claimed by
///    the sender or claimed longer than [`CLAIM_TIMEOUT_MS`] ago, or when
///    nothing is pending and it is the current version plus one;
/// 2. if the claim failed, the share is still accepted for the *current*
///    version from the member who created it (or anyone, for versions made
///    before creators were recorded);
/// 3. a claim drops what earlier, expired claimants shared of that version
///    (it never became current), so one key exists per version;
/// 4. the copy is stored, never over another sender's (a format-3 share
///    in its device's mailbox, only to that device's current prekey);
/// 5. the sender's own copy of its claimed version makes it current.
pub async fn create_share(
    db: &Db,
    share: &ShareRow,
    device: Option<DeviceTarget>,
    now: i64,
) -> Result<Created, sqlx::Error> {
    let (channel, version, sender) = (share.channel_id, share.key_version, share.sender_id);
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE channels SET pending_version = $2, pending_creator_id = $3, \
             pending_claimed_at = $4 WHERE id = $1 AND ( \
             (pending_version = $2 AND (pending_creator_id IS NULL OR pending_creator_id = $3 \
               OR pending_claimed_at < $5)) \
             OR (pending_version IS NULL AND key_version = $2 - 1))",
        )
        .bind(channel)
        .bind(version)
        .bind(sender)
        .bind(now)
        .bind(now - CLAIM_TIMEOUT_MS)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if claimed {
            sqlx::query(
                "DELETE FROM channel_keys WHERE channel_id = $1 AND key_version = $2 \
                 AND sender_id <> $3",
            )
            .bind(channel)
            .bind(version)
            .bind(sender)
            .execute(&mut *tx)
            .await?;
            devices::drop_other_senders(&mut *tx, channel, version, sender).await?;
        } else {
            let (current, creator, pending): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT key_version, key_creator_id, pending_version FROM channels WHERE id = $1",
            )
            .bind(channel)
            .fetch_one(&mut *tx)
            .await?;
            let made_here = current == version && version >= 1;
            if made_here && creator.is_some_and(|c| c != sender) {
                return Ok(Created::Taken);
            }
            if !made_here {
                let claimable =
                    pending == Some(version) || (pending.is_none() && version == current + 1);
                return Ok(if claimable {
                    Created::Taken
                } else {
                    Created::Stale { current }
                });
            }
        }
        match store_copy(&mut *tx, share, device).await? {
            Copied::Stored => {}
            Copied::Exists => return Ok(Created::Exists),
            Copied::StalePrekey => return Ok(Created::StalePrekey),
        }
        let promoted = claimed
            && share.recipient_id == sender
            && sqlx::query(
                "UPDATE channels SET key_version = $2, key_creator_id = pending_creator_id, \
                 pending_version = NULL, pending_creator_id = NULL, pending_claimed_at = NULL \
                 WHERE id = $1 AND pending_version = $2 AND pending_creator_id = $3",
            )
            .bind(channel)
            .bind(version)
            .bind(sender)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
        // Version 1 is the channel's first key, not a rotation.
        if promoted && version > 1 {
            sqlx::query(crate::timeline::store::INSERT_KEY_ROTATED)
                .bind(channel)
                .bind(version.to_string())
                .bind(sender)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Created::Stored { promoted })
    })
}

/// Who holds the claim on a channel's pending key version, and since when.
pub async fn pending_claim(db: &Db, channel_id: i64) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row: Option<(Option<i64>, Option<i64>)> = with_db!(db, read, |pool| {
        sqlx::query_as("SELECT pending_creator_id, pending_claimed_at FROM channels WHERE id = $1")
            .bind(channel_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.and_then(|(who, at)| Some((who?, at?))))
}

/// One recipient's sealed copy of a version.
pub async fn share(
    db: &Db,
    channel_id: i64,
    key_version: i64,
    recipient_id: i64,
) -> Result<Option<ShareRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, ShareRow>(
            "SELECT channel_id, key_version, recipient_id, sender_id, encrypted_key, \
             is_key_rotation, created_at, key_commitment FROM channel_keys \
             WHERE channel_id = $1 AND key_version = $2 AND recipient_id = $3",
        )
        .bind(channel_id)
        .bind(key_version)
        .bind(recipient_id)
        .fetch_optional(pool)
        .await
    })
}

/// A rotation a membership change recorded: the channel, and the key
/// version it now waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct PendingRotation {
    pub channel_id: i64,
    pub version: i64,
}

/// Starts a rotation of every keyed encrypted channel of a room. Run by
/// every change that adds or removes a member, on `conn`, the transaction
/// of that change (`rooms::store`), so the change is never committed
/// without it: the announcement that follows (`realtime::bridge`) may be
/// lost, the pending version is not.
///
/// The pending version becomes the current one plus one, unclaimed. A
/// version already pending stays as it is while nobody has claimed it; one
/// that a member has started to share is left behind for the next number,
/// since its key was sealed for the membership before this change (a
/// removed member may already hold it). Channels without a key yet are
/// left alone. Returns the pending version of each channel changed.
pub async fn begin_rotations<'c, DB, E>(
    conn: E,
    room_id: i64,
) -> Result<Vec<PendingRotation>, sqlx::Error>
where
    DB: sqlx::Database,
    E: 'c + sqlx::Executor<'c, Database = DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    PendingRotation: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(
        "UPDATE channels SET pending_version = CASE \
           WHEN pending_version IS NULL THEN key_version + 1 \
           WHEN pending_creator_id IS NULL THEN pending_version \
           ELSE pending_version + 1 END, \
         pending_creator_id = NULL, pending_claimed_at = NULL \
         WHERE room_id = $1 AND is_encrypted AND key_version > 0 \
         RETURNING id AS channel_id, pending_version AS version",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await
}

/// The id of the requester's newest unexpired, unfulfilled request for a
/// channel.
pub async fn open_request(
    db: &Db,
    channel_id: i64,
    requester_id: i64,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM key_requests WHERE channel_id = $1 AND requester_id = $2 \
             AND fulfilled_at IS NULL AND expires_at > $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(channel_id)
        .bind(requester_id)
        .bind(now)
        .fetch_optional(pool)
        .await
    })
}

/// Records a new request.
pub async fn create_request(
    db: &Db,
    channel_id: i64,
    requester_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar(
            "INSERT INTO key_requests (channel_id, requester_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(channel_id)
        .bind(requester_id)
        .bind(now)
        .bind(expires_at)
        .fetch_one(pool)
        .await
    })
}

/// Marks the requester's open requests for a channel fulfilled.
pub async fn fulfil_requests(
    db: &Db,
    channel_id: i64,
    requester_id: i64,
    by: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE key_requests SET fulfilled_at = $1, fulfilled_by = $2 \
             WHERE channel_id = $3 AND requester_id = $4 AND fulfilled_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(channel_id)
        .bind(requester_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
}

/// Stores the user's passphrase-sealed identity.
pub async fn put_backup(db: &Db, user_id: i64, backup: &str, now: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO key_backups (user_id, backup, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET backup = excluded.backup, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(backup)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// The user's sealed identity and when it was stored.
pub async fn backup(db: &Db, user_id: i64) -> Result<Option<(String, i64)>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT backup, updated_at FROM key_backups WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}
