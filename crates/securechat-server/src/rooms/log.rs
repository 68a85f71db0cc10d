//! The signed membership log of a room (docs/PROTOCOL.md §6): its SQL and
//! its verification.
//!
//! The log is what clients trust: they hand channel keys only to members
//! the log proves, whatever `room_members` says. The server checks every
//! entry with the same code the clients run ([`MembershipLog::apply`]) so
//! that an honest server never stores a log its clients would reject, and
//! keeps `room_members` in step by writing each entry in the transaction of
//! the change it describes (see [`LogAppend`] and `store::write_audit!`).
//!
//! A room has no log until a client bootstraps it; until then it works as
//! in the seed (server-trusted membership), so unmodified seed clients keep
//! working. Once it has one, membership changes go through signed entries.

use securechat_crypto::{KeyRing, MembershipEntry, MembershipLog, Op, PublicBundle};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Error;
use crate::storage::Db;
use crate::with_db;

/// The largest log the server verifies in one request or load. A team room
/// sees far fewer membership changes; this bounds the work per request.
pub const MAX_ENTRIES: usize = 10_000;

/// An entry to store alongside the membership change it describes.
#[derive(Debug, Clone)]
pub struct LogAppend {
    pub seq: i64,
    /// 0 for a server removal.
    pub actor_id: i64,
    pub entry: String,
}

impl LogAppend {
    pub fn new(entry: &MembershipEntry) -> Self {
        Self {
            seq: i64::try_from(entry.seq()).unwrap_or(i64::MAX),
            actor_id: entry.actor_id(),
            entry: entry.to_wire(),
        }
    }
}

/// The last entry: what clients pin.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    /// SHA-256 chain hash of the last entry, unpadded base64url.
    pub hash: String,
}

impl Head {
    pub fn of(log: &MembershipLog) -> Option<Self> {
        let last = log.entries().last()?;
        Some(Self {
            seq: last.seq(),
            hash: securechat_crypto::encoding::to_wire(&log.head_hash()),
        })
    }
}

/// The stored entries of a room, in order.
pub async fn entries(db: &Db, room_id: i64) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar::<_, String>(
            "SELECT entry FROM membership_log WHERE room_id = $1 ORDER BY seq",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })
}

/// Whether the room has a log (so changes must be signed entries).
pub async fn is_logged(db: &Db, room_id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM membership_log WHERE room_id = $1 AND seq = 0",
        )
        .bind(room_id)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}

/// Logged rooms `user_id` belongs to (for server removals).
pub async fn logged_rooms_of(db: &Db, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT m.room_id FROM room_members m WHERE m.user_id = $1 AND EXISTS \
             (SELECT 1 FROM membership_log l WHERE l.room_id = m.room_id AND l.seq = 0)",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Every bundle ever published by the log's signers and by `extra` (the
/// user about to sign). The server trusts what users uploaded for
/// themselves (each bundle was verified for its user on upload); clients
/// use their own pins instead.
async fn key_ring(db: &Db, room_id: i64, extra: &[i64]) -> Result<KeyRing, Error> {
    let mut keys: Vec<String> = with_db!(db, read, |pool| {
        sqlx::query_scalar::<_, String>(
            "SELECT h.public_key FROM user_key_history h WHERE h.public_key <> '' AND h.user_id IN \
             (SELECT DISTINCT l.actor_id FROM membership_log l WHERE l.room_id = $1)",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })?;
    for user in extra {
        keys.extend(
            crate::keys::store::key_history(db, *user)
                .await?
                .into_iter()
                .map(|row| row.public_key),
        );
    }
    let mut ring = KeyRing::new();
    for key in keys {
        if let Ok(bundle) = PublicBundle::parse(&key) {
            ring.insert(bundle);
        }
    }
    Ok(ring)
}

/// A verified log with the keys it was verified under.
pub struct Loaded {
    pub log: MembershipLog,
    pub keys: KeyRing,
}

/// Loads and verifies a room's log; `None` if it has none. `signers` are
/// users whose bundles must be available beyond the log's own signers.
pub async fn load(db: &Db, room_id: i64, signers: &[i64]) -> Result<Option<Loaded>, Error> {
    let stored = entries(db, room_id).await?;
    if stored.is_empty() {
        return Ok(None);
    }
    let keys = key_ring(db, room_id, signers).await?;
    let log = MembershipLog::verify_wire(&stored, &keys).map_err(|e| {
        // A stored log verified when it was written; failing now means the
        // database was changed behind the server's back.
        Error::Internal(anyhow::anyhow!(
            "membership log of room {room_id} no longer verifies: {e}"
        ))
    })?;
    Ok(Some(Loaded { log, keys }))
}

/// Verifies a whole new log (a bootstrap) with the bundles of its signers.
pub async fn verify_new(db: &Db, room_id: i64, wire: &[String]) -> Result<MembershipLog, Error> {
    if wire.len() > MAX_ENTRIES {
        return Err(Error::unprocessable(
            "log_too_long",
            "Too many entries in one request",
        ));
    }
    let entries = wire
        .iter()
        .map(|s| MembershipEntry::parse(s).map_err(crypto_error))
        .collect::<Result<Vec<_>, _>>()?;
    let mut signers: Vec<i64> = entries.iter().map(MembershipEntry::actor_id).collect();
    signers.sort_unstable();
    signers.dedup();
    let ring = key_ring(db, room_id, &signers).await?;
    MembershipLog::verify(&entries, &ring).map_err(crypto_error)
}

/// A `channel` entry may name only an encrypted channel of its room; the
/// log stores none that does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotEncrypted(pub i64);

/// Inserts one entry; a `channel` or `disappearing` entry (`$6`, its
/// channel, else NULL) only when that channel is an encrypted channel of the
/// room, as a condition of the insert itself, so a channel moved or deleted
/// meanwhile is never registered or given a timer.
const INSERT_CHECKED: &str = "INSERT INTO membership_log (room_id, seq, actor_id, entry, created_at) \
     SELECT $1, $2, $3, $4, $5 WHERE $6 IS NULL OR EXISTS \
     (SELECT 1 FROM channels c WHERE c.id = $6 AND c.room_id = $1 AND c.is_encrypted)";

/// Runs [`INSERT_CHECKED`] for `entry` in `tx`.
macro_rules! insert_checked {
    ($tx:expr, $room_id:expr, $entry:expr, $now:expr) => {{
        let entry: &MembershipEntry = $entry;
        let row = LogAppend::new(entry);
        let channel =
            matches!(entry.op(), Op::Channel | Op::Disappearing).then(|| entry.subject_id());
        let stored = sqlx::query(INSERT_CHECKED)
            .bind($room_id)
            .bind(row.seq)
            .bind(row.actor_id)
            .bind(&row.entry)
            .bind($now)
            .bind(channel)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        match channel {
            Some(channel) if stored == 0 => Err(NotEncrypted(channel)),
            _ => Ok(()),
        }
    }};
}

/// Stores a verified bootstrap log in one transaction, with its audit entry;
/// nothing when one of its `channel` entries names no encrypted channel of
/// the room.
pub async fn insert_all(
    db: &Db,
    room_id: i64,
    log: &MembershipLog,
    actor_id: i64,
    now: i64,
) -> Result<Result<(), NotEncrypted>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for entry in log.entries() {
            if let Err(refused) = insert_checked!(tx, room_id, entry, now) {
                return Ok(Err(refused));
            }
        }
        sqlx::query(
            "INSERT INTO room_audit (room_id, actor_id, action, target_user_id, detail, created_at) \
             VALUES ($1, $2, 'membership_log_started', NULL, $3, $4)",
        )
        .bind(room_id)
        .bind(actor_id)
        .bind(format!("{} entries", log.len()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    })
}

/// Stores a `channel` entry (an owner or admin registering an encrypted
/// channel of the room) or a `disappearing` entry (one setting its timer),
/// with its audit entry, in one transaction.
pub async fn insert_channel(
    db: &Db,
    room_id: i64,
    entry: &MembershipEntry,
    now: i64,
) -> Result<Result<(), NotEncrypted>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        if let Err(refused) = insert_checked!(tx, room_id, entry, now) {
            return Ok(Err(refused));
        }
        let (action, detail) = if entry.op() == Op::Disappearing {
            (
                "channel_timer_signed",
                format!("channel {} timer {} s", entry.subject_id(), entry.seconds()),
            )
        } else {
            (
                "channel_registered",
                format!("channel {}", entry.subject_id()),
            )
        };
        sqlx::query(
            "INSERT INTO room_audit (room_id, actor_id, action, target_user_id, detail, created_at) \
             VALUES ($1, $2, $3, NULL, $4, $5)",
        )
        .bind(room_id)
        .bind(entry.actor_id())
        .bind(action)
        .bind(detail)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    })
}

/// Inserts one entry; `store::write_audit!` runs it inside the transaction
/// of the membership change the entry describes. A concurrent append of the
/// same seq is a unique violation and rolls the whole change back.
pub const INSERT: &str = "INSERT INTO membership_log (room_id, seq, actor_id, entry, created_at) \
                          VALUES ($1, $2, $3, $4, $5)";

/// Whether a database error is a second append of the same seq.
pub fn is_seq_conflict(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            e.constraint().is_some_and(|c| c.contains("membership_log"))
                || e.message().contains("membership_log")
        }
        _ => false,
    }
}

/// The answer when someone appended first.
pub fn conflict() -> Error {
    Error::conflict(
        "log_conflict",
        "The membership log changed meanwhile; fetch it and sign the change again",
    )
}

/// A crypto error about a submitted entry, as a 422 with its stable code.
/// A fork means the entry was built on an old head: a conflict.
pub fn crypto_error(e: securechat_crypto::Error) -> Error {
    use securechat_crypto::MembershipError;
    match e {
        securechat_crypto::Error::Membership(
            MembershipError::Fork { .. }
            | MembershipError::Duplicate { .. }
            | MembershipError::OutOfOrder { .. },
        ) => conflict(),
        e => Error::unprocessable(
            e.code(),
            format!("The membership log entry was refused: {e}"),
        ),
    }
}
