//! Who can see and act on a room: loading a room for a user and checking an
//! action against the permission table, with the statuses the API promises.
//!
//! - A room that does not exist, or a private room the user is not in, is
//!   404: outsiders learn nothing about private rooms. Site administrators
//!   may see every room's metadata (never encrypted content).
//! - A visible room where the user lacks the role is 403.

use super::model::{Action, Role, RoomKind};
use super::store::{self, ChannelRow, RoomRow};
use crate::auth::AuthUser;
use crate::error::Error;
use crate::storage::Db;

/// A room as seen by one user.
#[derive(Debug, Clone)]
pub struct RoomAccess {
    pub room: RoomRow,
    /// The user's role; `None` if not a member.
    pub role: Option<Role>,
    /// The user is a site administrator.
    pub site_admin: bool,
    /// Who is asking.
    pub user_id: i64,
}

pub fn room_not_found() -> Error {
    Error::not_found(
        "room_not_found",
        "No such room, or you are not a member of it",
    )
}

pub fn channel_not_found() -> Error {
    Error::not_found(
        "channel_not_found",
        "No such channel, or you are not a member of its room",
    )
}

impl RoomAccess {
    /// Loads `room_id` for `user`; 404 if it is absent or invisible to them.
    /// A bot token's room outside its scope is invisible, like a private
    /// room to a non-member: this is where a bot's scope is enforced.
    pub async fn load(db: &Db, user: &AuthUser, room_id: i64) -> Result<Self, Error> {
        if user.out_of_scope(room_id) {
            return Err(room_not_found());
        }
        let room = store::room(db, room_id).await?.ok_or_else(room_not_found)?;
        let role = store::role_of(db, room_id, user.id).await?;
        Self::visible_to(user, room, role).ok_or_else(room_not_found)
    }

    /// The access `user` has with `role` in `room`, if the room is visible to them.
    fn visible_to(user: &AuthUser, room: RoomRow, role: Option<Role>) -> Option<Self> {
        if user.out_of_scope(room.id) {
            return None;
        }
        let access = Self {
            room,
            role,
            site_admin: user.is_admin,
            user_id: user.id,
        };
        access.visible().then_some(access)
    }

    /// Loads the room of `channel_id`; 404 (as a channel) if invisible.
    pub async fn load_channel(
        db: &Db,
        user: &AuthUser,
        channel_id: i64,
    ) -> Result<(Self, ChannelRow), Error> {
        let (channel, room, role) = store::channel_access(db, channel_id, user.id)
            .await?
            .ok_or_else(channel_not_found)?;
        let access = Self::visible_to(user, room, role).ok_or_else(channel_not_found)?;
        Ok((access, channel))
    }

    /// Loads a channel the user may read and post in; 404 otherwise
    /// (outsiders and site admins alike: neither reads messages). Messages,
    /// keys, files and resources of a channel are all decided here.
    pub async fn member_channel(
        db: &Db,
        user: &AuthUser,
        channel_id: i64,
    ) -> Result<(Self, ChannelRow), Error> {
        let (access, channel) = Self::load_channel(db, user, channel_id).await?;
        access
            .require(Action::ReadAndPost)
            .map_err(|_| channel_not_found())?;
        Ok((access, channel))
    }

    fn visible(&self) -> bool {
        self.role.is_some() || !self.room.is_private || self.site_admin
    }

    pub fn kind(&self) -> RoomKind {
        RoomKind::parse(&self.room.kind)
    }

    /// Requires the user's role to allow `action`; 403 otherwise.
    pub fn require(&self, action: Action) -> Result<Role, Error> {
        match self.role {
            Some(role) if role.may(action) => Ok(role),
            Some(_) => Err(Error::forbidden(
                "insufficient_role",
                format!(
                    "This needs the {} role in this room",
                    action.min_role().as_str()
                ),
            )),
            None => Err(Error::forbidden(
                "not_a_member",
                "You are not a member of this room",
            )),
        }
    }

    /// Membership and channel changes are not possible in DMs.
    pub fn require_not_dm(&self) -> Result<(), Error> {
        if self.kind() == RoomKind::Dm {
            return Err(Error::forbidden(
                "direct_message",
                "Direct-message conversations have fixed members and one channel",
            ));
        }
        Ok(())
    }

    /// Adding a member, or changing one, with `role`: member managers
    /// (admins and the owner) may, but only the owner makes admins, and
    /// nobody makes an owner — ownership moves only by transfer.
    pub fn require_grant(&self, role: Role) -> Result<(), Error> {
        let actor = self.require(Action::ManageMembers)?;
        self.require_not_dm()?;
        if role == Role::Owner || (role == Role::Admin && actor != Role::Owner) {
            return Err(Error::forbidden(
                "insufficient_role",
                "Only the owner adds admins, and ownership moves only by transfer",
            ));
        }
        Ok(())
    }

    /// Setting a channel's disappearing-message timer: admins and the
    /// owner of a room, either person of a DM (a DM has no admin, and the
    /// timer is the kind of setting both people of a conversation own).
    pub fn require_disappearing(&self) -> Result<(), Error> {
        if self.kind() == RoomKind::Dm && self.role.is_some() {
            return Ok(());
        }
        self.require(Action::SetDisappearing).map(|_| ())
    }

    /// Starting a room's membership log: its owner, or either person of a DM.
    pub fn require_log_start(&self) -> Result<(), Error> {
        let allowed = match self.role {
            Some(Role::Owner) => true,
            Some(_) => self.kind() == RoomKind::Dm,
            None => false,
        };
        if !allowed {
            return Err(Error::forbidden(
                "insufficient_role",
                "Only the room's owner starts its membership log",
            ));
        }
        Ok(())
    }

    /// The audit log: room admins and site admins.
    pub fn require_audit(&self) -> Result<(), Error> {
        if self.site_admin {
            return Ok(());
        }
        self.require(Action::ReadAudit).map(|_| ())
    }
}
