//! `/api/auth/*`: accounts and sessions.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Auth, Client, Empty};
use crate::error::Result;
use crate::token::SessionToken;

/// A user as the server shows them to themselves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    /// Site administrator.
    pub is_admin: bool,
    /// A bot account, signed in with its API token.
    #[serde(default)]
    pub is_bot: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// The account `register` created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewUser {
    pub id: i64,
    pub username: String,
}

#[derive(Serialize)]
struct Credentials<'a> {
    username: &'a str,
    password: &'a str,
}

#[derive(Serialize)]
struct PasswordChange<'a> {
    current_password: &'a str,
    new_password: &'a str,
}

#[derive(Deserialize)]
struct UserBody<T> {
    user: T,
}

#[derive(Deserialize)]
struct LoginBody {
    user: User,
    token: String,
}

impl Client {
    /// Creates an account. Does not log in.
    ///
    /// Refusals: `username_taken` (409), invalid username or weak password (422).
    pub async fn register(&self, username: &str, password: &str) -> Result<NewUser> {
        let body = Credentials { username, password };
        let reply: UserBody<NewUser> = self
            .call(Method::POST, "api/auth/register", Auth::None, Some(&body))
            .await?;
        Ok(reply.user)
    }

    /// Logs in and keeps the session token for the calls that follow.
    ///
    /// Refusals: `invalid_credentials` (401), `account_disabled` (403), too
    /// many failures (429, with [`ApiError::retry_after`](crate::ApiError::retry_after)).
    pub async fn login(&mut self, username: &str, password: &str) -> Result<User> {
        let body = Credentials { username, password };
        let reply: LoginBody = self
            .call(Method::POST, "api/auth/login", Auth::None, Some(&body))
            .await?;
        self.set_token(Some(SessionToken::new(reply.token)));
        self.remember_login_password(password);
        Ok(reply.user)
    }

    /// Remembers the login password in this process's memory (never
    /// stored), so that a backup passphrase equal to it is refused. Set by
    /// [`Client::login`]; a client resumed from a saved token learns it
    /// here.
    pub fn remember_login_password(&mut self, password: &str) {
        self.login_password = Some(crate::token::Secret::new(password));
    }

    /// Whether `candidate` is the remembered login password.
    pub(crate) fn is_login_password(&self, candidate: &str) -> bool {
        self.login_password
            .as_ref()
            .is_some_and(|p| p.expose() == candidate)
    }

    /// Ends this session on the server. The token is forgotten whatever the
    /// server answers: a session the server no longer knows is ended anyway.
    pub async fn logout(&mut self) -> Result<()> {
        self.end_sessions("api/auth/logout").await
    }

    /// Ends every session of this user, on every device, this one included.
    pub async fn logout_all(&mut self) -> Result<()> {
        self.end_sessions("api/auth/logout-all").await
    }

    async fn end_sessions(&mut self, path: &str) -> Result<()> {
        let result = self
            .call::<(), Empty>(Method::POST, path, Auth::Required, None)
            .await;
        self.set_token(None);
        result.map(|_| ())
    }

    /// The logged-in user.
    pub async fn me(&self) -> Result<User> {
        let reply: UserBody<User> = self
            .call::<(), _>(Method::GET, "api/auth/me", Auth::Required, None)
            .await?;
        Ok(reply.user)
    }

    /// Changes the password. The server ends every *other* session of the
    /// user; this one stays valid.
    ///
    /// Refusals: wrong current password (401), weak new password (422).
    pub async fn change_password(&self, current_password: &str, new_password: &str) -> Result<()> {
        let body = PasswordChange {
            current_password,
            new_password,
        };
        self.call::<_, Empty>(
            Method::POST,
            "api/auth/password",
            Auth::Required,
            Some(&body),
        )
        .await
        .map(|_| ())
    }
}
