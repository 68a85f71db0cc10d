//! `securechat import`: an operator brings a Mattermost bulk export (JSONL)
//! or a Slack export (zip) into plaintext channels.
//!
//! The `securechat-import` crate reads the export into its model (rooms,
//! channels, people, messages named by their source keys); `apply` writes
//! it, resolving source keys to local ids, and `store` holds the SQL. Each written row's `import_map` entry (migration
//! 0032) is in its transaction, so running the same import again after an
//! interruption writes only what is missing. Into encrypted channels
//! nothing is imported here: the server cannot encrypt, so
//! `securechat-cli import` does that, on the same crate.

mod apply;
mod clean;
mod store;
mod summary;

use std::path::Path;

use anyhow::Context;

pub use securechat_import::Source;
pub use summary::Summary;

use crate::storage::Db;

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
    let mut importer = apply::Importer::new(db, source.name(), owner, hash);
    securechat_import::read(source, path, room_name, &mut importer).await?;
    let summary = importer.finish().await?;
    // SQLite's index of CJK characters is filled by the server's writer;
    // catch it up for the imported rows (PostgreSQL's index follows).
    crate::search::store::catch_up_cjk(db).await?;
    Ok(summary)
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
