//! `TWO_FACTOR_REQUIRED`: who must sign in with a second factor —
//! nobody (`off`, the default), site administrators (`admins`) or
//! everyone (`everyone`). A covered person without one can still sign in,
//! but reaches only enrolment until they turn TOTP on.

use crate::config::error::ConfigError;

/// The site's two-factor policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Policy {
    #[default]
    Off,
    Admins,
    Everyone,
}

impl Policy {
    /// Parses the variable's value (unset or empty: `off`).
    pub fn parse(value: Option<&str>) -> Result<Self, ConfigError> {
        match value.map(str::trim).unwrap_or_default() {
            "" | "off" => Ok(Self::Off),
            "admins" => Ok(Self::Admins),
            "everyone" => Ok(Self::Everyone),
            other => Err(ConfigError::new(
                "TWO_FACTOR_REQUIRED",
                format!("{other:?} is not one of off, admins, everyone"),
            )),
        }
    }

    /// Whether a person (a site administrator or not) must have a second
    /// factor.
    pub fn covers(self, is_admin: bool) -> bool {
        match self {
            Self::Off => false,
            Self::Admins => is_admin,
            Self::Everyone => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_covers() {
        assert_eq!(Policy::parse(None).unwrap(), Policy::Off);
        assert_eq!(Policy::parse(Some(" admins ")).unwrap(), Policy::Admins);
        assert_eq!(Policy::parse(Some("everyone")).unwrap(), Policy::Everyone);
        let err = Policy::parse(Some("all")).unwrap_err();
        assert_eq!(err.var, "TWO_FACTOR_REQUIRED");
        assert!(!Policy::Off.covers(true));
        assert!(Policy::Admins.covers(true));
        assert!(!Policy::Admins.covers(false));
        assert!(Policy::Everyone.covers(false));
    }
}
