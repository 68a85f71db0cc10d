//! Times are stored as UTC milliseconds since the Unix epoch (`BIGINT`): one
//! representation that sorts and compares the same on SQLite and PostgreSQL.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in UTC milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats UTC milliseconds as RFC 3339 (`2026-11-27T02:21:59.123Z`) for the API.
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    ::time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&::time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_746_119_123), "2026-11-27T02:21:59.123Z");
    }
}
