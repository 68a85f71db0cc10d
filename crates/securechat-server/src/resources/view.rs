//! What clients see of a resource.

use serde::Serialize;
use utoipa::ToSchema;

use super::store::ResourceRow;
use crate::storage::rfc3339;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceView {
    pub id: i64,
    pub room_id: i64,
    /// The channel it belongs to; null when room-wide.
    pub channel_id: Option<i64>,
    /// Null for a resource of an encrypted channel (see `envelope`).
    pub title: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    /// Encrypted channels: title, URL and description sealed by the client.
    pub envelope: Option<String>,
    pub key_version: Option<i64>,
    /// An uploaded file it refers to (`/api/files/{id}`).
    pub file_id: Option<i64>,
    pub pinned: bool,
    pub created_by: Option<i64>,
    pub created_by_username: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ResourceRow> for ResourceView {
    fn from(r: &ResourceRow) -> Self {
        Self {
            id: r.id,
            room_id: r.room_id,
            channel_id: r.channel_id,
            title: r.title.clone(),
            url: r.url.clone(),
            description: r.description.clone(),
            envelope: r.envelope.clone(),
            key_version: r.key_version,
            file_id: r.file_id,
            pinned: r.pinned,
            created_by: r.created_by,
            created_by_username: r.created_by_username.clone(),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}
