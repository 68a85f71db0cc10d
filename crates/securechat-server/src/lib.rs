//! The Securechat server: one binary that serves the web UI, the JSON API and
//! Socket.IO real-time events, on SQLite or PostgreSQL.
//!
//! The crate is cut along the product's domains; each module owns its routes,
//! its SQL and its tests:
//!
//! - `admin`: the admin console: accounts, invitations and the
//!   registration mode, rooms, the audit log across rooms, server status.
//! - `auth`: accounts, passwords, sessions, login throttling, the user directory.
//! - `twofactor`: TOTP second factor, recovery codes, the site's two-factor policy.
//! - `oidc`: single sign-on with an OpenID Connect provider (code flow with PKCE).
//! - `rooms`: rooms, channels, DMs, roles and permissions, bans, audit log.
//! - `keys`: public keys, sealed channel keys, key requests, rotation, key backup.
//! - `devices`: each person's signed device list, device prekeys, per-device share mailboxes.
//! - `push`: every event pushed to sockets, typed, and its audience.
//! - `notify`: the bus that carries pushes from code without a socket.
//! - `messages`: message storage, history and the checks every write passes.
//! - `timeline`: system events (joins, departures, renames, key rotations) between messages.
//! - `mentions`: who may use channel-wide mentions (`@channel`…) in a room.
//! - `pins`: pinned messages per channel, and each person's saved messages.
//! - `threads`: thread replies' summaries, follows, per-thread read markers.
//! - `reminders`: reminders of a channel at a time (`/remind`), delivered
//!   once to every socket of their person.
//! - `search`: full-text search over the plaintext messages a person can read.
//! - `files`: uploads streamed to a blob store (disk or S3), downloads.
//! - `resources`: a room's shared links and documents.
//! - `realtime`: Socket.IO events: handshake, handlers, pushes of room changes.
//! - `storage`: the database handle (SQLite or PostgreSQL) and migrations.
//! - `archive`: zip archives streamed to a download while they are
//!   written (the data export, a room's export).
//! - `error`: the one error type, mapped to an HTTP status and JSON body.
//! - `http`: what handlers share: extractors, the `Success` body and
//!   middleware (security headers, cross-site request refusal).
//! - `app`: the router assembled from every domain's routes, and the
//!   OpenAPI document; the only module that imports every domain.
//! - `text`: what people may name things (Unicode rules for names and texts).
//! - `web`: the embedded single-page web UI.
//! - `webpush`: Web Push to browsers' push services (RFC 8030/8291/8292):
//!   subscriptions, notification settings, the queue and its sender.
//! - `webhooks`: incoming webhooks — a URL per plaintext channel that posts
//!   Slack-compatible JSON bodies as messages shown as an integration.
//! - `email`: email digests of missed mentions and DMs (with `SMTP_URL`):
//!   the address and its verification, the digest queue and its sender.
//! - `backup`: `securechat backup` and `restore`: an online snapshot of the
//!   database, the uploaded files and the key files in one checked archive.
//! - `metrics`: Prometheus metrics at `/metrics`, behind `METRICS_TOKEN`.
//! - `outbound`: requests to URLs people give the server (Web Push,
//!   outgoing webhooks): the SSRF guard, its HTTP clients, retry delays.
//! - `profiles`: display names, statuses, availability and avatars.
//! - `account`: a person's account as a whole: "Export my data".
//! - `config`: settings from flags and environment variables.
//! - `server`: binding, TLS and graceful shutdown.
//! - [`cli`]: the `securechat` command line (serve, init-db, user admin).
//!
//! The binary in `main.rs` is a thin wrapper over [`cli::run`]. Every other
//! module is private to the crate, so the compiler reports what nothing
//! uses.

mod account;
mod admin;
mod app;
mod archive;
mod auth;
mod background;
mod backup;
mod bots;
pub mod cli;
mod cluster;
mod commands;
mod config;
mod demo;
mod devices;
mod email;
mod error;
mod files;
mod http;
mod import;
mod keys;
mod mentions;
mod messages;
mod metrics;
mod migrate;
mod notify;
mod oidc;
mod outbound;
mod passkeys;
mod pins;
mod profiles;
mod push;
mod realtime;
mod reminders;
mod resources;
mod retention;
mod rooms;
mod search;
mod server;
mod state;
mod storage;
mod text;
mod threads;
mod timeline;
mod twofactor;
mod web;
mod webhooks;
mod webpush;
