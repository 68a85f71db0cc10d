//! Bounds on connections: the open-file limit, the connection cap derived
//! from it, and the HTTP timeouts that close idle and trickling sockets.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;

use crate::config::ConnectionLimits;

/// Descriptors kept for everything but client connections: the database
/// pool, SQLite's files, blobs being read or written, Redis, logs.
const RESERVED_FILES_MIN: u64 = 64;

/// How often an HTTP/2 connection is pinged, and how long the answer may
/// take before the connection is closed.
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Raises the soft open-file limit to the hard one where the system allows
/// it, and returns how many connections fit below it with room to spare
/// (a quarter, and at least [`RESERVED_FILES_MIN`]); `configured`
/// (`MAX_CONNECTIONS`) may only lower that.
pub fn connection_cap(configured: Option<usize>) -> usize {
    let files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => files,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            match rlimit::getrlimit(rlimit::Resource::NOFILE) {
                Ok((soft, _)) => soft,
                Err(_) => 1024,
            }
        }
    };
    let safe = cap_below(files);
    match configured {
        Some(n) if n > safe => {
            tracing::warn!(
                configured = n,
                open_files = files,
                cap = safe,
                "MAX_CONNECTIONS is above what the open-file limit allows; using the lower cap"
            );
            safe
        }
        Some(n) => n,
        None => safe,
    }
}

/// Connections that fit below `files` open descriptors, leaving headroom.
fn cap_below(files: u64) -> usize {
    let reserved = (files / 4).max(RESERVED_FILES_MIN);
    usize::try_from(files.saturating_sub(reserved))
        .unwrap_or(usize::MAX)
        .max(1)
}

/// The header-read timeout (which also closes an HTTP/1 connection idle
/// between requests: hyper starts it whenever it waits for a request head)
/// and HTTP/2 keep-alive pings.
pub fn configure(builder: &mut Builder<TokioExecutor>, limits: &ConnectionLimits) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
}

#[cfg(test)]
mod tests {
    use super::cap_below;

    #[test]
    fn the_cap_leaves_room_for_the_servers_own_files() {
        assert_eq!(cap_below(256), 192);
        assert_eq!(cap_below(100), 36);
        assert_eq!(cap_below(1024), 768);
        assert_eq!(cap_below(10), 1);
    }
}
