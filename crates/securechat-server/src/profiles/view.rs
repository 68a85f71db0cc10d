//! What clients see of a profile.

use serde::Serialize;
use utoipa::ToSchema;

use super::store::ProfileRow;

/// The availability a person chose. Whether they are connected at all is
/// the `presence` event's; this says how they want to be treated when they
/// are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Online,
    Away,
    DoNotDisturb,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::DoNotDisturb => "do_not_disturb",
        }
    }

    fn parse(stored: &str) -> Self {
        match stored {
            "away" => Self::Away,
            "do_not_disturb" => Self::DoNotDisturb,
            _ => Self::Online,
        }
    }
}

/// A status line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusView {
    pub text: Option<String>,
    pub emoji: Option<String>,
    /// When it stops being shown (ms since the epoch); null: until changed.
    pub expires_at: Option<i64>,
}

/// A person's profile, as everyone who may see them sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    pub user_id: i64,
    /// Shown instead of the username where set.
    pub display_name: Option<String>,
    /// Null when none is set or it expired.
    pub status: Option<StatusView>,
    pub availability: Availability,
    /// The 256-pixel avatar (PNG), a URL that never changes content (its
    /// version is in it); add `&size=64` for the small one. Null: none.
    pub avatar_url: Option<String>,
}

impl ProfileView {
    /// `row` as of `now` (an expired status is not shown).
    pub fn of(row: &ProfileRow, now: i64) -> Self {
        let live = row.status_expires_at.is_none_or(|at| at > now);
        let status =
            (live && (row.status_text.is_some() || row.status_emoji.is_some())).then(|| {
                StatusView {
                    text: row.status_text.clone(),
                    emoji: row.status_emoji.clone(),
                    expires_at: row.status_expires_at,
                }
            });
        Self {
            user_id: row.user_id,
            display_name: row.display_name.clone(),
            status,
            availability: Availability::parse(&row.availability),
            avatar_url: row
                .avatar_key
                .as_ref()
                .map(|_| format!("/api/users/{}/avatar?v={}", row.user_id, row.avatar_version)),
        }
    }
}
