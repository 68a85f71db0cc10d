//! The archive: `account.json` (the account, its profile and rooms),
//! `messages.json`, `reactions.json`, `files.json` and `files/<id>-<name>`
//! with the bytes of every upload the person keeps (encrypted uploads as
//! stored, with `.enc` added).
//!
//! Each part is written while it is read, a page at a time, into a zip
//! streamed to the person: memory holds one page and one chunk of a file
//! whatever the account's size. A failure part-way ends the stream with an
//! error, so the download fails rather than looking complete.

use serde::Serialize;
use tokio::io::AsyncWrite;

use super::store;
use crate::archive::{Archive, ArchiveError, file_entry_name};
use crate::files::Files;
use crate::storage::{Db, now_ms};

/// Rows read per query.
const PAGE: i64 = 500;

#[derive(Serialize)]
struct AccountFile<'a> {
    format: &'static str,
    exported_at: i64,
    account: &'a store::Account,
    rooms: &'a [store::Membership],
}

/// Writes the archive of `user_id` into `out`, then closes it.
pub async fn write<W>(db: &Db, files: &Files, user_id: i64, out: W) -> Result<(), ArchiveError>
where
    W: AsyncWrite + Unpin,
{
    let mut zip = Archive::new(out);
    let account = store::account(db, user_id)
        .await?
        .ok_or(ArchiveError::Gone("the account"))?;
    let rooms = store::memberships(db, user_id).await?;
    zip.json(
        "account.json",
        &AccountFile {
            format: "securechat-export-1",
            exported_at: now_ms(),
            account: &account,
            rooms: &rooms,
        },
    )
    .await?;

    let mut part = zip.array("messages.json").await?;
    let (mut after, now) = (0, now_ms());
    loop {
        let page = store::sent(db, user_id, after, PAGE, now).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        part.items(&page).await?;
    }
    part.end().await?;

    let mut part = zip.array("reactions.json").await?;
    let mut after = (0, String::new());
    loop {
        let page = store::reactions(db, user_id, (after.0, &after.1), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = (last.message_id, last.emoji.clone());
        part.items(&page).await?;
    }
    part.end().await?;

    // The list first, then the bytes: each file's entry is streamed.
    let mut uploads = Vec::new();
    let mut part = zip.array("files.json").await?;
    let mut after = 0;
    loop {
        let page = store::uploads(db, user_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        part.items(&page).await?;
        uploads.extend(page.into_iter().map(|u| {
            let name = file_entry_name(u.id, &u.name, u.is_encrypted);
            (u.storage_key, name)
        }));
    }
    part.end().await?;
    for (key, name) in uploads {
        zip.blob(&format!("files/{name}"), &files.blobs, &key)
            .await?;
    }
    zip.finish().await
}
