//! Roles and the permission table: the one place that says who may do what
//! in a room. Handlers ask [`Role::may`]; nothing else compares roles.

use serde::{Deserialize, Serialize};

/// A member's role in a room, weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }

    /// Whether this role may perform `action`.
    pub fn may(self, action: Action) -> bool {
        self >= action.min_role()
    }
}

/// Everything a room member may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read and post in the room's channels.
    ReadAndPost,
    /// Leave the room.
    Leave,
    /// Add resources and files.
    AddResources,
    /// Edit or delete one's own messages.
    EditOwnMessages,
    /// Create, rename and delete channels.
    ManageChannels,
    /// Add, kick, ban and unban members.
    ManageMembers,
    /// Delete anyone's message.
    DeleteAnyMessage,
    /// Approve channel-key requests.
    ApproveKeyRequests,
    /// Edit and remove any resource.
    ManageResources,
    /// Read the room's audit log.
    ReadAudit,
    /// Pin and unpin messages, and say whether members may too (then
    /// members pin as well: `pins::http`).
    ManagePins,
    /// Set a channel's disappearing-message timer (in a DM either person
    /// may: `RoomAccess::require_disappearing`).
    SetDisappearing,
    /// Make, list and delete a channel's webhooks (`webhooks/`).
    ManageIntegrations,
    /// Use `@channel`, `@here`, `@everyone` or `@room` in a room of more
    /// members than its owner's setting (`mentions`).
    MentionChannel,
    /// Promote members to admin and demote admins.
    ChangeRoles,
    /// Set how long the room keeps its messages.
    SetRetention,
    /// Rename, describe, change visibility, delete the room.
    EditRoom,
    /// Hand ownership to another member.
    TransferOwnership,
    /// Export the room's whole history (`rooms::export`).
    ExportHistory,
}

impl Action {
    /// The permission table: the weakest role allowed each action.
    pub const fn min_role(self) -> Role {
        match self {
            Self::ReadAndPost | Self::Leave | Self::AddResources | Self::EditOwnMessages => {
                Role::Member
            }
            Self::ManageChannels
            | Self::ManageMembers
            | Self::DeleteAnyMessage
            | Self::ApproveKeyRequests
            | Self::ManageResources
            | Self::ReadAudit
            | Self::ManagePins
            | Self::SetDisappearing
            | Self::ManageIntegrations
            | Self::MentionChannel => Role::Admin,
            Self::ChangeRoles
            | Self::EditRoom
            | Self::TransferOwnership
            | Self::SetRetention
            | Self::ExportHistory => Role::Owner,
        }
    }
}

/// A room, or a two-person direct-message conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    Room,
    Dm,
}

impl RoomKind {
    pub fn parse(s: &str) -> Self {
        if s == "dm" { Self::Dm } else { Self::Room }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table() {
        assert!(Role::Member.may(Action::ReadAndPost));
        assert!(!Role::Member.may(Action::ManageMembers));
        assert!(Role::Admin.may(Action::ManageMembers));
        assert!(Role::Admin.may(Action::ApproveKeyRequests));
        assert!(!Role::Admin.may(Action::ChangeRoles));
        assert!(!Role::Admin.may(Action::EditRoom));
        assert!(!Role::Admin.may(Action::SetRetention));
        assert!(Role::Owner.may(Action::SetRetention));
        assert!(!Role::Member.may(Action::SetDisappearing));
        assert!(Role::Admin.may(Action::SetDisappearing));
        assert!(!Role::Member.may(Action::ManageIntegrations));
        assert!(Role::Admin.may(Action::ManageIntegrations));
        assert!(Role::Owner.may(Action::TransferOwnership));
        assert!(!Role::Admin.may(Action::ExportHistory));
        assert!(Role::Owner.may(Action::ExportHistory));
        assert!(Role::Owner.may(Action::ReadAndPost));
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
