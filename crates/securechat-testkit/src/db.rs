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

/// Waits, up to 30 seconds, until [`db_count`] is `n`: for what the
/// server writes in the background (a busy machine may delay it, and it
/// may run at low priority); fails with `what` if it never is.
pub async fn db_count_becomes(server: &Server, sql: &'static str, id: i64, n: i64, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let count = db_count(server, sql, id).await;
        if count == n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {count} rows, {n} expected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
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
