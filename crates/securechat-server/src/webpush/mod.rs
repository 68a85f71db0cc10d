//! Web Push.

pub mod ece;
pub mod vapid;
