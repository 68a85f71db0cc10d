//! The steps every way of signing in shares: a counted attempt against the
//! login throttle, the password check, and the answer that starts a
//! session. `POST /api/auth/login` and the passkey sign-ins
//! (`passkeys/signin.rs`) are built from them (single sign-on,
//! `oidc/http.rs`, counts its own attempts but starts its sessions here), so a passkey guess is
//! counted and locked out exactly like a password guess.

use axum::http::{HeaderMap, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::password::Priority;
use super::session;
use super::store::{self, User, UserRow};
use super::throttle::{self, Scope};
use super::validate;
use crate::error::Error;
use crate::state::AppState;
use crate::storage::now_ms;

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub success: bool,
    pub user: User,
    /// The site requires a second factor of this person and they have none
    /// yet: until TOTP is on, only enrolment is open to them (other calls
    /// answer 403 `second_factor_enrolment_required`).
    pub second_factor_enrolment_required: bool,
    /// The session token, for API clients (`Authorization: Bearer`).
    /// Browsers use the HttpOnly cookie set alongside and can ignore it.
    pub token: String,
}

/// One sign-in attempt, counted against its throttle scopes before
/// anything is checked. End it with [`Attempt::failed`],
/// [`Attempt::given_back`] or [`Attempt::signed_in`].
pub struct Attempt {
    scopes: Vec<Scope>,
    counts: Vec<i64>,
    /// The scope whose failures a success forgives (the account's or the
    /// device's); the others (the address's) only lose this attempt.
    own: Option<usize>,
    now: i64,
}

impl Attempt {
    /// Counts an attempt on `username_key`: against the device when the
    /// browser presents a device cookie for it (a lock others caused on the
    /// account or the address does not keep it out), else against the
    /// account and the client address. 429 while one of them is locked.
    pub async fn for_account(
        state: &AppState,
        headers: &HeaderMap,
        address: &str,
        username_key: &str,
    ) -> Result<Self, Error> {
        let device = session::presented_device(headers, &state.web)
            .and_then(|cookie| state.keys.device_id(cookie, username_key));
        let scopes = match device {
            Some(id) => vec![Scope::device(&state.keys, id)],
            None => vec![
                Scope::user(&state.keys, username_key),
                Scope::address(&state.keys, address),
            ],
        };
        Self::reserve(state, scopes, Some(0)).await
    }

    /// Counts an attempt whose account is not known yet (a password-less
    /// sign-in) against the client address.
    pub async fn for_address(state: &AppState, address: &str) -> Result<Self, Error> {
        Self::reserve(state, vec![Scope::address(&state.keys, address)], None).await
    }

    async fn reserve(
        state: &AppState,
        scopes: Vec<Scope>,
        own: Option<usize>,
    ) -> Result<Self, Error> {
        let now = now_ms();
        let refs: Vec<&Scope> = scopes.iter().collect();
        let counts = throttle::reserve(&state.db, &refs, now).await?;
        Ok(Self {
            scopes,
            counts,
            own,
            now,
        })
    }

    /// Also counts the attempt against the account, once it is known; 429
    /// (the address's reservation given back) while the account is locked.
    pub async fn and_account(
        mut self,
        state: &AppState,
        username_key: &str,
    ) -> Result<Self, Error> {
        let scope = Scope::user(&state.keys, username_key);
        match throttle::reserve(&state.db, &[&scope], self.now).await {
            Ok(counts) => {
                self.scopes.push(scope);
                self.counts.extend(counts);
                self.own = Some(self.scopes.len() - 1);
                Ok(self)
            }
            Err(e) => {
                self.given_back(state).await?;
                Err(e)
            }
        }
    }

    fn refs(&self) -> Vec<&Scope> {
        self.scopes.iter().collect()
    }

    /// A wrong guess: it stays counted, and scopes at their threshold lock.
    pub async fn failed(self, state: &AppState) -> Result<(), Error> {
        throttle::fail(&state.db, &self.refs(), &self.counts, self.now).await?;
        Ok(())
    }

    /// Not a guess (nothing was judged, or only a second factor is still
    /// missing): the attempt is given back; earlier failures stay counted.
    pub async fn given_back(self, state: &AppState) -> Result<(), Error> {
        throttle::succeed_all(&state.db, &self.refs()).await?;
        Ok(())
    }

    /// Signed in: the account's (or device's) failures are forgiven, the
    /// address's count only loses this attempt.
    pub async fn signed_in(self, state: &AppState) -> Result<(), Error> {
        for (i, scope) in self.scopes.iter().enumerate() {
            if Some(i) == self.own {
                throttle::clear(&state.db, scope).await?;
            } else {
                throttle::succeed(&state.db, scope).await?;
            }
        }
        Ok(())
    }
}

/// Checks `username` and `password` within a counted attempt. A wrong
/// pair fails the attempt (401 `invalid_credentials`); unknown users are
/// checked against a dummy hash, so they take as long. A disabled account
/// is 403. Returns the account and the attempt, still open.
pub async fn password(
    state: &AppState,
    headers: &HeaderMap,
    address: &str,
    username: &str,
    password: String,
) -> Result<(UserRow, Attempt), Error> {
    if password.len() > validate::PASSWORD_MAX || username.len() > 256 {
        return Err(Error::unprocessable(
            "invalid_credentials_format",
            "Username or password is too long",
        ));
    }
    let key = validate::username_key(username);
    let attempt = Attempt::for_account(state, headers, address, &key).await?;
    let row = if validate::username(username).is_ok() {
        store::user_by_key(&state.db, &key).await?
    } else {
        None
    };
    let verified = state
        .hasher
        .verify(
            Priority::Anonymous,
            Zeroizing::new(password),
            row.as_ref().map(|r| r.password_hash.clone()),
        )
        .await;
    let ok = match verified {
        Ok(ok) => ok,
        Err(e) => {
            // The password was never checked: not a guess.
            attempt.given_back(state).await?;
            return Err(e.into());
        }
    };
    let Some(row) = row.filter(|_| ok) else {
        attempt.failed(state).await?;
        return Err(Error::unauthorized(
            "invalid_credentials",
            "Wrong username or password",
        ));
    };
    if row.disabled {
        return Err(disabled());
    }
    Ok((row, attempt))
}

/// The refusal for a disabled account.
pub fn disabled() -> Error {
    Error::forbidden(
        "account_disabled",
        "This account is disabled; ask an administrator",
    )
}

/// A new session for `row`: the session cookie, the device cookie (which
/// keeps this browser's later attempts out of others' lockouts) and the
/// token. Every way of signing in (password, passkey, single sign-on)
/// ends here.
pub async fn new_session(
    state: &AppState,
    row: &UserRow,
) -> Result<([String; 2], Zeroizing<String>), Error> {
    let token = session::create(&state.db, &state.keys, row.id).await?;
    let key = validate::username_key(&row.username);
    let cookies = [
        session::session_cookie(&state.web, &token),
        session::device_cookie(&state.web, &state.keys.device_cookie(&key)),
    ];
    Ok((cookies, token))
}

/// Ends `attempt` as a success, starts a session for `row` and answers
/// with its token, the session cookie and the device cookie (which keeps
/// this browser's later attempts out of others' lockouts).
pub async fn start_session(
    state: &AppState,
    attempt: Attempt,
    row: &UserRow,
    enrolment_required: bool,
) -> Result<Response, Error> {
    attempt.signed_in(state).await?;
    let ([cookie, device_cookie], token) = new_session(state, row).await?;
    tracing::info!(user_id = row.id, "logged in");
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, cookie),
            (header::SET_COOKIE, device_cookie),
        ]),
        axum::Json(LoginResponse {
            success: true,
            second_factor_enrolment_required: enrolment_required,
            user: User::from(row),
            token: token.to_string(),
        }),
    )
        .into_response())
}
