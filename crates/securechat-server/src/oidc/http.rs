//! `/api/auth/options` (what the sign-in page offers) and the single
//! sign-on routes: `/api/auth/oidc/login` sends the browser to the
//! provider, `/api/auth/oidc/callback` brings it back signed in (or to the
//! sign-in page with an `sso_error` code, never an error page), and
//! `/api/auth/oidc/second-factor` takes the TOTP or recovery code of an
//! account that has two-factor sign-in on.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::flow::{self, Flow};
use super::provider::{Provider, ProviderError};
use super::{SsoError, account};
use crate::auth::session::ClientAddress;
use crate::auth::signin::{self, LoginResponse};
use crate::auth::store::{self as users, User};
use crate::auth::throttle::{self, Scope};
use crate::auth::validate;
use crate::error::{Error, ErrorBody};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::storage::now_ms;
use crate::twofactor::verify::{self, Offered, Outcome};

/// Where the web app's sign-in page is.
const LOGIN_PAGE: &str = "/login";
/// Longest authorization code and state read from the callback.
const CODE_MAX: usize = 2048;
const STATE_MAX: usize = 256;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(options))
        .routes(routes!(login))
        .routes(routes!(callback))
        .routes(routes!(second_factor))
}

#[derive(Serialize, ToSchema)]
pub struct AuthOptions {
    pub success: bool,
    /// Single sign-on is configured: the sign-in page shows its button,
    /// which opens `GET /api/auth/oidc/login`.
    pub sso_enabled: bool,
    /// The provider's name for the button (`OIDC_LABEL`); null when off.
    pub sso_label: Option<String>,
}

/// How one may sign in here, for the sign-in page.
#[utoipa::path(get, path = "/api/auth/options", operation_id = "auth_options", tag = "auth",
    responses((status = 200, body = AuthOptions)))]
async fn options(State(state): State<AppState>) -> axum::Json<AuthOptions> {
    let label = state.oidc.as_deref().map(|p| p.config().label.clone());
    axum::Json(AuthOptions {
        success: true,
        sso_enabled: label.is_some(),
        sso_label: label,
    })
}

/// A redirect, with cookies.
fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = Redirect::to(location).into_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

fn to_login_page(error: SsoError, cookies: &[String]) -> Response {
    tracing::info!(code = error.code(), "single sign-on did not complete");
    redirect(&format!("{LOGIN_PAGE}?sso_error={}", error.code()), cookies)
}

/// Starts single sign-on: redirects to the provider with a fresh state,
/// nonce and PKCE challenge, kept in a signed, HttpOnly cookie for ten
/// minutes. When sign-on is off or the provider cannot be reached, the
/// redirect goes back to the sign-in page with `sso_error`.
#[utoipa::path(get, path = "/api/auth/oidc/login", operation_id = "oidc_login", tag = "auth",
    responses(
        (status = 303, description = "To the provider (`Set-Cookie` carries the sign-in under way), or to `/login?sso_error=CODE`"),
    ))]
async fn login(State(state): State<AppState>) -> Response {
    let Some(provider) = state.oidc.as_deref() else {
        return to_login_page(SsoError::Disabled, &[]);
    };
    match provider.start().await {
        Ok(started) => {
            let flow = Flow {
                state: started.state,
                nonce: started.nonce,
                verifier: started.verifier,
                expires_at: now_ms() + flow::FLOW_TTL_MS,
            };
            redirect(
                &started.url,
                &[flow::flow_cookie(&state.web, &state.keys, &flow)],
            )
        }
        Err(e) => {
            tracing::warn!("single sign-on: {e}");
            to_login_page(SsoError::Unavailable, &[])
        }
    }
}

/// What the provider sends back.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code.
    #[param(max_length = 2048)]
    pub code: Option<String>,
    /// The state given to the provider.
    #[param(max_length = 256)]
    pub state: Option<String>,
    /// The provider's error (`access_denied`…), instead of a code.
    #[param(max_length = 256)]
    pub error: Option<String>,
}

/// How a sign-on that passed the provider ends.
enum SignedOn {
    /// A session: its cookie and the device cookie.
    Session([String; 2]),
    /// Two-factor sign-in is on: the cookie that says who owes a code.
    SecondFactor(String),
}

/// The provider's redirect back: checks the state against this browser's
/// sign-in, exchanges the code, checks the ID token, finds or creates the
/// account, and starts a session exactly as a password sign-in does (or,
/// with TOTP on, asks for a code first). Every failure redirects to the
/// sign-in page with an `sso_error` code. Counted by the login throttle of
/// the client's address.
#[utoipa::path(get, path = "/api/auth/oidc/callback", operation_id = "oidc_callback", tag = "auth",
    params(CallbackQuery),
    responses(
        (status = 303, description = "Signed in: to `/` with the session cookie; TOTP on: to `/login?sso=second_factor`; otherwise to `/login?sso_error=CODE` (`sso_disabled`, `sso_unavailable`, `sso_cancelled`, `sso_invalid_state`, `sso_refused`, `sso_domain_not_allowed`, `sso_email_unverified`, `sso_account_disabled`, `sso_throttled`, `sso_no_username`, `sso_failed`)"),
    ))]
async fn callback(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    // The sign-in under way ends here, whatever happens.
    let mut cookies = vec![flow::clear_flow(&state.web)];
    let outcome = match state.oidc.as_deref() {
        None => Err(SsoError::Disabled),
        Some(provider) => {
            let query = query.ok().map(|Query(q)| q);
            throttled(&state, provider, &address, &headers, query).await
        }
    };
    match outcome {
        Ok(SignedOn::Session(session_cookies)) => {
            cookies.extend(session_cookies);
            redirect("/", &cookies)
        }
        Ok(SignedOn::SecondFactor(cookie)) => {
            cookies.push(cookie);
            redirect(&format!("{LOGIN_PAGE}?sso=second_factor"), &cookies)
        }
        Err(e) => to_login_page(e, &cookies),
    }
}

/// [`sign_on`] under the login throttle of the client's address: a wrong
/// state or a refused code counts as a failed attempt.
async fn throttled(
    state: &AppState,
    provider: &Provider,
    address: &str,
    headers: &HeaderMap,
    query: Option<CallbackQuery>,
) -> Result<SignedOn, SsoError> {
    let Some(query) = query else {
        return Err(SsoError::InvalidState);
    };
    if query.error.is_some() {
        return Err(SsoError::Cancelled);
    }
    let now = now_ms();
    let scope = Scope::address(&state.keys, address);
    let attempts = throttle::reserve(&state.db, &[&scope], now)
        .await
        .map_err(|e| match e {
            Error::TooManyRequests { .. } => SsoError::Throttled,
            _ => SsoError::Failed,
        })?;
    let outcome = sign_on(state, provider, headers, query, now).await;
    match outcome {
        Err(SsoError::InvalidState | SsoError::Refused) => {
            throttle::fail(&state.db, &[&scope], &attempts, now).await?;
        }
        _ => throttle::succeed(&state.db, &scope).await?,
    }
    outcome
}

async fn sign_on(
    state: &AppState,
    provider: &Provider,
    headers: &HeaderMap,
    query: CallbackQuery,
    now: i64,
) -> Result<SignedOn, SsoError> {
    let flow = flow::presented_flow(headers, &state.web, &state.keys, now)
        .ok_or(SsoError::InvalidState)?;
    let (Some(code), Some(returned)) = (query.code, query.state) else {
        return Err(SsoError::InvalidState);
    };
    if code.len() > CODE_MAX
        || returned.len() > STATE_MAX
        || !bool::from(flow.state.as_bytes().ct_eq(returned.as_bytes()))
    {
        return Err(SsoError::InvalidState);
    }
    let identity = provider
        .finish(&code, &flow.verifier, &flow.nonce)
        .await
        .map_err(|e| {
            tracing::warn!("single sign-on: {e}");
            match e {
                ProviderError::Unavailable(_) => SsoError::Unavailable,
                ProviderError::Refused(_) => SsoError::Refused,
            }
        })?;
    // Only an address the provider vouches for says which domain someone
    // belongs to.
    let email = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified);
    if !provider.config().allows(email) {
        let unverified =
            !identity.email_verified && provider.config().allows(identity.email.as_deref());
        return Err(if unverified {
            SsoError::EmailUnverified
        } else {
            SsoError::DomainNotAllowed
        });
    }
    let user = account::resolve(state, &identity).await?;
    if user.disabled {
        return Err(SsoError::AccountDisabled);
    }
    let factor = verify::check(state, user.id, &Offered::default())
        .await
        .map_err(|e| {
            tracing::warn!(user_id = user.id, "single sign-on: {e}");
            SsoError::Failed
        })?;
    if factor == Outcome::Missing {
        tracing::info!(user_id = user.id, "single sign-on: second factor asked for");
        return Ok(SignedOn::SecondFactor(flow::second_factor_cookie(
            &state.web,
            &state.keys,
            user.id,
            now,
        )));
    }
    let (cookies, _) = signin::new_session(state, &user).await.map_err(|e| {
        tracing::error!(user_id = user.id, "single sign-on: {e}");
        SsoError::Failed
    })?;
    tracing::info!(user_id = user.id, "logged in with single sign-on");
    Ok(SignedOn::Session(cookies))
}

fn second_factor_expired() -> Error {
    Error::unauthorized(
        "sso_second_factor_expired",
        "Your single sign-on has expired; sign in with it again",
    )
}

/// The second step of a single sign-on to an account with TOTP on: the
/// code from the authenticator app, or a recovery code. Throttled like
/// password sign-in's second factor (per account and per address).
#[utoipa::path(post, path = "/api/auth/oidc/second-factor", operation_id = "oidc_second_factor", tag = "auth",
    request_body = Offered,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; `Set-Cookie` carries the session"),
        (status = 401, body = ErrorBody, description = "No single sign-on waiting for a code, or it expired (`sso_second_factor_expired`); no code (`second_factor_required`); a wrong or used one (`invalid_second_factor`)"),
        (status = 403, body = ErrorBody, description = "Account disabled"),
        (status = 429, body = ErrorBody, description = "Too many failures; see `Retry-After`"),
    ))]
async fn second_factor(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Offered>,
) -> Result<impl IntoResponse, Error> {
    let now = now_ms();
    let user_id = flow::presented_second_factor(&headers, &state.web, &state.keys, now)
        .ok_or_else(second_factor_expired)?;
    let row = users::user_by_id(&state.db, user_id)
        .await?
        .ok_or_else(second_factor_expired)?;
    if row.disabled {
        return Err(Error::forbidden(
            "account_disabled",
            "This account is disabled; ask an administrator",
        ));
    }
    let key = validate::username_key(&row.username);
    let scopes = [
        Scope::user(&state.keys, &key),
        Scope::address(&state.keys, &address),
    ];
    let scopes: Vec<&Scope> = scopes.iter().collect();
    let attempts = throttle::reserve(&state.db, &scopes, now).await?;
    let outcome = match verify::check(&state, row.id, &body).await {
        Ok(outcome) => outcome,
        Err(e) => {
            throttle::succeed_all(&state.db, &scopes).await?;
            return Err(e);
        }
    };
    match outcome {
        Outcome::NotEnrolled | Outcome::Passed => {}
        Outcome::Missing => {
            throttle::succeed_all(&state.db, &scopes).await?;
            return Err(verify::required());
        }
        Outcome::Wrong => {
            throttle::fail(&state.db, &scopes, &attempts, now).await?;
            return Err(verify::wrong());
        }
    }
    throttle::clear(&state.db, scopes[0]).await?;
    throttle::succeed_all(&state.db, &scopes[1..]).await?;
    let ([cookie, device], token) = signin::new_session(&state, &row).await?;
    tracing::info!(user_id = row.id, "logged in with single sign-on");
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, cookie),
            (header::SET_COOKIE, device),
            (header::SET_COOKIE, flow::clear_second_factor(&state.web)),
        ]),
        axum::Json(LoginResponse {
            success: true,
            second_factor_enrolment_required: false,
            user: User::from(&row),
            token: token.to_string(),
        }),
    ))
}
