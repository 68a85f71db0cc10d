//! Zip archives streamed to a download while they are written: "Export my
//! data" and a room's export.
//!
//! The writer runs in a task of its own and feeds the response through a
//! bounded pipe, so memory holds one page of rows and one chunk of a file
//! whatever the archive's size, and a slow download slows the writer down
//! instead of piling bytes up. A failure part-way ends the stream with an
//! error: the download fails rather than looking complete. Archives written
//! at once by a node are capped (each reads the database page by page and
//! the file store file by file for as long as its download lasts), and so
//! is the time one may take.

use std::future::Future;
use std::time::Duration;

use async_zip::base::write::{EntryStreamWriter, ZipFileWriter};
use async_zip::{Compression, ZipEntryBuilder};
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{AsyncWriteExt, StreamExt};
use serde::Serialize;
use tokio::io::{AsyncWrite, DuplexStream};
use tokio::sync::Semaphore;
use tokio_util::compat::Compat;

use crate::error::Error;
use crate::files::blob::Blobs;

/// Archives written at once by this node.
static WRITING: Semaphore = Semaphore::const_new(2);
/// Bytes the archive may run ahead of the download.
const PIPE: usize = 256 * 1024;
/// The longest an archive may take, a slow download included.
const MAX_TIME: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
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
    #[error("{0} is gone")]
    Gone(&'static str),
}

/// Starts `write` on the pipe of a new download named `file_name` (ASCII
/// letters, digits, `-` and `_` are kept; anything else becomes `_`).
/// `what` names the archive in the log. 503 while other archives are
/// being written.
pub fn download<F, Fut>(what: &'static str, file_name: &str, write: F) -> Result<Response, Error>
where
    F: FnOnce(DuplexStream) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), ArchiveError>> + Send + 'static,
{
    let permit = WRITING.try_acquire().map_err(|_| Error::Unavailable {
        retry_after: 30,
        message: "Other exports are being written; try again in a minute".into(),
    })?;
    let (reader, writer) = tokio::io::duplex(PIPE);
    tokio::spawn(async move {
        let _permit = permit;
        match tokio::time::timeout(MAX_TIME, write(writer)).await {
            Ok(Ok(())) => tracing::info!(what, "archive written"),
            // The reader sees the stream end early: the download fails.
            Ok(Err(e)) => tracing::warn!(what, error = %e, "archive failed"),
            Err(_) => tracing::warn!(what, "archive took too long; cut off"),
        }
    });
    let name: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.zip\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response())
}

/// A zip being written into `W`.
pub struct Archive<W: AsyncWrite + Unpin> {
    zip: ZipFileWriter<Compat<W>>,
}

impl<W: AsyncWrite + Unpin> Archive<W> {
    pub fn new(out: W) -> Self {
        Self {
            zip: ZipFileWriter::with_tokio(out),
        }
    }

    /// One entry holding `value` as pretty JSON.
    pub async fn json<T: Serialize>(&mut self, name: &str, value: &T) -> Result<(), ArchiveError> {
        let bytes = serde_json::to_vec_pretty(value)?;
        self.zip.write_entry_whole(entry(name), &bytes).await?;
        Ok(())
    }

    /// One entry written piece by piece; end it with [`Text::end`].
    pub async fn text(&mut self, name: &str) -> Result<Text<'_, W>, ArchiveError> {
        Ok(Text {
            writer: self.zip.write_entry_stream(entry(name)).await?,
        })
    }

    /// One entry holding a JSON array written a page at a time.
    pub async fn array(&mut self, name: &str) -> Result<Array<'_, W>, ArchiveError> {
        let mut text = self.text(name).await?;
        text.write(b"[").await?;
        Ok(Array { text, first: true })
    }

    /// One entry holding the blob `key`, streamed from the file store.
    pub async fn blob(&mut self, name: &str, blobs: &Blobs, key: &str) -> Result<(), ArchiveError> {
        let mut bytes = blobs.get(key).await?;
        let mut text = self.text(name).await?;
        while let Some(chunk) = bytes.next().await {
            text.write(&chunk?).await?;
        }
        text.end().await
    }

    /// Writes the zip's directory and closes the output.
    pub async fn finish(self) -> Result<(), ArchiveError> {
        let mut out = self.zip.close().await?;
        tokio::io::AsyncWriteExt::shutdown(out.get_mut()).await?;
        Ok(())
    }
}

fn entry(name: &str) -> ZipEntryBuilder {
    ZipEntryBuilder::new(name.to_owned().into(), Compression::Deflate)
}

/// An entry being written.
pub struct Text<'a, W: AsyncWrite + Unpin> {
    writer: EntryStreamWriter<'a, Compat<W>>,
}

impl<W: AsyncWrite + Unpin> Text<'_, W> {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.writer.write_all(bytes).await?;
        Ok(())
    }

    pub async fn end(self) -> Result<(), ArchiveError> {
        self.writer.close().await?;
        Ok(())
    }

    /// Writes `bytes` last and ends the entry.
    pub async fn end_with(mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.write(bytes).await?;
        self.end().await
    }
}

/// A JSON array written an element at a time into one entry.
pub struct Array<'a, W: AsyncWrite + Unpin> {
    text: Text<'a, W>,
    first: bool,
}

impl<W: AsyncWrite + Unpin> Array<'_, W> {
    pub async fn items<T: Serialize>(&mut self, items: &[T]) -> Result<(), ArchiveError> {
        let mut buf = Vec::new();
        for item in items {
            buf.extend_from_slice(if self.first { b"\n" } else { b",\n" });
            self.first = false;
            serde_json::to_writer(&mut buf, item)?;
        }
        self.text.write(&buf).await
    }

    pub async fn end(mut self) -> Result<(), ArchiveError> {
        self.text.write(b"\n]\n").await?;
        self.text.end().await
    }
}

/// `<id>-<name>` for a stored file: unique in an archive whatever the
/// names; an encrypted upload has no name on the server and gets `.enc`.
pub fn file_entry_name(id: i64, name: &str, is_encrypted: bool) -> String {
    if is_encrypted || name.is_empty() {
        format!("{id}.enc")
    } else {
        format!("{id}-{}", name.replace(['/', '\\'], "_"))
    }
}
