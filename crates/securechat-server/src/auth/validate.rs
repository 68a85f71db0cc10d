//! Rules for usernames and passwords, shared by the API and the CLI.

use crate::error::Error;

/// Shortest and longest username.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
/// Shortest password.
pub const PASSWORD_MIN: usize = 8;
/// Longest password accepted (bounded so hashing cost stays predictable).
pub const PASSWORD_MAX: usize = 1024;

/// The prefix of deleted accounts' names (`deleted-<id>`): no one else may
/// take it, so a client can show every such name as "deleted user".
pub const DELETED_PREFIX: &str = "deleted-";

/// Checks a username: 3-32 ASCII letters, digits, `_`, `.` or `-`, not
/// beginning with [`DELETED_PREFIX`]. Non-ASCII is refused so that
/// look-alike names cannot impersonate people.
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
    if username_key(name).starts_with(DELETED_PREFIX) {
        return Err(Error::unprocessable(
            "invalid_username",
            "Names beginning with \"deleted-\" are reserved; choose another",
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

/// The least zxcvbn score a new password must reach: 3 is "safely
/// unguessable" (at least 10^8 guesses), beyond an online attacker even
/// without the login throttle.
pub const PASSWORD_MIN_SCORE: u8 = 3;

/// How much of a password the estimator reads: its matching is quadratic,
/// and a password longer than this that scores low in its first part is
/// rare enough not to matter.
const SCORED_PREFIX: usize = 128;

/// Checks a password's length and characters only: what every password
/// must satisfy, including the demo users' well-known ones.
pub fn password_shape(password: &str) -> Result<(), Error> {
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
    if password.chars().any(char::is_control) {
        return Err(Error::unprocessable(
            "invalid_password",
            "Password may not contain control characters",
        ));
    }
    Ok(())
}

/// Checks a password a person chooses for `username`: its shape, that it is
/// not the name itself, not the `current` password, and hard enough to
/// guess by Dropbox's estimator (zxcvbn), with the estimator's advice in the
/// message when it is not.
pub fn new_password(password: &str, username: &str, current: Option<&str>) -> Result<(), Error> {
    password_shape(password)?;
    if password.trim().eq_ignore_ascii_case(username) {
        return Err(Error::unprocessable(
            "weak_password",
            "Password may not be your username",
        ));
    }
    if current == Some(password) {
        return Err(Error::unprocessable(
            "same_password",
            "The new password is the current one; choose a different one",
        ));
    }
    let scored: String = password.chars().take(SCORED_PREFIX).collect();
    let estimate = zxcvbn::zxcvbn(&scored, &[username, "securechat"]);
    if u8::from(estimate.score()) >= PASSWORD_MIN_SCORE {
        return Ok(());
    }
    let mut message = String::from("Password is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push_str(&format!(": {warning}"));
        }
        for suggestion in feedback.suggestions() {
            message.push_str(&format!(" {suggestion}"));
        }
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    message.push_str(" A few unrelated words make a strong one.");
    Err(Error::unprocessable("weak_password", message))
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
            "deleted-12",
            "Deleted-x",
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

    fn code(result: Result<(), Error>) -> &'static str {
        match result {
            Ok(()) => "ok",
            Err(Error::Unprocessable { code, .. }) => code,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn password_shapes() {
        assert_eq!(code(password_shape("12345678")), "ok");
        assert_eq!(code(password_shape("1234567")), "weak_password");
        assert_eq!(
            code(password_shape(&"x".repeat(PASSWORD_MAX + 1))),
            "invalid_password"
        );
        assert_eq!(code(password_shape("\0\0\0\0\0\0\0\0")), "invalid_password");
    }

    #[test]
    fn new_passwords_must_be_hard_to_guess() {
        for weak in [
            "        ",
            "password123",
            "12345678",
            "qwertyuiop",
            "aaaaaaaaaaaa",
            "alice2024!",
            "Alicealice",
            "securechat1",
        ] {
            assert_eq!(
                code(new_password(weak, "alice", None)),
                "weak_password",
                "{weak:?}"
            );
        }
        assert_eq!(code(new_password("ALICE", "alice", None)), "weak_password");
        for strong in [
            "correct horse battery staple",
            "pale-otter-drums-quietly",
            "Tr4mp0line!Vortex",
        ] {
            assert_eq!(
                code(new_password(strong, "alice", None)),
                "ok",
                "{strong:?}"
            );
        }
        let current = "correct horse battery staple";
        assert_eq!(
            code(new_password(current, "alice", Some(current))),
            "same_password"
        );
        let err = new_password("password123", "alice", None).unwrap_err();
        assert!(err.to_string().contains("too easy to guess"), "{err}");
    }
}
