//! WebAuthn challenges kept on the server. webauthn-rs hands back a state
//! for each ceremony that must not travel through the client (it would let
//! the client choose its own challenge); it is stored here under a random
//! id, with the relying party's origin, for [`TTL`]. Each owner (a person,
//! or for password-less sign-in a client address) keeps at most [`KEEP`],
//! and a challenge is taken by deleting it, so it is answered once.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::Webauthn;

use super::{rp, store};
use crate::error::Error;
use crate::state::AppState;
use crate::storage::now_ms;

/// How long a challenge may be answered: webauthn-rs's own timeout for
/// the authenticator.
pub const TTL: Duration = webauthn_rs::DEFAULT_AUTHENTICATOR_TIMEOUT;
/// Challenges one owner may have under way; a newer one drops the oldest.
pub const KEEP: i64 = 5;
/// Longest challenge id accepted (ids are 43 characters).
const ID_MAX: usize = 64;

/// What a challenge is for; an answer to one kind is not taken as another.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    Register,
    SecondFactor,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SecondFactor => "second_factor",
            Self::SignIn => "sign_in",
        }
    }
}

/// The stored form: the relying party's origin and webauthn-rs's state.
#[derive(Serialize, Deserialize)]
struct Kept<T> {
    origin: String,
    state: T,
}

/// A taken challenge, ready for checking the answer.
pub struct Taken<T> {
    /// Whom it was made for (`None`: a password-less sign-in).
    pub user_id: Option<i64>,
    /// webauthn-rs for the relying party that made it.
    pub party: Webauthn,
    pub state: T,
}

/// The owner of a signed-in person's challenges.
pub fn user_owner(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// The owner of password-less challenges from `address`: a keyed hash, so
/// the table holds no addresses.
pub fn address_owner(state: &AppState, address: &str) -> String {
    let hash = state.keys.throttle_key(&format!("passkey:{address}"));
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("addr:{hex}")
}

/// Keeps `ceremony` (webauthn-rs's state for a challenge just made for
/// `origin`) and returns the id the answer must name.
pub async fn keep<T: Serialize>(
    state: &AppState,
    owner: &str,
    purpose: Purpose,
    user_id: Option<i64>,
    origin: &str,
    ceremony: T,
) -> Result<String, Error> {
    let kept = serde_json::to_string(&Kept {
        origin: origin.to_owned(),
        state: ceremony,
    })
    .map_err(|e| Error::Internal(e.into()))?;
    let id = crate::auth::token::new_token();
    let now = now_ms();
    let ttl = i64::try_from(TTL.as_millis()).unwrap_or(300_000);
    store::put_challenge(
        &state.db,
        &store::NewChallenge {
            id: &id,
            owner,
            purpose: purpose.as_str(),
            user_id,
            state: &kept,
            now,
            expires_at: now + ttl,
        },
        KEEP,
    )
    .await?;
    Ok(id.to_string())
}

/// Takes the challenge `id` made for `purpose`, once. `None` when there is
/// none (never made, already answered, dropped for newer ones, another
/// purpose) or it expired.
pub async fn take<T: DeserializeOwned>(
    state: &AppState,
    id: &str,
    purpose: Purpose,
) -> Result<Option<Taken<T>>, Error> {
    if id.is_empty() || id.len() > ID_MAX {
        return Ok(None);
    }
    let Some(row) = store::take_challenge(&state.db, id, purpose.as_str()).await? else {
        return Ok(None);
    };
    if row.expires_at <= now_ms() {
        return Ok(None);
    }
    let kept: Kept<T> = match serde_json::from_str(&row.state) {
        Ok(kept) => kept,
        Err(e) => {
            // Written by another version of the server: ask again.
            tracing::warn!(error = %e, "unreadable WebAuthn challenge state");
            return Ok(None);
        }
    };
    let party = rp::party(&kept.origin)?;
    Ok(Some(Taken {
        user_id: row.user_id,
        party,
        state: kept.state,
    }))
}
