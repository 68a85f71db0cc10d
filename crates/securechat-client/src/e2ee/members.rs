//! The signed membership log, as I/O around the core: fetch it (pinning
//! its signers first) for the core to verify against my pins and my last
//! head, start it when the core says I should, and post membership changes
//! the core signed once a room has a log (the seed's plain endpoints
//! otherwise).

use securechat_crypto::{Action, MembershipLog, Role};
use securechat_e2ee::{MemberFact, RoomFacts};

use super::{SecureClient, now};
use crate::error::{Error, Result};

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
    /// The room's log entries as the server serves them, with every signer
    /// pinned first (first-contact users with their published key history).
    pub(crate) async fn log_entries(&mut self, room_id: i64) -> Result<Vec<String>> {
        let page = self.client.membership_log(room_id).await?;
        for signer in self.machine.unknown_signers(&page.entries) {
            // A signer without a published key cannot be pinned; their
            // entries then fail as `log_unknown_signer`.
            if let Err(error) = self.ensure_pinned(signer).await {
                tracing::warn!(signer, %error, "cannot pin a membership log signer");
            }
        }
        Ok(page.entries)
    }

    /// The room's membership log, verified by the core: every entry chained
    /// and signed by a key I pinned, allowed by the rules, and extending the
    /// head I pinned last time. The new head is pinned.
    ///
    /// [`Error::NoMembershipLog`] if the room has none yet.
    pub async fn verified_log(&mut self, room_id: i64) -> Result<MembershipLog> {
        let entries = self.log_entries(room_id).await?;
        let verified = self.machine.verify_log(room_id, &entries);
        self.save()?;
        if verified.is_ok() {
            self.sync_backup_after_change().await;
        }
        Ok(verified?)
    }

    /// What the server says of a room, as the core's facts.
    async fn room_facts(&self, room_id: i64) -> Result<RoomFacts> {
        let room = self.client.room(room_id).await?;
        Ok(RoomFacts {
            id: room.id,
            is_dm: room.is_dm(),
            is_private: room.is_private,
            my_role: room.my_role.map(|r| r.to_string()),
        })
    }

    /// Starts the log of a room I own (either person of a DM): `create`,
    /// then one `add` per current member with their role, all signed by me.
    /// The server accepts it only if it reproduces its member list exactly.
    pub async fn start_log(&mut self, room_id: i64) -> Result<MembershipLog> {
        let room = self.room_facts(room_id).await?;
        let members: Vec<MemberFact> = self
            .client
            .room_members(room_id)
            .await?
            .into_iter()
            .map(|m| MemberFact {
                user_id: m.user_id,
                role: m.role.to_string(),
            })
            .collect();
        let entries = self.machine.start_log(&room, &members, now())?;
        match self
            .client
            .post_membership_log(room_id, &entries, false, "")
            .await
        {
            // Someone else started it first: verify theirs instead.
            Err(error) if error.code() == Some("log_exists") => {}
            other => other?,
        }
        self.verified_log(room_id).await
    }

    /// Creates a room and starts its signed membership log at once, so keys
    /// can be shared in it from the first message.
    pub async fn create_room(&mut self, room: &crate::NewRoom) -> Result<crate::Room> {
        let created = self.client.create_room(room).await?;
        self.start_log(created.id).await?;
        Ok(created)
    }

    /// Creates a channel in a room (admins). An encrypted one is registered
    /// in the room's signed membership log at once (the log is started
    /// first if I should), so members can make its keys from the first
    /// message: clients make keys only for channels their room's log names.
    pub async fn create_channel(
        &mut self,
        room_id: i64,
        name: &str,
        encrypted: bool,
    ) -> Result<crate::Channel> {
        let channel = self.client.create_channel(room_id, name, encrypted).await?;
        if encrypted {
            self.register_channel(room_id, channel.id).await?;
        }
        Ok(channel)
    }

    /// Registers an encrypted channel in its room's signed log when the
    /// core says I should (I am an owner or admin and the log lacks it).
    /// [`Error::Refused`] `channel_not_registered` when I may not and the
    /// channel is new to me.
    pub async fn register_channel(&mut self, room_id: i64, channel_id: i64) -> Result<()> {
        let entries = self.log_for_keys(room_id).await?;
        self.register_with(room_id, channel_id, entries).await?;
        Ok(())
    }

    /// [`SecureClient::register_channel`] on top of `entries`; returns the
    /// entries to go on with (served again after a registration).
    pub(crate) async fn register_with(
        &mut self,
        room_id: i64,
        channel_id: i64,
        entries: Vec<String>,
    ) -> Result<Vec<String>> {
        let entry = self
            .machine
            .register_channel(room_id, &entries, channel_id, now());
        self.save()?;
        let Some(entry) = entry? else {
            return Ok(entries);
        };
        match self
            .client
            .post_membership_log(room_id, &[entry], false, "")
            .await
        {
            // Someone else changed the log first: the log served next says
            // whether the channel is registered.
            Err(error) if error.code() == Some("log_conflict") => {}
            other => other?,
        }
        self.log_entries(room_id).await
    }

    /// The verified log, started first if the room has none and I should.
    pub(crate) async fn log_for_keys(&mut self, room_id: i64) -> Result<Vec<String>> {
        let entries = self.log_entries(room_id).await?;
        if entries.is_empty()
            && self
                .machine
                .should_start_log(&self.room_facts(room_id).await?)
        {
            self.start_log(room_id).await?;
            return self.log_entries(room_id).await;
        }
        Ok(entries)
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
                && self
                    .machine
                    .should_start_log(&self.room_facts(room_id).await?)
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
            let entries = self.log_entries(room_id).await?;
            let entry = self
                .machine
                .sign_change(room_id, &entries, change.action(), now());
            self.save()?;
            match self
                .client
                .post_membership_log(room_id, &[entry?], ban, reason)
                .await
            {
                Ok(()) => {
                    if !matches!(change, MembershipChange::Leave) {
                        self.verified_log(room_id).await?;
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
