//! A signed-in person proving again that it is them (changing the
//! password, turning two-factor off, new recovery codes): each attempt is
//! counted against their account's login throttle, like a sign-in, so a
//! stolen session cannot guess the password or a code faster than a
//! stranger could.

use serde::Deserialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::password::Priority;
use super::store;
use super::throttle::{self, Scope};
use super::validate;
use crate::auth::AuthUser;
use crate::error::Error;
use crate::state::AppState;
use crate::storage::now_ms;

/// One counted attempt; end it with [`Reauth::passed`] or [`Reauth::failed`].
pub struct Reauth {
    scope: Scope,
    attempts: Vec<i64>,
    now: i64,
}

impl Reauth {
    /// Counts the attempt (429 while the account is locked).
    pub async fn start(state: &AppState, username: &str) -> Result<Self, Error> {
        let scope = Scope::user(&state.keys, &validate::username_key(username));
        let now = now_ms();
        let attempts = throttle::reserve(&state.db, &[&scope], now).await?;
        Ok(Self {
            scope,
            attempts,
            now,
        })
    }

    /// Checks the account's current password: a wrong one fails the
    /// attempt with 401 `invalid_credentials`.
    pub async fn password(
        self,
        state: &AppState,
        user_id: i64,
        password: String,
    ) -> Result<Self, Error> {
        let stored = store::user_by_id(&state.db, user_id).await?;
        let verified = state
            .hasher
            .verify(
                Priority::Session,
                Zeroizing::new(password),
                stored.map(|r| r.password_hash),
            )
            .await;
        match verified {
            Ok(true) => Ok(self),
            Ok(false) => {
                self.failed(state).await?;
                Err(Error::unauthorized(
                    "invalid_credentials",
                    "The current password is wrong",
                ))
            }
            Err(e) => {
                // The password was never checked: not a guess.
                self.passed(state).await?;
                Err(e.into())
            }
        }
    }

    /// The attempt failed: it stays counted and may lock the account.
    pub async fn failed(self, state: &AppState) -> Result<(), Error> {
        throttle::fail(&state.db, &[&self.scope], &self.attempts, self.now).await?;
        Ok(())
    }

    /// The attempt succeeded: it is given back.
    pub async fn passed(self, state: &AppState) -> Result<(), Error> {
        throttle::succeed(&state.db, &self.scope).await?;
        Ok(())
    }
}

/// The account's current password, confirming an action on the whole
/// account or room (an export, a deletion).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The account's current password.
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Checks the caller's current password as one counted attempt: 401
/// `invalid_credentials` when wrong, 429 while the account is locked.
pub async fn confirm_password(
    state: &AppState,
    user: &AuthUser,
    password: String,
) -> Result<(), Error> {
    if password.len() > validate::PASSWORD_MAX {
        return Err(Error::unauthorized(
            "invalid_credentials",
            "The current password is wrong",
        ));
    }
    Reauth::start(state, &user.username)
        .await?
        .password(state, user.id, password)
        .await?
        .passed(state)
        .await
}
