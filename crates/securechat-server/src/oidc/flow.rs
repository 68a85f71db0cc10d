//! What single sign-on keeps between requests, in the browser rather than
//! the database: two short-lived, HttpOnly cookies signed with a key
//! derived from `SECRET_KEY` ([`Keys::oidc_mac`]), scoped to
//! `/api/auth/oidc`. An anonymous request can thus start any number of
//! sign-ins without the server storing anything, and each cookie is
//! bounded in size and time.
//!
//! - The flow cookie: the state, nonce and PKCE verifier of the sign-in
//!   under way. `SameSite=Lax`, since the provider's redirect back is a
//!   cross-site top-level navigation. The callback clears it whatever
//!   happens, so a callback cannot be replayed with it.
//! - The second-factor cookie: who signed on at the provider and still
//!   owes a TOTP or recovery code (`POST /api/auth/oidc/second-factor`).

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::auth::session::cookie_value;
use crate::auth::token::Keys;
use crate::state::WebSettings;

/// The path both cookies are sent to.
const PATH: &str = "/api/auth/oidc";
/// How long a sign-in at the provider may take.
pub const FLOW_TTL_MS: i64 = 10 * 60 * 1000;
/// How long the second factor may take after the provider.
pub const SECOND_FACTOR_TTL_MS: i64 = 5 * 60 * 1000;
/// Longest cookie value read.
const MAX_COOKIE: usize = 1024;

const FLOW: &str = "flow";
const SECOND_FACTOR: &str = "second-factor";

/// The sign-in under way, as the flow cookie holds it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
}

fn name(web: &WebSettings, base: &'static str) -> String {
    // No `__Host-` prefix: it requires `Path=/`.
    if web.https {
        format!("__Secure-{base}")
    } else {
        base.to_owned()
    }
}

fn flow_name(web: &WebSettings) -> String {
    name(web, "securechat_oidc")
}

fn second_factor_name(web: &WebSettings) -> String {
    name(web, "securechat_oidc_2fa")
}

fn build(web: &WebSettings, name: String, value: String, max_age_ms: i64) -> String {
    Cookie::build((name, value))
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(web.https)
        .max_age(time::Duration::milliseconds(max_age_ms))
        .build()
        .to_string()
}

fn seal(keys: &Keys, purpose: &str, payload: &str) -> String {
    let tag = URL_SAFE_NO_PAD.encode(keys.oidc_mac(purpose, payload));
    format!("{payload}.{tag}")
}

fn open<'a>(keys: &Keys, purpose: &str, value: &'a str) -> Option<&'a str> {
    if value.len() > MAX_COOKIE {
        return None;
    }
    let (payload, tag) = value.rsplit_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    keys.oidc_verify(purpose, payload, &tag).then_some(payload)
}

/// The `Set-Cookie` value holding `flow`.
pub fn flow_cookie(web: &WebSettings, keys: &Keys, flow: &Flow) -> String {
    let json = serde_json::to_vec(flow).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    build(web, flow_name(web), seal(keys, FLOW, &payload), FLOW_TTL_MS)
}

/// The sign-in the request's flow cookie holds, if it is genuine and not
/// expired.
pub fn presented_flow(
    headers: &HeaderMap,
    web: &WebSettings,
    keys: &Keys,
    now: i64,
) -> Option<Flow> {
    let value = cookie_value(headers, &flow_name(web))?;
    let payload = open(keys, FLOW, value)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let flow: Flow = serde_json::from_slice(&json).ok()?;
    (flow.expires_at > now).then_some(flow)
}

/// The `Set-Cookie` value that removes the flow cookie.
pub fn clear_flow(web: &WebSettings) -> String {
    build(web, flow_name(web), String::new(), 0)
}

/// The `Set-Cookie` value saying that `user_id` signed on at the provider
/// and owes a second factor.
pub fn second_factor_cookie(web: &WebSettings, keys: &Keys, user_id: i64, now: i64) -> String {
    let payload = format!("{user_id}:{}", now + SECOND_FACTOR_TTL_MS);
    build(
        web,
        second_factor_name(web),
        seal(keys, SECOND_FACTOR, &payload),
        SECOND_FACTOR_TTL_MS,
    )
}

/// The account the request's second-factor cookie names, if it is
/// genuine and not expired.
pub fn presented_second_factor(
    headers: &HeaderMap,
    web: &WebSettings,
    keys: &Keys,
    now: i64,
) -> Option<i64> {
    let value = cookie_value(headers, &second_factor_name(web))?;
    let payload = open(keys, SECOND_FACTOR, value)?;
    let (user_id, expires_at) = payload.split_once(':')?;
    let expires_at: i64 = expires_at.parse().ok()?;
    (expires_at > now).then_some(())?;
    user_id.parse().ok()
}

/// The `Set-Cookie` value that removes the second-factor cookie.
pub fn clear_second_factor(web: &WebSettings) -> String {
    build(web, second_factor_name(web), String::new(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    fn keys() -> Keys {
        Keys::derive(&crate::config::SecretKey::from_bytes(b"a test key"))
    }

    fn web() -> WebSettings {
        WebSettings {
            https: false,
            public_origin: None,
            trust_proxy: false,
        }
    }

    fn presenting(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap_or_default().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&pair).unwrap());
        headers
    }

    #[test]
    fn cookies_round_trip_and_refuse_forgeries_and_expiry() {
        let keys = keys();
        let flow = Flow {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            expires_at: 1_000,
        };
        let headers = presenting(&flow_cookie(&web(), &keys, &flow));
        assert_eq!(presented_flow(&headers, &web(), &keys, 999), Some(flow));
        assert_eq!(presented_flow(&headers, &web(), &keys, 1_000), None);
        let other = Keys::derive(&crate::config::SecretKey::from_bytes(b"another key"));
        assert_eq!(presented_flow(&headers, &web(), &other, 0), None);

        let headers = presenting(&second_factor_cookie(&web(), &keys, 42, 0));
        assert_eq!(
            presented_second_factor(&headers, &web(), &keys, 1),
            Some(42)
        );
        assert_eq!(
            presented_second_factor(&headers, &web(), &keys, SECOND_FACTOR_TTL_MS),
            None
        );
        // A flow cookie's MAC does not pass for a second-factor one.
        let forged = format!(
            "securechat_oidc_2fa={}",
            seal(&keys, FLOW, &format!("42:{}", i64::MAX))
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&forged).unwrap());
        assert_eq!(presented_second_factor(&headers, &web(), &keys, 0), None);
    }
}
