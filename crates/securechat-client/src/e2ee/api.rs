//! The REST calls of end-to-end encryption, as thin typed wrappers: key
//! bundles, key backup, channel-key shares and requests, the membership
//! log, and the membership endpoints of rooms without a log. They move
//! strings; [`super::SecureClient`] decides what to trust.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Auth, Client, Empty};
use crate::error::Result;

/// `GET /api/users/{id}/public_key`.
#[derive(Debug, Clone, Deserialize)]
pub struct PublishedKey {
    /// Absent in the entries of the key history.
    #[serde(default)]
    pub user_id: i64,
    pub public_key: String,
    #[serde(default)]
    pub fingerprint: String,
}

#[derive(Deserialize)]
struct KeyHistory {
    keys: Vec<PublishedKey>,
}

/// The room's membership log as the server serves it.
#[derive(Debug, Clone, Deserialize)]
pub struct LogPage {
    #[serde(default)]
    pub entries: Vec<String>,
}

/// My sealed copy of a channel key (`GET /api/channels/{id}/key`).
#[derive(Debug, Clone, Deserialize)]
pub struct MyShare {
    pub channel_id: i64,
    pub key_version: i64,
    pub encrypted_key: String,
    pub is_key_rotation: bool,
    pub sender_id: i64,
}

#[derive(Deserialize)]
struct RequestId {
    request_id: i64,
}

#[derive(Deserialize)]
struct BackupBody {
    #[serde(default)]
    backup: Option<String>,
}

#[derive(Serialize)]
struct ShareBody<'a> {
    user_id: i64,
    channel_id: i64,
    encrypted_key: &'a str,
    is_key_rotation: bool,
    key_version: u32,
}

#[derive(Serialize)]
struct LogSubmission<'a> {
    entries: &'a [String],
    ban: bool,
    reason: &'a str,
}

#[derive(Serialize)]
struct Target<'a> {
    user_id: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
}

#[derive(Serialize)]
struct RoleBody<'a> {
    role: &'a str,
}

impl Client {
    /// A user's current published bundle.
    pub async fn public_key(&self, user_id: i64) -> Result<PublishedKey> {
        self.get(&format!("api/users/{user_id}/public_key")).await
    }

    /// Every bundle a user has published, oldest first.
    pub async fn public_key_history(&self, user_id: i64) -> Result<Vec<PublishedKey>> {
        let list: KeyHistory = self
            .get(&format!("api/users/{user_id}/public_keys"))
            .await?;
        Ok(list.keys)
    }

    /// Publishes my bundle (`PUT /api/users/me/public_key`).
    pub async fn publish_public_key(&self, bundle: &str) -> Result<()> {
        self.call::<_, Empty>(
            Method::PUT,
            "api/users/me/public_key",
            Auth::Required,
            Some(&serde_json::json!({ "public_key": bundle })),
        )
        .await
        .map(|_| ())
    }

    /// Stores my passphrase-sealed identity.
    pub async fn put_key_backup(&self, backup: &str) -> Result<()> {
        self.call::<_, Empty>(
            Method::PUT,
            "api/users/me/key_backup",
            Auth::Required,
            Some(&serde_json::json!({ "backup": backup })),
        )
        .await
        .map(|_| ())
    }

    /// My sealed key backup; `None` when I have stored none.
    pub async fn key_backup(&self) -> Result<Option<String>> {
        let body: BackupBody = self.get("api/users/me/key_backup").await?;
        Ok(body.backup)
    }

    /// Posts one sealed share (`POST /api/channels/share_key`).
    pub async fn share_key(
        &self,
        channel_id: i64,
        recipient_id: i64,
        key_version: u32,
        is_key_rotation: bool,
        encrypted_key: &str,
    ) -> Result<()> {
        let body = ShareBody {
            user_id: recipient_id,
            channel_id,
            encrypted_key,
            is_key_rotation,
            key_version,
        };
        self.post::<_, Empty>("api/channels/share_key", Some(&body))
            .await
            .map(|_| ())
    }

    /// My sealed copy of `version` (default: the current one).
    pub async fn my_share(&self, channel_id: i64, version: Option<u32>) -> Result<MyShare> {
        let path = match version {
            Some(v) => format!("api/channels/{channel_id}/key?version={v}"),
            None => format!("api/channels/{channel_id}/key"),
        };
        self.get(&path).await
    }

    /// Asks the room's admins for the channel key; returns the request id.
    pub async fn post_key_request(&self, channel_id: i64) -> Result<i64> {
        let body: RequestId = self
            .post::<(), _>(&format!("api/channels/{channel_id}/request_key"), None)
            .await?;
        Ok(body.request_id)
    }

    /// The room's membership log (entry wire strings; empty if not started).
    pub async fn membership_log(&self, room_id: i64) -> Result<LogPage> {
        self.get(&format!("api/rooms/{room_id}/membership_log"))
            .await
    }

    /// Starts the log (all entries) or appends one signed change.
    pub async fn post_membership_log(
        &self,
        room_id: i64,
        entries: &[String],
        ban: bool,
        reason: &str,
    ) -> Result<()> {
        let body = LogSubmission {
            entries,
            ban,
            reason,
        };
        self.post::<_, Empty>(&format!("api/rooms/{room_id}/membership_log"), Some(&body))
            .await
            .map(|_| ())
    }

    /// Adds a member the seed's way (rooms without a log).
    pub(crate) async fn plain_add_member(&self, room_id: i64, user_id: i64) -> Result<()> {
        let body = Target {
            user_id,
            reason: "",
        };
        self.post::<_, Empty>(&format!("api/rooms/{room_id}/members"), Some(&body))
            .await
            .map(|_| ())
    }

    /// Kicks a member the seed's way.
    pub(crate) async fn plain_kick(&self, room_id: i64, user_id: i64) -> Result<()> {
        self.call::<(), Empty>(
            Method::DELETE,
            &format!("api/rooms/{room_id}/members/{user_id}"),
            Auth::Required,
            None,
        )
        .await
        .map(|_| ())
    }

    /// Bans a user the seed's way.
    pub(crate) async fn plain_ban(&self, room_id: i64, user_id: i64, reason: &str) -> Result<()> {
        let body = Target { user_id, reason };
        self.post::<_, Empty>(&format!("api/rooms/{room_id}/bans"), Some(&body))
            .await
            .map(|_| ())
    }

    /// Changes a role the seed's way (`admin` / `member`).
    pub(crate) async fn plain_set_role(
        &self,
        room_id: i64,
        user_id: i64,
        role: &str,
    ) -> Result<()> {
        self.call::<_, Empty>(
            Method::PUT,
            &format!("api/rooms/{room_id}/members/{user_id}/role"),
            Auth::Required,
            Some(&RoleBody { role }),
        )
        .await
        .map(|_| ())
    }

    /// Transfers ownership the seed's way.
    pub(crate) async fn plain_transfer(&self, room_id: i64, user_id: i64) -> Result<()> {
        let body = Target {
            user_id,
            reason: "",
        };
        self.post::<_, Empty>(&format!("api/rooms/{room_id}/transfer"), Some(&body))
            .await
            .map(|_| ())
    }

    /// Creates a channel in a room (admins); `encrypted` is fixed for life.
    pub async fn create_channel(
        &self,
        room_id: i64,
        name: &str,
        encrypted: bool,
    ) -> Result<crate::Channel> {
        #[derive(Deserialize)]
        struct Created {
            channel: crate::Channel,
        }
        let body: Created = self
            .post(
                &format!("api/rooms/{room_id}/channels"),
                Some(&serde_json::json!({"name": name, "is_encrypted": encrypted})),
            )
            .await?;
        Ok(body.channel)
    }
}
