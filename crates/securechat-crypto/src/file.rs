//! Encrypted attachments: a file sealed in fixed-size chunks under a random
//! per-file key (for issue 8's uploads).
//!
//! The file key travels inside a channel message (the envelope's plaintext
//! names the upload and carries [`FileKey::export`]), so it is protected by
//! the channel key, the sender's signature and the forward-secrecy policy
//! like any message; the server stores only the ciphertext blob.
//!
//! Chunking follows the STREAM construction (Hoang et al., 2015): every
//! chunk's nonce holds its index and a "last chunk" flag, so chunks cannot be
//! reordered, dropped, duplicated or the file truncated without a failure,
//! and a reader can decrypt chunk by chunk without holding the whole file.
//!
//! Layout:
//! ```text
//! 0x08 0x01 | chunk_size u32 | file_id [16] | chunk 0 | chunk 1 | … | last chunk
//! chunk i = AES-256-GCM(k, nonce_i, plaintext chunk, ad = header) (chunk_size + 16 bytes;
//!           the last one 16..=chunk_size + 16)
//! k       = HKDF-SHA256(salt = file_id, ikm = file key, info = label(KDF_FILE) || header)[0..32]
//! nonce_i = 0x00 × 7 || last (u8: 1 for the final chunk) || i (u32)
//! ```

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{Error, ObjectKind, Result};
use crate::labels::{KDF_FILE, TAG_FILE, labeled};

const KIND: ObjectKind = ObjectKind::File;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 2 + 4 + 16;
/// The chunk size used by [`encrypt`]: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Smallest accepted chunk size.
pub const MIN_CHUNK_SIZE: u32 = 1024;
/// Largest accepted chunk size (bounds a reader's memory per chunk).
pub const MAX_CHUNK_SIZE: u32 = 4 * 1024 * 1024;

/// A random 32-byte per-file key, zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct FileKey([u8; 32]);

impl FileKey {
    /// A fresh key from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        Self::generate_with_rng(&mut rand_core::OsRng)
    }

    /// A fresh key from a caller-supplied RNG (tests only).
    pub fn generate_with_rng(rng: &mut impl CryptoRngCore) -> Result<Self> {
        let mut k = [0u8; 32];
        rng.try_fill_bytes(&mut k).map_err(|_| Error::Rng)?;
        Ok(FileKey(k))
    }

    /// The key as base64url (32 raw bytes), to put inside a message envelope.
    pub fn export(&self) -> Zeroizing<String> {
        Zeroizing::new(to_wire(&self.0))
    }

    /// Parses [`FileKey::export`].
    pub fn import(s: &str) -> Result<Self> {
        let bytes = Zeroizing::new(from_wire(s)?);
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::InvalidField {
                object: KIND,
                reason: "a file key is 32 bytes",
            })?;
        Ok(FileKey(key))
    }
}

impl core::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FileKey(..)")
    }
}

/// Encrypts `data` under `key` in 64 KiB chunks.
pub fn encrypt(key: &FileKey, data: &[u8]) -> Result<Vec<u8>> {
    encrypt_with(key, data, DEFAULT_CHUNK_SIZE, &mut rand_core::OsRng)
}

/// Encrypts with an explicit chunk size and RNG (for the file id).
pub fn encrypt_with(
    key: &FileKey,
    data: &[u8],
    chunk_size: u32,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>> {
    check_chunk_size(chunk_size)?;
    let mut file_id = [0u8; 16];
    rng.try_fill_bytes(&mut file_id).map_err(|_| Error::Rng)?;
    let mut w = Writer::new(TAG_FILE);
    w.u32(chunk_size).bytes(&file_id);
    let header = w.finish();
    let cipher = chunk_cipher(key, &file_id, &header)?;
    let size = usize::try_from(chunk_size).map_err(|_| Error::TooLarge(KIND))?;
    let mut out = header.clone();
    // An empty file is one empty final chunk, so "no chunks" means truncation.
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(size).collect()
    };
    let last_index = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let nonce = chunk_nonce(i, i == last_index)?;
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: chunk,
                    aad: &header,
                },
            )
            .map_err(|_| Error::TooLarge(KIND))?;
        out.extend_from_slice(&ct);
    }
    Ok(out)
}

/// Decrypts and authenticates a file made by [`encrypt`].
pub fn decrypt(key: &FileKey, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let header = blob.get(..HEADER_LEN).ok_or(Error::Truncated(KIND))?;
    let mut r = Reader::open(header, TAG_FILE, KIND)?;
    let chunk_size = r.u32()?;
    let file_id: [u8; 16] = r.array()?;
    r.finish()?;
    check_chunk_size(chunk_size)?;
    let cipher = chunk_cipher(key, &file_id, header)?;
    let size = usize::try_from(chunk_size).map_err(|_| Error::TooLarge(KIND))? + TAG_LEN;
    let body = blob.get(HEADER_LEN..).unwrap_or_default();
    if body.is_empty() {
        return Err(Error::Truncated(KIND));
    }
    let chunks: Vec<&[u8]> = body.chunks(size).collect();
    let last_index = chunks.len() - 1;
    let mut out = Zeroizing::new(Vec::with_capacity(body.len()));
    for (i, chunk) in chunks.into_iter().enumerate() {
        if chunk.len() < TAG_LEN {
            return Err(Error::Truncated(KIND));
        }
        let nonce = chunk_nonce(i, i == last_index)?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: chunk,
                        aad: header,
                    },
                )
                .map_err(|_| Error::DecryptionFailed(KIND))?,
        );
        out.extend_from_slice(&plain);
    }
    Ok(out)
}

fn check_chunk_size(chunk_size: u32) -> Result<()> {
    if (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(())
    } else {
        Err(Error::InvalidField {
            object: KIND,
            reason: "chunk size out of range",
        })
    }
}

fn chunk_cipher(key: &FileKey, file_id: &[u8; 16], header: &[u8]) -> Result<Aes256Gcm> {
    let mut k = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(file_id), &key.0)
        .expand(&labeled(KDF_FILE, header), k.as_mut())
        .map_err(|_| Error::TooLarge(KIND))?;
    Aes256Gcm::new_from_slice(k.as_ref()).map_err(|_| Error::TooLarge(KIND))
}

fn chunk_nonce(index: usize, last: bool) -> Result<[u8; 12]> {
    let index = u32::try_from(index).map_err(|_| Error::TooLarge(KIND))?;
    let mut nonce = [0u8; 12];
    nonce[7] = u8::from(last);
    nonce[8..].copy_from_slice(&index.to_be_bytes());
    Ok(nonce)
}
