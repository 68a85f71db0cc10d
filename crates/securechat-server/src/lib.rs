//! The Securechat server: one binary that serves the web UI, the JSON API and
//! Socket.IO real-time events, on SQLite or PostgreSQL.
//!
//! The crate is cut along the product's domains; each module owns its routes,
//! its SQL and its tests:
//!
//! - `auth`: accounts, passwords, sessions, login throttling, the user directory.
//! - `rooms`: rooms, channels, DMs, roles and permissions, bans, audit log.
//! - `keys`: public keys, sealed channel keys, key requests, rotation, key backup.
//! - `devices`: each person's signed device list, device prekeys, per-device share mailboxes.
//! - `push`: every event pushed to sockets, typed, and its audience.
//! - `notify`: the bus that carries pushes from code without a socket.
//! - `messages`: message storage, history and the checks every write passes.
//! - `timeline`: system events (joins, departures, renames, key rotations) between messages.
//! - `search`: full-text search over the plaintext messages a person can read.
//! - `files`: uploads streamed to a blob store (disk or S3), downloads.
//! - `resources`: a room's shared links and documents.
//! - `realtime`: Socket.IO events: handshake, handlers, pushes of room changes.
//! - `storage`: the database handle (SQLite or PostgreSQL) and migrations.
//! - `error`: the one error type, mapped to an HTTP status and JSON body.
//! - `http`: what handlers share: extractors, the `Success` body and
//!   middleware (security headers, cross-site request refusal).
//! - `app`: the router assembled from every domain's routes, and the
//!   OpenAPI document; the only module that imports every domain.
//! - `text`: what people may name things (Unicode rules for names and texts).
//! - `web`: the embedded single-page web UI.
//! - `webpush`: Web Push to browsers' push services (RFC 8030/8291/8292):
//!   subscriptions, notification settings, the queue and its sender.
//! - `config`: settings from flags and environment variables.
//! - `server`: binding, TLS and graceful shutdown.
//! - [`cli`]: the `securechat` command line (serve, init-db, user admin).
//!
//! The binary in `main.rs` is a thin wrapper over [`cli::run`]. Every other
//! module is private to the crate, so the compiler reports what nothing
//! uses.

mod app;
mod auth;
pub mod cli;
mod cluster;
mod config;
mod demo;
mod devices;
mod error;
mod files;
mod http;
mod keys;
mod messages;
mod migrate;
mod notify;
mod push;
mod realtime;
mod resources;
mod rooms;
mod search;
mod server;
mod state;
mod storage;
mod text;
mod timeline;
mod web;
mod webpush;
