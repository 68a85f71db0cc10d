//! Reading a room's audit log (every change writes its entry in its own
//! transaction, through `write_audit!`).

use super::*; // the shared rows, macros and imports of `store`

/// A page of a room's audit log, newest first, before entry `before`.
pub async fn audit_page(
    db: &Db,
    room_id: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, AuditRow>(
            "SELECT a.id, a.room_id, a.actor_id, ua.username AS actor_username, a.action, \
               a.target_user_id, ut.username AS target_username, a.detail, a.created_at \
             FROM room_audit a \
             LEFT JOIN users ua ON ua.id = a.actor_id \
             LEFT JOIN users ut ON ut.id = a.target_user_id \
             WHERE a.room_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3",
        )
        .bind(room_id)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}
