//! The server's limits from the environment: connections, the per-user
//! message rate and the per-address registration rate.

use super::error::ConfigError;

/// How many TCP connections the server holds, and for how long an idle one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `HEADER_TIMEOUT_SECS`: how long a request head may take to arrive,
    /// which is also how long an HTTP/1 connection may sit idle between
    /// requests.
    pub header_timeout: std::time::Duration,
    /// `MAX_CONNECTIONS`: a lower cap than the one the open-file limit
    /// allows (`None`: that one).
    pub max: Option<usize>,
}

/// `HEADER_TIMEOUT_SECS` when unset.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 20;

/// Connections one account may hold open on a node, by default: many tabs
/// and devices, far from what would crowd everyone else out.
pub const DEFAULT_SOCKETS_PER_USER: usize = 50;

/// A positive number, or `off`, for the limit named `var`.
pub(super) fn parse_limit(var: &'static str, value: &str) -> Result<Option<u32>, ConfigError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match value.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(ConfigError::new(
            var,
            format!("{value:?} is neither a positive number nor off"),
        )),
    }
}

/// Registrations per client address per quarter hour, by default: a team
/// signing up together fits, a script creating accounts does not.
pub const DEFAULT_REGISTER_LIMIT: u32 = 10;

/// The per-user message rate: a token bucket, or none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRate {
    /// `per_second` messages a second after a burst of `burst`.
    Limited { per_second: u32, burst: u32 },
    /// No limit (load tests, trusted bots on a private network).
    Off,
}

impl Default for SendRate {
    /// Generous for a person, tight for a script flooding a channel.
    fn default() -> Self {
        Self::Limited {
            per_second: 10,
            burst: 30,
        }
    }
}

/// `10/30` (per second / burst) or `off`.
pub(super) fn parse_send_rate(value: &str) -> Result<SendRate, ConfigError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(SendRate::Off);
    }
    let invalid = || {
        ConfigError::new(
            "SEND_RATE_LIMIT",
            format!("{value:?} must be PER_SECOND/BURST with both 1-1000000 (e.g. 10/30), or off"),
        )
    };
    let (rate, burst) = value.split_once('/').ok_or_else(invalid)?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(invalid)
    };
    Ok(SendRate::Limited {
        per_second: parse(rate)?,
        burst: parse(burst)?,
    })
}
