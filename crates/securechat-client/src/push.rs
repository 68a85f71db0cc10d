//! Web Push: `/api/push/…` and `/api/channels/{id}/notifications`.
//!
//! A Rust program has no browser push service of its own; these calls let
//! one register a subscription for an endpoint it serves (a gateway that
//! turns pushes into something else, the load generator's stand-in push
//! service) and choose which channels notify.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Auth, Client, Empty};
use crate::error::Result;

/// A push subscription as browsers give it (`PushSubscription.toJSON()`):
/// where to send, and the keys each push is encrypted for (RFC 8291).
#[derive(Debug, Clone, Serialize)]
pub struct PushSubscription {
    /// The push service URL: `https` on a public address, unless the
    /// server's operator allows its host in `PUSH_ALLOW_HOSTS`.
    pub endpoint: String,
    pub keys: PushKeys,
}

/// The receiver's keys, base64url without padding.
#[derive(Debug, Clone, Serialize)]
pub struct PushKeys {
    /// The receiver's P-256 public key, the uncompressed point (65 bytes).
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    pub auth: String,
}

/// How much of a channel notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    All,
    Mentions,
    None,
}

/// The caller's notification setting for one channel.
#[derive(Debug, Clone, Deserialize)]
pub struct ChannelNotifications {
    pub channel_id: i64,
    /// The level chosen, or `None` for the default.
    pub level: Option<NotifyLevel>,
    /// The level in force (the default: every message in a DM, mentions elsewhere).
    pub effective_level: NotifyLevel,
    /// Muted until then (RFC 3339).
    pub mute_until: Option<String>,
}

#[derive(Deserialize)]
struct VapidKey {
    key: String,
}

#[derive(Serialize)]
struct ChannelNotificationsInput<'a> {
    level: Option<NotifyLevel>,
    mute_until: Option<&'a str>,
}

#[derive(Serialize)]
struct Endpoint<'a> {
    endpoint: &'a str,
}

impl Client {
    /// The server's VAPID public key (base64url), which a subscription
    /// names as its `applicationServerKey`.
    pub async fn vapid_public_key(&self) -> Result<String> {
        let body: VapidKey = self.get("api/push/vapid_public_key").await?;
        Ok(body.key)
    }

    /// Registers (or renews) a push subscription for the logged-in user.
    pub async fn subscribe_push(&self, subscription: &PushSubscription) -> Result<()> {
        self.post::<_, Empty>("api/push/subscriptions", Some(subscription))
            .await
            .map(|_| ())
    }

    /// Removes the logged-in user's subscription for `endpoint`.
    pub async fn unsubscribe_push(&self, endpoint: &str) -> Result<()> {
        self.call::<_, Empty>(
            Method::DELETE,
            "api/push/subscriptions",
            Auth::Required,
            Some(&Endpoint { endpoint }),
        )
        .await
        .map(|_| ())
    }

    /// Sets the caller's level for a channel (`None`: back to the default)
    /// and mutes it until `mute_until` (RFC 3339), or not at all.
    pub async fn set_channel_notifications(
        &self,
        channel_id: i64,
        level: Option<NotifyLevel>,
        mute_until: Option<&str>,
    ) -> Result<ChannelNotifications> {
        self.call(
            Method::PUT,
            &format!("api/channels/{channel_id}/notifications"),
            Auth::Required,
            Some(&ChannelNotificationsInput { level, mute_until }),
        )
        .await
    }
}
