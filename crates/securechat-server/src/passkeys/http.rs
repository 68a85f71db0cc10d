//! `/api/auth/passkeys`: the account page's passkeys — listing, adding
//! (a WebAuthn registration, begun with the current password) and
//! removing.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

use super::ceremony::{self, Purpose};
use super::rp::Origin;
use super::store;
use crate::auth::AuthUser;
use crate::auth::reauth::Reauth;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// Passkeys one account may have.
pub const MAX_PER_USER: i64 = 20;
/// Longest passkey name, in characters.
const NAME_MAX: usize = 64;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(register_begin))
        .routes(routes!(register_finish))
        .routes(routes!(remove))
}

/// A passkey as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct PasskeyView {
    pub id: i64,
    /// The name given when it was added.
    pub name: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Last sign-in with it (RFC 3339), `null` if never.
    pub last_used_at: Option<String>,
}

impl From<store::Listed> for PasskeyView {
    fn from(row: store::Listed) -> Self {
        Self {
            id: row.id,
            name: row.name,
            created_at: rfc3339(row.created_at),
            last_used_at: row.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyList {
    pub success: bool,
    /// Oldest first; at most 20, so there is no next page.
    pub passkeys: Vec<PasskeyView>,
}

/// The signed-in person's passkeys.
#[utoipa::path(get, path = "/api/auth/passkeys", operation_id = "list_passkeys", tag = "auth",
    responses((status = 200, body = PasskeyList), (status = 401, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<PasskeyList>, Error> {
    let passkeys = store::list(&state.db, user.id).await?;
    Ok(axum::Json(PasskeyList {
        success: true,
        passkeys: passkeys.into_iter().map(PasskeyView::from).collect(),
    }))
}

/// The current password, as for other changes to how one signs in.
#[derive(Deserialize, ToSchema)]
pub struct RegisterBegin {
    #[schema(max_length = 1024)]
    pub password: String,
}

/// A challenge and the options to hand to the browser.
#[derive(Serialize, ToSchema)]
pub struct Challenge {
    pub success: bool,
    /// Name it in the answer; it works once, for 5 minutes.
    pub challenge_id: String,
    /// `CredentialCreationOptions` or `CredentialRequestOptions` for
    /// `navigator.credentials`, binary fields base64url-encoded.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// Starts adding a passkey, confirmed with the current password (a
/// failure counts against the account's login throttle). The passkey is
/// asked to be discoverable, so it can sign in without a username.
#[utoipa::path(post, path = "/api/auth/passkeys/register/begin", operation_id = "passkey_register_begin", tag = "auth",
    request_body = RegisterBegin,
    responses(
        (status = 200, body = Challenge),
        (status = 401, body = ErrorBody, description = "Not signed in, or a wrong password (`invalid_credentials`)"),
        (status = 409, body = ErrorBody, description = "The account has 20 passkeys (`too_many_passkeys`)"),
        (status = 422, body = ErrorBody, description = "The site is reached by an IP address (`passkeys_unavailable`)"),
        (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "Too busy checking passwords; see `Retry-After`"),
    ))]
async fn register_begin(
    State(state): State<AppState>,
    user: AuthUser,
    Origin(origin): Origin,
    ApiJson(body): ApiJson<RegisterBegin>,
) -> Result<axum::Json<Challenge>, Error> {
    if body.password.len() > crate::auth::validate::PASSWORD_MAX {
        return Err(Error::unauthorized(
            "invalid_credentials",
            "The current password is wrong",
        ));
    }
    Reauth::start(&state, &user.username)
        .await?
        .password(&state, user.id, body.password)
        .await?
        .passed(&state)
        .await?;
    let existing = store::of_user(&state.db, user.id).await?;
    if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= MAX_PER_USER {
        return Err(too_many());
    }
    let handle = match store::user_handle(&state.db, user.id).await? {
        Some(bytes) => Uuid::from_slice(&bytes).unwrap_or_else(|_| Uuid::new_v4()),
        None => Uuid::new_v4(),
    };
    let exclude = existing
        .iter()
        .filter_map(|p| serde_json::from_str::<webauthn_rs::prelude::Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect::<Vec<_>>();
    let party = super::rp::party(&origin)?;
    let (options, registration) = party
        .start_passkey_registration(handle, &user.username, &user.username, Some(exclude))
        .map_err(|e| Error::Internal(anyhow::anyhow!("starting a passkey registration: {e}")))?;
    let mut options = serde_json::to_value(options).map_err(|e| Error::Internal(e.into()))?;
    // webauthn-rs asks for a non-resident credential; a discoverable one
    // is what lets the passkey sign in without a username. "preferred"
    // still accepts security keys that cannot store one (they work as a
    // second factor).
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = "preferred".into();
    }
    let owner = ceremony::user_owner(user.id);
    let challenge_id = ceremony::keep(
        &state,
        &owner,
        Purpose::Register,
        Some(user.id),
        &origin,
        Registration {
            handle,
            state: registration,
        },
    )
    .await?;
    Ok(axum::Json(Challenge {
        success: true,
        challenge_id,
        options,
    }))
}

/// A registration under way: webauthn-rs's state, and the user handle the
/// passkey is made with (stored with it, and checked against the handle
/// the authenticator returns at password-less sign-in).
#[derive(Serialize, Deserialize)]
struct Registration {
    handle: Uuid,
    state: PasskeyRegistration,
}

fn too_many() -> Error {
    Error::conflict(
        "too_many_passkeys",
        format!("An account holds at most {MAX_PER_USER} passkeys; remove one first"),
    )
}

/// The authenticator's answer to a registration challenge.
#[derive(Deserialize, ToSchema)]
pub struct RegisterFinish {
    #[schema(max_length = 64)]
    pub challenge_id: String,
    /// 1-64 characters, to tell one's passkeys apart (default "Passkey").
    #[schema(max_length = 64)]
    #[serde(default)]
    pub name: Option<String>,
    /// What `navigator.credentials.create()` returned, binary fields
    /// base64url-encoded (`PublicKeyCredential.toJSON()`).
    #[schema(value_type = Object)]
    pub credential: RegisterPublicKeyCredential,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    pub success: bool,
    pub passkey: PasskeyView,
}

/// Adds the passkey that answered a registration challenge.
#[utoipa::path(post, path = "/api/auth/passkeys/register/finish", operation_id = "passkey_register_finish", tag = "auth",
    request_body = RegisterFinish,
    responses(
        (status = 201, body = Registered),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already registered (`passkey_already_registered`), or 20 passkeys (`too_many_passkeys`)"),
        (status = 422, body = ErrorBody, description = "An unknown, used or expired challenge, or an answer that does not verify (`invalid_passkey_registration`); a bad name (`invalid_name`)"),
    ))]
async fn register_finish(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<RegisterFinish>,
) -> Result<(StatusCode, axum::Json<Registered>), Error> {
    let name = match body.name.as_deref().map(str::trim) {
        None | Some("") => "Passkey".to_owned(),
        Some(name) if name.chars().count() <= NAME_MAX && !name.chars().any(char::is_control) => {
            name.to_owned()
        }
        Some(_) => {
            return Err(Error::unprocessable(
                "invalid_name",
                format!("A passkey's name is 1-{NAME_MAX} characters, without control characters"),
            ));
        }
    };
    let taken = ceremony::take::<Registration>(&state, &body.challenge_id, Purpose::Register)
        .await?
        .filter(|t| t.user_id == Some(user.id));
    let verified = taken.and_then(|t| {
        t.party
            .finish_passkey_registration(&body.credential, &t.state.state)
            .inspect_err(
                |e| tracing::info!(user_id = user.id, error = %e, "passkey registration refused"),
            )
            .ok()
            .map(|passkey| (passkey, t.state.handle))
    });
    let Some((passkey, handle)) = verified else {
        return Err(Error::unprocessable(
            "invalid_passkey_registration",
            "The passkey could not be added: the request expired or the authenticator's answer did not verify; try again",
        ));
    };
    let json = serde_json::to_string(&passkey).map_err(|e| Error::Internal(e.into()))?;
    let now = now_ms();
    let new = store::NewPasskey {
        user_id: user.id,
        credential_id: passkey.cred_id().as_ref(),
        user_handle: handle.as_bytes(),
        name: &name,
        passkey: &json,
        sign_count: 0,
        now,
    };
    let id = match store::insert(&state.db, &new, MAX_PER_USER).await {
        Ok(Some(id)) => id,
        Ok(None) => return Err(too_many()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(Error::conflict(
                "passkey_already_registered",
                "That passkey is already registered",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user_id = user.id, passkey_id = id, "passkey added");
    Ok((
        StatusCode::CREATED,
        axum::Json(Registered {
            success: true,
            passkey: PasskeyView {
                id,
                name,
                created_at: rfc3339(now),
                last_used_at: None,
            },
        }),
    ))
}

/// Removes one of the signed-in person's passkeys; it no longer signs in,
/// even with a challenge it was asked before.
#[utoipa::path(delete, path = "/api/auth/passkeys/{id}", operation_id = "delete_passkey", tag = "auth",
    params(("id" = i64, Path, description = "Passkey id")),
    responses(
        (status = 200, body = Success),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such passkey of this account (`passkey_not_found`)"),
    ))]
async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    if !store::delete(&state.db, user.id, id).await? {
        return Err(Error::not_found(
            "passkey_not_found",
            "No such passkey on your account",
        ));
    }
    tracing::info!(user_id = user.id, passkey_id = id, "passkey removed");
    Ok(axum::Json(Success::new()))
}
