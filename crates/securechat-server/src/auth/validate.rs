//! Rules for usernames and passwords, shared by the API and the CLI.

use crate::error::Error;

/// Shortest and longest username.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
/// Shortest password.
pub const PASSWORD_MIN: usize = 8;
/// Longest password accepted (bounded so hashing cost stays predictable).
pub const PASSWORD_MAX: usize = 1024;

/// Checks a username: 3-32 ASCII letters, digits, `_`, `.` or `-`.
/// Non-ASCII is refused so that look-alike names cannot impersonate people.
pub fn username(name: &str) -> Result<(), Error> {
    if !USERNAME_LEN.contains(&name.len()) {
        return Err(Error::unprocessable(
            "invalid_username",
            "Username must be 3 to 32 characters long",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(Error::unprocessable(
            "invalid_username",
            "Username may contain only letters, digits, '_', '.' and '-'",
        ));
    }
    Ok(())
}

/// The case-insensitive form a username is unique under.
pub fn username_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The form under which look-alike usernames collide: case-folded, then
/// the Unicode TR39 skeleton (`1` and `I` become `l`, `0` becomes `O`, `rn`
/// becomes `m`, …), then `i` merged with `l`. Usernames are unique by it,
/// so `aIice` and `al1ce` cannot sit beside `alice`. The merge is needed
/// because names are case-insensitive: `aIice` is `aiice`, and `I` looks
/// like `l`.
pub fn username_skeleton(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    unicode_security::skeleton(&lower)
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'i' { 'l' } else { c })
        .collect()
}

/// Checks a new password's length.
pub fn password(password: &str) -> Result<(), Error> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN {
        return Err(Error::unprocessable(
            "weak_password",
            format!("Password must be at least {PASSWORD_MIN} characters long"),
        ));
    }
    if password.len() > PASSWORD_MAX {
        return Err(Error::unprocessable(
            "invalid_password",
            format!("Password must be at most {PASSWORD_MAX} bytes long"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "alice", "Bob.Smith-2", "a_b", &"x".repeat(32)] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "",
            &"x".repeat(33),
            "has space",
            "émile",
            "a/b",
            "<script>",
        ] {
            assert!(username(bad).is_err(), "{bad}");
        }
        assert_eq!(username_key("Alice"), "alice");
    }

    #[test]
    fn look_alike_usernames_share_a_skeleton() {
        let alice = username_skeleton("alice");
        for twin in ["aIice", "al1ce", "ALICE", "a1ice", "aiice", "AL|CE"] {
            assert_eq!(username_skeleton(twin), alice, "{twin}");
        }
        assert_eq!(username_skeleton("bomb"), username_skeleton("bornb"));
        assert_eq!(username_skeleton("bob0"), username_skeleton("bobo"));
        for other in ["alicia", "bob", "charlie", "alice2"] {
            assert_ne!(username_skeleton(other), alice, "{other}");
        }
    }

    #[test]
    fn passwords() {
        assert!(password("12345678").is_ok());
        assert!(password("1234567").is_err());
        assert!(password(&"x".repeat(PASSWORD_MAX + 1)).is_err());
    }
}
