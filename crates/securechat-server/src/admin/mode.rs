//! Who may create an account: `REGISTRATION_MODE`, overridden from the
//! Admin page. A leaf, so configuration and state can name it without
//! importing the admin routes.

use serde::{Deserialize, Serialize};

/// Who may create an account (`REGISTRATION_MODE`, overridden from the
/// Admin page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// Anyone may register.
    Open,
    /// Only with a valid invitation link.
    InviteOnly,
    /// Nobody; administrators create accounts.
    Closed,
}

impl RegistrationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InviteOnly => "invite_only",
            Self::Closed => "closed",
        }
    }

    /// Parses the stored or configured spelling (`invite-only` too).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "open" => Some(Self::Open),
            "invite_only" | "invite" => Some(Self::InviteOnly),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_in_either_spelling() {
        assert_eq!(
            RegistrationMode::parse("open"),
            Some(RegistrationMode::Open)
        );
        assert_eq!(
            RegistrationMode::parse("Invite-Only"),
            Some(RegistrationMode::InviteOnly)
        );
        assert_eq!(
            RegistrationMode::parse("invite_only"),
            Some(RegistrationMode::InviteOnly)
        );
        assert_eq!(
            RegistrationMode::parse("closed"),
            Some(RegistrationMode::Closed)
        );
        assert_eq!(RegistrationMode::parse("maybe"), None);
    }
}
