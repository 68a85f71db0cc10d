//! Email digest settings: the SMTP relay (`SMTP_URL`, in lettre's URL form:
//! `smtp://host:port`, `smtp://host?tls=required`, `smtps://user:pass@host`),
//! the sender address (`SMTP_FROM`), how long a message stays unread before
//! it is mailed (`EMAIL_DIGEST_DELAY_SECS`, 15 minutes by default) and how
//! often the queue is looked at (`EMAIL_DRAIN_SECS`). Without `SMTP_URL`
//! there is no email at all. Links in mail point at `PUBLIC_URL`, which is
//! then required.
//!
//! `SMTP_URL` may hold a password: it is never printed (see the `Debug`
//! impl) and never put in an error message.

use zeroize::Zeroizing;

use super::error::ConfigError;

/// `EMAIL_DIGEST_DELAY_SECS` when unset: a quarter of an hour.
pub const DEFAULT_DELAY_SECS: u64 = 15 * 60;
/// `EMAIL_DRAIN_SECS` when unset.
pub const DEFAULT_DRAIN_SECS: u64 = 30;
/// Longest `SMTP_FROM`.
const MAX_FROM: usize = 254;

/// The email settings of `securechat serve` (present only with `SMTP_URL`).
pub struct EmailConfig {
    /// `SMTP_URL`, password included.
    pub smtp_url: Zeroizing<String>,
    /// `SMTP_FROM`: the `From` of every mail (`Name <addr>` or `addr`).
    pub from: String,
    /// `PUBLIC_URL`: where links in mail point.
    pub public_url: String,
    /// `EMAIL_DIGEST_DELAY_SECS`.
    pub delay_secs: u64,
    /// `EMAIL_DRAIN_SECS`.
    pub drain_secs: u64,
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("smtp_url", &"<redacted>")
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .field("delay_secs", &self.delay_secs)
            .field("drain_secs", &self.drain_secs)
            .finish()
    }
}

/// Reads the email settings; `None` when `SMTP_URL` is unset or blank.
/// `public_origin` is `PUBLIC_URL`'s origin, already validated.
pub fn load(
    env: &dyn Fn(&str) -> Option<String>,
    public_origin: Option<&str>,
) -> Result<Option<EmailConfig>, ConfigError> {
    let Some(url) = env("SMTP_URL").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let url = Zeroizing::new(url.trim().to_owned());
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err(ConfigError::new(
            "SMTP_URL",
            "must start with smtp:// or smtps:// (e.g. smtps://user:password@mail.example.com); \
             the value is not shown",
        ));
    }
    let public_url = public_origin.map(str::to_owned).ok_or_else(|| {
        ConfigError::new(
            "PUBLIC_URL",
            "is required with SMTP_URL: links in email point at it (e.g. https://chat.example.com)",
        )
    })?;
    let from = match env("SMTP_FROM").filter(|v| !v.trim().is_empty()) {
        Some(value) => value.trim().to_owned(),
        None => {
            let host = url::Url::parse(&public_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".into());
            format!("Securechat <securechat@{host}>")
        }
    };
    if from.len() > MAX_FROM || from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::new(
            "SMTP_FROM",
            format!(
                "{from:?} is not an address (e.g. Securechat <chat@example.com> or chat@example.com)"
            ),
        ));
    }
    Ok(Some(EmailConfig {
        smtp_url: url,
        from,
        public_url,
        delay_secs: seconds(env, "EMAIL_DIGEST_DELAY_SECS", DEFAULT_DELAY_SECS, 86_400)?,
        drain_secs: seconds(env, "EMAIL_DRAIN_SECS", DEFAULT_DRAIN_SECS, 3_600)?,
    }))
}

/// A number of seconds from 1 to `max`, or `default` when unset.
fn seconds(
    env: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match env(var).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ConfigError::new(var, format!("must be a number of seconds from 1 to {max}"))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(vars: &[(&str, &str)]) -> Result<Option<EmailConfig>, ConfigError> {
        let env = |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        };
        load(&env, Some("https://chat.example.com"))
    }

    #[test]
    fn no_smtp_url_means_no_email() {
        assert!(load_with(&[]).unwrap().is_none());
        assert!(load_with(&[("SMTP_URL", " ")]).unwrap().is_none());
    }

    #[test]
    fn defaults_and_the_password_stays_out_of_debug_output() {
        let config = load_with(&[("SMTP_URL", "smtps://me:hunter22@mail.example.com")])
            .unwrap()
            .unwrap();
        assert_eq!(config.from, "Securechat <securechat@chat.example.com>");
        assert_eq!(config.public_url, "https://chat.example.com");
        assert_eq!(config.delay_secs, DEFAULT_DELAY_SECS);
        assert_eq!(config.drain_secs, DEFAULT_DRAIN_SECS);
        assert!(!format!("{config:?}").contains("hunter22"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (vars, var) in [
            (vec![("SMTP_URL", "mail.example.com")], "SMTP_URL"),
            (vec![("SMTP_URL", "http://user:hunter22@x")], "SMTP_URL"),
            (
                vec![("SMTP_URL", "smtp://x"), ("SMTP_FROM", "not an address")],
                "SMTP_FROM",
            ),
            (
                vec![("SMTP_URL", "smtp://x"), ("EMAIL_DIGEST_DELAY_SECS", "0")],
                "EMAIL_DIGEST_DELAY_SECS",
            ),
            (
                vec![("SMTP_URL", "smtp://x"), ("EMAIL_DRAIN_SECS", "soon")],
                "EMAIL_DRAIN_SECS",
            ),
        ] {
            let Err(err) = load_with(&vars) else {
                panic!("{vars:?} was accepted");
            };
            assert_eq!(err.var, var, "{vars:?}");
            assert!(!err.problem.contains("hunter22"));
        }
        let env = |k: &str| (k == "SMTP_URL").then(|| "smtp://127.0.0.1:2525".to_owned());
        let Err(err) = load(&env, None) else {
            panic!("SMTP_URL without PUBLIC_URL was accepted");
        };
        assert_eq!(err.var, "PUBLIC_URL");
    }
}
