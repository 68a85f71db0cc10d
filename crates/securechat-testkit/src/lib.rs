//! Test harness shared by the server's, the SDK's and the CLI's
//! integration tests: starts the real `securechat` binary on a free port
//! with a fresh database (a temporary SQLite file, or a fresh PostgreSQL
//! database when `TEST_DATABASE_URL` is set) and talks to it over HTTP,
//! Socket.IO and SQL. One module per area; tests import from the root
//! (the SDK helpers, whose `login` returns a `Client`, stay in [`sdk`]).
//!
//! The binary is `SECURECHAT_BIN` if set, else the workspace's
//! `target/debug/securechat` (under `CARGO_TARGET_DIR` if that was set
//! when this crate was built). The server package's tests get it built by
//! Cargo; the SDK's and the CLI's need `cargo build -p securechat-server`
//! first (`cargo test --workspace` builds it). A missing binary fails the
//! test with that command; it is never skipped silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod db;
pub mod exports;
mod http;
mod peer;
pub mod sdk;
mod server;
mod socket;
mod zip;

pub use db::*;
pub use http::*;
pub use peer::*;
pub use server::*;
pub use socket::*;
pub use zip::*;
