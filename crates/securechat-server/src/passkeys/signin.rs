//! Signing in with a passkey: password-less (`sign-in/begin`, then
//! `sign-in/finish` starts the session), and as the second factor of a
//! password sign-in (`second-factor/begin` asks for the password again
//! and answers a challenge for the account's passkeys; the assertion then
//! goes to `POST /api/auth/login` as `passkey`).
//!
//! Every attempt is counted against the login throttle like a password:
//! a password-less one against the client address, and once the passkey
//! it names is found, against that account too; a wrong answer keeps both
//! counted and can lock them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use webauthn_rs::prelude::Passkey;

use super::ceremony::{self, Purpose};
use super::http::Challenge;
use super::rp::{self, Origin};
use super::store;
use super::verify::{self, Assertion};
use crate::auth::session::ClientAddress;
use crate::auth::signin::{self, Attempt, LoginResponse};
use crate::auth::{store as users, validate};
use crate::error::{Error, ErrorBody};
use crate::http::ApiJson;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in_begin))
        .routes(routes!(sign_in_finish))
        .routes(routes!(second_factor_begin))
}

/// Starts a password-less sign-in: a challenge any of the site's
/// discoverable passkeys can answer (the authenticator picks the account).
#[utoipa::path(post, path = "/api/auth/passkeys/sign-in/begin", operation_id = "passkey_sign_in_begin", tag = "auth",
    responses(
        (status = 200, body = Challenge),
        (status = 422, body = ErrorBody, description = "The site is reached by an IP address (`passkeys_unavailable`)"),
    ))]
async fn sign_in_begin(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Origin(origin): Origin,
) -> Result<axum::Json<Challenge>, Error> {
    let party = rp::party(&origin)?;
    let (mut options, authentication) = party
        .start_discoverable_authentication()
        .map_err(|e| Error::Internal(anyhow::anyhow!("starting a passkey sign-in: {e}")))?;
    // webauthn-rs marks it for autofill (conditional mediation); the
    // button's sign-in is an ordinary modal one.
    options.mediation = None;
    let options = serde_json::to_value(options).map_err(|e| Error::Internal(e.into()))?;
    let owner = ceremony::address_owner(&state, &address);
    let challenge_id = ceremony::keep(
        &state,
        &owner,
        Purpose::SignIn,
        None,
        &origin,
        authentication,
    )
    .await?;
    Ok(axum::Json(Challenge {
        success: true,
        challenge_id,
        options,
    }))
}

/// Finishes a password-less sign-in: sets the session cookie and returns
/// the token, as `POST /api/auth/login` does.
#[utoipa::path(post, path = "/api/auth/passkeys/sign-in/finish", operation_id = "passkey_sign_in_finish", tag = "auth",
    request_body = Assertion,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; `Set-Cookie` carries the session"),
        (status = 401, body = ErrorBody, description = "An unknown, removed or wrong passkey, or a used or expired challenge (`invalid_passkey`)"),
        (status = 403, body = ErrorBody, description = "Account disabled"),
        (status = 429, body = ErrorBody, description = "Too many failures; see `Retry-After`"),
    ))]
async fn sign_in_finish(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<Assertion>,
) -> Result<Response, Error> {
    let attempt = Attempt::for_address(&state, &address).await?;
    let named = match verify::named(&state, &body).await {
        Ok(Some(named)) => named,
        Ok(None) => {
            attempt.failed(&state).await?;
            return Err(verify::wrong());
        }
        Err(e) => {
            attempt.given_back(&state).await?;
            return Err(e);
        }
    };
    let Some(row) = users::user_by_id(&state.db, named.stored.user_id).await? else {
        attempt.failed(&state).await?;
        return Err(verify::wrong());
    };
    let key = validate::username_key(&row.username);
    let attempt = attempt.and_account(&state, &key).await?;
    match verify::sign_in(&state, named).await {
        Ok(true) => {}
        Ok(false) => {
            attempt.failed(&state).await?;
            return Err(verify::wrong());
        }
        Err(e) => {
            attempt.given_back(&state).await?;
            return Err(e);
        }
    }
    if row.disabled {
        attempt.given_back(&state).await?;
        return Err(signin::disabled());
    }
    // A passkey with user verification is two factors by itself; the
    // policy's enrolment still asks for TOTP (and its recovery codes).
    let (totp_on, _) = crate::twofactor::store::status(&state.db, row.id).await?;
    let enrolment_required = !totp_on && state.two_factor.covers(row.is_admin);
    signin::start_session(&state, attempt, &row, enrolment_required).await
}

/// Username and password, checked as at sign-in.
#[derive(Deserialize, ToSchema)]
pub struct SecondFactorBegin {
    #[schema(max_length = 256)]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Starts a passkey second factor: with the right password (checked and
/// counted as at sign-in), a challenge for the account's passkeys. Send
/// the answer to `POST /api/auth/login` as `passkey`, with the username
/// and password.
#[utoipa::path(post, path = "/api/auth/passkeys/second-factor/begin", operation_id = "passkey_second_factor_begin", tag = "auth",
    request_body = SecondFactorBegin,
    responses(
        (status = 200, body = Challenge),
        (status = 401, body = ErrorBody, description = "Wrong username or password (`invalid_credentials`)"),
        (status = 403, body = ErrorBody, description = "Account disabled"),
        (status = 409, body = ErrorBody, description = "Two-factor sign-in is off, so no second factor is asked (`second_factor_not_needed`), or the account has no passkey (`no_passkeys`)"),
        (status = 429, body = ErrorBody, description = "Too many failures; see `Retry-After`"),
        (status = 503, body = ErrorBody, description = "Too busy checking passwords; see `Retry-After`"),
    ))]
async fn second_factor_begin(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Origin(origin): Origin,
    ApiJson(body): ApiJson<SecondFactorBegin>,
) -> Result<axum::Json<Challenge>, Error> {
    let (row, attempt) =
        signin::password(&state, &headers, &address, &body.username, body.password).await?;
    // Not a sign-in yet: the attempt is given back, and earlier failures
    // stay counted until the second factor passes.
    attempt.given_back(&state).await?;
    let (totp_on, _) = crate::twofactor::store::status(&state.db, row.id).await?;
    if !totp_on {
        return Err(Error::conflict(
            "second_factor_not_needed",
            "Two-factor sign-in is off for this account: the password alone signs in",
        ));
    }
    let passkeys: Vec<Passkey> = store::of_user(&state.db, row.id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str(&p.passkey).ok())
        .collect();
    if passkeys.is_empty() {
        return Err(Error::conflict(
            "no_passkeys",
            "This account has no passkey; enter a code instead",
        ));
    }
    let party = rp::party(&origin)?;
    let (options, authentication) = party
        .start_passkey_authentication(&passkeys)
        .map_err(|e| Error::Internal(anyhow::anyhow!("starting a passkey check: {e}")))?;
    let options = serde_json::to_value(options).map_err(|e| Error::Internal(e.into()))?;
    let owner = ceremony::user_owner(row.id);
    let challenge_id = ceremony::keep(
        &state,
        &owner,
        Purpose::SecondFactor,
        Some(row.id),
        &origin,
        authentication,
    )
    .await?;
    Ok(axum::Json(Challenge {
        success: true,
        challenge_id,
        options,
    }))
}
