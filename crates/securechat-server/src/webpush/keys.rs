//! The VAPID key at start-up. Browsers bind each subscription to the
//! public key they were given, so every node of a deployment must sign
//! with the same key: the first node to start stores its public key, and a
//! node whose key differs refuses to start, saying how to share the key.

use anyhow::Context;

use super::store;
use super::vapid::VapidKey;
use crate::config::push::PushConfig;
use crate::storage::{Db, now_ms};

/// This node's VAPID key, checked against the deployment's.
pub async fn load(db: &Db, config: &PushConfig) -> anyhow::Result<VapidKey> {
    let scalar = config.vapid_key.private_key()?;
    let key =
        VapidKey::from_scalar(&scalar).map_err(|e| anyhow::anyhow!("VAPID_PRIVATE_KEY: {e}"))?;
    let stored = store::claim_vapid_key(db, key.public_key(), now_ms())
        .await
        .context("cannot store the VAPID public key")?;
    if stored != key.public_key() {
        anyhow::bail!(
            "VAPID_PRIVATE_KEY: this node's VAPID key (public key {}) is not the one the \
             database holds ({stored}), which browsers' push subscriptions are bound to; {}",
            key.public_key(),
            config.vapid_key.how_to_share()
        );
    }
    Ok(key)
}
