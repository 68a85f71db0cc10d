//! The search statement, one per engine.
//!
//! SQLite drives the query from the FTS5 trigram index (`messages_fts`, see
//! migration 0013) for words of three characters or more; shorter words,
//! which a trigram index cannot look up, are checked with `LIKE` on the
//! rows it found; without such a word, words of Chinese, Japanese or
//! Korean characters are looked up in its index of those characters
//! (`messages_cjk`, see [`cjk`](super::cjk)), and only when neither serves
//! is every readable row checked.
//! PostgreSQL checks every word with `ILIKE`, which its `pg_trgm` GIN index
//! serves. Either way only plaintext, undeleted messages of channels in
//! rooms the reader is a member of *now* are candidates: membership is a
//! join in the statement itself, never a check before it.

use sqlx::FromRow;

use super::cjk;
use super::query::Query;
use super::rank::{Cursor, Sort};
use crate::messages::store::MessageRow;
use crate::storage::{Db, escape_like};

/// How many of the newest matches relevance ranks. Scoring every match of
/// a word in half of a million messages took over a second; the newest
/// thousand are what a person searching a chat mostly wants, and
/// `sort=newest` pages through all of them.
pub const RELEVANCE_WINDOW: i64 = 1000;

/// How many of the newest messages PostgreSQL looks through first.
///
/// Its planner walks the primary key newest first and checks each row
/// (`ORDER BY id DESC LIMIT n`), which is right for a common word and
/// reads every row for a rare one (1.3 s over a million messages: the
/// `pg_trgm` index went unused). So the statement runs first over the
/// newest messages only; when the candidates it found fill what it asked
/// for, they are the newest matches of all, and when they do not, it runs
/// again over every message, ordered so that only the trigram index can
/// serve it.
pub const RECENT_SPAN: i64 = 5_000;

/// One matching message, with where it was written and its score.
#[derive(Debug, FromRow)]
pub struct Hit {
    #[sqlx(flatten)]
    pub message: MessageRow,
    pub channel_name: String,
    pub room_id: i64,
    pub room_name: String,
    pub room_kind: String,
    pub score: i64,
    /// How many candidates the statement ranked (PostgreSQL only; see
    /// [`RECENT_SPAN`]).
    #[sqlx(default)]
    pub candidates: i64,
}

/// What to search.
pub struct Search<'a> {
    pub viewer: i64,
    pub query: &'a Query,
    /// Only this channel (the caller checked the viewer may read it).
    pub channel_id: Option<i64>,
    pub sort: Sort,
    /// Results after this one (the previous page's last).
    pub after: Option<Cursor>,
    pub limit: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// The statement and its values, numbered as they are added.
struct Statement {
    sql: String,
    binds: Vec<Bind>,
}

impl Statement {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }
}

/// Words the trigram index can look up (three characters or more).
fn indexed(term: &str) -> bool {
    term.chars().count() >= 3
}

/// An FTS5 string for each word (a `"` inside doubled): the index's query
/// syntax never sees what a person typed as syntax.
fn fts_match(terms: &[&String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which messages a PostgreSQL statement looks through (see [`RECENT_SPAN`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Span {
    /// The newest [`RECENT_SPAN`], newest first by primary key.
    Recent,
    /// Every message, through the trigram index.
    All,
}

fn build(engine: Engine, s: &Search<'_>, span: Span) -> Statement {
    let mut st = Statement {
        sql: String::new(),
        binds: Vec::new(),
    };
    let q = s.query;
    let viewer = st.bind(Bind::Int(s.viewer));
    let fts_terms: Vec<&String> = match engine {
        Engine::Sqlite => q.terms.iter().filter(|t| indexed(t)).collect(),
        Engine::Postgres => Vec::new(),
    };
    // Without a word for the trigram index, short CJK words are looked up
    // in SQLite's index of CJK characters (see `cjk`).
    let cjk_terms: Vec<&String> = match engine {
        Engine::Sqlite if fts_terms.is_empty() => {
            q.terms.iter().filter(|t| cjk::serves(t)).collect()
        }
        _ => Vec::new(),
    };
    let mut score = Vec::new();
    for term in &q.terms {
        let t = st.bind(Bind::Text(term.clone()));
        let len = st.bind(Bind::Int(
            i64::try_from(term.chars().count()).unwrap_or(i64::MAX),
        ));
        score.push(format!(
            "(LENGTH(LOWER(m.content)) - LENGTH(REPLACE(LOWER(m.content), {t}, ''))) / {len}"
        ));
    }
    let score = if score.is_empty() {
        "CAST(0 AS BIGINT)".to_owned()
    } else {
        format!(
            "CAST(({}) * 1000000 / (LENGTH(m.content) + 16) AS BIGINT)",
            score.join(" + ")
        )
    };
    // `CROSS JOIN`: SQLite keeps the index outside `messages`, whose
    // `(sender_id, client_msg_id)` index could otherwise drive a `from:`
    // search.
    let (source, newest) = if !fts_terms.is_empty() {
        (
            "messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid",
            "messages_fts.rowid DESC",
        )
    } else if !cjk_terms.is_empty() {
        (
            "messages_cjk CROSS JOIN messages m ON m.id = messages_cjk.rowid",
            "messages_cjk.rowid DESC",
        )
    } else {
        ("messages m", "m.id DESC")
    };
    let mut conditions = vec![
        "m.content IS NOT NULL".to_owned(),
        "m.deleted_at IS NULL".to_owned(),
        "c.is_encrypted = FALSE".to_owned(),
    ];
    if !fts_terms.is_empty() {
        let matched = st.bind(Bind::Text(fts_match(&fts_terms)));
        conditions.push(format!("messages_fts MATCH {matched}"));
    }
    if !cjk_terms.is_empty() {
        let phrases: Vec<String> = cjk_terms.iter().map(|t| cjk::phrase(t)).collect();
        let matched = st.bind(Bind::Text(phrases.join(" ")));
        conditions.push(format!("messages_cjk MATCH {matched}"));
    }
    let like = match engine {
        Engine::Sqlite => "LIKE",
        Engine::Postgres => "ILIKE",
    };
    for term in q
        .terms
        .iter()
        .filter(|t| engine == Engine::Postgres || !indexed(t))
    {
        let pattern = st.bind(Bind::Text(format!("%{}%", escape_like(term))));
        conditions.push(format!("m.content {like} {pattern} ESCAPE '\\'"));
    }
    // A disappeared message is never a result, even before it is purged.
    let now = st.bind(Bind::Int(crate::storage::now_ms()));
    conditions.push(format!("(m.expires_at IS NULL OR m.expires_at > {now})"));
    if let Some(channel_id) = s.channel_id {
        let c = st.bind(Bind::Int(channel_id));
        conditions.push(format!("m.channel_id = {c}"));
    }
    if let Some(from) = &q.from {
        let u = st.bind(Bind::Text(from.clone()));
        // The sender's id, looked up once: as a condition on the joined
        // `users` row, SQLite started from that row and could no longer
        // take the index's matches newest first (it sorted every match:
        // 0.4 s for a word in 3% of a million messages, 5 ms now).
        conditions.push(format!(
            "m.sender_id = (SELECT id FROM users WHERE username_key = {u})"
        ));
    }
    if let Some(channel) = &q.channel {
        let c = st.bind(Bind::Text(channel.clone()));
        conditions.push(format!("c.name_key = {c}"));
    }
    if let Some(before) = q.before_ms {
        let b = st.bind(Bind::Int(before));
        conditions.push(format!("m.created_at < {b}"));
    }
    if let Some(after) = q.after_ms {
        let a = st.bind(Bind::Int(after));
        conditions.push(format!("m.created_at >= {a}"));
    }
    if q.has_file {
        conditions.push("f.id IS NOT NULL".to_owned());
    }
    if q.has_link {
        conditions.push(format!(
            "(m.content {like} '%http://%' OR m.content {like} '%https://%')"
        ));
    }
    // Candidates are taken newest first, which the index (FTS5 by rowid,
    // PostgreSQL by primary key) serves without sorting: a page of the
    // newest order stops after the page, and relevance ranks the newest
    // RELEVANCE_WINDOW matches instead of scoring and sorting every match
    // of a common word (seconds over a million messages).
    let newest = match (engine, span) {
        (Engine::Postgres, Span::Recent) => {
            let recent = st.bind(Bind::Int(RECENT_SPAN));
            conditions.push(format!(
                "m.id > (SELECT COALESCE(MAX(id), 0) FROM messages) - {recent}"
            ));
            newest
        }
        // `+ 0`: no index orders by it, so the planner takes the rows from
        // the trigram index and sorts the few it found.
        (Engine::Postgres, Span::All) if !q.terms.is_empty() => "m.id + 0 DESC",
        _ => newest,
    };
    let (candidates, page, order) = match (s.sort, s.after) {
        (Sort::Relevance, after) => {
            let window = st.bind(Bind::Int(RELEVANCE_WINDOW));
            let page = match after {
                Some(after) => {
                    let score_at = st.bind(Bind::Int(after.score));
                    let id_at = st.bind(Bind::Int(after.id));
                    format!(
                        "WHERE hits.score < {score_at} OR (hits.score = {score_at} AND hits.id < {id_at})"
                    )
                }
                None => String::new(),
            };
            (window, page, "hits.score DESC, hits.id DESC")
        }
        (Sort::Newest, after) => {
            if let Some(after) = after {
                let id_at = st.bind(Bind::Int(after.id));
                conditions.push(format!("m.id < {id_at}"));
            }
            (st.bind(Bind::Int(s.limit)), String::new(), "hits.id DESC")
        }
    };
    let limit = st.bind(Bind::Int(s.limit));
    let counted = match engine {
        Engine::Postgres => ", (SELECT COUNT(*) FROM hits) AS candidates",
        Engine::Sqlite => "",
    };
    st.sql = format!(
        "WITH hits AS (\
         SELECT m.id, m.channel_id, m.sender_id, u.username AS sender_username, \
         COALESCE(u.is_bot, FALSE) AS sender_is_bot, m.content, \
         m.envelope, m.key_version, m.client_msg_id, m.reply_to, m.created_at, m.edited_at, \
         m.deleted_at, m.expires_at, f.id AS file_id, f.name AS file_name, \
         f.content_type AS file_type, f.size AS file_size, f.sha256 AS file_sha256, \
         f.is_encrypted AS file_encrypted, FALSE AS has_reactions, \
         m.thread_root_id, m.also_send_to_channel, \
         COALESCE(ts.reply_count, 0) AS reply_count, ts.last_reply_at, \
         m.webhook_id, m.webhook_name, m.webhook_icon, \
         c.name AS channel_name, r.id AS room_id, r.name AS room_name, \
         r.kind AS room_kind, {score} AS score \
         FROM {source} \
         JOIN channels c ON c.id = m.channel_id \
         JOIN room_members rm ON rm.room_id = c.room_id AND rm.user_id = {viewer} \
         JOIN rooms r ON r.id = c.room_id \
         LEFT JOIN users u ON u.id = m.sender_id \
         LEFT JOIN files f ON f.id = m.file_id AND f.deleted_at IS NULL \
         LEFT JOIN thread_summaries ts ON ts.root_id = m.id \
         WHERE {conditions} ORDER BY {newest} LIMIT {candidates}) \
         SELECT hits.*{counted} FROM hits {page} ORDER BY {order} LIMIT {limit}",
        conditions = conditions.join(" AND "),
    );
    st
}

/// Runs a search: up to `limit` hits, in the order asked.
pub async fn search(db: &Db, s: &Search<'_>) -> Result<Vec<Hit>, sqlx::Error> {
    macro_rules! run {
        ($pool:expr, $engine:expr, $span:expr) => {{
            let st = build($engine, s, $span);
            let mut query = sqlx::query_as::<_, Hit>(sqlx::AssertSqlSafe(st.sql));
            for value in st.binds {
                query = match value {
                    Bind::Int(v) => query.bind(v),
                    Bind::Text(v) => query.bind(v),
                };
            }
            query.fetch_all($pool).await
        }};
    }
    match db {
        Db::Sqlite { reader, .. } => run!(reader, Engine::Sqlite, Span::All),
        Db::Postgres(pool) => {
            let recent = run!(pool, Engine::Postgres, Span::Recent)?;
            let asked = match s.sort {
                Sort::Relevance => RELEVANCE_WINDOW,
                Sort::Newest => s.limit,
            };
            if recent.first().is_some_and(|hit| hit.candidates >= asked) {
                return Ok(recent);
            }
            run!(pool, Engine::Postgres, Span::All)
        }
    }
}

/// Rows read and indexed per transaction when catching up at start.
const CATCH_UP_BATCH: i64 = 5000;

/// Indexes the rows above the high-water mark (SQLite; nothing to do on
/// PostgreSQL), in batches, and moves the mark to the newest message.
/// Runs at start, before the writer: a database written without the index
/// (an older version, a bulk import) is then fully searchable.
pub async fn catch_up_cjk(db: &Db) -> Result<(), sqlx::Error> {
    let Db::Sqlite { writer, .. } = db else {
        return Ok(());
    };
    let mut indexed = 0u64;
    loop {
        let mut tx = writer.begin().await?;
        let mark: i64 = sqlx::query_scalar("SELECT indexed_through FROM search_cjk_mark")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, content FROM messages WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(mark)
                .bind(CATCH_UP_BATCH)
                .fetch_all(&mut *tx)
                .await?;
        let Some(&(last, _)) = rows.last() else {
            tx.commit().await?;
            break;
        };
        for (id, content) in &rows {
            if crate::messages::store::index_cjk(&mut tx, *id, content.as_deref()).await? {
                indexed += 1;
            }
        }
        sqlx::query("UPDATE search_cjk_mark SET indexed_through = $1")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    if indexed > 0 {
        tracing::info!(
            messages = indexed,
            "indexed CJK text written without the index"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_syntax_reaches_fts5_only_inside_strings() {
        let a = "say \"no\"".to_owned();
        let b = "near(x".to_owned();
        assert_eq!(fts_match(&[&a, &b]), r#""say ""no""" "near(x""#);
    }

    #[test]
    fn short_words_are_not_looked_up_in_the_trigram_index() {
        let query = Query::parse("密钥 rotation ok").unwrap();
        let s = Search {
            viewer: 1,
            query: &query,
            channel_id: None,
            sort: Sort::Relevance,
            after: None,
            limit: 10,
        };
        let sqlite = build(Engine::Sqlite, &s, Span::All);
        assert!(sqlite.sql.contains("messages_fts MATCH"));
        assert_eq!(sqlite.sql.matches(" LIKE $").count(), 2, "密钥 and ok");
        assert!(
            sqlite
                .sql
                .contains("ORDER BY messages_fts.rowid DESC LIMIT"),
            "candidates newest first from the index"
        );
        let pg = build(Engine::Postgres, &s, Span::Recent);
        assert!(pg.sql.contains("ORDER BY m.id DESC LIMIT"));
        assert!(
            pg.sql
                .contains("(SELECT COALESCE(MAX(id), 0) FROM messages) -")
        );
        let all = build(Engine::Postgres, &s, Span::All);
        assert!(all.sql.contains("ORDER BY m.id + 0 DESC LIMIT"));
        assert!(!pg.sql.contains("messages_fts"));
        assert_eq!(pg.sql.matches(" ILIKE $").count(), 3);
    }
}
