//! My identity and whom I trust, as I/O around the core: opening the key
//! store (generating and publishing the identity on first use), restoring
//! the backup, fetching bundles for the core to pin, accepting a changed key,
//! safety numbers.

use std::collections::HashMap;
use std::path::PathBuf;

use securechat_crypto::PublicBundle;
use securechat_e2ee::{Machine, Observed, SafetyInfo, State, StateStore, fingerprint};

use super::SecureClient;
use crate::client::Client;
use crate::error::{ApiError, Error, Result};
use crate::keystore::FileStore;

impl SecureClient {
    /// Opens (or creates) the key store at `path` for the logged-in user of
    /// `client`. On first use the identity is generated and published. If
    /// the server already holds a different bundle for me and this device
    /// has no identity, this fails with [`Error::IdentityElsewhere`]:
    /// restore it with [`SecureClient::restore`] instead of replacing it.
    pub async fn open(client: Client, path: impl Into<PathBuf>) -> Result<Self> {
        let store = FileStore::new(path);
        let me = client.me().await?;
        let mut machine = Machine::new(load_for(&store, &client, me.id)?)?;
        let published = published_bundle(&client, me.id).await?;
        if machine.has_identity() {
            let (mine, _) = machine.my_bundle()?;
            if published.as_ref().map(PublicBundle::to_wire) != Some(mine.clone()) {
                // First publication, or the server lost or replaced my
                // bundle: this device's identity is the truth.
                if published.is_some() {
                    tracing::warn!(
                        user_id = me.id,
                        "the server had another public key for me; publishing mine again"
                    );
                }
                client.publish_public_key(&mine).await?;
            }
        } else {
            if let Some(bundle) = &published {
                return Err(Error::IdentityElsewhere {
                    fingerprint: fingerprint(bundle),
                });
            }
            let mine = machine.create_identity(None)?;
            store.save(machine.state())?;
            machine.take_dirty();
            client.publish_public_key(&mine).await?;
        }
        Self::assemble(client, store, machine)
    }

    /// Restores from the server's key backup into the key store at `path`
    /// (keeping its pins and keys): `secret` is the recovery key's words or
    /// the passphrase, as the backup was made. Brings back my identity and,
    /// from a backup of format 2, my pins and verified log heads, merged:
    /// a pin this store already holds is never replaced (a different one in
    /// the backup is offered as a key change). Publishes my bundle if the
    /// server's differs. Mistyped words are refused with what to fix
    /// (`recovery_key_unknown_word`, `recovery_key_checksum`, …).
    pub async fn restore(client: Client, path: impl Into<PathBuf>, secret: &str) -> Result<Self> {
        let store = FileStore::new(path);
        let me = client.me().await?;
        let mut machine = Machine::new(load_for(&store, &client, me.id)?)?;
        let sealed = client.key_backup().await?.ok_or_else(|| {
            Error::Api(ApiError {
                status: 404,
                code: "no_backup".into(),
                message: "You have not stored a key backup: make one on a device that has your keys (Account → Encryption, or `securechat-cli keys backup`)".into(),
                retry_after: None,
            })
        })?;
        let restored = machine.restore_backup(&sealed, secret)?;
        store.save(machine.state())?;
        machine.take_dirty();
        tracing::info!(
            pins = restored.pins_added.len(),
            conflicting = restored.pins_conflicting.len(),
            heads = restored.heads_added.len(),
            "restored the key backup"
        );
        let mine = restored.public_key;
        if published_bundle(&client, me.id)
            .await?
            .map(|b| b.to_wire())
            .as_deref()
            != Some(mine.as_str())
        {
            client.publish_public_key(&mine).await?;
        }
        Self::assemble(client, store, machine)
    }

    pub(super) fn assemble(client: Client, store: FileStore, mut machine: Machine) -> Result<Self> {
        if machine.take_dirty() {
            store.save(machine.state())?;
        }
        let bundle = machine.identity()?.bundle();
        Ok(Self {
            client,
            store,
            machine,
            bundle,
            channels: HashMap::new(),
        })
    }

    /// Fetches what the server publishes for `user_id` (the current bundle
    /// and the key history) and lets the core pin it or note a change.
    pub(crate) async fn observe(&mut self, user_id: i64) -> Result<Observed> {
        let served = self.client.public_key(user_id).await?;
        // Older servers lack the history endpoint: the current key suffices.
        let history: Vec<String> = match self.client.public_key_history(user_id).await {
            Ok(list) => list.into_iter().map(|k| k.public_key).collect(),
            Err(_) => Vec::new(),
        };
        let observed = self
            .machine
            .observe_bundle(user_id, &served.public_key, &history);
        self.save()?;
        if matches!(observed, Ok(Observed::Pinned { .. })) {
            self.sync_backup_after_change().await;
        }
        Ok(observed?)
    }

    /// Makes sure the core has a pin for `user_id` (first contact).
    pub(crate) async fn ensure_pinned(&mut self, user_id: i64) -> Result<()> {
        if !self.machine.is_pinned(user_id) {
            self.observe(user_id).await?;
        }
        Ok(())
    }

    /// Accepts the bundle the server now serves for `user_id` (after
    /// comparing safety numbers: see [`SecureClient::trust_fingerprint`] to
    /// accept exactly the key whose number was compared). Returns
    /// (previous, new) fingerprints.
    pub async fn trust(&mut self, user_id: i64) -> Result<(Option<String>, String)> {
        let served = self.client.public_key(user_id).await?;
        let bundle = PublicBundle::parse_for(&served.public_key, user_id)?;
        self.trust_fingerprint(user_id, &fingerprint(&bundle)).await
    }

    /// Accepts the key of `user_id` whose fingerprint (hex) was shown and
    /// compared: the core pins exactly that key, or refuses if the server
    /// now offers another.
    pub async fn trust_fingerprint(
        &mut self,
        user_id: i64,
        shown: &str,
    ) -> Result<(Option<String>, String)> {
        match self.observe(user_id).await? {
            Observed::Pinned { fingerprint } => Ok((None, fingerprint)),
            Observed::Unchanged { fingerprint } if fingerprint == shown => {
                Ok((Some(fingerprint.clone()), fingerprint))
            }
            Observed::Unchanged { .. } => {
                Err(securechat_e2ee::Refusal::OfferChanged { user_id }.into())
            }
            Observed::Changed { .. } => {
                let accepted = self.machine.accept_offered(user_id, shown);
                self.save()?;
                let (previous, now) = accepted?;
                self.sync_backup_after_change().await;
                Ok((Some(previous), now))
            }
        }
    }

    /// The safety number between me and `user_id`: computed with the key
    /// the server offers after a change (what must be compared before
    /// accepting it), else with the pinned one.
    pub async fn safety_number(&mut self, user_id: i64) -> Result<SafetyInfo> {
        self.observe(user_id).await?;
        Ok(self.machine.safety_number(user_id)?)
    }
}

/// The state at `store`, or a new one; refuses another user's or server's.
pub(super) fn load_for(store: &FileStore, client: &Client, user_id: i64) -> Result<State> {
    let server = client.base_url().as_str();
    match store.load()? {
        Some(state)
            if state.user_id != user_id || (!state.server.is_empty() && state.server != server) =>
        {
            Err(Error::KeyStore {
                path: store.path().to_owned(),
                detail: format!(
                    "belongs to user {} on {}, not user {user_id} on {server}; use another --key-store",
                    state.user_id, state.server
                ),
            })
        }
        Some(state) => Ok(state),
        None => Ok(State::new(server, user_id)),
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
