//! The per-person push cap, counted first in this node's memory.
//!
//! The cap's authority is the database (`push_budget`, counted in the
//! same transaction that queues a push, so every node of a cluster shares
//! it). But a flood — a busy channel whose members all asked for every
//! message — reaches the cap within seconds, and from then on every new
//! message would still cost each member an upsert of that row: on SQLite,
//! writes the message path waits for. This node's own count settles those
//! without a write: a person this node alone has already queued the cap's
//! worth of pushes for in their current minute is over the cap on every
//! node, so the push is dropped here. Below that, the database decides.
//!
//! The node's minute starts when it first counts a push, like the
//! database's, but not at the same moment; near a window's end a person
//! may get a few pushes fewer than the cap, never more.

use std::collections::HashMap;

/// The cap's window.
const WINDOW_MS: i64 = 60_000;
/// People tracked before closed windows are swept out (a few MiB at most).
const MAX_TRACKED: usize = 100_000;

/// Pushes counted per person in their current window on this node (kept
/// by the node's one fan-out task).
pub struct LocalBudget {
    per_minute: i64,
    spent: HashMap<i64, Window>,
}

#[derive(Clone, Copy)]
struct Window {
    start: i64,
    used: i64,
}

impl LocalBudget {
    pub fn new(per_minute: i64) -> Self {
        Self {
            per_minute,
            spent: HashMap::new(),
        }
    }

    /// Counts a push for `user_id` at `now` (UTC ms); false, without
    /// counting, once this node has counted the cap in the person's window.
    pub fn spend(&mut self, user_id: i64, now: i64) -> bool {
        let spent = &mut self.spent;
        if spent.len() >= MAX_TRACKED && !spent.contains_key(&user_id) {
            spent.retain(|_, w| w.start > now - WINDOW_MS);
            if spent.len() >= MAX_TRACKED {
                // Forgetting only sends more pushes to the database's check.
                spent.clear();
            }
        }
        let window = spent.entry(user_id).or_insert(Window {
            start: now,
            used: 0,
        });
        if window.start <= now - WINDOW_MS {
            *window = Window {
                start: now,
                used: 0,
            };
        }
        if window.used >= self.per_minute {
            return false;
        }
        window.used += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_holds_within_a_window_and_resets_after_it() {
        let mut budget = LocalBudget::new(3);
        let t = 1_000_000;
        assert!((0..3).all(|i| budget.spend(7, t + i)));
        assert!(!budget.spend(7, t + 10), "a fourth in the same minute");
        assert!(budget.spend(8, t + 10), "someone else has their own");
        assert!(!budget.spend(7, t + WINDOW_MS - 1));
        assert!(budget.spend(7, t + WINDOW_MS), "a new minute");
    }

    #[test]
    fn sweeping_closed_windows_keeps_the_open_ones() {
        let mut budget = LocalBudget::new(1);
        let t = 5_000_000;
        for user in 0..i64::try_from(MAX_TRACKED).unwrap_or(i64::MAX) {
            budget.spend(user, t - WINDOW_MS);
        }
        assert!(budget.spend(-1, t), "room is made from closed windows");
        assert!(!budget.spend(-1, t + 1));
        assert_eq!(budget.spent.len(), 1);
    }
}
