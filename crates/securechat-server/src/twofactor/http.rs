//! `/api/auth/2fa/*`: the account page's two-factor settings — status,
//! TOTP setup and enabling, turning it off, new recovery codes. All of it
//! is open to a person the policy holds at enrolment ([`EnrollingUser`]).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::verify::{self, Offered, Outcome};
use super::{recovery, secret, store, totp};
use crate::auth::reauth::Reauth;
use crate::auth::session::EnrollingUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, Success};
use crate::state::AppState;
use crate::storage::now_ms;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(setup))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(new_recovery_codes))
}

#[derive(Serialize, ToSchema)]
pub struct TwoFactorStatus {
    pub success: bool,
    /// TOTP is on: sign-in asks for a code.
    pub totp_enabled: bool,
    /// Unused recovery codes (0 when TOTP is off).
    pub recovery_codes_left: i64,
    /// The site's policy (`TWO_FACTOR_REQUIRED`) covers this person.
    pub required: bool,
    /// Covered and not enrolled: only enrolment is open until TOTP is on.
    pub enrolment_required: bool,
}

/// The signed-in person's two-factor settings.
#[utoipa::path(get, path = "/api/auth/2fa", operation_id = "two_factor_status", tag = "auth",
    responses(
        (status = 200, body = TwoFactorStatus),
        (status = 401, body = ErrorBody),
    ))]
async fn status(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<axum::Json<TwoFactorStatus>, Error> {
    let (totp_enabled, recovery_codes_left) = store::status(&state.db, user.id).await?;
    Ok(axum::Json(TwoFactorStatus {
        success: true,
        totp_enabled,
        recovery_codes_left,
        required: state.two_factor.covers(user.is_admin),
        enrolment_required: user.must_enrol(state.two_factor),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SetupResponse {
    pub success: bool,
    /// The secret in base32, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/Securechat:NAME?secret=…&issuer=Securechat`, for a QR code.
    pub otpauth_uri: String,
}

/// Makes a new TOTP secret for the account, not yet in force: it is turned
/// on by `POST /api/auth/2fa/totp/enable` with a code from it. Another
/// setup before that replaces it.
#[utoipa::path(post, path = "/api/auth/2fa/totp/setup", operation_id = "totp_setup", tag = "auth",
    responses(
        (status = 200, body = SetupResponse),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "TOTP is already on (`totp_already_enabled`)"),
    ))]
async fn setup(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<axum::Json<SetupResponse>, Error> {
    let new = totp::new_secret();
    let sealed = secret::seal(state.keys.totp_seal(), user.id, &new[..])?;
    if !store::set_pending(&state.db, user.id, &sealed, now_ms()).await? {
        return Err(already_enabled());
    }
    let (text, uri) = totp::enrolment(&new[..], &user.username)?;
    tracing::info!(user_id = user.id, "TOTP set up, not yet enabled");
    Ok(axum::Json(SetupResponse {
        success: true,
        secret: text,
        otpauth_uri: uri,
    }))
}

fn already_enabled() -> Error {
    Error::conflict(
        "totp_already_enabled",
        "Two-factor sign-in is already on; turn it off first to set it up again",
    )
}

/// A code from the authenticator app.
#[derive(Deserialize, ToSchema)]
pub struct EnableBody {
    #[schema(pattern = "^[0-9]{6}$", max_length = 6)]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub success: bool,
    /// Ten one-time codes, shown this once; the server keeps only hashes.
    pub recovery_codes: Vec<String>,
}

/// Turns TOTP on with a code from the secret of the last setup; answers
/// the recovery codes, once.
#[utoipa::path(post, path = "/api/auth/2fa/totp/enable", operation_id = "totp_enable", tag = "auth",
    request_body = EnableBody,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No setup to confirm (`totp_not_set_up`), or TOTP is already on (`totp_already_enabled`)"),
        (status = 422, body = ErrorBody, description = "Wrong code (`invalid_totp_code`)"),
    ))]
async fn enable(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
    ApiJson(body): ApiJson<EnableBody>,
) -> Result<axum::Json<RecoveryCodes>, Error> {
    let Some(credential) = store::credential(&state.db, user.id).await? else {
        return Err(Error::conflict(
            "totp_not_set_up",
            "Set up two-factor sign-in first",
        ));
    };
    if credential.enabled_at.is_some() {
        return Err(already_enabled());
    }
    let secret = verify::open_secret(&state, user.id, &credential.secret_sealed)?;
    let Some(step) = totp::matched_step(&secret, &body.code, totp::now_secs()) else {
        return Err(Error::unprocessable(
            "invalid_totp_code",
            "That code is wrong: check the app's clock and enter the current code",
        ));
    };
    let (codes, hashes) = new_codes(&state, user.id);
    if !store::enable(&state.db, user.id, step, &hashes, now_ms()).await? {
        return Err(already_enabled());
    }
    tracing::info!(user_id = user.id, "TOTP enabled");
    Ok(axum::Json(RecoveryCodes {
        success: true,
        recovery_codes: codes,
    }))
}

/// Fresh recovery codes and the hashes they are stored as.
fn new_codes(state: &AppState, user_id: i64) -> (Vec<String>, Vec<Vec<u8>>) {
    recovery::generate()
        .into_iter()
        .map(|code| {
            let plain = recovery::normalize(&code).unwrap_or_default();
            let hash = state.keys.recovery_code_hash(user_id, &plain);
            (code.to_string(), hash)
        })
        .unzip()
}

/// The current password and a second factor.
#[derive(Deserialize, ToSchema)]
pub struct DisableBody {
    #[schema(max_length = 1024)]
    pub password: String,
    #[serde(flatten)]
    pub second_factor: Offered,
}

/// Turns TOTP off (and deletes the recovery codes), confirmed with the
/// password and a current code or a recovery code. Failures count against
/// the account's login throttle.
#[utoipa::path(post, path = "/api/auth/2fa/totp/disable", operation_id = "totp_disable", tag = "auth",
    request_body = DisableBody,
    responses(
        (status = 200, body = Success),
        (status = 401, body = ErrorBody, description = "Wrong password (`invalid_credentials`) or code (`invalid_second_factor`), or no code (`second_factor_required`)"),
        (status = 409, body = ErrorBody, description = "TOTP is not on (`totp_not_enabled`)"),
        (status = 429, body = ErrorBody),
    ))]
async fn disable(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
    ApiJson(body): ApiJson<DisableBody>,
) -> Result<axum::Json<Success>, Error> {
    if body.password.len() > crate::auth::validate::PASSWORD_MAX {
        return Err(Error::unauthorized(
            "invalid_credentials",
            "The current password is wrong",
        ));
    }
    let attempt = Reauth::start(&state, &user.username)
        .await?
        .password(&state, user.id, body.password)
        .await?;
    confirm(&state, user.id, &body.second_factor, attempt).await?;
    store::remove(&state.db, user.id).await?;
    tracing::info!(user_id = user.id, "TOTP disabled");
    Ok(axum::Json(Success::new()))
}

/// Replaces the recovery codes, confirmed with a current TOTP code (or a
/// recovery code). Failures count against the account's login throttle.
#[utoipa::path(post, path = "/api/auth/2fa/recovery-codes", operation_id = "new_recovery_codes", tag = "auth",
    request_body = Offered,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, body = ErrorBody, description = "Wrong code (`invalid_second_factor`), or none (`second_factor_required`)"),
        (status = 409, body = ErrorBody, description = "TOTP is not on (`totp_not_enabled`)"),
        (status = 429, body = ErrorBody),
    ))]
async fn new_recovery_codes(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
    ApiJson(body): ApiJson<Offered>,
) -> Result<axum::Json<RecoveryCodes>, Error> {
    let attempt = Reauth::start(&state, &user.username).await?;
    confirm(&state, user.id, &body, attempt).await?;
    let (codes, hashes) = new_codes(&state, user.id);
    store::replace_recovery_codes(&state.db, user.id, &hashes).await?;
    tracing::info!(user_id = user.id, "new recovery codes");
    Ok(axum::Json(RecoveryCodes {
        success: true,
        recovery_codes: codes,
    }))
}

/// Checks the second factor of a counted attempt, ending it.
async fn confirm(
    state: &AppState,
    user_id: i64,
    offered: &Offered,
    attempt: Reauth,
) -> Result<(), Error> {
    match verify::check(state, user_id, offered).await {
        Ok(Outcome::Passed) => attempt.passed(state).await,
        Ok(Outcome::Wrong) => {
            attempt.failed(state).await?;
            Err(verify::wrong())
        }
        Ok(Outcome::Missing) => {
            attempt.passed(state).await?;
            Err(verify::required())
        }
        Ok(Outcome::NotEnrolled) => {
            attempt.passed(state).await?;
            Err(Error::conflict(
                "totp_not_enabled",
                "Two-factor sign-in is not on",
            ))
        }
        Err(e) => {
            attempt.passed(state).await?;
            Err(e)
        }
    }
}
