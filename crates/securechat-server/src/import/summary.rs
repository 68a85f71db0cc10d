//! What an import did, printed at its end.

use std::collections::BTreeMap;
use std::fmt;

use super::store::Written;

#[derive(Default)]
pub struct Summary {
    pub rooms: u64,
    pub channels: u64,
    pub people_created: u64,
    pub people_matched: u64,
    pub messages: u64,
    pub replies: u64,
    pub reactions: u64,
    pub files: u64,
    /// Already imported by an earlier run, left as they are.
    pub already: u64,
    /// Replies whose root was missing, imported as top-level messages.
    pub orphans: u64,
    pub truncated: u64,
    pub skipped: BTreeMap<&'static str, u64>,
    pub seconds: f64,
}

impl Summary {
    pub fn skip(&mut self, why: &'static str) {
        *self.skipped.entry(why).or_default() += 1;
    }

    pub fn add(&mut self, w: &Written) {
        self.messages += w.messages;
        self.replies += w.replies;
        self.reactions += w.reactions;
        self.already += w.already;
        self.orphans += w.orphans;
    }

    /// Messages written per second of the whole run.
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.seconds.max(0.001)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Imported {} rooms, {} channels, {} people ({} placeholders created, {} matched to \
             existing accounts), {} messages ({} thread replies), {} reactions, {} files (as \
             [file: name] lines) in {:.1} s ({:.0} messages/s).",
            self.rooms,
            self.channels,
            self.people_created + self.people_matched,
            self.people_created,
            self.people_matched,
            self.messages,
            self.replies,
            self.reactions,
            self.files,
            self.seconds,
            self.rate()
        )?;
        if self.already > 0 {
            writeln!(
                f,
                "Already imported by an earlier run: {} messages.",
                self.already
            )?;
        }
        if self.orphans > 0 {
            writeln!(
                f,
                "Replies without their thread's root, imported as messages: {}.",
                self.orphans
            )?;
        }
        if self.truncated > 0 {
            writeln!(f, "Messages cut at the length limit: {}.", self.truncated)?;
        }
        for (why, n) in &self.skipped {
            writeln!(f, "Skipped: {n} × {why}.")?;
        }
        Ok(())
    }
}
