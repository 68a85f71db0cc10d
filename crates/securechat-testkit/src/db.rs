//! Reading and editing a server's database directly, as the tests that
//! check what is stored (or change it between restarts) need.

use sqlx::Connection;

use super::server::Server;

/// Opens a connection to the server's database, to check what is stored.
pub async fn db_count(server: &Server, sql: &'static str, id: i64) -> i64 {
    if server.db_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&server.db_url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&server.db_url)
            .await
            .unwrap();
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }
}

/// Runs one statement on the server's database, as an operator (or an
/// older version) editing it between restarts would.
pub async fn db_execute(server: &Server, sql: &'static str) {
    if server.db_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&server.db_url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&server.db_url)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}
