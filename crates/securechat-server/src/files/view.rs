//! What clients see of a file.

use serde::Serialize;
use utoipa::ToSchema;

use super::store::FileRow;
use crate::storage::rfc3339;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub id: i64,
    pub channel_id: i64,
    pub uploader_id: Option<i64>,
    /// Display name; null for encrypted files (the name is in the message).
    pub name: Option<String>,
    /// `image/png`, `image/jpeg`, `image/gif`, `image/webp` when the bytes
    /// are such an image (shown inline with `?inline=true`); otherwise
    /// `application/octet-stream`.
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the stored bytes (the ciphertext, when encrypted).
    pub sha256: String,
    pub encrypted: bool,
    pub message_id: Option<i64>,
    pub created_at: String,
    /// Where to download it.
    pub url: String,
}

impl From<&FileRow> for FileView {
    fn from(f: &FileRow) -> Self {
        Self {
            id: f.id,
            channel_id: f.channel_id,
            uploader_id: f.uploader_id,
            name: (!f.is_encrypted).then(|| f.name.clone()),
            content_type: f.content_type.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
            encrypted: f.is_encrypted,
            message_id: f.message_id,
            created_at: rfc3339(f.created_at),
            url: format!("/api/files/{}", f.id),
        }
    }
}
