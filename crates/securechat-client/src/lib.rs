//! Securechat's Rust client: the typed SDK that tests, `securechat-cli`
//! and the load generator use.
//!
//! - [`Client`] (`client.rs`): the JSON API core — base URL, session token,
//!   the `success` envelope and [`ApiError`]; one module per API area adds
//!   its calls (`auth.rs`: register, login, logout, me, change password;
//!   `rooms.rs`: rooms, channels, members, DMs, users; `messages.rs`:
//!   history, and the socket requests `join_channel`, `send_message`,
//!   `leave_channel` as [`Socket`] methods; `search.rs`: full-text search;
//!   `push.rs`: Web Push subscriptions and per-channel notification levels).
//! - [`socketio`]: a small websocket-only Socket.IO v5 client on
//!   tokio-tungstenite, built to hold thousands of connections per process
//!   (one task each, small buffers). [`Client::socket`] connects it as the
//!   logged-in user.
//! - [`SecureClient`] (`e2ee/`): end-to-end encryption on top — the I/O
//!   shell of the `securechat-e2ee` core, which makes every trust decision
//!   — with its local key store file ([`FileStore`], `keystore.rs`).
//! - [`Error`] (`error.rs`): the crate's one error type.
//!
//! ```no_run
//! # async fn demo() -> securechat_client::Result<()> {
//! use std::time::Duration;
//! let mut client = securechat_client::Client::new("http://localhost:5000")?;
//! let me = client.login("alice", "password123").await?;
//! let (socket, mut events) = client.socket().await?;
//! while let Some(event) = events.recv().await {
//!     println!("{}: {}", event.name, event.data());
//! }
//! # let _ = (me, socket, Duration::ZERO);
//! # Ok(()) }
//! ```

mod auth;
mod client;
mod e2ee;
mod error;
pub mod keystore;
mod messages;
mod push;
mod rooms;
mod search;
pub mod socketio;
mod threads;
mod token;

pub use auth::{NewUser, User};
pub use client::Client;
pub use e2ee::{
    Body, Carry, DevicesPage, Distribution, Handled, LinkState, LogPage, MailboxShare,
    MembershipChange, MyShare, PendingLink, PublishedKey, ReadMessage, SafetyInfo, SecureClient,
    ServedDevice,
};
pub use error::{ApiError, Error, Rejection, Result};
pub use keystore::FileStore;
pub use messages::{
    DEFAULT_ACK_TIMEOUT, HistoryPage, HistoryQuery, JoinedChannel, MAX_HISTORY_PAGE, Message,
    MessageDeleted, OutgoingMessage, SendOptions, new_client_msg_id,
};
pub use push::{ChannelNotifications, NotifyLevel, PushKeys, PushSubscription};
pub use rooms::{Channel, Member, NewRoom, Peer, PublicUser, Role, Room, RoomKind};
pub use search::{
    MAX_SEARCH_PAGE, SearchPage, SearchPlace, SearchQuery, SearchResult, SearchRoom, SnippetRun,
};
pub use securechat_e2ee::{Refusal, State as KeyStore};
pub use socketio::{DisconnectReason, Event, EventStream, Socket, SocketOptions};
pub use threads::{
    FollowedThread, FollowedThreads, JoinedThread, ThreadPage, ThreadState, ThreadSummary,
};
pub use token::SessionToken;
