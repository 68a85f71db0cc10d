//! SQL for slash commands. A room holds at most [`super::MAX_PER_ROOM`]
//! of them: a condition of the insert, counted with the room's row locked
//! first (PostgreSQL; SQLite has one writer), and a trigger is unique per
//! room by the table's constraint, so parallel requests cannot pass either.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// A registered command.
#[derive(Debug, Clone, FromRow)]
pub struct CommandRow {
    pub id: i64,
    pub room_id: i64,
    pub creator_id: i64,
    pub name: String,
    pub url: String,
    pub description: String,
    pub usage_hint: String,
    pub token_salt: Vec<u8>,
    pub created_at: i64,
}

/// The columns of a [`CommandRow`], then `$tail`.
macro_rules! select_commands {
    ($tail:expr) => {
        concat!(
            "SELECT id, room_id, creator_id, name, url, description, usage_hint, token_salt, \
             created_at FROM slash_commands ",
            $tail
        )
    };
}

/// What [`create`] needs.
pub struct NewCommand<'a> {
    pub room_id: i64,
    pub creator_id: i64,
    pub name: &'a str,
    pub url: &'a str,
    pub description: &'a str,
    pub usage_hint: &'a str,
    pub token_salt: &'a [u8],
    pub now: i64,
}

/// Why [`create`] stored nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum NotCreated {
    /// The room holds `cap` commands.
    Full,
    /// The room has a command of that name.
    Taken,
}

/// Stores a command unless its room holds `cap` already or has one of the
/// same name; its id.
pub async fn create(
    db: &Db,
    new: &NewCommand<'_>,
    cap: i64,
) -> Result<Result<i64, NotCreated>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE rooms SET name = name WHERE id = $1")
            .bind(new.room_id)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO slash_commands (room_id, creator_id, name, url, description, \
             usage_hint, token_salt, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
             WHERE (SELECT COUNT(*) FROM slash_commands WHERE room_id = $1) < $9 \
             ON CONFLICT (room_id, name) DO NOTHING \
             RETURNING id",
        )
        .bind(new.room_id)
        .bind(new.creator_id)
        .bind(new.name)
        .bind(new.url)
        .bind(new.description)
        .bind(new.usage_hint)
        .bind(new.token_salt)
        .bind(new.now)
        .bind(cap)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match inserted {
            Some(id) => Ok(id),
            None => {
                let taken: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM slash_commands WHERE room_id = $1 AND name = $2",
                )
                .bind(new.room_id)
                .bind(new.name)
                .fetch_optional(&mut *tx)
                .await?;
                Err(if taken.is_some() {
                    NotCreated::Taken
                } else {
                    NotCreated::Full
                })
            }
        };
        tx.commit().await?;
        Ok(outcome)
    })
}

/// A room's commands, by name.
pub async fn of_room(db: &Db, room_id: i64) -> Result<Vec<CommandRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, CommandRow>(select_commands!("WHERE room_id = $1 ORDER BY name"))
            .bind(room_id)
            .fetch_all(pool)
            .await
    })
}

/// The room's command named `name`.
pub async fn by_name(db: &Db, room_id: i64, name: &str) -> Result<Option<CommandRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, CommandRow>(select_commands!("WHERE room_id = $1 AND name = $2"))
            .bind(room_id)
            .bind(name)
            .fetch_optional(pool)
            .await
    })
}

/// Deletes a command of `room_id`; whether there was one.
pub async fn delete(db: &Db, room_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let done = sqlx::query("DELETE FROM slash_commands WHERE id = $1 AND room_id = $2")
            .bind(id)
            .bind(room_id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() > 0)
    })
}
