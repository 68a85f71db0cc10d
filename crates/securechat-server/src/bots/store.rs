//! SQL for bot accounts and their tokens. A bot, its first token and that
//! token's rooms are written in one transaction; a token's rooms are rows
//! of `bot_token_rooms`, so a deleted room leaves every scope by cascade.
//! Revoking stamps the token's `revoked_at` (migration 0035): only a token
//! without one signs in or reaches a room, and the stamped rows keep a
//! revoked bot on its rooms' list.

use sqlx::FromRow;

use crate::auth::store::UserRow;
use crate::auth::validate;
use crate::storage::Db;
use crate::with_db;

/// What [`create`] writes.
pub struct NewBot<'a> {
    pub username: &'a str,
    /// A hash of a random secret no one keeps: the bot has no password.
    pub password_hash: &'a str,
    pub created_by: i64,
    pub token_hash: &'a [u8],
    pub rooms: &'a [i64],
    pub now: i64,
}

/// Inserts a token's row and its rooms in the transaction `$tx` (of either
/// dialect: a macro, as `with_db!` gives each its own pool type).
macro_rules! insert_token {
    ($tx:ident, $hash:expr, $bot:expr, $by:expr, $now:expr, $rooms:expr) => {
        sqlx::query(
            "INSERT INTO bot_tokens (token_hash, bot_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind($hash)
        .bind($bot)
        .bind($by)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        for room_id in $rooms {
            sqlx::query("INSERT INTO bot_token_rooms (token_hash, room_id) VALUES ($1, $2)")
                .bind($hash)
                .bind(room_id)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// Inserts the bot's account, its token and the token's rooms.
pub async fn create(db: &Db, new: &NewBot<'_>) -> Result<UserRow, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let user = sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (username, username_key, username_skeleton, password_hash, \
             is_admin, disabled, created_at, password_changed_at, is_bot, bot_created_by) \
             VALUES ($1, $2, $3, $4, FALSE, FALSE, $5, $5, TRUE, $6) \
             RETURNING id, username, password_hash, is_admin, disabled, created_at",
        )
        .bind(new.username)
        .bind(validate::username_key(new.username))
        .bind(validate::username_skeleton(new.username))
        .bind(new.password_hash)
        .bind(new.now)
        .bind(new.created_by)
        .fetch_one(&mut *tx)
        .await?;
        insert_token!(
            tx,
            new.token_hash,
            user.id,
            new.created_by,
            new.now,
            new.rooms.iter().copied()
        );
        tx.commit().await?;
        Ok(user)
    })
}

/// The enabled bot behind a token hash.
#[derive(Debug, FromRow)]
pub struct TokenBot {
    pub id: i64,
    pub username: String,
    pub created_at: i64,
}

/// The bot a token hash belongs to, if the token is live and the bot
/// enabled, with the rooms the token reaches.
pub async fn token_bot(
    db: &Db,
    token_hash: &[u8],
) -> Result<Option<(TokenBot, Vec<i64>)>, sqlx::Error> {
    with_db!(db, read, |pool| {
        let bot = sqlx::query_as::<_, TokenBot>(
            "SELECT u.id, u.username, u.created_at FROM bot_tokens t \
             JOIN users u ON u.id = t.bot_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
             AND u.disabled = FALSE AND u.is_bot = TRUE",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
        let Some(bot) = bot else { return Ok(None) };
        let rooms: Vec<(i64,)> = sqlx::query_as(
            "SELECT room_id FROM bot_token_rooms WHERE token_hash = $1 ORDER BY room_id",
        )
        .bind(token_hash)
        .fetch_all(pool)
        .await?;
        Ok(Some((bot, rooms.into_iter().map(|(r,)| r).collect())))
    })
}

/// A bot as a room's admins see it.
#[derive(Debug, FromRow)]
pub struct BotRow {
    pub id: i64,
    pub username: String,
    pub created_by: Option<i64>,
    pub created_by_username: Option<String>,
    pub created_at: i64,
    /// When its last token reaching the room was revoked; `None` while
    /// one is live.
    pub revoked_at: Option<i64>,
}

/// The bots that hold or held a token for `room_id`, by id.
pub async fn of_room(db: &Db, room_id: i64) -> Result<Vec<BotRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, BotRow>(
            "SELECT u.id, u.username, u.bot_created_by AS created_by, \
                 c.username AS created_by_username, u.created_at, \
                 CASE WHEN COUNT(*) = COUNT(t.revoked_at) THEN MAX(t.revoked_at) END \
                     AS revoked_at \
             FROM users u \
             JOIN bot_tokens t ON t.bot_id = u.id \
             JOIN bot_token_rooms r ON r.token_hash = t.token_hash AND r.room_id = $1 \
             LEFT JOIN users c ON c.id = u.bot_created_by \
             WHERE u.is_bot = TRUE \
             GROUP BY u.id, u.username, u.bot_created_by, c.username, u.created_at \
             ORDER BY u.id",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })
}

/// Revokes every live token of `bot_id` that reaches `room_id`; how many.
pub async fn revoke_in_room(
    db: &Db,
    bot_id: i64,
    room_id: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, (Vec<u8>,)>(REVOKE_IN_ROOM)
            .bind(bot_id)
            .bind(room_id)
            .bind(now)
            .fetch_all(pool)
            .await
            .map(|revoked| revoked.len() as u64)
    })
}

/// Stamps the live tokens of bot `$1` that reach room `$2` revoked at
/// `$3`, returning their hashes.
const REVOKE_IN_ROOM: &str = "UPDATE bot_tokens SET revoked_at = $3 \
     WHERE bot_id = $1 AND revoked_at IS NULL AND token_hash IN \
     (SELECT token_hash FROM bot_token_rooms WHERE room_id = $2) \
     RETURNING token_hash";

/// What [`replace_token`] writes.
pub struct NewToken<'a> {
    pub bot_id: i64,
    pub room_id: i64,
    pub token_hash: &'a [u8],
    pub created_by: i64,
    pub now: i64,
}

/// Replaces the live tokens of a bot that reach a room by one new token
/// that reaches every room they reached (a token's replacement reaches no
/// further than what it replaces), in one transaction. `false`, with
/// nothing written, when no live token of the bot reaches the room. The
/// revocation comes first and says which tokens it stamped, so of two
/// replacements at once only the one that revoked them makes a token (the
/// other waits on their rows, then finds none live).
pub async fn replace_token(db: &Db, new: &NewToken<'_>) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let revoked: Vec<(Vec<u8>,)> = sqlx::query_as(REVOKE_IN_ROOM)
            .bind(new.bot_id)
            .bind(new.room_id)
            .bind(new.now)
            .fetch_all(&mut *tx)
            .await?;
        if revoked.is_empty() {
            return Ok(false);
        }
        let mut rooms = std::collections::BTreeSet::new();
        for (hash,) in &revoked {
            let reached: Vec<(i64,)> =
                sqlx::query_as("SELECT room_id FROM bot_token_rooms WHERE token_hash = $1")
                    .bind(hash)
                    .fetch_all(&mut *tx)
                    .await?;
            rooms.extend(reached.into_iter().map(|(r,)| r));
        }
        insert_token!(
            tx,
            new.token_hash,
            new.bot_id,
            new.created_by,
            new.now,
            rooms
        );
        tx.commit().await?;
        Ok(true)
    })
}

/// Whether `user_id` is a bot account, and if so whether one of its live
/// tokens reaches `room_id`.
pub async fn bot_reach(db: &Db, user_id: i64, room_id: i64) -> Result<(bool, bool), sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, (bool, bool)>(
            "SELECT u.is_bot, EXISTS (SELECT 1 FROM bot_tokens t \
                 JOIN bot_token_rooms r ON r.token_hash = t.token_hash \
                 WHERE t.bot_id = u.id AND t.revoked_at IS NULL AND r.room_id = $2) \
             FROM users u WHERE u.id = $1",
        )
        .bind(user_id)
        .bind(room_id)
        .fetch_optional(pool)
        .await
        .map(|r| r.unwrap_or((false, false)))
    })
}
