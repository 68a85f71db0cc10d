//! `/api/auth/*`: register, log in and out, who am I, change password.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use super::password::Priority;
use super::reauth::Reauth;
use super::session::{self, AuthUser, ClientAddress, EnrollingUser};
use super::signin::{self, LoginResponse};
use super::store::{self, NameClash, User};
use super::throttle::{self, Scope};
use super::validate;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, Success};
use crate::profiles::view::ProfileView;
use crate::rooms::events::RoomEvent;
use crate::rooms::model::Role;
use crate::state::AppState;
use crate::storage::now_ms;
use crate::twofactor::verify::{self, Offered, Outcome};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

/// Username and password.
#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    /// 3-32 letters, digits, `_`, `.` or `-`; unique regardless of case.
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    pub password: String,
    /// The token of an invitation link (`/register?invite=TOKEN`):
    /// required when the registration mode is `invite_only`, used once
    /// whenever given.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub invite: Option<String>,
}

/// Who was just created.
#[derive(Serialize, ToSchema)]
pub struct NewUser {
    pub id: i64,
    pub username: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterResponse {
    pub success: bool,
    pub user: NewUser,
}

/// Creates an account.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 201, body = RegisterResponse, description = "Account created"),
        (status = 403, body = ErrorBody, description = "Registration is closed (`registration_closed`), needs an invitation (`invite_required`), or the invitation is unknown, expired, revoked or used up (`invalid_invite`)"),
        (status = 409, body = ErrorBody, description = "Username taken in any letter case (`username_taken`), or one that looks like it is (`username_confusable`)"),
        (status = 422, body = ErrorBody, description = "Invalid username (`invalid_username`), or a password too easy to guess or equal to the username (`weak_password`)"),
        (status = 429, body = ErrorBody, description = "Too many registrations from this address; see `Retry-After`"),
        (status = 503, body = ErrorBody, description = "Too busy checking passwords; see `Retry-After`"),
    ))]
async fn register(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<impl IntoResponse, Error> {
    let invite = crate::admin::users::admission(&state, body.invite.as_deref()).await?;
    validate::username(&body.username)?;
    validate::new_password(&body.password, &body.username, None)?;
    if let Some(limit) = state.register_limit {
        // Counted before the hash, taken or not: a script creating
        // accounts (or probing names) from one address is slowed down.
        let scope = Scope::registrations(&state.keys, &address, limit);
        throttle::reserve(&state.db, &[&scope], now_ms()).await?;
    }
    let hash = state
        .hasher
        .hash(Priority::Anonymous, Zeroizing::new(body.password))
        .await?;
    let inserted = store::insert_user(
        &state.db,
        &body.username,
        &hash,
        false,
        now_ms(),
        &state.default_rooms,
        invite.as_deref(),
    )
    .await;
    let (user, joined) = match inserted {
        Ok(inserted) => inserted,
        Err(sqlx::Error::RowNotFound) => return Err(crate::admin::users::invalid_invite()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(match store::name_clash(&state.db, &body.username).await? {
                NameClash::Taken => {
                    Error::conflict("username_taken", "That username is taken; choose another")
                }
                NameClash::LooksLike(twin) => Error::conflict(
                    "username_confusable",
                    format!(
                        "That username looks too much like {twin:?}, which is taken; choose another"
                    ),
                ),
            });
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user_id = user.id, "account registered");
    for (room_id, rotations) in joined {
        state.events.publish(RoomEvent::MemberJoined {
            room_id,
            user_id: user.id,
            role: Role::Member,
            rotations,
        });
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(RegisterResponse {
            success: true,
            user: NewUser {
                id: user.id,
                username: user.username,
            },
        }),
    ))
}

/// Username and password, and once two-factor is on for the account, a
/// TOTP code, a recovery code or a passkey's answer.
#[derive(Deserialize, ToSchema)]
pub struct LoginCredentials {
    #[schema(max_length = 256)]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
    #[serde(flatten)]
    pub second_factor: Offered,
}

/// Logs in: sets the session cookie and returns the same token for API
/// clients. With two-factor on, a right password alone answers 401
/// `second_factor_required` and starts no session; send it again with
/// `totp_code`, `recovery_code` or `passkey` (an answer to a challenge from
/// `POST /api/auth/passkeys/second-factor/begin`).
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = LoginCredentials,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; `Set-Cookie` carries the session"),
        (status = 401, body = ErrorBody, description = "Wrong username or password (`invalid_credentials`), a second factor needed (`second_factor_required`) or a wrong or used one (`invalid_second_factor`)"),
        (status = 403, body = ErrorBody, description = "Account disabled"),
        (status = 429, body = ErrorBody, description = "Too many failures; see `Retry-After`"),
        (status = 503, body = ErrorBody, description = "Too busy checking passwords; see `Retry-After`"),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<LoginCredentials>,
) -> Result<Response, Error> {
    let (row, attempt) =
        signin::password(&state, &headers, &address, &body.username, body.password).await?;
    let outcome = match verify::check(&state, row.id, &body.second_factor).await {
        Ok(outcome) => outcome,
        Err(e) => {
            // No code was judged: not a guess.
            attempt.given_back(&state).await?;
            return Err(e);
        }
    };
    match outcome {
        Outcome::NotEnrolled | Outcome::Passed => {}
        Outcome::Missing => {
            // Not a guess, but not a sign-in either: the attempt is given
            // back and earlier failures stay counted, so a known password
            // does not buy fresh guesses at the code.
            attempt.given_back(&state).await?;
            return Err(verify::required());
        }
        Outcome::Wrong => {
            attempt.failed(&state).await?;
            return Err(verify::wrong());
        }
    }
    let enrolment_required =
        outcome == Outcome::NotEnrolled && state.two_factor.covers(row.is_admin);
    signin::start_session(&state, attempt, &row, enrolment_required).await
}

/// Ends this session and clears the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses(
        (status = 200, body = Success),
        (status = 401, body = ErrorBody),
    ))]
async fn logout(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<impl IntoResponse, Error> {
    store::delete_session(&state.db, &user.session_hash).await?;
    state.notify.sessions_ended(user.id);
    Ok((
        AppendHeaders([(header::SET_COOKIE, session::clear_cookie(&state.web))]),
        axum::Json(Success::new()),
    ))
}

/// Ends every session of this user, on every device.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth",
    responses(
        (status = 200, body = Success),
        (status = 401, body = ErrorBody),
    ))]
async fn logout_all(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<impl IntoResponse, Error> {
    let ended = store::delete_user_sessions(&state.db, user.id).await?;
    state.notify.sessions_ended(user.id);
    tracing::info!(user_id = user.id, sessions = ended, "logged out everywhere");
    Ok((
        AppendHeaders([(header::SET_COOKIE, session::clear_cookie(&state.web))]),
        axum::Json(Success::new()),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub success: bool,
    pub user: User,
    /// As at login: until TOTP is on, only enrolment is open.
    pub second_factor_enrolment_required: bool,
    /// Display name, status, availability and avatar.
    pub profile: ProfileView,
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses(
        (status = 200, body = MeResponse),
        (status = 401, body = ErrorBody),
    ))]
async fn me(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<axum::Json<MeResponse>, Error> {
    let profile = crate::profiles::store::get(&state.db, user.id).await?;
    Ok(axum::Json(MeResponse {
        success: true,
        second_factor_enrolment_required: user.must_enrol(state.two_factor),
        user: user.to_user(),
        profile: ProfileView::of(&profile, now_ms()),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 8 characters, hard to guess (zxcvbn score 3 or more), not
    /// the username and not the current password.
    pub new_password: String,
}

/// Changes the password and ends every other session of this user.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 200, body = Success),
        (status = 401, body = ErrorBody, description = "Not signed in, or wrong current password"),
        (status = 422, body = ErrorBody, description = "New password too easy to guess or the username (`weak_password`), the current one (`same_password`), or malformed (`invalid_password`)"),
        (status = 429, body = ErrorBody),
    ))]
async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<axum::Json<Success>, Error> {
    validate::new_password(
        &body.new_password,
        &user.username,
        Some(&body.current_password),
    )?;
    Reauth::start(&state, &user.username)
        .await?
        .password(&state, user.id, body.current_password)
        .await?
        .passed(&state)
        .await?;
    let now = now_ms();
    let hash = state
        .hasher
        .hash(Priority::Session, Zeroizing::new(body.new_password))
        .await?;
    store::set_password(&state.db, user.id, &hash, now, Some(&user.session_hash)).await?;
    state.notify.sessions_ended(user.id);
    tracing::info!(user_id = user.id, "password changed; other sessions ended");
    Ok(axum::Json(Success::new()))
}
