//! The blob store: uploaded bytes under server-made names, on local disk or
//! in an S3-compatible bucket, behind the `object_store` crate so both
//! behave the same.
//!
//! Uploads are streamed: each chunk of the request body is hashed, counted
//! against the limit and handed to a multipart writer that keeps at most a
//! few parts in memory. Passing the limit stops reading at once.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

use super::config::StoreConfig;

/// Size of one multipart part: S3's minimum, and the memory an upload holds.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts in flight at once per upload.
const PARTS_IN_FLIGHT: usize = 2;
/// Bytes kept from the start of a file, to recognise image types.
pub const HEAD_LEN: usize = 16;

/// A configured blob store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Blobs(Arc<dyn ObjectStore>);

/// What a finished upload was.
#[derive(Debug)]
pub struct Stored {
    pub size: u64,
    pub sha256: [u8; 32],
    /// The first bytes (up to [`HEAD_LEN`]).
    pub head: Vec<u8>,
}

/// Why an upload did not finish.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the upload was interrupted: {0}")]
    Body(String),
    #[error("the file store failed: {0}")]
    Store(#[from] object_store::Error),
}

impl Blobs {
    /// Opens the store `config` names (creating a local directory).
    pub fn open(config: &StoreConfig) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match config {
            StoreConfig::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the files directory {}: {e}", dir.display())
                })?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
            }
            StoreConfig::S3 {
                bucket,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
            } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                if let (Some(id), Some(secret)) = (access_key_id, secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                Arc::new(builder.build()?)
            }
        };
        Ok(Self(store))
    }

    fn path(key: &str) -> ObjectPath {
        ObjectPath::from(key)
    }

    /// Streams `body` into `key`, refusing more than `limit` bytes. On any
    /// failure nothing is left behind under `key`.
    pub async fn put<S, E>(&self, key: &str, body: S, limit: u64) -> Result<Stored, PutError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self.0.put_multipart(&Self::path(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match copy(body, &mut writer, limit).await {
            Ok((size, hasher, head)) => {
                writer.finish().await?;
                Ok(Stored {
                    size,
                    sha256: hasher.finalize().into(),
                    head,
                })
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "could not abort a failed upload");
                }
                Err(e)
            }
        }
    }

    /// The bytes of `key`, as a stream.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<
        futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
        object_store::Error,
    > {
        Ok(self.0.get(&Self::path(key)).await?.into_stream())
    }

    /// Removes `key`; a missing blob is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), object_store::Error> {
        match self.0.delete(&Self::path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

async fn copy<S, E>(
    mut body: S,
    writer: &mut WriteMultipart,
    limit: u64,
) -> Result<(u64, Sha256, Vec<u8>), PutError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut size = 0u64;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(HEAD_LEN);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| PutError::Body(e.to_string()))?;
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(PutError::TooLarge { limit });
        }
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.write(&chunk);
    }
    Ok((size, hasher, head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn round_trip_with_hash_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(&StoreConfig::Local(dir.path().join("files"))).unwrap();
        let stored = blobs
            .put("abc", chunks(&[b"hello ", b"world"]), 11)
            .await
            .unwrap();
        assert_eq!(stored.size, 11);
        assert_eq!(stored.head, b"hello world");
        assert_eq!(
            crate::files::naming::hex(&stored.sha256),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let mut back = Vec::new();
        let mut stream = blobs.get("abc").await.unwrap();
        while let Some(chunk) = stream.next().await {
            back.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(back, b"hello world");

        let err = blobs
            .put("big", chunks(&[b"0123456789", b"0"]), 10)
            .await
            .unwrap_err();
        assert!(matches!(err, PutError::TooLarge { limit: 10 }));
        assert!(
            blobs.get("big").await.is_err(),
            "nothing kept of a refused upload"
        );

        blobs.delete("abc").await.unwrap();
        blobs.delete("abc").await.unwrap();
        assert!(blobs.get("abc").await.is_err());
    }
}
