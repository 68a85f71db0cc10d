//! Checking a second factor: a TOTP code, a recovery code or a passkey, for signing
//! in and for the changes a signed-in person confirms with one. A code is
//! taken in the write that records it (`store::accept_step`,
//! `store::use_recovery_code`), so of two requests with the same code at
//! the same moment exactly one passes.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{recovery, secret, store, totp};
use crate::error::Error;
use crate::passkeys::verify::{self as passkey, Assertion};
use crate::state::AppState;

/// A second factor as a request offers it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Offered {
    /// The six digits the authenticator app shows.
    #[schema(pattern = "^[0-9]{6}$", max_length = 6)]
    #[serde(default)]
    pub totp_code: Option<String>,
    /// One of the account's recovery codes (`xxxxx-xxxxx`; case, spaces
    /// and dashes do not matter). Each works once.
    #[schema(max_length = 32)]
    #[serde(default)]
    pub recovery_code: Option<String>,
    /// A passkey's answer to a challenge from
    /// `POST /api/auth/passkeys/second-factor/begin`.
    #[serde(default)]
    pub passkey: Option<Assertion>,
}

/// What the check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// TOTP is not on for this account: no second factor is asked for.
    NotEnrolled,
    /// TOTP is on and nothing was offered.
    Missing,
    /// A code that was valid and is now used up.
    Passed,
    /// A wrong, malformed or already used code.
    Wrong,
}

/// The error for [`Outcome::Missing`] at sign-in.
pub fn required() -> Error {
    Error::unauthorized(
        "second_factor_required",
        "Enter the code from your authenticator app or a recovery code, or use a passkey",
    )
}

/// The error for [`Outcome::Wrong`].
pub fn wrong() -> Error {
    Error::unauthorized(
        "invalid_second_factor",
        "That code is wrong or was already used",
    )
}

/// The sealed secret of `user_id` opened, or a clear refusal when it
/// cannot be (sealed under an earlier `SECRET_KEY`).
pub fn open_secret(
    state: &AppState,
    user_id: i64,
    sealed: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    secret::open(state.keys.totp_seal(), user_id, sealed).map_err(|e| {
        tracing::warn!(user_id, "{e:#}");
        Error::forbidden(
            "second_factor_unreadable",
            "Your two-factor secret cannot be read on this server; ask an administrator to reset your two-factor sign-in",
        )
    })
}

/// Checks `offered` against `user_id`'s enabled credential, using up the
/// code when it is right.
pub async fn check(state: &AppState, user_id: i64, offered: &Offered) -> Result<Outcome, Error> {
    let Some(credential) = store::credential(&state.db, user_id).await? else {
        return Ok(Outcome::NotEnrolled);
    };
    if credential.enabled_at.is_none() {
        return Ok(Outcome::NotEnrolled);
    }
    if let Some(assertion) = &offered.passkey {
        return Ok(
            if passkey::second_factor(state, user_id, assertion).await? {
                Outcome::Passed
            } else {
                Outcome::Wrong
            },
        );
    }
    if let Some(code) = offered.totp_code.as_deref() {
        let secret = open_secret(state, user_id, &credential.secret_sealed)?;
        let Some(step) = totp::matched_step(&secret, code, totp::now_secs()) else {
            return Ok(Outcome::Wrong);
        };
        return Ok(if store::accept_step(&state.db, user_id, step).await? {
            Outcome::Passed
        } else {
            Outcome::Wrong
        });
    }
    if let Some(code) = offered.recovery_code.as_deref() {
        let Some(code) = recovery::normalize(code) else {
            return Ok(Outcome::Wrong);
        };
        let hash = state.keys.recovery_code_hash(user_id, &code);
        return Ok(
            if store::use_recovery_code(&state.db, user_id, &hash).await? {
                tracing::info!(user_id, "recovery code used");
                Outcome::Passed
            } else {
                Outcome::Wrong
            },
        );
    }
    Ok(Outcome::Missing)
}
