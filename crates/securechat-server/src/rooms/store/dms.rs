//! Direct-message rooms: one per pair of people, keyed by the pair.

use super::*; // the shared rows, macros and imports of `store`

/// Creates the DM room of two users with its one encrypted channel.
pub async fn create_dm(
    db: &Db,
    dm_key: &str,
    creator: i64,
    peer: i64,
    now: i64,
) -> Result<(RoomRow, ChannelRow), sqlx::Error> {
    let new = NewRoom {
        kind: "dm",
        name: "",
        description: "",
        is_private: true,
        dm_key: Some(dm_key),
        members: &[(creator, Role::Member), (peer, Role::Member)],
        channel: ("dm", true),
        audit: Audit::new(0, creator, "dm_created", now).target(peer),
    };
    create(db, new).await
}

/// The DM room for a pair key, if it exists.
pub async fn dm_by_key(db: &Db, dm_key: &str) -> Result<Option<RoomRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, RoomRow>(
            "SELECT id, kind, name, description, is_private, created_at, retention_days FROM rooms WHERE dm_key = $1",
        )
        .bind(dm_key)
        .fetch_optional(pool)
        .await
    })
}
