//! What `securechat-cli import` did, printed at its end (the counterpart
//! of the server import's summary, for encrypted channels).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;

#[derive(Default)]
pub struct Summary {
    pub rooms_made: u64,
    pub rooms_reused: u64,
    pub channels_made: u64,
    pub channels_reused: u64,
    /// Messages read from the export (in known channels or not).
    pub read: u64,
    /// Messages sent by this run.
    pub messages: u64,
    pub replies: u64,
    pub files: u64,
    /// Sent by an earlier run (in the state file), not sent again.
    pub already: u64,
    /// Replies whose root was missing, sent as top-level messages.
    pub orphans: u64,
    pub truncated: u64,
    /// Reactions of the export, none imported.
    pub reactions_left: u64,
    pub skipped: BTreeMap<&'static str, u64>,
}

impl Summary {
    pub fn skip(&mut self, why: &'static str) {
        *self.skipped.entry(why).or_default() += 1;
    }

    /// The summary as printed, with the rate since `started`.
    pub fn finish(&self, started: Instant) -> String {
        let secs = started.elapsed().as_secs_f64();
        let mut out = format!(
            "Imported into encrypted channels: {} rooms ({} made, {} reused), {} channels ({} \
             made, {} reused), {} messages sent ({} thread replies), {} files (as [file: name] \
             lines) in {secs:.1} s ({:.1} messages/s).\n",
            self.rooms_made + self.rooms_reused,
            self.rooms_made,
            self.rooms_reused,
            self.channels_made + self.channels_reused,
            self.channels_made,
            self.channels_reused,
            self.messages,
            self.replies,
            self.files,
            self.messages as f64 / secs.max(0.001),
        );
        // Writing to a String cannot fail.
        let mut line = |text: String| {
            let _ = writeln!(out, "{text}");
        };
        if self.already > 0 {
            line(format!(
                "Already imported by an earlier run: {} messages.",
                self.already
            ));
        }
        if self.orphans > 0 {
            line(format!(
                "Replies without their thread's root, sent as messages: {}.",
                self.orphans
            ));
        }
        if self.truncated > 0 {
            line(format!(
                "Messages cut at the length limit: {}.",
                self.truncated
            ));
        }
        if self.reactions_left > 0 {
            line(format!(
                "Not imported: {} reactions (a reaction sent now would be mine, not its person's).",
                self.reactions_left
            ));
        }
        line(
            "Each message names its original author and time on its first line, inside the \
             encryption; people are not made accounts: add them to the rooms to share the keys."
                .to_owned(),
        );
        for (why, n) in &self.skipped {
            line(format!("Skipped: {n} × {why}."));
        }
        out
    }
}
