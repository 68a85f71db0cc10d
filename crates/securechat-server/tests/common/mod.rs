//! Test harness: starts the real `securechat` binary on a free port with a
//! fresh database (a temporary SQLite file, or a fresh PostgreSQL database
//! when `TEST_DATABASE_URL` is set) and talks to it over HTTP and
//! Socket.IO. One file per area; test files import from here.

#![allow(dead_code, unused_imports)]

mod db;
mod http;
mod server;
mod socket;

pub use db::*;
pub use http::*;
pub use server::*;
pub use socket::*;
