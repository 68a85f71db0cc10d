//! How long the server keeps what it holds only for a while.

use super::error::ConfigError;

/// `DEVICE_SHARE_RETENTION_DAYS` when unset: a device away for longer asks
/// for its keys again when it is back.
pub const DEFAULT_DEVICE_SHARE_DAYS: u32 = 30;

/// `DEVICE_SHARE_RETENTION_DAYS`: how long a key share waits in a device's
/// mailbox for the device to fetch it, 1 to 365 days.
pub fn device_share_days(value: Option<&str>) -> Result<u32, ConfigError> {
    ranged(
        value,
        "DEVICE_SHARE_RETENTION_DAYS",
        DEFAULT_DEVICE_SHARE_DAYS,
        365,
        "days",
    )
}

/// `RETENTION_PURGE_SECS` when unset: how long after a message passes its
/// room's retention or its disappearing time the purge job may take to
/// delete it (readers stop seeing a disappeared message at once anyway).
pub const DEFAULT_PURGE_SECS: u64 = 60;

/// `RETENTION_PURGE_SECS`: the pause between two passes of the retention
/// purge job, 1 to 3600 seconds.
pub fn purge_secs(value: Option<&str>) -> Result<u64, ConfigError> {
    ranged(
        value,
        "RETENTION_PURGE_SECS",
        DEFAULT_PURGE_SECS,
        3600,
        "seconds",
    )
}

/// `value` of `var` as a whole number of `unit` from 1 to `max`, or
/// `default` when unset.
fn ranged<T>(
    value: Option<&str>,
    var: &'static str,
    default: T,
    max: T,
    unit: &str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + From<u8> + std::fmt::Display,
{
    let Some(value) = value.map(str::trim) else {
        return Ok(default);
    };
    value
        .parse::<T>()
        .ok()
        .filter(|n| *n >= T::from(1) && *n <= max)
        .ok_or_else(|| {
            ConfigError::new(
                var,
                format!("must be a number of {unit} from 1 to {max}, not {value:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_pause_is_one_second_to_an_hour() {
        assert_eq!(purge_secs(None).unwrap(), DEFAULT_PURGE_SECS);
        assert_eq!(purge_secs(Some("1")).unwrap(), 1);
        assert_eq!(purge_secs(Some("3600")).unwrap(), 3600);
        for bad in ["0", "3601", "-1", "1m"] {
            assert_eq!(
                purge_secs(Some(bad)).unwrap_err().var,
                "RETENTION_PURGE_SECS"
            );
        }
    }

    #[test]
    fn device_share_retention_is_one_to_365_days() {
        assert_eq!(device_share_days(None).unwrap(), DEFAULT_DEVICE_SHARE_DAYS);
        assert_eq!(device_share_days(Some(" 7 ")).unwrap(), 7);
        assert_eq!(device_share_days(Some("365")).unwrap(), 365);
        for bad in ["0", "366", "-1", "30d", "off"] {
            let err = device_share_days(Some(bad)).unwrap_err();
            assert_eq!(err.var, "DEVICE_SHARE_RETENTION_DAYS", "{bad}");
        }
    }
}
