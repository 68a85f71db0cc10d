//! `securechat import`: an operator brings a Mattermost bulk export (JSONL)
//! or a Slack export (zip) into plaintext channels.
//!
//! The parsers (`mattermost`, `slack`) map their format into one model
//! (`model`); `apply` writes it, resolving source keys to local ids, and
//! `store` holds the SQL. Each written row's `import_map` entry (migration
//! 0032) is in its transaction, so running the same import again after an
//! interruption writes only what is missing. Into encrypted channels
//! nothing is imported: the server cannot encrypt.

mod apply;
mod clean;
mod mattermost;
mod model;
mod slack;
mod store;
mod summary;

use std::path::Path;

use anyhow::Context;
use tokio::io::AsyncBufReadExt;

pub use summary::Summary;

use crate::storage::Db;

/// The format of the file to import.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Mattermost,
    Slack,
}

/// Imports `path` with `owner` (an account id) owning the new rooms.
/// `room_name` names the Slack workspace's room.
pub async fn run(
    db: &Db,
    source: Source,
    path: &Path,
    owner: i64,
    room_name: &str,
) -> anyhow::Result<Summary> {
    let secret = crate::auth::token::new_token();
    let hash = tokio::task::spawn_blocking(move || crate::auth::password::hash_blocking(&secret))
        .await??;
    let mut importer = match source {
        Source::Mattermost => apply::Importer::new(db, "mattermost", owner, hash),
        Source::Slack => apply::Importer::new(db, "slack", owner, hash),
    };
    match source {
        Source::Mattermost => read_jsonl(path, &mut importer).await?,
        Source::Slack => slack::read(path, room_name, &mut importer).await?,
    }
    let summary = importer.finish().await?;
    // SQLite's index of CJK characters is filled by the server's writer;
    // catch it up for the imported rows (PostgreSQL's index follows).
    crate::search::store::catch_up_cjk(db).await?;
    Ok(summary)
}

/// Reads the JSONL a line at a time (invalid UTF-8 replaced, not fatal).
async fn read_jsonl(path: &Path, importer: &mut apply::Importer<'_>) -> anyhow::Result<()> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = tokio::io::BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        for item in mattermost::parse_line(&String::from_utf8_lossy(&line)) {
            importer.push(item).await?;
        }
    }
}

/// The account that owns imported rooms: `name`, or the first enabled site
/// administrator.
pub async fn owner(db: &Db, name: Option<&str>) -> anyhow::Result<i64> {
    use crate::auth::{store, validate};
    let user = match name {
        Some(name) => store::user_by_key(db, &validate::username_key(name))
            .await?
            .with_context(|| format!("no account named {name}"))?,
        None => store::list_users(db)
            .await?
            .into_iter()
            .find(|u| u.is_admin && !u.disabled)
            .context("no enabled site administrator to own the rooms; name one with --owner")?,
    };
    anyhow::ensure!(!user.disabled, "{} is disabled", user.username);
    Ok(user.id)
}
