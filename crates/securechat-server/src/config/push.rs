//! Web Push settings: the VAPID key pair (`VAPID_PRIVATE_KEY`, or a key
//! generated once into `DATA_DIR/vapid_private_key`), the contact it names
//! (`VAPID_SUBJECT`) and the push endpoints allowed on private addresses
//! (`PUSH_ALLOW_HOSTS`).
//!
//! The private key never goes into the database, a log or an error: only
//! its public half is stored, so that nodes of a cluster can check that
//! they all sign with the same key (`webpush::keys`).

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

pub use super::allow_hosts::AllowHosts;
use super::error::ConfigError;

/// The file a generated VAPID key is kept in, inside `DATA_DIR`.
pub const VAPID_KEY_FILE: &str = "vapid_private_key";
/// Longest `VAPID_SUBJECT`.
const MAX_SUBJECT: usize = 256;

/// Where the VAPID private key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum VapidKeySource {
    /// `VAPID_PRIVATE_KEY`: the private scalar (P-256, 32 bytes).
    Env(Zeroizing<[u8; 32]>),
    /// This file, created with a new key at first start if absent.
    File(PathBuf),
}

impl std::fmt::Debug for VapidKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(_) => f.write_str("VAPID_PRIVATE_KEY(<redacted>)"),
            Self::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

impl VapidKeySource {
    /// The private scalar: the variable's, or the file's (generated into
    /// it, mode 0600, when the file does not exist yet).
    pub fn private_key(&self) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
        match self {
            Self::Env(scalar) => Ok(scalar.clone()),
            Self::File(path) => load_or_create(path),
        }
    }

    /// How to give another node this same key, for the error a node with
    /// a different key stops with.
    pub fn how_to_share(&self) -> String {
        match self {
            Self::Env(_) => "set the same VAPID_PRIVATE_KEY on every node".to_owned(),
            Self::File(path) => format!(
                "set VAPID_PRIVATE_KEY on every node to the content of {} on the node that \
                 generated the stored key (or share that file)",
                path.display()
            ),
        }
    }
}

/// The Web Push settings of `securechat serve`.
#[derive(Debug)]
pub struct PushConfig {
    pub vapid_key: VapidKeySource,
    /// `VAPID_SUBJECT`: how a push service can reach the operator
    /// (`mailto:` or `https:`).
    pub subject: String,
    /// `PUSH_ALLOW_HOSTS`.
    pub allow_hosts: AllowHosts,
}

/// Reads `VAPID_PRIVATE_KEY` (else the key is the file in `data_dir`; it
/// is read or created when the server starts), `VAPID_SUBJECT` (default `mailto:admin@` the host
/// of `public_origin`, else of `localhost`) and `PUSH_ALLOW_HOSTS`.
pub fn load(
    env: &dyn Fn(&str) -> Option<String>,
    data_dir: &Path,
    public_origin: Option<&str>,
) -> Result<PushConfig, ConfigError> {
    let allow_hosts = AllowHosts::load(env, "PUSH_ALLOW_HOSTS")?;
    let subject = match env("VAPID_SUBJECT").filter(|v| !v.trim().is_empty()) {
        Some(value) => subject(value.trim())?,
        None => {
            let host = public_origin
                .and_then(|o| url::Url::parse(o).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".into());
            format!("mailto:admin@{host}")
        }
    };
    let vapid_key = match env("VAPID_PRIVATE_KEY").filter(|v| !v.is_empty()) {
        Some(value) => VapidKeySource::Env(scalar(&value).ok_or_else(|| {
            ConfigError::new(
                "VAPID_PRIVATE_KEY",
                "must be the base64url of a 32-byte P-256 private key (the content of \
                 DATA_DIR/vapid_private_key on the node that generated it)",
            )
        })?),
        None => VapidKeySource::File(data_dir.join(VAPID_KEY_FILE)),
    };
    Ok(PushConfig {
        vapid_key,
        subject,
        allow_hosts,
    })
}

/// A `mailto:` or `https:` contact, one line.
fn subject(value: &str) -> Result<String, ConfigError> {
    let fits = value.len() <= MAX_SUBJECT
        && (value.starts_with("mailto:") || value.starts_with("https://"))
        && !value
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '"');
    if !fits {
        return Err(ConfigError::new(
            "VAPID_SUBJECT",
            format!(
                "must be a mailto: or https: address of at most {MAX_SUBJECT} characters \
                 (e.g. mailto:admin@chat.example.com)"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// The 32 bytes of a base64url P-256 private scalar, if it is one.
fn scalar(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(text.trim().trim_end_matches('='))
            .ok()?,
    );
    let scalar: [u8; 32] = bytes.as_slice().try_into().ok()?;
    let scalar = Zeroizing::new(scalar);
    p256::SecretKey::from_slice(&scalar[..]).ok()?;
    Some(scalar)
}

/// The key kept in `path`, or a new one written there (mode 0600).
fn load_or_create(path: &Path) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
    const VAR: &str = "VAPID_PRIVATE_KEY";
    if let Some(text) = super::private_file::read(path, VAR)? {
        return scalar(&text).ok_or_else(|| {
            ConfigError::new(
                VAR,
                format!(
                    "{} does not hold a base64url P-256 private key; restore it, or delete it \
                     to generate a new one (browsers then subscribe again)",
                    path.display()
                ),
            )
        });
    }
    let secret = crate::webpush::ece::random_secret();
    let scalar = Zeroizing::new(<[u8; 32]>::from(secret.to_bytes()));
    let text = Zeroizing::new(format!("{}\n", URL_SAFE_NO_PAD.encode(&scalar[..])));
    super::private_file::create(path, &text, VAR)?;
    Ok(scalar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(vars: &[(&str, &str)], dir: &Path) -> Result<PushConfig, ConfigError> {
        let env = |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        };
        load(&env, dir, Some("https://chat.example.com"))
    }

    #[test]
    fn a_generated_key_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = load_with(&[], dir.path()).unwrap();
        assert_eq!(
            config.vapid_key,
            VapidKeySource::File(dir.path().join(VAPID_KEY_FILE))
        );
        assert!(
            !dir.path().join(VAPID_KEY_FILE).exists(),
            "created before start"
        );
        let first = config.vapid_key.private_key().unwrap();
        let second = load_with(&[], dir.path())
            .unwrap()
            .vapid_key
            .private_key()
            .unwrap();
        assert_eq!(first[..], second[..]);
        assert_eq!(config.subject, "mailto:admin@chat.example.com");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(VAPID_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The file's content is what VAPID_PRIVATE_KEY takes.
        let text = std::fs::read_to_string(dir.path().join(VAPID_KEY_FILE)).unwrap();
        let other = tempfile::tempdir().unwrap();
        let from_env = load_with(&[("VAPID_PRIVATE_KEY", text.trim())], other.path()).unwrap();
        assert!(matches!(from_env.vapid_key, VapidKeySource::Env(_)));
        assert!(!format!("{from_env:?}").contains(text.trim()));
        assert_eq!(from_env.vapid_key.private_key().unwrap()[..], first[..]);
        assert!(!other.path().join(VAPID_KEY_FILE).exists());
    }

    #[test]
    fn bad_values_name_their_variable() {
        let dir = tempfile::tempdir().unwrap();
        for (vars, var) in [
            (
                vec![("VAPID_PRIVATE_KEY", "not base64!")],
                "VAPID_PRIVATE_KEY",
            ),
            (vec![("VAPID_PRIVATE_KEY", "AAAA")], "VAPID_PRIVATE_KEY"),
            (
                vec![(
                    "VAPID_PRIVATE_KEY",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                )],
                "VAPID_PRIVATE_KEY",
            ),
            (
                vec![("VAPID_SUBJECT", "admin@example.com")],
                "VAPID_SUBJECT",
            ),
            (vec![("VAPID_SUBJECT", "mailto:a b@c")], "VAPID_SUBJECT"),
            (
                vec![("PUSH_ALLOW_HOSTS", "push.internal")],
                "PUSH_ALLOW_HOSTS",
            ),
            (vec![("PUSH_ALLOW_HOSTS", "a:1,b/x:2")], "PUSH_ALLOW_HOSTS"),
            (vec![("PUSH_ALLOW_HOSTS", ":80")], "PUSH_ALLOW_HOSTS"),
            (vec![("PUSH_ALLOW_HOSTS", "::1:80")], "PUSH_ALLOW_HOSTS"),
        ] {
            let Err(err) = load_with(&vars, dir.path()) else {
                panic!("{vars:?} was accepted");
            };
            assert_eq!(err.var, var, "{vars:?}");
        }
        std::fs::write(dir.path().join(VAPID_KEY_FILE), "garbage").unwrap();
        let source = load_with(&[], dir.path()).unwrap().vapid_key;
        let Err(err) = source.private_key() else {
            panic!("a corrupt key file was accepted");
        };
        assert_eq!(err.var, "VAPID_PRIVATE_KEY");
    }

    #[test]
    fn allowed_hosts_are_normalized_host_port_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let config = load_with(
            &[
                (
                    "PUSH_ALLOW_HOSTS",
                    " Push.Internal:8080 , 127.0.0.1:9000,[::1]:80,",
                ),
                ("VAPID_SUBJECT", "https://chat.example.com/contact"),
            ],
            dir.path(),
        )
        .unwrap();
        let hosts = &config.allow_hosts;
        assert!(hosts.contains("push.internal", 8080));
        assert!(hosts.contains("127.0.0.1", 9000));
        assert!(hosts.contains("[::1]", 80));
        assert!(!hosts.contains("127.0.0.1", 9001));
        assert!(!hosts.contains("push.internal", 443));
        assert_eq!(config.subject, "https://chat.example.com/contact");
        let none = load(&|_| None, dir.path(), None).unwrap();
        assert!(!none.allow_hosts.contains("127.0.0.1", 9000));
        assert_eq!(none.subject, "mailto:admin@localhost");
    }
}
