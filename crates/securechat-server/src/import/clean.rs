//! What a source may hold that this server refuses, made acceptable
//! deterministically: usernames outside the username rules, emoji names
//! (the text rules both importers share are `securechat_import`'s).

use crate::auth::validate;

/// A valid username for a source's name: characters outside the rules
/// become `_`, then the length and the reserved prefix are fixed. The same
/// name always gives the same result; `apply` adds a suffix on a clash.
pub fn username(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(*validate::USERNAME_LEN.end())
        .collect();
    if validate::username_key(&out).starts_with(validate::DELETED_PREFIX) {
        out.replace_range(..validate::DELETED_PREFIX.len(), "deleted_");
    }
    while out.len() < *validate::USERNAME_LEN.start() {
        out.push('_');
    }
    out
}

/// `base` with a numbered suffix, kept within the length limit.
pub fn numbered(base: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let keep = *validate::USERNAME_LEN.end() - suffix.len();
    format!("{}{suffix}", &base[..base.len().min(keep)])
}

/// An emoji name of the source as a reaction: the character for common
/// names, else `:name:` (at most 32 bytes, as reactions are).
pub fn emoji(name: &str) -> Option<String> {
    let known = match name {
        "+1" | "thumbsup" => "👍",
        "-1" | "thumbsdown" => "👎",
        "heart" => "❤️",
        "smile" => "😄",
        "laughing" => "😆",
        "joy" => "😂",
        "tada" => "🎉",
        "eyes" => "👀",
        "fire" => "🔥",
        "rocket" => "🚀",
        "pray" => "🙏",
        "wave" => "👋",
        "100" => "💯",
        "white_check_mark" => "✅",
        _ => "",
    };
    let value = if known.is_empty() {
        format!(":{name}:")
    } else {
        known.to_owned()
    };
    (value.len() <= 32 && crate::text::reaction(&value).is_ok()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_become_valid_deterministically() {
        for name in [
            "jörg müller",
            "a",
            "deleted-bob",
            "x".repeat(40).as_str(),
            "ok.name",
        ] {
            let u = username(name);
            assert!(validate::username(&u).is_ok(), "{name} -> {u}");
            assert_eq!(u, username(name));
        }
        assert_eq!(username("ok.name"), "ok.name");
        assert!(validate::username(&numbered(&"y".repeat(32), 12)).is_ok());
    }

    #[test]
    fn emoji_names_become_reactions() {
        assert_eq!(emoji("+1").as_deref(), Some("👍"));
        assert_eq!(emoji("party_parrot").as_deref(), Some(":party_parrot:"));
    }
}
