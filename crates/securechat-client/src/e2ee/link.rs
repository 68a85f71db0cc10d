//! Linking devices through the server's relay
//! (`/api/users/me/devices/links`): a new key store starts a link and shows
//! its code; a device that is already set up answers it; both show the
//! short authentication string; once the person has seen them match, the
//! old device approves (it signs the new device into my device list and
//! sends the sealed payload) and the new one finishes. Every rule is the
//! core's (`securechat_e2ee::Machine::start_link` and the rest).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use securechat_e2ee::{Machine, StateStore};
use serde::Deserialize;

use super::trust::load_for;
use super::{SecureClient, now};
use crate::client::{Auth, Client, Empty};
use crate::error::{Error, Result};
use crate::keystore::FileStore;

/// How often a waiting device asks the relay again.
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Deserialize)]
struct Opened {
    code: String,
}

/// A link as the relay shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct LinkState {
    /// The new device's offer.
    pub offer: String,
    /// The approving device's answer, once given.
    pub answer: Option<String>,
    /// The sealed payload, once sent.
    pub payload: Option<String>,
}

impl Client {
    async fn open_link(&self, offer: &str) -> Result<String> {
        let opened: Opened = self
            .post(
                "api/users/me/devices/links",
                Some(&serde_json::json!({ "offer": offer })),
            )
            .await?;
        Ok(opened.code)
    }

    /// One of my links, by its code.
    pub async fn link(&self, code: &str) -> Result<LinkState> {
        self.get(&format!("api/users/me/devices/links/{}", encode(code)))
            .await
    }

    async fn answer_link(&self, code: &str, answer: &str) -> Result<()> {
        self.post::<_, Empty>(
            &format!("api/users/me/devices/links/{}/answer", encode(code)),
            Some(&serde_json::json!({ "answer": answer })),
        )
        .await
        .map(|_| ())
    }

    async fn send_link_payload(&self, code: &str, payload: &str) -> Result<()> {
        self.post::<_, Empty>(
            &format!("api/users/me/devices/links/{}/payload", encode(code)),
            Some(&serde_json::json!({ "payload": payload })),
        )
        .await
        .map(|_| ())
    }

    async fn close_link(&self, code: &str) -> Result<()> {
        self.call::<(), Empty>(
            Method::DELETE,
            &format!("api/users/me/devices/links/{}", encode(code)),
            Auth::Required,
            None,
        )
        .await
        .map(|_| ())
    }
}

/// A code is letters, digits and dashes; anything else is dropped.
fn encode(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// A new device waiting to be linked.
pub struct PendingLink {
    client: Client,
    store: FileStore,
    machine: Machine,
    code: String,
}

impl std::fmt::Debug for PendingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLink")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl PendingLink {
    /// Starts linking the key store at `path` (which must hold no identity)
    /// for the logged-in user of `client`; show [`PendingLink::code`] on
    /// this device.
    pub async fn start(client: Client, path: impl Into<PathBuf>) -> Result<Self> {
        let store = FileStore::new(path);
        let me = client.me().await?;
        let mut machine = Machine::new(load_for(&store, &client, me.id)?)?;
        let offer = machine.start_link()?;
        store.save(machine.state())?;
        machine.take_dirty();
        let code = client.open_link(&offer).await?;
        Ok(Self {
            client,
            store,
            machine,
            code,
        })
    }

    /// The code to type (or scan) on the device that approves.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Waits (up to `timeout`) for the other device's answer; returns the
    /// string to compare with the one it shows.
    pub async fn sas(&mut self, timeout: Duration) -> Result<String> {
        let answer = self.wait(timeout, |link| link.answer.clone()).await?;
        let sas = self.machine.link_sas(&answer);
        self.save()?;
        Ok(sas?)
    }

    /// Waits (up to `timeout`) for the approving device's payload, takes
    /// it, publishes this device's first prekey and opens the key store as
    /// a [`SecureClient`].
    pub async fn finish(mut self, timeout: Duration) -> Result<SecureClient> {
        let payload = self.wait(timeout, |link| link.payload.clone()).await?;
        if self
            .machine
            .state()
            .link
            .as_ref()
            .and_then(|l| l.approver.as_ref())
            .is_none()
        {
            let answer = self.wait(timeout, |link| link.answer.clone()).await?;
            self.machine.link_sas(&answer)?;
        }
        let linked = self.machine.finish_link(&payload);
        self.save()?;
        let linked = linked?;
        tracing::info!(
            device_id = linked.device_id,
            pins = linked.pins,
            channels = linked.channels,
            "linked this device"
        );
        if let Err(error) = self.client.close_link(&self.code).await {
            tracing::warn!(%error, "the link stays open until it expires");
        }
        let mut secure = SecureClient::assemble(self.client, self.store, self.machine)?;
        secure.set_up_device().await?;
        Ok(secure)
    }

    async fn wait(
        &self,
        timeout: Duration,
        field: impl Fn(&LinkState) -> Option<String>,
    ) -> Result<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let link = self.client.link(&self.code).await?;
            if let Some(value) = field(&link) {
                return Ok(value);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: "the other device to answer the link",
                    after: timeout,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn save(&mut self) -> Result<()> {
        if self.machine.take_dirty() {
            self.store.save(self.machine.state())?;
        }
        Ok(())
    }
}

/// Which channels' keys a link carries to the new device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carry {
    /// Every channel whose keys this device holds.
    All,
    /// None: the new device reads only what comes after.
    Nothing,
    /// These channels.
    Channels(Vec<i64>),
}

impl SecureClient {
    /// Answers a link code shown on a new device of mine; returns the
    /// string to compare with the one the new device shows.
    pub async fn answer_link(&mut self, code: &str) -> Result<String> {
        let link = self.client.link(code).await?;
        let answer = self.machine.answer_link(&link.offer);
        self.save()?;
        let answer = answer?;
        if link.answer.as_deref() != Some(answer.ephemeral.as_str()) {
            self.client.answer_link(code, &answer.ephemeral).await?;
        }
        Ok(answer.sas)
    }

    /// After the person saw both strings match: signs the new device into
    /// my device list, publishes it, and sends the sealed payload carrying
    /// my identity, pins, log heads and the keys of `carry`.
    pub async fn approve_link(&mut self, code: &str, carry: &Carry) -> Result<()> {
        let link = self.client.link(code).await?;
        let channels: Vec<i64> = match carry {
            Carry::All => self.machine.state().channel_keys.keys().copied().collect(),
            Carry::Nothing => Vec::new(),
            Carry::Channels(ids) => ids.clone(),
        };
        let served = self.client.devices(self.user_id()).await?.device_list;
        let approval = self
            .machine
            .approve_link(&link.offer, served.as_deref(), &channels, now());
        self.save()?;
        let approval = approval?;
        self.client
            .publish_device_list(&approval.device_list)
            .await?;
        self.client.send_link_payload(code, &approval.payload).await
    }
}
