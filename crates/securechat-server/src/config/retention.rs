//! How long the server keeps what it holds only for a while.

use super::error::ConfigError;

/// `DEVICE_SHARE_RETENTION_DAYS` when unset: a device away for longer asks
/// for its keys again when it is back.
pub const DEFAULT_DEVICE_SHARE_DAYS: u32 = 30;

/// `DEVICE_SHARE_RETENTION_DAYS`: how long a key share waits in a device's
/// mailbox for the device to fetch it, 1 to 365 days.
pub fn device_share_days(value: Option<&str>) -> Result<u32, ConfigError> {
    let Some(value) = value.map(str::trim) else {
        return Ok(DEFAULT_DEVICE_SHARE_DAYS);
    };
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=365).contains(n))
        .ok_or_else(|| {
            ConfigError::new(
                "DEVICE_SHARE_RETENTION_DAYS",
                format!("must be a number of days from 1 to 365, not {value:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
