//! File sharing: uploads streamed to a blob store, downloads for channel
//! members only, checked against their SHA-256.
//!
//! - [`config`]: `MAX_UPLOAD_MB`, `USER_QUOTA_MB`, `FILE_STORE` and friends.
//! - [`blob`]: the blob store (local directory or S3-compatible bucket).
//! - [`naming`]: display names, `Content-Disposition`, image sniffing.
//! - [`store`]: the SQL; [`view`]: what clients see.
//! - [`http`]: the routes; [`cleanup`]: removing blobs nothing refers to.
//!
//! In a plaintext channel an upload posts its message at once. In an
//! encrypted channel the client uploads ciphertext (the crypto crate's
//! encrypted-file format, checked by its first bytes) without a name, then
//! sends an encrypted message naming the file; the server never learns the
//! file's name, type or contents.

use crate::error::Error;

pub mod blob;
pub mod cleanup;
pub mod config;
pub mod http;
pub mod naming;
pub mod store;
pub mod view;

/// The file store and its limits, as the handlers use them.
#[derive(Clone, Debug)]
pub struct Files {
    pub blobs: blob::Blobs,
    pub config: config::FilesConfig,
}

impl Files {
    pub fn open(config: &config::FilesConfig) -> anyhow::Result<Self> {
        Ok(Self {
            blobs: blob::Blobs::open(&config.store)?,
            config: config.clone(),
        })
    }
}

/// A fresh random blob name (128 bits, hex): never derived from user input.
pub fn new_storage_key() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    Ok(naming::hex(&bytes))
}
