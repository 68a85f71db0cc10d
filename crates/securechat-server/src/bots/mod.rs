//! Bot accounts: integrations that take part in rooms as members do,
//! through the same REST API and Socket.IO events, so that in an encrypted
//! channel a bot holds its own identity, appears in the signed membership
//! log and receives the channel key like a person — the server never has
//! to see the text for a bot to read or answer it.
//!
//! Why a bot is a `users` row (`is_bot`) and not a separate kind of actor:
//! every rule about who reads and posts (`rooms::access`), every view of a
//! member and every membership log entry already speaks of users; a bot
//! that is one inherits them all, and views only mark it (`is_bot`).
//!
//! What makes a bot different is how it signs in and how far it reaches:
//! - it has no usable password (a hash of a random secret no one keeps)
//!   and signs in with an API token, `scb_` + 43 base64url characters,
//!   stored as a keyed hash like a session (`bot_tokens`) and shown once;
//! - a token is scoped to rooms (`bot_token_rooms`): `AuthUser` carries the
//!   scope, and `RoomAccess::load` — behind every room, channel and socket
//!   event — answers a room outside it with the 404 of a non-member;
//! - the routes that would take a bot beyond its rooms (creating or joining
//!   rooms, DMs, the directory, administration, the account, sign-in
//!   methods, device linking) refuse bot tokens in one middleware,
//!   [`refuse_bots`], with 403 `bot_not_allowed`;
//! - revoking stamps the token's row revoked (kept, so its rooms' admins
//!   still see the bot), so the next request fails, and ends the bot's
//!   sockets at once (`notify.sessions_ended`); a bot whose token is lost
//!   gets a new one in place of the old, which is revoked the same way.
//!
//! - [`http`]: `POST/GET /api/rooms/{id}/bots`, `DELETE
//!   /api/rooms/{id}/bots/{bot_id}`, `POST
//!   /api/rooms/{id}/bots/{bot_id}/token`, `POST /api/admin/bots`.
//! - [`store`]: the SQL.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::state::AppState;

pub mod http;
pub mod store;

/// What every bot token starts with.
pub const TOKEN_PREFIX: &str = "scb_";

/// The random part of a bot token, if `token` looks like one.
pub fn token_secret(token: &str) -> Option<&str> {
    token
        .strip_prefix(TOKEN_PREFIX)
        .filter(|rest| crate::auth::token::looks_like_token(rest))
}

/// A new bot token: the prefix and 32 random bytes.
pub fn new_token() -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(format!(
        "{TOKEN_PREFIX}{}",
        crate::auth::token::new_token().as_str()
    ))
}

/// 403 for a bot on a route beyond its rooms.
pub fn not_allowed() -> Error {
    Error::forbidden(
        "bot_not_allowed",
        "Bot tokens reach only the rooms they are scoped to",
    )
}

/// Whether a bot token may be presented to `method path`: everything in
/// and about its rooms and channels, its own keys and devices' key shares,
/// and who it is; nothing that creates, joins or finds rooms and people,
/// administers the site or changes the account.
pub fn allowed(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/") else {
        return true;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["auth", "me"] => method == Method::GET,
        ["auth", ..] | ["admin", ..] | ["dms", ..] | ["email", ..] | ["push", ..] => false,
        ["search", ..] | ["hooks", ..] => false,
        ["rooms"] => method == Method::GET,
        ["rooms", "public", ..] => false,
        ["rooms", _, "join" | "bots", ..] => false,
        ["users"] => false,
        ["users", "me", "delete" | "export" | "email", ..] => false,
        ["users", "me", "devices", "links", ..] => false,
        _ => true,
    }
}

/// Refuses a bot token on a route it may not use (see [`allowed`]), before
/// the route's handler runs. Only the token's shape is looked at: a revoked
/// or unknown one fails later, in the extractor, with 401.
pub async fn refuse_bots(req: Request, next: Next) -> Response {
    let bot = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| token_secret(t.trim()).is_some());
    if bot && !allowed(req.method(), req.uri().path()) {
        return not_allowed().into_response();
    }
    next.run(req).await
}

/// Rooms a token reaches, carried by the signed-in bot.
pub type Scope = std::sync::Arc<[i64]>;

/// Resolves a bot token to its bot and scope (`None`: unknown, revoked, or
/// the bot is disabled).
pub async fn resolve(
    state: &AppState,
    token: &str,
) -> Result<Option<(store::TokenBot, Vec<u8>, Scope)>, Error> {
    if token_secret(token).is_none() {
        return Ok(None);
    }
    let hash = state.keys.session_hash(token);
    Ok(store::token_bot(&state.db, &hash)
        .await?
        .map(|(bot, rooms)| (bot, hash, Scope::from(rooms))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_routes() {
        assert!(allowed(&Method::GET, "/api/auth/me"));
        assert!(!allowed(&Method::POST, "/api/auth/logout"));
        assert!(allowed(&Method::GET, "/api/rooms"));
        assert!(!allowed(&Method::POST, "/api/rooms"));
        assert!(!allowed(&Method::POST, "/api/rooms/3/join"));
        assert!(allowed(&Method::GET, "/api/rooms/3/members"));
        assert!(!allowed(&Method::POST, "/api/rooms/3/bots"));
        assert!(allowed(&Method::GET, "/api/channels/3/messages"));
        assert!(!allowed(&Method::POST, "/api/dms"));
        assert!(!allowed(&Method::GET, "/api/admin/users"));
        assert!(!allowed(&Method::GET, "/api/users"));
        assert!(allowed(&Method::GET, "/api/users/4/public_keys"));
        assert!(!allowed(&Method::POST, "/api/users/me/delete"));
        assert!(!allowed(&Method::POST, "/api/users/me/devices/links"));
        assert!(allowed(&Method::PUT, "/api/users/me/public_key"));
        assert!(token_secret(&new_token()).is_some());
        assert!(token_secret("scb_short").is_none());
    }
}
