//! Settings from command-line flags and environment variables.
//!
//! Flags win over the environment. Every value is validated here, before
//! anything starts, and a bad one becomes a [`ConfigError`] that names the
//! variable: the operator sees one line saying what to fix.
//!
//! Environment lookups go through a closure so tests can feed a map instead
//! of mutating the process environment.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

pub mod allow_hosts;
pub mod email;
pub mod error;
mod limits;
pub mod observability;
mod private_file;
pub mod push;
pub mod retention;

pub use error::ConfigError;
pub use limits::{
    ConnectionLimits, DEFAULT_HEADER_TIMEOUT_SECS, DEFAULT_REGISTER_LIMIT,
    DEFAULT_SOCKETS_PER_USER, SendRate,
};
use limits::{parse_limit, parse_send_rate};

/// Shortest `SECRET_KEY` accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// `APP_ENV` (or its alias `FLASK_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

impl AppEnv {
    fn parse(var: &'static str, value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => Err(ConfigError::new(
                var,
                format!("{other:?} is not an environment; use development or production"),
            )),
        }
    }
}

/// Values given on the command line; each overrides its environment variable.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Directory for the SQLite database, the generated secret key and files [env: DATA_DIR]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (default: SQLite in the data directory) [env: DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Network flags of `securechat serve`.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ListenOverrides {
    /// Address to listen on [env: HOST, default 127.0.0.1]
    #[arg(long)]
    pub host: Option<String>,
    /// Port to listen on; 0 picks a free one [env: PORT, default 5000]
    #[arg(long)]
    pub port: Option<String>,
}

/// Where the data lives: what every command needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub app_env: AppEnv,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `DEFAULT_ROOMS`: the names of the public rooms every new account
    /// joins (registration and `securechat user add`), comma-separated.
    pub default_rooms: Vec<String>,
}

/// Everything `securechat serve` needs.
pub struct ServeConfig {
    pub settings: Settings,
    pub host: IpAddr,
    pub port: u16,
    pub tls: Option<TlsPaths>,
    pub secret: SecretKey,
    /// The externally visible origin (`PUBLIC_URL`), when the server sits
    /// behind a proxy that changes the scheme or host.
    pub public_origin: Option<String>,
    /// Whether `X-Forwarded-For` from the proxy in front is believed.
    pub trust_proxy: bool,
    /// Where uploads go and how large they may be.
    pub files: crate::files::config::FilesConfig,
    /// `REDIS_URL`: this node is one of several sharing the database; socket
    /// pushes, presence and rate limits go through Redis. `None`: standalone.
    pub redis_url: Option<String>,
    /// `REDIS_PREFIX`: namespaces this cluster's keys and channels, so
    /// several deployments (or test clusters) can share one Redis.
    pub redis_prefix: String,
    /// `SEND_RATE_LIMIT`: how fast one user may send messages.
    pub send_rate: SendRate,
    /// `REGISTER_LIMIT`: accounts one client address may register per
    /// quarter hour (`off`: no limit).
    pub register_limit: Option<u32>,
    /// `REGISTRATION_MODE`: who may register (`open`, `invite-only`,
    /// `closed`) unless the Admin page has set otherwise.
    pub registration_mode: crate::admin::mode::RegistrationMode,
    /// `SOCKETS_PER_USER`: Socket.IO connections one account may hold open
    /// on one node (`off`: no limit).
    pub sockets_per_user: Option<usize>,
    /// `HEADER_TIMEOUT_SECS` and `MAX_CONNECTIONS`.
    pub connections: ConnectionLimits,
    /// `DEVICE_SHARE_RETENTION_DAYS`: how long an unfetched key share stays
    /// in a device's mailbox.
    pub device_share_retention_days: u32,
    /// `RETENTION_PURGE_SECS`: the pause between passes of the job that
    /// deletes messages past their room's retention or disappearing time.
    pub retention_purge_secs: u64,
    /// `VAPID_PRIVATE_KEY`, `VAPID_SUBJECT`, `PUSH_ALLOW_HOSTS`.
    pub push: push::PushConfig,
    /// `WEBHOOK_ALLOW_HOSTS`: outgoing webhooks' exceptions to the SSRF
    /// guard, as `PUSH_ALLOW_HOSTS` is Web Push's.
    pub webhook_allow_hosts: allow_hosts::AllowHosts,
    /// `SMTP_URL`, `SMTP_FROM`, `EMAIL_DIGEST_DELAY_SECS`, `EMAIL_DRAIN_SECS`
    /// (`None`: no email).
    pub email: Option<email::EmailConfig>,
    /// `TWO_FACTOR_REQUIRED`: who must sign in with a second factor.
    pub two_factor: crate::twofactor::policy::Policy,
    /// `OIDC_*`: single sign-on (`None`: no `OIDC_ISSUER`, off).
    pub oidc: Option<crate::oidc::config::OidcConfig>,
    /// `METRICS_TOKEN`: the bearer token of `GET /metrics` (`None`: off).
    pub metrics_token: Option<observability::MetricsToken>,
}

impl ServeConfig {
    /// Whether browsers reach the server over HTTPS, directly or via a proxy.
    pub fn https(&self) -> bool {
        self.tls.is_some()
            || self
                .public_origin
                .as_deref()
                .is_some_and(|o| o.starts_with("https://"))
    }
}

/// PEM certificate chain and private key for the built-in HTTPS listener.
#[derive(Debug, Clone)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The server secret. Session tokens and throttling keys are hashed with
/// keys derived from it, so a copy of the database alone cannot be used to
/// check guessed tokens. Never printed.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<Vec<u8>>);

impl SecretKey {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A key made of `bytes`, for unit tests.
    #[cfg(test)]
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Reads the environment through `env`, applying `flags` on top.
pub fn load_settings(
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Overrides,
) -> Result<Settings, ConfigError> {
    let app_env = match (env("APP_ENV"), env("FLASK_ENV")) {
        (Some(v), _) => AppEnv::parse("APP_ENV", &v)?,
        (None, Some(v)) => AppEnv::parse("FLASK_ENV", &v)?,
        (None, None) => AppEnv::Development,
    };
    let data_dir = match &flags.data_dir {
        Some(dir) => dir.clone(),
        None => env("DATA_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("./data")),
    };
    let database_url = match flags.database_url.clone().or_else(|| env("DATABASE_URL")) {
        Some(url) if url.starts_with("sqlite:") || url.starts_with("postgres") => url,
        Some(url) if url.is_empty() => default_sqlite_url(&data_dir),
        Some(_) => {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must start with sqlite: or postgres:// (the password, if any, is not shown)",
            ));
        }
        None => default_sqlite_url(&data_dir),
    };
    Ok(Settings {
        app_env,
        data_dir,
        database_url,
        default_rooms: default_rooms(env("DEFAULT_ROOMS").as_deref()),
    })
}

/// `DEFAULT_ROOMS`: comma-separated room names, each trimmed; empty names
/// are dropped, so an unset or blank variable means none.
fn default_rooms(value: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = value
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    names.dedup();
    names
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("securechat.db").display())
}

/// Reads everything `serve` needs. In development a missing `SECRET_KEY` is
/// generated once and kept in the data directory (mode 0600).
pub fn load_serve(
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Overrides,
    listen: &ListenOverrides,
) -> Result<ServeConfig, ConfigError> {
    let settings = load_settings(env, flags)?;
    let host_value = listen
        .host
        .clone()
        .or_else(|| env("HOST"))
        .unwrap_or_else(|| "127.0.0.1".into());
    let host = host_value.trim().parse::<IpAddr>().map_err(|_| {
        ConfigError::new(
            "HOST",
            format!("{host_value:?} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)"),
        )
    })?;
    let port_value = listen
        .port
        .clone()
        .or_else(|| env("PORT"))
        .unwrap_or_else(|| "5000".into());
    let port = port_value.trim().parse::<u16>().map_err(|_| {
        ConfigError::new(
            "PORT",
            format!("{port_value:?} is not a port number (0-65535)"),
        )
    })?;
    let tls = match (
        non_empty(env("SSL_CERT_PATH")),
        non_empty(env("SSL_KEY_PATH")),
    ) {
        (Some(cert), Some(key)) => {
            let tls = TlsPaths {
                cert: PathBuf::from(cert),
                key: PathBuf::from(key),
            };
            for (var, path) in [("SSL_CERT_PATH", &tls.cert), ("SSL_KEY_PATH", &tls.key)] {
                if !path.is_file() {
                    return Err(ConfigError::new(
                        var,
                        format!("{} is not a readable file", path.display()),
                    ));
                }
            }
            Some(tls)
        }
        (Some(_), None) => {
            return Err(ConfigError::new(
                "SSL_KEY_PATH",
                "must be set together with SSL_CERT_PATH",
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "SSL_CERT_PATH",
                "must be set together with SSL_KEY_PATH",
            ));
        }
        (None, None) => None,
    };
    let public_origin = non_empty(env("PUBLIC_URL"))
        .map(|url| parse_origin(&url))
        .transpose()?;
    let trust_proxy = match non_empty(env("TRUST_PROXY")) {
        None => false,
        Some(v) => parse_bool(&v).ok_or_else(|| {
            ConfigError::new("TRUST_PROXY", format!("{v:?} is not true or false"))
        })?,
    };
    let redis_url = non_empty(env("REDIS_URL"))
        .map(|url| {
            if url.starts_with("redis://") || url.starts_with("rediss://") {
                Ok(url)
            } else {
                Err(ConfigError::new(
                    "REDIS_URL",
                    "must start with redis:// or rediss:// (e.g. redis://127.0.0.1:6379)",
                ))
            }
        })
        .transpose()?;
    let redis_prefix = non_empty(env("REDIS_PREFIX")).unwrap_or_else(|| "securechat".into());
    if !redis_prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(ConfigError::new(
            "REDIS_PREFIX",
            "may contain only letters, digits, '_', '-' and '.'",
        ));
    }
    let send_rate = non_empty(env("SEND_RATE_LIMIT"))
        .map(|v| parse_send_rate(&v))
        .transpose()?
        .unwrap_or_default();
    let register_limit = non_empty(env("REGISTER_LIMIT"))
        .map(|v| parse_limit("REGISTER_LIMIT", &v))
        .transpose()?
        .unwrap_or(Some(DEFAULT_REGISTER_LIMIT));
    let registration_mode = match non_empty(env("REGISTRATION_MODE")) {
        None => crate::admin::mode::RegistrationMode::Open,
        Some(v) => crate::admin::mode::RegistrationMode::parse(&v).ok_or_else(|| {
            ConfigError::new("REGISTRATION_MODE", "must be open, invite-only or closed")
        })?,
    };
    let sockets_per_user = non_empty(env("SOCKETS_PER_USER"))
        .map(|v| parse_limit("SOCKETS_PER_USER", &v))
        .transpose()?
        .unwrap_or(Some(DEFAULT_SOCKETS_PER_USER as u32))
        .map(|n| n as usize);
    let header_timeout = match non_empty(env("HEADER_TIMEOUT_SECS")) {
        None => DEFAULT_HEADER_TIMEOUT_SECS,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=600).contains(&n) => n,
            _ => {
                return Err(ConfigError::new(
                    "HEADER_TIMEOUT_SECS",
                    format!("must be a number of seconds from 1 to 600, not {v:?}"),
                ));
            }
        },
    };
    let max_connections = non_empty(env("MAX_CONNECTIONS"))
        .map(|v| parse_limit("MAX_CONNECTIONS", &v))
        .transpose()?
        .flatten()
        .map(|n| n as usize);
    let connections = ConnectionLimits {
        header_timeout: std::time::Duration::from_secs(header_timeout),
        max: max_connections,
    };
    let device_share_retention_days =
        retention::device_share_days(non_empty(env("DEVICE_SHARE_RETENTION_DAYS")).as_deref())?;
    let retention_purge_secs =
        retention::purge_secs(non_empty(env("RETENTION_PURGE_SECS")).as_deref())?;
    let secret = load_secret(env, &settings)?;
    let files = crate::files::config::load(env, &settings.data_dir)?;
    let push = push::load(env, &settings.data_dir, public_origin.as_deref())?;
    let email = email::load(env, public_origin.as_deref())?;
    let two_factor =
        crate::twofactor::policy::Policy::parse(non_empty(env("TWO_FACTOR_REQUIRED")).as_deref())?;
    let metrics_token = observability::metrics_token(env("METRICS_TOKEN"))?;
    let oidc = crate::oidc::config::load(env, public_origin.as_deref())?;
    let webhook_allow_hosts = allow_hosts::AllowHosts::load(env, "WEBHOOK_ALLOW_HOSTS")?;
    Ok(ServeConfig {
        oidc,
        two_factor,
        metrics_token,
        push,
        webhook_allow_hosts,
        email,
        connections,
        device_share_retention_days,
        retention_purge_secs,
        send_rate,
        register_limit,
        registration_mode,
        sockets_per_user,
        settings,
        host,
        port,
        tls,
        secret,
        public_origin,
        trust_proxy,
        files,
        redis_url,
        redis_prefix,
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `https://chat.example.com/` → `https://chat.example.com`.
fn parse_origin(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(trimmed.to_ascii_lowercase()),
        _ => Err(ConfigError::new(
            "PUBLIC_URL",
            format!("{url:?} must look like https://chat.example.com (scheme and host only)"),
        )),
    }
}

fn load_secret(
    env: &dyn Fn(&str) -> Option<String>,
    settings: &Settings,
) -> Result<SecretKey, ConfigError> {
    if let Some(value) = env("SECRET_KEY").filter(|v| !v.is_empty()) {
        if value.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                "SECRET_KEY",
                format!(
                    "is {} bytes long; use at least {MIN_SECRET_LEN} random characters \
                     (e.g. `openssl rand -hex 32`)",
                    value.len()
                ),
            ));
        }
        return Ok(SecretKey(Zeroizing::new(value.into_bytes())));
    }
    if settings.app_env == AppEnv::Production {
        return Err(ConfigError::new(
            "SECRET_KEY",
            "is required when APP_ENV=production; set it to at least 32 random characters \
             (e.g. `openssl rand -hex 32`)",
        ));
    }
    load_or_create_secret_file(&settings.data_dir.join("secret_key"))
}

/// Development convenience: a random key generated on first start and kept
/// next to the database, readable only by its owner.
fn load_or_create_secret_file(path: &Path) -> Result<SecretKey, ConfigError> {
    match private_file::read(path, "SECRET_KEY")? {
        Some(text) if text.trim().len() >= MIN_SECRET_LEN => {
            return Ok(SecretKey(Zeroizing::new(text.trim().as_bytes().to_vec())));
        }
        Some(_) => {
            return Err(ConfigError::new(
                "SECRET_KEY",
                format!(
                    "{} is too short; delete it to generate a new one",
                    path.display()
                ),
            ));
        }
        None => {}
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::fill(&mut bytes[..]);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hex = Zeroizing::new(hex);
    private_file::create(path, &hex, "SECRET_KEY")?;
    Ok(SecretKey(Zeroizing::new(hex.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn serve(pairs: &[(&str, &str)]) -> Result<ServeConfig, ConfigError> {
        load_serve(
            &env_of(pairs),
            &Overrides::default(),
            &ListenOverrides::default(),
        )
    }

    #[test]
    fn production_requires_secret_key() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let err = serve(&[("APP_ENV", "production"), ("DATA_DIR", d)])
            .err()
            .unwrap();
        assert_eq!(err.var, "SECRET_KEY");
        let err = serve(&[("FLASK_ENV", "production"), ("DATA_DIR", d)])
            .err()
            .unwrap();
        assert_eq!(err.var, "SECRET_KEY");
    }

    #[test]
    fn short_secret_key_refused() {
        let err = serve(&[("SECRET_KEY", "short")]).err().unwrap();
        assert_eq!(err.var, "SECRET_KEY");
        assert!(err.to_string().contains("at least 32"));
    }

    #[test]
    fn development_secret_is_generated_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let first = serve(&[("DATA_DIR", d)]).unwrap().secret;
        let second = serve(&[("DATA_DIR", d)]).unwrap().secret;
        assert_eq!(first.as_bytes(), second.as_bytes());
        assert_eq!(first.as_bytes().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret_key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let key = ("SECRET_KEY", "0123456789abcdef0123456789abcdef");
        for (pairs, var) in [
            (vec![key, ("PORT", "eighty")], "PORT"),
            (vec![key, ("PORT", "70000")], "PORT"),
            (vec![key, ("HOST", "not an ip")], "HOST"),
            (vec![key, ("APP_ENV", "staging")], "APP_ENV"),
            (vec![key, ("FLASK_ENV", "staging")], "FLASK_ENV"),
            (vec![key, ("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (vec![key, ("SSL_CERT_PATH", "/nonexistent")], "SSL_KEY_PATH"),
            (vec![key, ("PUBLIC_URL", "chat.example.com")], "PUBLIC_URL"),
            (vec![key, ("TRUST_PROXY", "maybe")], "TRUST_PROXY"),
            (vec![key, ("REDIS_URL", "127.0.0.1:6379")], "REDIS_URL"),
            (vec![key, ("REDIS_PREFIX", "a b")], "REDIS_PREFIX"),
        ] {
            let err = serve(&pairs).err().unwrap();
            assert_eq!(err.var, var, "{pairs:?}");
        }
    }

    #[test]
    fn defaults_and_flag_precedence() {
        let key = ("SECRET_KEY", "0123456789abcdef0123456789abcdef");
        let cfg = serve(&[key]).unwrap();
        assert_eq!(cfg.port, 5000);
        assert_eq!(cfg.host.to_string(), "127.0.0.1");
        assert_eq!(cfg.settings.app_env, AppEnv::Development);
        assert!(cfg.settings.database_url.starts_with("sqlite://"));
        let listen = ListenOverrides {
            host: Some("0.0.0.0".into()),
            port: Some("6000".into()),
        };
        let cfg = load_serve(
            &env_of(&[key, ("PORT", "7000")]),
            &Overrides::default(),
            &listen,
        )
        .unwrap();
        assert_eq!(cfg.port, 6000);
        assert_eq!(cfg.host.to_string(), "0.0.0.0");
    }

    #[test]
    fn public_url_sets_origin_and_https() {
        let key = ("SECRET_KEY", "0123456789abcdef0123456789abcdef");
        let cfg = serve(&[key, ("PUBLIC_URL", "https://Chat.Example.com/")]).unwrap();
        assert_eq!(
            cfg.public_origin.as_deref(),
            Some("https://chat.example.com")
        );
        assert!(cfg.https());
    }

    #[test]
    fn default_rooms_are_trimmed_names() {
        assert!(default_rooms(None).is_empty());
        assert!(default_rooms(Some(" , ")).is_empty());
        assert_eq!(
            default_rooms(Some(" Lobby, Team news ,,")),
            ["Lobby", "Team news"]
        );
    }

    #[test]
    fn register_limit() {
        let key = ("SECRET_KEY", "0123456789abcdef0123456789abcdef");
        assert_eq!(
            serve(&[key]).unwrap().register_limit,
            Some(DEFAULT_REGISTER_LIMIT)
        );
        let cfg = serve(&[key, ("REGISTER_LIMIT", " 3 ")]).unwrap();
        assert_eq!(cfg.register_limit, Some(3));
        assert_eq!(
            serve(&[key, ("REGISTER_LIMIT", "off")])
                .unwrap()
                .register_limit,
            None
        );
        for bad in ["0", "-1", "lots"] {
            let Err(err) = serve(&[key, ("REGISTER_LIMIT", bad)]) else {
                panic!("REGISTER_LIMIT={bad} was accepted");
            };
            assert_eq!(err.var, "REGISTER_LIMIT", "{bad}");
        }
        assert_eq!(
            serve(&[key]).unwrap().sockets_per_user,
            Some(DEFAULT_SOCKETS_PER_USER)
        );
        assert_eq!(
            serve(&[key, ("SOCKETS_PER_USER", "OFF")])
                .unwrap()
                .sockets_per_user,
            None
        );
        let Err(err) = serve(&[key, ("SOCKETS_PER_USER", "0")]) else {
            panic!("SOCKETS_PER_USER=0 was accepted");
        };
        assert_eq!(err.var, "SOCKETS_PER_USER");
    }

    #[test]
    fn connection_limits() {
        let key = ("SECRET_KEY", "0123456789abcdef0123456789abcdef");
        let default = serve(&[key]).unwrap().connections;
        assert_eq!(
            default.header_timeout.as_secs(),
            DEFAULT_HEADER_TIMEOUT_SECS
        );
        assert_eq!(default.max, None);
        let set = serve(&[
            key,
            ("HEADER_TIMEOUT_SECS", "3"),
            ("MAX_CONNECTIONS", "500"),
        ])
        .unwrap()
        .connections;
        assert_eq!(set.header_timeout.as_secs(), 3);
        assert_eq!(set.max, Some(500));
        for bad in ["0", "601", "soon"] {
            let Err(err) = serve(&[key, ("HEADER_TIMEOUT_SECS", bad)]) else {
                panic!("HEADER_TIMEOUT_SECS={bad} was accepted");
            };
            assert_eq!(err.var, "HEADER_TIMEOUT_SECS");
        }
    }

    #[test]
    fn send_rate_limit() {
        let key = ("SECRET_KEY", "0123456789abcdef0123456789abcdef");
        assert_eq!(serve(&[key]).unwrap().send_rate, SendRate::default());
        let cfg = serve(&[key, ("SEND_RATE_LIMIT", " 50/100 ")]).unwrap();
        assert_eq!(
            cfg.send_rate,
            SendRate::Limited {
                per_second: 50,
                burst: 100
            }
        );
        let cfg = serve(&[key, ("SEND_RATE_LIMIT", "OFF")]).unwrap();
        assert_eq!(cfg.send_rate, SendRate::Off);
        for bad in ["10", "0/5", "5/0", "a/b", "10/30/1", "2000000/1"] {
            let err = serve(&[key, ("SEND_RATE_LIMIT", bad)]).err().unwrap();
            assert_eq!(err.var, "SEND_RATE_LIMIT", "{bad}");
        }
    }
}
