//! The Securechat server: one binary that serves the web UI, the JSON API and
//! Socket.IO real-time events, on SQLite or PostgreSQL.
//!
//! The crate is cut along the product's domains; each module owns its routes,
//! its SQL and its tests:
//!
//! - `auth`: accounts, passwords, sessions, login throttling, the user directory.
//! - `rooms`: rooms, channels, DMs, roles and permissions, bans, audit log.
//! - `keys`: public keys, sealed channel keys, key requests, rotation, key backup.
//! - `notify`: pushes to users' sockets from code without a socket.
//! - `messages`: message storage, history and the checks every write passes.
//! - `files`: uploads streamed to a blob store (disk or S3), downloads.
//! - `resources`: a room's shared links and documents.
//! - `realtime`: Socket.IO events: handshake, handlers, pushes of room changes.
//! - `storage`: the database handle (SQLite or PostgreSQL) and migrations.
//! - `http`: the router, the error type every handler returns, middleware
//!   (security headers, cross-site request refusal, request ids) and the
//!   OpenAPI document.
//! - `text`: what people may name things (Unicode rules for names and texts).
//! - `web`: the embedded single-page web UI.
//! - `config`: settings from flags and environment variables.
//! - `server`: binding, TLS and graceful shutdown.
//! - [`cli`]: the `securechat` command line (serve, init-db, user admin).
//!
//! The binary in `main.rs` is a thin wrapper over [`cli::run`]. Every other
//! module is private to the crate, so the compiler reports what nothing
//! uses.

mod auth;
pub mod cli;
mod cluster;
mod config;
mod demo;
mod files;
mod http;
mod keys;
mod messages;
mod migrate;
mod notify;
mod realtime;
mod resources;
mod rooms;
mod server;
mod state;
mod storage;
mod text;
mod web;
