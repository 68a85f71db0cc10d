//! This device on the server: its signed device list and prekey, other
//! people's device lists and prekeys for sealing, and the device's share
//! mailbox, which the server empties as the device acknowledges what it
//! fetched. Every check is the core's (`securechat_e2ee::Machine`): the
//! list must be signed by the pinned identity and never older than one seen,
//! a prekey must come from a listed device and be fresh.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;

use super::keys::is_refusal;
use super::{SecureClient, now};
use crate::client::{Auth, Client, Empty};
use crate::error::Result;

/// `GET /api/users/{id}/devices`.
#[derive(Debug, Clone, Deserialize)]
pub struct DevicesPage {
    /// The identity-signed list, as the server stores it (unverified here).
    pub device_list: Option<String>,
    /// Each device's current prekey and when it was last seen.
    pub devices: Vec<ServedDevice>,
}

/// One device as the server shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct ServedDevice {
    /// The device id.
    pub device_id: u64,
    /// Its current signed prekey, if it published one.
    pub prekey: Option<String>,
    /// When the server last heard from it.
    pub last_seen_at: Option<String>,
}

/// One share waiting in a device's mailbox.
#[derive(Debug, Clone, Deserialize)]
pub struct MailboxShare {
    /// The mailbox entry (to acknowledge).
    pub id: i64,
    /// The channel.
    pub channel_id: i64,
    /// The key version.
    pub key_version: u32,
    /// Who sealed it.
    pub sender_id: i64,
    /// The sealed share.
    pub encrypted_key: String,
    /// The seed's rotation flag.
    pub is_key_rotation: bool,
}

#[derive(Deserialize)]
struct MailboxPage {
    shares: Vec<MailboxShare>,
    next: Option<i64>,
}

/// Most mailbox entries fetched per page.
const MAILBOX_PAGE: usize = 100;

impl Client {
    /// A person's device list and their devices' prekeys.
    pub async fn devices(&self, user_id: i64) -> Result<DevicesPage> {
        self.get(&format!("api/users/{user_id}/devices")).await
    }

    /// Publishes my identity-signed device list.
    pub async fn publish_device_list(&self, device_list: &str) -> Result<()> {
        self.call::<_, Empty>(
            Method::PUT,
            "api/users/me/devices",
            Auth::Required,
            Some(&serde_json::json!({ "device_list": device_list })),
        )
        .await
        .map(|_| ())
    }

    /// Publishes a device's new signed prekey.
    pub async fn publish_prekey(&self, device_id: u64, prekey: &str) -> Result<()> {
        self.call::<_, Empty>(
            Method::PUT,
            &format!("api/users/me/devices/{device_id}/prekey"),
            Auth::Required,
            Some(&serde_json::json!({ "prekey": prekey })),
        )
        .await
        .map(|_| ())
    }

    /// A page of a device's mailbox, after entry `after`.
    pub async fn device_shares(
        &self,
        device_id: u64,
        after: Option<i64>,
    ) -> Result<(Vec<MailboxShare>, Option<i64>)> {
        let mut path = format!("api/users/me/devices/{device_id}/shares?limit={MAILBOX_PAGE}");
        if let Some(after) = after {
            path.push_str(&format!("&after={after}"));
        }
        let page: MailboxPage = self.get(&path).await?;
        Ok((page.shares, page.next))
    }

    /// Acknowledges mailbox entries: the server deletes them.
    pub async fn ack_device_shares(&self, device_id: u64, ids: &[i64]) -> Result<()> {
        self.post::<_, Empty>(
            &format!("api/users/me/devices/{device_id}/shares/ack"),
            Some(&serde_json::json!({ "ids": ids })),
        )
        .await
        .map(|_| ())
    }
}

impl SecureClient {
    /// Sets this key store up as a device of mine: a device key, my device
    /// list with it added (signed by my identity) and its first prekey,
    /// published. From then on, people whose clients know devices seal keys
    /// to this device's prekey, and the mailbox carries them. Returns the
    /// device id.
    pub async fn set_up_device(&mut self) -> Result<u64> {
        let served = self.client.devices(self.user_id()).await?;
        let setup = self
            .machine
            .set_up_device(served.device_list.as_deref(), now());
        self.save()?;
        let setup = setup?;
        if let Some(list) = &setup.device_list {
            self.client.publish_device_list(list).await?;
        }
        if let Some(prekey) = &setup.prekey {
            self.client.publish_prekey(setup.device_id, prekey).await?;
        }
        Ok(setup.device_id)
    }

    /// This key store's device id, once set up.
    pub fn device_id(&self) -> Option<u64> {
        self.machine.device_id()
    }

    /// Brings this device up to date: checks that my device list still
    /// names it, deletes channel keys past the retention (a year; each
    /// channel's newest is kept), publishes a new prekey when the current
    /// one is a week old,
    /// accepts every share waiting in the mailbox and acknowledges it (the
    /// server then deletes it), and once the mailbox is empty deletes the
    /// private halves of older prekeys. Returns how many shares were
    /// accepted.
    ///
    /// A device that was revoked from another one (my list, signed by my
    /// identity and newer than the one it verified, no longer names it)
    /// forgets every key it holds, saves that, and answers the core's
    /// `device_revoked` refusal: link it again, or restore the keys from
    /// the recovery key.
    pub async fn sync_device(&mut self) -> Result<usize> {
        let Some(device_id) = self.machine.device_id() else {
            return Ok(0);
        };
        if let Some(list) = self.client.devices(self.user_id()).await?.device_list {
            let observed = self.machine.observe_device_list(self.user_id(), &list);
            self.save()?;
            match observed {
                Ok(_) => {}
                Err(refusal @ securechat_e2ee::Refusal::DeviceRevoked { .. }) => {
                    return Err(refusal.into());
                }
                Err(refusal) => tracing::warn!(%refusal, "my device list was refused"),
            }
        }
        let forgotten = self
            .machine
            .forget_old_keys(now(), securechat_e2ee::DEFAULT_KEY_RETENTION_DAYS);
        if forgotten > 0 {
            tracing::info!(forgotten, "channel keys past the retention deleted");
        }
        let rotated = self.machine.rotate_prekey(now());
        self.save()?;
        if let Some(prekey) = rotated? {
            self.client.publish_prekey(device_id, &prekey).await?;
        }
        let mut accepted = 0;
        let mut after = None;
        loop {
            let (shares, next) = self.client.device_shares(device_id, after).await?;
            let mut done = Vec::with_capacity(shares.len());
            for share in &shares {
                let outcome = self
                    .accept_share(
                        share.channel_id,
                        share.key_version,
                        share.sender_id,
                        share.is_key_rotation,
                        &share.encrypted_key,
                    )
                    .await;
                match outcome {
                    Ok(super::Handled::KeyAccepted { .. }) => accepted += 1,
                    Ok(_) => {}
                    Err(error) if is_refusal(&error) => {
                        tracing::warn!(
                            channel_id = share.channel_id,
                            version = share.key_version,
                            %error,
                            "a share in this device's mailbox was refused"
                        );
                    }
                    Err(error) => return Err(error),
                }
                done.push(share.id);
            }
            if !done.is_empty() {
                self.client.ack_device_shares(device_id, &done).await?;
            }
            match next {
                Some(cursor) if !shares.is_empty() => after = Some(cursor),
                _ => break,
            }
        }
        if self.machine.retire_prekeys() > 0 {
            self.save()?;
        }
        Ok(accepted)
    }

    /// Revokes one of my other devices: my identity signs a list without
    /// it (the server then drops its prekey and mailbox), and every channel
    /// whose key it could hold gets a new version now, sealed to everyone
    /// but it. Returns the channels rotated.
    pub async fn revoke_device(&mut self, device_id: u64) -> Result<Vec<i64>> {
        let served = self.client.devices(self.user_id()).await?;
        let Some(served) = served.device_list else {
            return Err(crate::error::Error::Refused(
                securechat_e2ee::Refusal::NoDeviceList {
                    user_id: self.user_id(),
                },
            ));
        };
        let list = self.machine.revoke_device(device_id, &served, now());
        self.save()?;
        self.client.publish_device_list(&list?).await?;
        let mut rotated = Vec::new();
        for channel_id in self.machine.channels_to_rotate() {
            let facts = self.channel_facts(channel_id, true).await?;
            let plan = self.machine.plan_send(&facts, now());
            self.save()?;
            let version = match plan {
                Ok(securechat_e2ee::SendPlan::MakeVersion { version, .. }) => version,
                Ok(_) => continue,
                Err(refusal) => {
                    tracing::warn!(channel_id, %refusal, "channel not rotated after a revocation");
                    continue;
                }
            };
            match self.make_version(channel_id, version, None).await {
                Ok(_) => rotated.push(channel_id),
                Err(error) if is_refusal(&error) => {
                    tracing::warn!(channel_id, %error, "channel not rotated after a revocation");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(rotated)
    }

    /// The prekeys to seal a new version to, for `users` (me included for
    /// my other devices): each person's served device list is verified by
    /// the core under their pinned identity (a refused list leaves them
    /// with what the core verified before), and their devices' prekeys are
    /// passed on for the core to check one by one.
    pub(crate) async fn served_prekeys(
        &mut self,
        users: &[i64],
    ) -> Result<BTreeMap<i64, Vec<String>>> {
        let mut out = BTreeMap::new();
        for &user_id in users {
            let page = match self.client.devices(user_id).await {
                Ok(page) => page,
                Err(error) if error.status() == Some(404) => continue,
                Err(error) => return Err(error),
            };
            let Some(list) = page.device_list else {
                continue;
            };
            if user_id != self.user_id() {
                self.ensure_pinned(user_id).await?;
            }
            match self.machine.observe_device_list(user_id, &list) {
                Ok(_) => {}
                // My own list no longer names this device: it forgot its keys.
                Err(refusal @ securechat_e2ee::Refusal::DeviceRevoked { .. }) => {
                    self.save()?;
                    return Err(refusal.into());
                }
                Err(refusal) => tracing::warn!(user_id, %refusal, "device list refused"),
            }
            let prekeys: Vec<String> = page.devices.into_iter().filter_map(|d| d.prekey).collect();
            out.insert(user_id, prekeys);
        }
        self.save()?;
        Ok(out)
    }
}
