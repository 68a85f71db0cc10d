//! CPU time and memory of a process, read from `/proc` (Linux).

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Kernel clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`), 100 on
/// every Linux architecture this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    at: Instant,
    /// User + system CPU seconds since the process started.
    cpu_s: f64,
    /// Resident memory now, in KiB.
    pub rss_kib: u64,
}

/// What a process used over a stretch of time.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Usage {
    /// CPU seconds used.
    pub cpu_s: f64,
    /// Average cores busy (CPU seconds / wall seconds).
    pub cores: f64,
    /// Resident memory at the end, in MiB.
    pub rss_mib: f64,
}

/// Reads process `pid` and its descendants (a gunicorn master and its
/// worker count as one server); `None`: this process alone.
pub fn sample(pid: Option<u32>) -> Option<Sample> {
    let (mut cpu_s, mut rss_kib) = match pid {
        Some(pid) => one(&format!("/proc/{pid}"))?,
        None => one("/proc/self")?,
    };
    if let Some(pid) = pid {
        for child in descendants(pid) {
            if let Some((cpu, rss)) = one(&format!("/proc/{child}")) {
                cpu_s += cpu;
                rss_kib += rss;
            }
        }
    }
    Some(Sample {
        at: Instant::now(),
        cpu_s,
        rss_kib,
    })
}

/// (CPU seconds, RSS KiB) of the process at `base`.
fn one(base: &str) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("{base}/stat")).ok()?;
    let fields = stat_fields(&stat)?;
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after ")".
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("{base}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(((utime + stime) / TICKS_PER_SECOND, rss_kib))
}

/// The fields after the command name, which is in parentheses and may hold spaces.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace().collect())
}

/// Every process whose parent chain leads to `root`.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // ppid is field 4: the second after ")".
            if let Some(ppid) =
                stat_fields(&stat).and_then(|f| f.get(1).and_then(|p| p.parse::<u32>().ok()))
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

impl Sample {
    /// Usage from `self` until `later`.
    pub fn until(&self, later: &Sample) -> Usage {
        let wall = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let cpu_s = (later.cpu_s - self.cpu_s).max(0.0);
        Usage {
            cpu_s,
            cores: cpu_s / wall,
            rss_mib: later.rss_kib as f64 / 1024.0,
        }
    }
}

/// Samples the server and this process at the start of a measurement.
pub struct Meter {
    server_pid: Option<u32>,
    server: Option<Sample>,
    generator: Option<Sample>,
}

impl Meter {
    pub fn start(server_pid: Option<u32>) -> Self {
        Self {
            server_pid,
            server: server_pid.and_then(|p| sample(Some(p))),
            generator: sample(None),
        }
    }

    /// (server, generator) usage since [`Meter::start`].
    pub fn stop(&self) -> (Usage, Usage) {
        let usage = |first: Option<Sample>, pid: Option<u32>, is_self: bool| {
            let now = if is_self {
                sample(None)
            } else {
                pid.and_then(|p| sample(Some(p)))
            };
            match (first, now) {
                (Some(a), Some(b)) => a.until(&b),
                _ => Usage::default(),
            }
        };
        (
            usage(self.server, self.server_pid, false),
            usage(self.generator, None, true),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn reads_this_process() {
        let s = sample(None).unwrap();
        assert!(s.rss_kib > 0);
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        let later = sample(None).unwrap();
        assert!(s.until(&later).cpu_s >= 0.0);
    }
}
