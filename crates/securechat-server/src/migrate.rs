//! `securechat migrate-to-postgres`: copies an SQLite deployment into an
//! empty PostgreSQL database, every table and every row, keeping ids.
//!
//! The table list comes from the target schema (after applying the
//! PostgreSQL migrations), so tables added by later migrations are copied
//! without changing this code; the two migration folders describe the same
//! schema (see `migrations/README.md`). Tables are copied parents first
//! (following foreign keys), rows in primary-key order, in one transaction;
//! identity sequences are then moved past the copied ids. Finally every row
//! is read back from PostgreSQL and compared with its SQLite original.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, SqlitePool};

use crate::storage::Db;

/// Most bind parameters in one INSERT (PostgreSQL allows 65535).
const MAX_BINDS: usize = 30_000;

/// One column of the target schema.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

/// The column types the schema uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    BigInt,
    Int,
    Bool,
    Text,
    Bytes,
    Float,
}

/// One value, as both engines can bind and decode it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Float(Option<f64>),
}

/// What was copied: rows per table.
#[derive(Debug)]
pub struct Report {
    pub tables: Vec<(String, usize)>,
}

/// Copies `from` (SQLite) into `to` (PostgreSQL, empty) and verifies.
/// Tables whose migrations insert rows of their own (the admin guard row of
/// `site_settings`): a fresh target has them, so they do not make it "not
/// empty", and they are replaced by the source's copy.
const SEEDED: [&str; 1] = ["site_settings"];

pub async fn sqlite_to_postgres(from: &str, to: &str) -> anyhow::Result<Report> {
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        bail!("--to must be a postgres:// URL");
    }
    let source = Db::connect(from).await?;
    let Db::Sqlite { writer, .. } = &source else {
        bail!("the source (--database-url / DATABASE_URL) must be an SQLite database");
    };
    // Bring the source up to date first, so both schemas are the same version.
    source.migrate().await?;
    let target = Db::connect(to).await?;
    target.migrate().await?;
    let Db::Postgres(pg) = &target else {
        bail!("--to must be a PostgreSQL database");
    };
    let tables = ordered_tables(pg).await?;
    for (table, _) in &tables {
        if SEEDED.contains(&table.as_str()) {
            continue;
        }
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(pg)
                .await?;
        if rows > 0 {
            bail!("the target database is not empty ({table} has rows); give an empty database");
        }
    }
    let mut report = Report { tables: Vec::new() };
    let mut tx = pg.begin().await?;
    for table in SEEDED {
        // The source has the same seeded rows (same migrations): copied below.
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut *tx)
            .await?;
    }
    for (table, columns) in &tables {
        let rows = read_sqlite(writer, table, columns).await?;
        for chunk in rows.chunks((MAX_BINDS / columns.len().max(1)).max(1)) {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            let mut insert: QueryBuilder<Postgres> =
                QueryBuilder::new(format!("INSERT INTO {table} ({}) ", names.join(", ")));
            insert.push_values(chunk, |mut b, row| {
                for value in row {
                    match value.clone() {
                        Value::Int(v) => b.push_bind(v),
                        Value::Bool(v) => b.push_bind(v),
                        Value::Text(v) => b.push_bind(v),
                        Value::Bytes(v) => b.push_bind(v),
                        Value::Float(v) => b.push_bind(v),
                    };
                }
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .with_context(|| format!("copying {table}"))?;
        }
        report.tables.push((table.clone(), rows.len()));
    }
    reset_identities(&mut tx).await?;
    tx.commit().await?;
    for (table, columns) in &tables {
        let original = read_sqlite(writer, table, columns).await?;
        let copied = read_postgres(pg, table, columns).await?;
        if original != copied {
            bail!("verification failed: {table} differs after the copy");
        }
    }
    source.close().await;
    target.close().await;
    Ok(report)
}

/// The application's tables with their columns, parents before children.
async fn ordered_tables(pg: &PgPool) -> anyhow::Result<Vec<(String, Vec<Column>)>> {
    let rows = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pg)
    .await?;
    let mut tables: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for row in rows {
        let table: String = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let data_type: String = row.try_get(2)?;
        let kind = match data_type.as_str() {
            "bigint" => Kind::BigInt,
            "integer" | "smallint" => Kind::Int,
            "boolean" => Kind::Bool,
            "text" | "character varying" => Kind::Text,
            "bytea" => Kind::Bytes,
            "double precision" | "real" => Kind::Float,
            other => bail!("{table}.{name} has a type this command cannot copy: {other}"),
        };
        tables.entry(table).or_default().push(Column { name, kind });
    }
    let edges = sqlx::query(
        "SELECT conrelid::regclass::text, confrelid::regclass::text
         FROM pg_constraint
         WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )
    .fetch_all(pg)
    .await?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for edge in edges {
        let child: String = edge.try_get(0)?;
        let parent: String = edge.try_get(1)?;
        if child != parent {
            parents.entry(child).or_default().insert(parent);
        }
    }
    let mut ordered = Vec::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    while done.len() < tables.len() {
        let ready: Vec<String> = tables
            .keys()
            .filter(|t| !done.contains(*t))
            .filter(|t| {
                parents.get(*t).is_none_or(|ps| {
                    ps.iter()
                        .all(|p| done.contains(p) || !tables.contains_key(p))
                })
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            bail!("the tables' foreign keys form a cycle; cannot order the copy");
        }
        for t in ready {
            done.insert(t.clone());
            let columns = tables.get(&t).cloned().unwrap_or_default();
            ordered.push((t, columns));
        }
    }
    Ok(ordered)
}

/// `ORDER BY` for a stable row order: the primary key's columns, or all.
fn order_by(columns: &[Column]) -> String {
    if columns.iter().any(|c| c.name == "id") {
        "id".to_owned()
    } else {
        (1..=columns.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every row of `table`, in a stable order (names come from the schema).
fn select_all(table: &str, columns: &[Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    format!(
        "SELECT {} FROM {table} ORDER BY {}",
        names.join(", "),
        order_by(columns)
    )
}

async fn read_sqlite(
    pool: &SqlitePool,
    table: &str,
    columns: &[Column],
) -> anyhow::Result<Vec<Vec<Value>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(select_all(table, columns)))
        .fetch_all(pool)
        .await
        .with_context(|| format!("reading {table} from SQLite"))?;
    rows.iter()
        .map(|row| decode_sqlite(row, columns))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {table} from SQLite"))
}

fn decode_sqlite(row: &SqliteRow, columns: &[Column]) -> Result<Vec<Value>, sqlx::Error> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.kind {
                Kind::BigInt | Kind::Int => Value::Int(row.try_get(i)?),
                Kind::Bool => Value::Bool(row.try_get(i)?),
                Kind::Text => Value::Text(row.try_get(i)?),
                Kind::Bytes => Value::Bytes(row.try_get(i)?),
                Kind::Float => Value::Float(row.try_get(i)?),
            })
        })
        .collect()
}

async fn read_postgres(
    pool: &PgPool,
    table: &str,
    columns: &[Column],
) -> anyhow::Result<Vec<Vec<Value>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(select_all(table, columns)))
        .fetch_all(pool)
        .await
        .with_context(|| format!("reading {table} back from PostgreSQL"))?;
    rows.iter()
        .map(|row| decode_postgres(row, columns))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {table} back from PostgreSQL"))
}

fn decode_postgres(row: &PgRow, columns: &[Column]) -> Result<Vec<Value>, sqlx::Error> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.kind {
                Kind::BigInt => Value::Int(row.try_get(i)?),
                Kind::Int => Value::Int(row.try_get::<Option<i32>, _>(i)?.map(i64::from)),
                Kind::Bool => Value::Bool(row.try_get(i)?),
                Kind::Text => Value::Text(row.try_get(i)?),
                Kind::Bytes => Value::Bytes(row.try_get(i)?),
                Kind::Float => Value::Float(row.try_get(i)?),
            })
        })
        .collect()
}

/// Moves every identity sequence past the largest copied id, so the next
/// insert does not collide with a copied row.
async fn reset_identities(tx: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    let identities = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND is_identity = 'YES'",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in identities {
        let table: String = row.try_get(0)?;
        let column: String = row.try_get(1)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        )))
        .execute(&mut *tx)
        .await
        .with_context(|| format!("moving the id sequence of {table}"))?;
    }
    Ok(())
}
