//! The admin console's server side: what a site administrator does to the
//! whole site, in the web UI's Admin page, over the API and partly from
//! `securechat user …` / `securechat invite …`.
//!
//! - [`users`]: finding, creating, disabling and enabling accounts,
//!   granting and removing administration (never the last enabled
//!   administrator), one-time password-reset links and their redemption.
//! - [`site`]: invitation links, the registration mode, every room with
//!   its owner and size, deleting a room, the audit log across rooms and
//!   the server's status.
//! - [`mode`]: the registration modes.
//! - [`store`]: their SQL.
//!
//! Every route but the two public ones (redeeming a reset link, reading the
//! registration mode) takes [`SiteAdmin`], so a signed-in non-administrator
//! is answered 403 and an anonymous caller 401 before anything runs.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::auth::AuthUser;
use crate::error::Error;
use crate::state::AppState;

pub mod mode;
pub mod site;
pub mod store;
pub mod users;

pub use mode::RegistrationMode;

/// A signed-in site administrator: the extractor of every admin route.
pub struct SiteAdmin(pub AuthUser);

impl FromRequestParts<AppState> for SiteAdmin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if !user.is_admin {
            return Err(Error::forbidden(
                "not_site_admin",
                "Only site administrators may do this",
            ));
        }
        Ok(Self(user))
    }
}

/// The mode in force: the Admin page's choice when one is stored,
/// else the environment's default (`REGISTRATION_MODE`).
pub async fn registration_mode(state: &AppState) -> Result<RegistrationMode, Error> {
    let stored = store::setting(&state.db, store::REGISTRATION_MODE).await?;
    Ok(stored
        .as_deref()
        .and_then(RegistrationMode::parse)
        .unwrap_or(state.registration_default))
}

/// What an invitation or reset token is stored as. The tokens are 256
/// random bits, so an unkeyed hash suffices, and the command line (which
/// has no `SECRET_KEY`-derived keys) can make invitations too.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_differ_per_token() {
        assert_ne!(token_hash("a"), token_hash("b"));
        assert_eq!(token_hash("a").len(), 32);
    }
}
