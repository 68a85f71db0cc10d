//! Prometheus metrics of this node, scraped at `GET /metrics` with the
//! `METRICS_TOKEN` bearer token ([`http`]).
//!
//! The registry is process-wide: the message writer counts on a thread of
//! its own and the socket layer in its handlers, and neither should carry
//! a handle to it. Labels take a few fixed values only (a status class, a
//! queue's name): nothing that grows with users, rooms or paths, and
//! nothing secret.
//!
//! Counters only ever go up; rates (messages per second, errors per
//! second) are Prometheus's to compute with `rate()`. Queue depths are
//! read when scraped.

use std::sync::LazyLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

pub mod http;

/// Every metric this node exports.
pub struct Metrics {
    registry: Registry,
    /// Socket.IO connections open on this node.
    pub sockets: IntGauge,
    /// Messages committed by this node's writer.
    pub messages_stored: IntCounter,
    /// Messages per group commit.
    pub commit_batch: Histogram,
    /// Group commits that failed (their messages are retried one by one).
    pub commit_failures: IntCounter,
    /// HTTP responses by status class (`2xx` … `5xx`).
    pub http_responses: IntCounterVec,
    /// Work waiting, by queue: `web_push`, `email`, `message_writer`,
    /// `password_hashing`.
    pub queue_depth: IntGaugeVec,
}

/// The status classes counted, by first digit.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// The queues whose depth is exported.
pub const QUEUES: [&str; 4] = ["web_push", "email", "message_writer", "password_hashing"];

impl Metrics {
    fn build() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let sockets = IntGauge::new(
            "securechat_socket_connections",
            "Socket.IO connections open on this node",
        )?;
        let messages_stored = IntCounter::new(
            "securechat_messages_stored_total",
            "Messages committed by this node's group-commit writer",
        )?;
        let commit_batch = Histogram::with_opts(
            HistogramOpts::new(
                "securechat_commit_batch_size",
                "Messages per group commit of the message writer",
            )
            .buckets(vec![
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0,
            ]),
        )?;
        let commit_failures = IntCounter::new(
            "securechat_commit_failures_total",
            "Group commits that failed and were retried message by message",
        )?;
        let http_responses = IntCounterVec::new(
            Opts::new(
                "securechat_http_responses_total",
                "HTTP responses by status class; 5xx are server errors",
            ),
            &["class"],
        )?;
        let queue_depth = IntGaugeVec::new(
            Opts::new(
                "securechat_queue_depth",
                "Work waiting, by queue (read when scraped)",
            ),
            &["queue"],
        )?;
        registry.register(Box::new(sockets.clone()))?;
        registry.register(Box::new(messages_stored.clone()))?;
        registry.register(Box::new(commit_batch.clone()))?;
        registry.register(Box::new(commit_failures.clone()))?;
        registry.register(Box::new(http_responses.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        // Every series exists from the start, so a rate over a class or a
        // queue that has seen nothing yet is 0, not absent.
        for class in CLASSES {
            http_responses.with_label_values(&[class]);
        }
        for queue in QUEUES {
            queue_depth.with_label_values(&[queue]);
        }
        Ok(Self {
            registry,
            sockets,
            messages_stored,
            commit_batch,
            commit_failures,
            http_responses,
            queue_depth,
        })
    }

    /// Counts one group commit of `size` messages, `stored` of them new.
    pub fn commit(&self, size: usize, stored: usize) {
        self.commit_batch.observe(size as f64);
        self.messages_stored.inc_by(stored as u64);
    }

    /// Counts one HTTP response.
    pub fn response(&self, status: u16) {
        let class = match status / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            _ => "5xx",
        };
        self.http_responses.with_label_values(&[class]).inc();
    }

    /// Sets a queue's depth (one of [`QUEUES`]).
    pub fn set_queue(&self, queue: &'static str, depth: i64) {
        self.queue_depth.with_label_values(&[queue]).set(depth);
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    // The names, help texts and buckets are constants: building can fail
    // only if they are wrong, which the unit test below would show.
    #[allow(clippy::expect_used)]
    Metrics::build().expect("the metric definitions are valid")
});

/// The node's metrics.
pub fn get() -> &'static Metrics {
    &METRICS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_valid_and_render() {
        let metrics = Metrics::build().unwrap();
        metrics.commit(3, 2);
        metrics.response(204);
        metrics.response(503);
        metrics.set_queue("email", 7);
        let text = metrics.render().unwrap();
        assert!(
            text.contains("securechat_messages_stored_total 2"),
            "{text}"
        );
        assert!(
            text.contains("securechat_commit_batch_size_count 1"),
            "{text}"
        );
        assert!(
            text.contains("securechat_http_responses_total{class=\"5xx\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("securechat_http_responses_total{class=\"3xx\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("securechat_queue_depth{queue=\"email\"} 7"),
            "{text}"
        );
    }
}
