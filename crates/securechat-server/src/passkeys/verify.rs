//! Checking a passkey's answer (an assertion) to a challenge: its
//! signature by webauthn-rs against the stored public key, then the
//! counter recorded in the write that accepts it (`store::record_use`).
//! A challenge answered once, a passkey removed since the challenge, a
//! credential of another account, or a counter that went backwards are
//! all refused alike.

use serde::Deserialize;
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PublicKeyCredential,
};

use super::ceremony::{self, Purpose};
use super::store::{self, StoredPasskey};
use crate::error::Error;
use crate::state::AppState;
use crate::storage::now_ms;

/// A passkey's answer to a challenge from `/api/auth/passkeys/*/begin`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Assertion {
    /// The `challenge_id` the challenge came with.
    #[schema(max_length = 64)]
    pub challenge_id: String,
    /// What `navigator.credentials.get()` returned, its binary fields
    /// base64url-encoded (`PublicKeyCredential.toJSON()`). Read only once
    /// the challenge is taken: a malformed one is a wrong answer (and
    /// counted as one), not a malformed request.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

impl Assertion {
    fn parsed(&self) -> Option<PublicKeyCredential> {
        serde_json::from_value(self.credential.clone()).ok()
    }
}

/// The refusal for a wrong, used or unknown passkey answer.
pub fn wrong() -> Error {
    Error::unauthorized(
        "invalid_passkey",
        "That passkey was not accepted: it is not registered to this account, was removed, or the request expired; try again",
    )
}

/// Checks `assertion` as `user_id`'s second factor (a challenge from
/// `second-factor/begin`). `Ok(false)` for any wrong answer.
pub async fn second_factor(
    state: &AppState,
    user_id: i64,
    assertion: &Assertion,
) -> Result<bool, Error> {
    let Some(taken) = ceremony::take::<PasskeyAuthentication>(
        state,
        &assertion.challenge_id,
        Purpose::SecondFactor,
    )
    .await?
    else {
        return Ok(false);
    };
    if taken.user_id != Some(user_id) {
        return Ok(false);
    }
    let Some(credential) = assertion.parsed() else {
        return Ok(false);
    };
    let Some(stored) = store::by_credential(&state.db, credential.raw_id.as_ref()).await? else {
        return Ok(false);
    };
    if stored.user_id != user_id {
        return Ok(false);
    }
    let Ok(result) = taken
        .party
        .finish_passkey_authentication(&credential, &taken.state)
    else {
        return Ok(false);
    };
    accept(state, &stored, &result).await
}

/// The passkey a password-less answer names, found before its signature
/// is checked so the attempt can be counted against its account.
pub struct Named {
    pub stored: StoredPasskey,
    credential: PublicKeyCredential,
    taken: ceremony::Taken<DiscoverableAuthentication>,
}

/// Takes the sign-in challenge `assertion` answers and finds the passkey
/// it names (by credential id and user handle). `None` for an unknown,
/// used or expired challenge, or a credential nobody registered.
pub async fn named(state: &AppState, assertion: &Assertion) -> Result<Option<Named>, Error> {
    let Some(taken) = ceremony::take::<DiscoverableAuthentication>(
        state,
        &assertion.challenge_id,
        Purpose::SignIn,
    )
    .await?
    else {
        return Ok(None);
    };
    let Some(credential) = assertion.parsed() else {
        return Ok(None);
    };
    let Ok((handle, credential_id)) = taken
        .party
        .identify_discoverable_authentication(&credential)
    else {
        return Ok(None);
    };
    let Some(stored) = store::by_credential(&state.db, credential_id).await? else {
        return Ok(None);
    };
    if stored.user_handle != handle.as_bytes() {
        return Ok(None);
    }
    Ok(Some(Named {
        stored,
        credential,
        taken,
    }))
}

/// Checks the signature of a password-less answer against the passkey it
/// named; `Ok(false)` when it is wrong.
pub async fn sign_in(state: &AppState, named: Named) -> Result<bool, Error> {
    let Some(passkey) = parse(&named.stored) else {
        return Ok(false);
    };
    let key = DiscoverableKey::from(&passkey);
    let Ok(result) = named.taken.party.finish_discoverable_authentication(
        &named.credential,
        named.taken.state,
        &[key],
    ) else {
        return Ok(false);
    };
    accept(state, &named.stored, &result).await
}

fn parse(stored: &StoredPasskey) -> Option<Passkey> {
    serde_json::from_str(&stored.passkey)
        .inspect_err(|e| tracing::warn!(passkey_id = stored.id, error = %e, "unreadable passkey"))
        .ok()
}

/// Records a verified assertion, which succeeds only while the passkey
/// still exists and its counter moves forward.
async fn accept(
    state: &AppState,
    stored: &StoredPasskey,
    result: &AuthenticationResult,
) -> Result<bool, Error> {
    let Some(mut passkey) = parse(stored) else {
        return Ok(false);
    };
    passkey.update_credential(result);
    let json = serde_json::to_string(&passkey).map_err(|e| Error::Internal(e.into()))?;
    let accepted = store::record_use(
        &state.db,
        stored.id,
        &json,
        i64::from(result.counter()),
        now_ms(),
    )
    .await?;
    if accepted {
        tracing::info!(
            user_id = stored.user_id,
            passkey_id = stored.id,
            "passkey used"
        );
    }
    Ok(accepted)
}
