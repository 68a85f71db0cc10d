//! Accounts and sessions.
//!
//! - [`http`]: the `/api/auth/*` routes.
//! - [`directory`]: finding people (`/api/users`).
//! - [`session`]: cookies, bearer tokens and the [`AuthUser`] extractor.
//! - [`token`]: random tokens and the keyed hashes they are stored as.
//! - [`password`]: Argon2id on a bounded blocking pool.
//! - [`throttle`]: login failure counters and lockout.
//! - [`signin`]: the counted attempt, password check and session start
//!   that password and passkey sign-ins share.
//! - [`reauth`]: a signed-in person proving it is them again, throttled.
//! - [`validate`]: username and password rules.
//! - [`store`]: the SQL for users and sessions.
//! - [`admin`]: account administration used by the CLI.

pub mod admin;
pub mod directory;
pub mod http;
pub mod password;
pub mod reauth;
pub mod session;
pub mod signin;
pub mod store;
pub mod throttle;
pub mod token;
pub mod validate;

pub use session::AuthUser;
