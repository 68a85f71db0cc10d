//! Limits on room and channel names and texts (the Unicode rules are in
//! [`crate::text`]).

use crate::error::Error;
use crate::text;

pub const ROOM_NAME_MAX: usize = 64;
pub const DESCRIPTION_MAX: usize = 500;
pub const CHANNEL_NAME_MAX: usize = 64;
pub const TOPIC_MAX: usize = 250;

/// A room name: 1-64 characters after normalising and trimming, with the
/// rules of [`text::name`].
pub fn room_name(name: &str) -> Result<String, Error> {
    display_name("Room name", name, ROOM_NAME_MAX)
}

/// A name shown to people (a room's, a webhook's): 1 to `max` characters
/// after normalising and trimming, with the rules of [`text::name`].
pub fn display_name(field: &str, name: &str, max: usize) -> Result<String, Error> {
    let name = text::name(name).map_err(|r| refused("invalid_name", field, r))?;
    if name.is_empty() || name.chars().count() > max {
        return Err(Error::unprocessable(
            "invalid_name",
            format!("{field} must be 1 to {max} characters long"),
        ));
    }
    Ok(name)
}

fn refused(code: &'static str, field: &str, why: text::Refused) -> Error {
    Error::unprocessable(code, format!("{field} {}", why.reason()))
}

/// A description or topic: at most `max` characters, no control characters
/// other than newlines.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<String, Error> {
    let value = text::text(value).map_err(|r| refused("invalid_text", field, r))?;
    if value.chars().count() > max {
        return Err(Error::unprocessable(
            "invalid_text",
            format!("{field} must be at most {max} characters long"),
        ));
    }
    Ok(value)
}

/// A channel name: 1-64 letters, digits, `-` or `_`, with the rules of
/// [`text::name`].
pub fn channel_name(name: &str) -> Result<String, Error> {
    let name = text::name(name).map_err(|r| refused("invalid_name", "Channel name", r))?;
    let name = name.as_str();
    if name.is_empty() || name.chars().count() > CHANNEL_NAME_MAX {
        return Err(Error::unprocessable(
            "invalid_name",
            format!("Channel name must be 1 to {CHANNEL_NAME_MAX} characters long"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::unprocessable(
            "invalid_name",
            "Channel name may contain only letters, digits, '-' and '_'",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(room_name("  Lobby ").unwrap(), "Lobby");
        assert!(room_name("   ").is_err());
        assert!(room_name(&"x".repeat(65)).is_err());
        assert!(room_name("a\u{0}b").is_err());
        assert!(channel_name("general").is_ok());
        assert!(channel_name("dev-ops_2").is_ok());
        assert!(channel_name("has space").is_err());
        assert!(channel_name("").is_err());
        assert!(text("Topic", "line\nbreak", 20).is_ok());
        assert!(text("Topic", "bell\u{7}", 20).is_err());
        assert!(text("Topic", &"x".repeat(21), 20).is_err());
    }
}
