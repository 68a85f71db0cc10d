//! The signed membership log from the client's side: verify it against my
//! pinned keys and my last pinned head (a fork or rollback fails), start it
//! when I own a room that has none, and make membership changes as signed
//! entries once a room has a log (the seed's plain endpoints otherwise).

use std::collections::BTreeSet;

use securechat_crypto::{Action, MembershipEntry, MembershipLog, Role};

use super::{SecureClient, now};
use crate::error::{Error, Result};
use crate::keystore::LogPin;
use crate::rooms::Role as RoomRole;

/// A membership change, signed when the room has a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    /// Invite a user as member (or admin: owner only).
    Add { user_id: i64, admin: bool },
    /// Kick a member.
    Kick { user_id: i64 },
    /// Ban a user (removes them).
    Ban { user_id: i64, reason: String },
    /// Leave the room.
    Leave,
    /// Join a public room.
    Join,
    /// Promote to admin or demote to member (owner).
    SetRole { user_id: i64, admin: bool },
    /// Hand ownership over (owner; I become admin).
    Transfer { user_id: i64 },
}

impl MembershipChange {
    fn action(&self) -> Action {
        let role = |admin: bool| if admin { Role::Admin } else { Role::Member };
        match self {
            Self::Add { user_id, admin } => Action::Add {
                subject: *user_id,
                role: role(*admin),
            },
            Self::Kick { user_id } | Self::Ban { user_id, .. } => {
                Action::Remove { subject: *user_id }
            }
            Self::Leave => Action::Leave,
            Self::Join => Action::JoinPublic,
            Self::SetRole { user_id, admin } => Action::SetRole {
                subject: *user_id,
                role: role(*admin),
            },
            Self::Transfer { user_id } => Action::SetRole {
                subject: *user_id,
                role: Role::Owner,
            },
        }
    }
}

impl SecureClient {
    /// The room's membership log, verified: every entry chained and signed
    /// by a key I pinned (first-contact users are pinned now, with their
    /// published key history), allowed by the rules, and extending the head
    /// I pinned last time. The new head is pinned.
    ///
    /// [`Error::NoMembershipLog`] if the room has none yet.
    pub async fn verified_log(&mut self, room_id: i64) -> Result<MembershipLog> {
        let page = self.client.membership_log(room_id).await?;
        if page.entries.is_empty() {
            return Err(Error::NoMembershipLog { room_id });
        }
        let entries = page
            .entries
            .iter()
            .map(|w| MembershipEntry::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        let signers: BTreeSet<i64> = entries
            .iter()
            .map(MembershipEntry::actor_id)
            .filter(|&id| id != 0 && id != self.user_id())
            .collect();
        for signer in signers {
            if !self.store.pins.contains_key(&signer) {
                // A signer without a published key cannot be pinned; their
                // entries then fail as `log_unknown_signer`.
                if let Err(error) = self.pinned_bundle(signer).await {
                    tracing::warn!(signer, %error, "cannot pin a membership log signer");
                }
            }
        }
        let log = MembershipLog::verify(&entries, &self.keyring())?;
        if let Some(pin) = self.store.log_pins.get(&room_id) {
            log.check_extends(pin.seq, &pin.hash)?;
        }
        self.pin_log(room_id, &log)?;
        Ok(log)
    }

    fn pin_log(&mut self, room_id: i64, log: &MembershipLog) -> Result<()> {
        let pin = LogPin {
            seq: u64::try_from(log.len().saturating_sub(1)).unwrap_or(u64::MAX),
            hash: log.head_hash(),
        };
        if self.store.log_pins.get(&room_id) != Some(&pin) {
            self.store.log_pins.insert(room_id, pin);
            self.save()?;
        }
        Ok(())
    }

    /// Whether I may start the room's log: its owner, or either person of a DM.
    async fn may_start_log(&self, room_id: i64) -> Result<bool> {
        let room = self.client.room(room_id).await?;
        Ok(room.is_dm() || room.my_role == Some(RoomRole::Owner))
    }

    /// Starts the log of a room I own (either person of a DM): `create`,
    /// then one `add` per current member with their role, all signed by me.
    /// The server accepts it only if it reproduces its member list exactly.
    pub async fn start_log(&mut self, room_id: i64) -> Result<MembershipLog> {
        let room = self.client.room(room_id).await?;
        let members = self.client.room_members(room_id).await?;
        let time = now();
        let public = !room.is_private && !room.is_dm();
        let mut log = MembershipLog::create(&self.identity, room_id, public, time);
        for member in members.iter().filter(|m| m.user_id != self.user_id()) {
            let role = match member.role {
                RoomRole::Admin if !room.is_dm() => Role::Admin,
                _ => Role::Member,
            };
            log.append(
                &self.identity,
                Action::Add {
                    subject: member.user_id,
                    role,
                },
                time,
            )?;
        }
        let wire: Vec<String> = log.entries().iter().map(MembershipEntry::to_wire).collect();
        self.client
            .post_membership_log(room_id, &wire, false, "")
            .await?;
        self.pin_log(room_id, &log)?;
        Ok(log)
    }

    /// The verified log, started first if the room has none and I may.
    pub(crate) async fn log_for_keys(&mut self, room_id: i64) -> Result<MembershipLog> {
        match self.verified_log(room_id).await {
            Err(Error::NoMembershipLog { .. }) if self.may_start_log(room_id).await? => {
                self.start_log(room_id).await
            }
            other => other,
        }
    }

    /// Makes a membership change. In a room with a log (or one I own with
    /// an encrypted channel, whose log I start now) it is an entry signed
    /// by me on top of the verified log; otherwise the seed's endpoint.
    /// Someone else appending first (`log_conflict`) is retried once on the
    /// new head.
    pub async fn change_membership(
        &mut self,
        room_id: i64,
        change: &MembershipChange,
    ) -> Result<()> {
        let page = self.client.membership_log(room_id).await;
        let has_log = match page {
            Ok(page) => !page.entries.is_empty(),
            // Not a member (joining a public room): nothing to see yet.
            Err(error) if error.status() == Some(404) => false,
            Err(error) => return Err(error),
        };
        let signed = has_log
            || (change != &MembershipChange::Join
                && self.may_start_log(room_id).await?
                && self.room_is_encrypted(room_id).await?);
        if !signed {
            return self.plain_change(room_id, change).await;
        }
        if !has_log {
            self.start_log(room_id).await?;
        }
        let (ban, reason) = match change {
            MembershipChange::Ban { reason, .. } => (true, reason.as_str()),
            _ => (false, ""),
        };
        for attempt in 0..2 {
            let mut log = self.verified_log(room_id).await?;
            let entry = log.append(&self.identity, change.action(), now())?;
            match self
                .client
                .post_membership_log(room_id, &[entry.to_wire()], ban, reason)
                .await
            {
                Ok(()) => {
                    if !matches!(change, MembershipChange::Leave) {
                        self.pin_log(room_id, &log)?;
                    }
                    return Ok(());
                }
                Err(error) if attempt == 0 && error.code() == Some("log_conflict") => {}
                Err(error) => return Err(error),
            }
        }
        Err(Error::UnexpectedResponse {
            status: 409,
            detail: "the membership log kept moving; try again".into(),
        })
    }

    async fn room_is_encrypted(&self, room_id: i64) -> Result<bool> {
        let room = self.client.room(room_id).await?;
        Ok(room.is_dm() || room.channels.iter().any(|c| c.is_encrypted))
    }

    async fn plain_change(&self, room_id: i64, change: &MembershipChange) -> Result<()> {
        let client = &self.client;
        match change {
            MembershipChange::Add { user_id, admin } => {
                client.plain_add_member(room_id, *user_id).await?;
                if *admin {
                    client.plain_set_role(room_id, *user_id, "admin").await?;
                }
                Ok(())
            }
            MembershipChange::Kick { user_id } => client.plain_kick(room_id, *user_id).await,
            MembershipChange::Ban { user_id, reason } => {
                client.plain_ban(room_id, *user_id, reason).await
            }
            MembershipChange::Leave => client.leave_room(room_id).await,
            MembershipChange::Join => client.join_room(room_id).await.map(|_| ()),
            MembershipChange::SetRole { user_id, admin } => {
                let role = if *admin { "admin" } else { "member" };
                client.plain_set_role(room_id, *user_id, role).await
            }
            MembershipChange::Transfer { user_id } => {
                client.plain_transfer(room_id, *user_id).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_sign_the_matching_log_action() {
        assert_eq!(
            MembershipChange::Ban {
                user_id: 4,
                reason: "spam".into()
            }
            .action(),
            Action::Remove { subject: 4 }
        );
        assert_eq!(
            MembershipChange::Transfer { user_id: 5 }.action(),
            Action::SetRole {
                subject: 5,
                role: Role::Owner
            }
        );
        assert_eq!(
            MembershipChange::Add {
                user_id: 6,
                admin: true
            }
            .action(),
            Action::Add {
                subject: 6,
                role: Role::Admin
            }
        );
        assert_eq!(MembershipChange::Join.action(), Action::JoinPublic);
    }
}
