//! The Securechat server: one binary that serves the web UI, the JSON API and
//! Socket.IO real-time events, on SQLite or PostgreSQL.
//!
//! The crate is cut along the product's domains; each module owns its routes,
//! its SQL and its tests:
//!
//! - [`auth`]: accounts, passwords, sessions, login throttling, the user directory.
//! - [`rooms`]: rooms, channels, DMs, roles and permissions, bans, audit log.
//! - [`keys`]: public keys, sealed channel keys, key requests, rotation, key backup.
//! - [`notify`]: pushes to users' sockets from code without a socket.
//! - [`messages`]: message storage, history and the checks every write passes.
//! - [`files`]: uploads streamed to a blob store (disk or S3), downloads.
//! - [`resources`]: a room's shared links and documents.
//! - [`realtime`]: Socket.IO events: handshake, handlers, pushes of room changes.
//! - [`storage`]: the database handle (SQLite or PostgreSQL) and migrations.
//! - [`http`]: the router, the error type every handler returns, middleware
//!   (security headers, cross-site request refusal, request ids) and the
//!   OpenAPI document.
//! - [`text`]: what people may name things (Unicode rules for names and texts).
//! - [`web`]: the embedded single-page web UI.
//! - [`config`]: settings from flags and environment variables.
//! - [`server`]: binding, TLS and graceful shutdown.
//! - [`cli`]: the `securechat` command line (serve, init-db, user admin).
//!
//! The binary in `main.rs` is a thin wrapper over [`cli::run`].

pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod files;
pub mod http;
pub mod keys;
pub mod messages;
pub mod migrate;
pub mod notify;
pub mod realtime;
pub mod resources;
pub mod rooms;
pub mod server;
pub mod state;
pub mod storage;
pub mod text;
pub mod web;
