//! My identity and whom I trust: opening the key store (generating and
//! publishing the identity on first use), backup and restore, pinning other
//! users' bundles on first use, accepting a changed key, safety numbers.

use std::collections::HashMap;
use std::path::PathBuf;

use securechat_crypto::{
    Backup, ForwardSecrecyPolicy, Identity, KeyRing, MessageHeader, PublicBundle, ReplayGuard,
    SafetyNumber,
};

use super::{SecureClient, hex};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::keystore::{KeyStore, Pin};

/// What `securechat-cli verify <user>` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyInfo {
    /// 60 digits in 12 groups of 5; both users see the same.
    pub number: String,
    /// My bundle's fingerprint (hex).
    pub mine: String,
    /// Their pinned bundle's fingerprint (hex).
    pub theirs: String,
    /// A different bundle the server offers for them, not accepted.
    pub offered: Option<String>,
}

/// The fingerprint of a bundle, in hex.
pub(crate) fn fingerprint(bundle: &PublicBundle) -> String {
    hex(&bundle.fingerprint())
}

impl SecureClient {
    /// Opens (or creates) the key store at `path` for the logged-in user of
    /// `client`. On first use the identity is generated and published. If
    /// the server already holds a different bundle for me and this device
    /// has no identity, this fails with [`Error::IdentityElsewhere`]:
    /// restore it with [`SecureClient::restore`] instead of replacing it.
    pub async fn open(client: Client, path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let me = client.me().await?;
        let mut store = load_for(&path, &client, me.id)?;
        let published = published_bundle(&client, me.id).await?;
        let identity = match store.identity.as_deref() {
            Some(export) => {
                let identity = Identity::import(export)?;
                if published.as_ref() != Some(&identity.bundle()) {
                    // First publication, or the server lost or replaced my
                    // bundle: this device's identity is the truth.
                    if published.is_some() {
                        tracing::warn!(
                            user_id = me.id,
                            "the server had another public key for me; publishing mine again"
                        );
                    }
                    client
                        .publish_public_key(&identity.bundle().to_wire())
                        .await?;
                }
                identity
            }
            None => {
                if let Some(bundle) = published {
                    return Err(Error::IdentityElsewhere {
                        fingerprint: fingerprint(&bundle),
                    });
                }
                let identity = Identity::generate(me.id)?;
                store.identity = Some(identity.export().to_string());
                store.save(&path)?;
                client
                    .publish_public_key(&identity.bundle().to_wire())
                    .await?;
                identity
            }
        };
        Ok(Self::assemble(client, path, store, identity))
    }

    /// Restores my identity from the server's key backup with `passphrase`
    /// into the key store at `path` (keeping its pins and keys), and
    /// publishes it if the server's bundle differs.
    pub async fn restore(
        client: Client,
        path: impl Into<PathBuf>,
        passphrase: &str,
    ) -> Result<Self> {
        let path = path.into();
        let me = client.me().await?;
        let mut store = load_for(&path, &client, me.id)?;
        let sealed = client.key_backup().await?;
        let identity = Backup::parse(&sealed)?.open(passphrase.as_bytes())?;
        if identity.user_id() != me.id {
            return Err(securechat_crypto::Error::ContextMismatch {
                field: securechat_crypto::ContextField::UserId,
            }
            .into());
        }
        store.identity = Some(identity.export().to_string());
        store.save(&path)?;
        if published_bundle(&client, me.id).await?.as_ref() != Some(&identity.bundle()) {
            client
                .publish_public_key(&identity.bundle().to_wire())
                .await?;
        }
        Ok(Self::assemble(client, path, store, identity))
    }

    fn assemble(client: Client, path: PathBuf, store: KeyStore, identity: Identity) -> Self {
        let mut replay = ReplayGuard::new();
        for key in store.seen.keys() {
            if let Some(header) = parse_seen(key) {
                let _ = replay.check_and_record(&header);
            }
        }
        Self {
            client,
            path,
            store,
            identity,
            policy: ForwardSecrecyPolicy::default(),
            replay,
            channels: HashMap::new(),
        }
    }

    /// Seals my identity under `passphrase` (Argon2id) and stores it on the
    /// server, which cannot open it.
    pub async fn backup(&self, passphrase: &str) -> Result<()> {
        let sealed = Backup::seal(&self.identity, passphrase.as_bytes())?;
        self.client.put_key_backup(&sealed.to_wire()).await
    }

    /// A bundle the server publishes for `user_id`, checked to be
    /// self-signed for that user.
    async fn fetch_bundle(&self, user_id: i64) -> Result<PublicBundle> {
        let published = self.client.public_key(user_id).await?;
        Ok(PublicBundle::parse_for(&published.public_key, user_id)?)
    }

    /// Pins `user_id` on first contact: the current bundle and every older
    /// one the server lists (entries they signed earlier must verify).
    async fn pin_new(&mut self, user_id: i64) -> Result<PublicBundle> {
        let current = self.fetch_bundle(user_id).await?;
        let mut accepted = Vec::new();
        // Older servers lack the history endpoint: the current key suffices.
        if let Ok(history) = self.client.public_key_history(user_id).await {
            for old in history {
                if let Ok(bundle) = PublicBundle::parse_for(&old.public_key, user_id)
                    && bundle != current
                    && !accepted.contains(&bundle.to_wire())
                {
                    accepted.push(bundle.to_wire());
                }
            }
        }
        accepted.push(current.to_wire());
        self.store.pins.insert(
            user_id,
            Pin {
                current: current.to_wire(),
                accepted,
                offered: None,
            },
        );
        self.save()?;
        Ok(current)
    }

    /// The bundle to verify what `user_id` signed: the pinned one, pinned now
    /// on first contact. Never replaced by what the server serves later.
    pub(crate) async fn pinned_bundle(&mut self, user_id: i64) -> Result<PublicBundle> {
        if user_id == self.user_id() {
            return Ok(self.identity.bundle());
        }
        match self.store.pins.get(&user_id) {
            Some(pin) => Ok(PublicBundle::parse_for(&pin.current, user_id)?),
            None => self.pin_new(user_id).await,
        }
    }

    /// Every bundle I accepted for `user_id` (to verify old signatures).
    pub(crate) fn accepted_bundles(&self, user_id: i64) -> Vec<PublicBundle> {
        if user_id == self.user_id() {
            return vec![self.identity.bundle()];
        }
        self.store
            .pins
            .get(&user_id)
            .map(|pin| {
                pin.accepted
                    .iter()
                    .filter_map(|w| PublicBundle::parse_for(w, user_id).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The bundle to seal a key to: what the server serves *now*, which must
    /// equal the pin. A different one is recorded as offered and refused
    /// ([`Error::KeyChanged`]) until [`SecureClient::trust`] accepts it.
    pub(crate) async fn bundle_to_seal_to(&mut self, user_id: i64) -> Result<PublicBundle> {
        if user_id == self.user_id() {
            return Ok(self.identity.bundle());
        }
        let Some(pin) = self.store.pins.get(&user_id).cloned() else {
            return self.pin_new(user_id).await;
        };
        let served = self.fetch_bundle(user_id).await;
        let pinned = PublicBundle::parse_for(&pin.current, user_id)?;
        match served {
            Ok(bundle) if bundle == pinned => Ok(pinned),
            Ok(bundle) => {
                tracing::warn!(user_id, "public key changed: not trusted until accepted");
                if let Some(p) = self.store.pins.get_mut(&user_id) {
                    p.offered = Some(bundle.to_wire());
                }
                self.save()?;
                Err(Error::KeyChanged {
                    user_id,
                    pinned: fingerprint(&pinned),
                    offered: fingerprint(&bundle),
                })
            }
            // A bundle that is not even self-signed for this user (another
            // user's key swapped in) is a change too, and refused outright.
            Err(Error::Crypto(error)) => Err(Error::KeyChanged {
                user_id,
                pinned: fingerprint(&pinned),
                offered: format!("an invalid bundle ({})", error.code()),
            }),
            Err(error) => Err(error),
        }
    }

    /// Accepts the bundle the server now serves for `user_id` (after
    /// comparing safety numbers). Returns (previous, new) fingerprints.
    pub async fn trust(&mut self, user_id: i64) -> Result<(Option<String>, String)> {
        let bundle = self.fetch_bundle(user_id).await?;
        let wire = bundle.to_wire();
        let previous = self.store.pins.get(&user_id).and_then(|p| {
            PublicBundle::parse_for(&p.current, user_id)
                .ok()
                .map(|b| fingerprint(&b))
        });
        let pin = self.store.pins.entry(user_id).or_default();
        pin.current.clone_from(&wire);
        if !pin.accepted.contains(&wire) {
            pin.accepted.push(wire);
        }
        pin.offered = None;
        self.save()?;
        Ok((previous, fingerprint(&bundle)))
    }

    /// The safety number between me and `user_id` (their pinned bundle,
    /// pinned now on first contact), and both fingerprints.
    pub async fn safety_number(&mut self, user_id: i64) -> Result<SafetyInfo> {
        let theirs = self.pinned_bundle(user_id).await?;
        let mine = self.identity.bundle();
        let offered = self
            .store
            .pins
            .get(&user_id)
            .and_then(|p| p.offered.as_deref())
            .and_then(|w| PublicBundle::parse_for(w, user_id).ok())
            .map(|b| fingerprint(&b));
        Ok(SafetyInfo {
            number: SafetyNumber::compute(&mine, &theirs).display(),
            mine: fingerprint(&mine),
            theirs: fingerprint(&theirs),
            offered,
        })
    }

    /// Every bundle I trust, for verifying membership logs.
    pub(crate) fn keyring(&self) -> KeyRing {
        let mut ring = KeyRing::new();
        ring.insert(self.identity.bundle());
        for user_id in self.store.pins.keys() {
            for bundle in self.accepted_bundles(*user_id) {
                ring.insert(bundle);
            }
        }
        ring
    }
}

/// The store at `path`, or a new one; refuses another user's or server's.
fn load_for(path: &std::path::Path, client: &Client, user_id: i64) -> Result<KeyStore> {
    let server = client.base_url().as_str();
    match KeyStore::load(path)? {
        Some(store)
            if store.user_id != user_id || (!store.server.is_empty() && store.server != server) =>
        {
            Err(Error::KeyStore {
                path: path.to_owned(),
                detail: format!(
                    "belongs to user {} on {}, not user {user_id} on {server}; use another --key-store",
                    store.user_id, store.server
                ),
            })
        }
        Some(store) => Ok(store),
        None => Ok(KeyStore::new(server, user_id)),
    }
}

/// My bundle as the server publishes it, if any.
async fn published_bundle(client: &Client, user_id: i64) -> Result<Option<PublicBundle>> {
    match client.public_key(user_id).await {
        Ok(published) => Ok(PublicBundle::parse_for(&published.public_key, user_id).ok()),
        Err(error) if error.status() == Some(404) => Ok(None),
        Err(error) => Err(error),
    }
}

fn parse_seen(key: &str) -> Option<MessageHeader> {
    let mut parts = key.split(':');
    let header = MessageHeader {
        channel_id: parts.next()?.parse().ok()?,
        key_version: parts.next()?.parse().ok()?,
        sender_id: parts.next()?.parse().ok()?,
        counter: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::seen_key;

    #[test]
    fn seen_keys_round_trip_and_garbage_is_skipped() {
        let key = seen_key(-3, 7, 42, 99);
        let header = parse_seen(&key).unwrap();
        assert_eq!(
            (
                header.channel_id,
                header.key_version,
                header.sender_id,
                header.counter
            ),
            (-3, 7, 42, 99)
        );
        assert!(parse_seen("1:2:3").is_none());
        assert!(parse_seen("1:2:3:4:5").is_none());
        assert!(parse_seen("a:2:3:4").is_none());
    }
}
