//! The archive: `account.json` (the account, its profile and rooms),
//! `messages.json`, `reactions.json`, `files.json` and `files/<id>-<name>`
//! with the bytes of every upload the person keeps (encrypted uploads as
//! stored, with `.enc` added).
//!
//! Each part is written while it is read, a page at a time, into a zip
//! streamed to the person: memory holds one page and one chunk of a file
//! whatever the account's size. A failure part-way ends the stream with an
//! error, so the download fails rather than looking complete.

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use futures_util::{AsyncWriteExt, StreamExt};
use serde::Serialize;
use tokio::io::AsyncWrite;

use super::store;
use crate::files::Files;
use crate::storage::{Db, now_ms};

/// Rows read per query.
const PAGE: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("archive: {0}")]
    Zip(#[from] async_zip::error::ZipError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error("file store: {0}")]
    Blob(#[from] object_store::Error),
    #[error("encoding: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the account is gone")]
    NoAccount,
}

#[derive(Serialize)]
struct AccountFile<'a> {
    format: &'static str,
    exported_at: i64,
    account: &'a store::Account,
    rooms: &'a [store::Membership],
}

/// Writes the archive of `user_id` into `out`, then closes it.
pub async fn write<W>(db: &Db, files: &Files, user_id: i64, out: W) -> Result<(), ExportError>
where
    W: AsyncWrite + Unpin,
{
    let mut zip = ZipFileWriter::with_tokio(out);
    let account = store::account(db, user_id)
        .await?
        .ok_or(ExportError::NoAccount)?;
    let rooms = store::memberships(db, user_id).await?;
    let head = serde_json::to_vec_pretty(&AccountFile {
        format: "securechat-export-1",
        exported_at: now_ms(),
        account: &account,
        rooms: &rooms,
    })?;
    zip.write_entry_whole(entry("account.json"), &head).await?;

    let mut part = Array::start(&mut zip, "messages.json").await?;
    let (mut after, now) = (0, now_ms());
    loop {
        let page = store::sent(db, user_id, after, PAGE, now).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        part.items(&page).await?;
    }
    part.end().await?;

    let mut part = Array::start(&mut zip, "reactions.json").await?;
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
    let mut part = Array::start(&mut zip, "files.json").await?;
    let mut after = 0;
    loop {
        let page = store::uploads(db, user_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        part.items(&page).await?;
        uploads.extend(page.into_iter().map(|u| {
            let name = file_name(&u);
            (u.storage_key, name)
        }));
    }
    part.end().await?;
    for (key, name) in uploads {
        let mut bytes = files.blobs.get(&key).await?;
        let mut writer = zip
            .write_entry_stream(entry(&format!("files/{name}")))
            .await?;
        while let Some(chunk) = bytes.next().await {
            writer.write_all(&chunk?).await?;
        }
        writer.close().await?;
    }
    let mut out = zip.close().await?;
    tokio::io::AsyncWriteExt::shutdown(out.get_mut()).await?;
    Ok(())
}

fn entry(name: &str) -> ZipEntryBuilder {
    ZipEntryBuilder::new(name.to_owned().into(), Compression::Deflate)
}

/// `<id>-<name>`: unique in the archive whatever the names; an encrypted
/// upload has no name on the server and gets `.enc`.
fn file_name(upload: &store::Upload) -> String {
    if upload.is_encrypted || upload.name.is_empty() {
        format!("{}.enc", upload.id)
    } else {
        format!("{}-{}", upload.id, upload.name.replace(['/', '\\'], "_"))
    }
}

/// A JSON array written an element at a time into one zip entry.
struct Array<'a, W: AsyncWrite + Unpin> {
    writer: async_zip::base::write::EntryStreamWriter<'a, tokio_util::compat::Compat<W>>,
    first: bool,
}

impl<'a, W: AsyncWrite + Unpin> Array<'a, W> {
    async fn start(
        zip: &'a mut ZipFileWriter<tokio_util::compat::Compat<W>>,
        name: &str,
    ) -> Result<Self, ExportError> {
        let mut writer = zip.write_entry_stream(entry(name)).await?;
        writer.write_all(b"[").await?;
        Ok(Self {
            writer,
            first: true,
        })
    }

    async fn items<T: Serialize>(&mut self, items: &[T]) -> Result<(), ExportError> {
        let mut buf = Vec::new();
        for item in items {
            buf.extend_from_slice(if self.first { b"\n" } else { b",\n" });
            self.first = false;
            serde_json::to_writer(&mut buf, item)?;
        }
        self.writer.write_all(&buf).await?;
        Ok(())
    }

    async fn end(mut self) -> Result<(), ExportError> {
        self.writer.write_all(b"\n]\n").await?;
        self.writer.close().await?;
        Ok(())
    }
}
