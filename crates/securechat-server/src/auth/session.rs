//! Sessions as the HTTP layer sees them: the cookie, the `Bearer` header,
//! and the [`AuthUser`] extractor that turns either into a signed-in user.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, SameSite};

use super::store;
use super::token::{self, Keys};
use crate::error::Error;
use crate::state::{AppState, WebSettings};
use crate::storage::{Db, now_ms, rfc3339};
use crate::twofactor::policy::Policy as TwoFactorPolicy;

/// How long a session lives after login.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// `last_seen_at` is refreshed at most this often, to avoid a write per request.
const TOUCH_INTERVAL_MS: i64 = 5 * 60 * 1000;

/// Cookie name over plain HTTP.
pub const COOKIE_NAME: &str = "securechat_session";
/// Cookie name under HTTPS: the `__Host-` prefix pins it to this exact host,
/// path `/`, `Secure`, with no `Domain`.
pub const SECURE_COOKIE_NAME: &str = "__Host-securechat_session";

/// The name of the session cookie for these settings.
pub fn cookie_name(web: &WebSettings) -> &'static str {
    if web.https {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(web: &WebSettings, token: &str) -> String {
    Cookie::build((cookie_name(web), token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(web.https)
        .max_age(time::Duration::seconds(
            i64::try_from(SESSION_TTL.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
        .to_string()
}

/// The device cookie's name (`__Host-` prefixed over HTTPS, like the
/// session's).
fn device_cookie_name(web: &WebSettings) -> &'static str {
    if web.https {
        "__Host-securechat_device"
    } else {
        "securechat_device"
    }
}

/// How long a browser stays a known device of an account after its last
/// sign-in there.
const DEVICE_TTL: time::Duration = time::Duration::days(365);

/// The `Set-Cookie` value of a device cookie (see
/// [`crate::auth::token::Keys::device_cookie`]). Strict: it is only ever
/// read by the sign-in form of this site.
pub fn device_cookie(web: &WebSettings, value: &str) -> String {
    Cookie::build((device_cookie_name(web), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(web.https)
        .max_age(DEVICE_TTL)
        .build()
        .to_string()
}

/// The device cookie presented with a request, if any.
pub fn presented_device<'a>(headers: &'a HeaderMap, web: &WebSettings) -> Option<&'a str> {
    cookie_value(headers, device_cookie_name(web))
}

/// The value of the request's cookie called `name` (the first, if several).
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(web: &WebSettings) -> String {
    Cookie::build((cookie_name(web), ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(web.https)
        .max_age(time::Duration::ZERO)
        .build()
        .to_string()
}

/// Starts a session for `user_id`; returns the token to hand to the client.
pub async fn create(
    db: &Db,
    keys: &Keys,
    user_id: i64,
) -> Result<zeroize::Zeroizing<String>, Error> {
    let token = token::new_token();
    let now = now_ms();
    let ttl = i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX);
    store::insert_session(db, &keys.session_hash(&token), user_id, now, now + ttl).await?;
    Ok(token)
}

/// The token a request presents: `Authorization: Bearer` first, then the
/// session cookie.
pub fn presented_token<'a>(headers: &'a HeaderMap, web: &WebSettings) -> Option<&'a str> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        return auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
    }
    cookie_value(headers, cookie_name(web))
}

/// A signed-in user. Handlers that take it refuse anonymous requests with 401.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub created_at: i64,
    /// The stored hash of the session used, so it can be ended or kept.
    pub session_hash: Vec<u8>,
    /// TOTP is on for the account.
    pub two_factor: bool,
    /// Signed in with a bot token: the rooms it reaches (`None`: a person's
    /// session). See [`crate::bots`].
    pub bot_rooms: Option<crate::bots::Scope>,
}

impl AuthUser {
    /// The user as the API shows them.
    pub fn to_user(&self) -> store::User {
        store::User {
            id: self.id,
            username: self.username.clone(),
            is_admin: self.is_admin,
            is_bot: self.bot_rooms.is_some(),
            created_at: rfc3339(self.created_at),
        }
    }

    /// Whether the site's two-factor policy (`TWO_FACTOR_REQUIRED`) holds
    /// this person at enrolment: it covers them and TOTP is not on yet.
    pub fn must_enrol(&self, policy: TwoFactorPolicy) -> bool {
        self.bot_rooms.is_none() && policy.covers(self.is_admin) && !self.two_factor
    }

    /// Whether `room_id` is out of this user's reach: outside a bot
    /// token's rooms.
    pub fn out_of_scope(&self, room_id: i64) -> bool {
        self.bot_rooms
            .as_ref()
            .is_some_and(|rooms| !rooms.contains(&room_id))
    }

    /// Resolves a token to its user, or `None` when it is unknown, expired,
    /// or its user is disabled; a person the two-factor policy holds at
    /// enrolment is refused with 403 `second_factor_enrolment_required`.
    /// This is where the policy is enforced, for HTTP (the extractor) and
    /// Socket.IO (the handshake) alike; only [`EnrollingUser`] skips it.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Option<Self>, Error> {
        let user = Self::resolve(state, token).await?;
        if let Some(user) = &user
            && user.must_enrol(state.two_factor)
        {
            return Err(Error::forbidden(
                "second_factor_enrolment_required",
                "This site requires two-factor sign-in: turn it on in your account settings first",
            ));
        }
        Ok(user)
    }

    /// [`AuthUser::from_token`] without the two-factor policy.
    async fn resolve(state: &AppState, token: &str) -> Result<Option<Self>, Error> {
        if token.starts_with(crate::bots::TOKEN_PREFIX) {
            return Ok(crate::bots::resolve(state, token)
                .await?
                .map(|(bot, hash, rooms)| Self {
                    id: bot.id,
                    username: bot.username,
                    is_admin: false,
                    created_at: bot.created_at,
                    session_hash: hash,
                    two_factor: false,
                    bot_rooms: Some(rooms),
                }));
        }
        if !token::looks_like_token(token) {
            return Ok(None);
        }
        let hash = state.keys.session_hash(token);
        let now = now_ms();
        let Some(row) = store::session_user(&state.db, &hash, now).await? else {
            return Ok(None);
        };
        if now - row.last_seen_at > TOUCH_INTERVAL_MS {
            store::touch_session(&state.db, &hash, now).await?;
        }
        Ok(Some(Self {
            id: row.id,
            username: row.username,
            is_admin: row.is_admin,
            created_at: row.created_at,
            session_hash: hash,
            two_factor: row.two_factor,
            bot_rooms: None,
        }))
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = presented_token(&parts.headers, &state.web).ok_or_else(unauthenticated)?;
        Self::from_token(state, token)
            .await?
            .ok_or_else(unauthenticated)
    }
}

fn unauthenticated() -> Error {
    Error::unauthorized(
        "unauthenticated",
        "You are not signed in, or your session has ended; log in again",
    )
}

/// A signed-in user whom the two-factor policy may still hold at
/// enrolment: the extractor of the few routes open to them (who am I, log
/// out, two-factor enrolment).
#[derive(Debug, Clone)]
pub struct EnrollingUser(pub AuthUser);

impl FromRequestParts<AppState> for EnrollingUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = presented_token(&parts.headers, &state.web).ok_or_else(unauthenticated)?;
        AuthUser::resolve(state, token)
            .await?
            .map(Self)
            .ok_or_else(unauthenticated)
    }
}

/// The client's address: the peer, or with `TRUST_PROXY` the last hop
/// recorded by the proxy in `X-Forwarded-For`: the last address of the
/// last header line, since a client may send lines of its own before the
/// proxy's.
pub fn client_address(parts: &Parts, web: &WebSettings) -> String {
    if web.trust_proxy
        && let Some(forwarded) = last_forwarded(&parts.headers)
    {
        return forwarded;
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The last address of the last `X-Forwarded-For` line, if any.
fn last_forwarded(headers: &axum::http::HeaderMap) -> Option<String> {
    let line = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last = line.to_str().ok()?.rsplit(',').next()?.trim();
    (!last.is_empty()).then(|| last.to_owned())
}

/// The client's address as an extractor.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_address(parts, &state.web)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn web(https: bool) -> WebSettings {
        WebSettings {
            https,
            public_origin: None,
            trust_proxy: false,
        }
    }

    #[test]
    fn cookie_flags() {
        let plain = session_cookie(&web(false), "tok");
        assert!(plain.starts_with("securechat_session=tok"));
        assert!(plain.contains("HttpOnly"));
        assert!(plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        let secure = session_cookie(&web(true), "tok");
        assert!(secure.starts_with("__Host-securechat_session=tok"));
        assert!(secure.contains("Secure"));
        assert!(secure.contains("Path=/"));
        assert!(!secure.contains("Domain"));
    }

    #[test]
    fn bearer_wins_over_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; securechat_session=fromcookie"),
        );
        assert_eq!(presented_token(&headers, &web(false)), Some("fromcookie"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer frombearer"),
        );
        assert_eq!(presented_token(&headers, &web(false)), Some("frombearer"));
    }

    #[test]
    fn the_proxys_hop_is_the_last_address_of_the_last_line() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_forwarded(&headers), None);
        // A client's own line first, then the proxy's.
        headers.append("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("7.7.7.7, 203.0.113.9"),
        );
        assert_eq!(last_forwarded(&headers).as_deref(), Some("203.0.113.9"));
        let mut one = HeaderMap::new();
        one.append("x-forwarded-for", HeaderValue::from_static("1.2.3.4 , "));
        assert_eq!(last_forwarded(&one), None);
    }
}
