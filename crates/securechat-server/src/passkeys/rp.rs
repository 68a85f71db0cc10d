//! The relying party a ceremony is for. With `PUBLIC_URL` set it is that
//! origin and its host; without, the origin the browser is on (the
//! request's `Origin`, which the cross-site check already matched to our
//! `Host`), or the `Host` itself for API clients. The origin is stored with
//! the challenge, so the answer is checked against the party that asked.
//!
//! WebAuthn names a relying party by a domain: a server reached by a bare
//! IP address cannot offer passkeys (`passkeys_unavailable`).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::error::Error;
use crate::http::is_same_origin;
use crate::state::AppState;

/// The origin (`scheme://host[:port]`) of the relying party a request
/// speaks to.
pub struct Origin(pub String);

impl FromRequestParts<AppState> for Origin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let origin = origin_of(parts, state).ok_or_else(unavailable)?;
        // Refused now rather than at the answer: the host must be a domain.
        party(&origin)?;
        Ok(Self(origin))
    }
}

fn origin_of(parts: &Parts, state: &AppState) -> Option<String> {
    if let Some(origin) = &state.web.public_origin {
        return Some(origin.clone());
    }
    let authority = parts.uri.authority().map(|a| a.as_str());
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let origin = origin.to_str().ok()?.to_ascii_lowercase();
        return is_same_origin(&parts.headers, authority, None).then_some(origin);
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority)?;
    let scheme = if state.web.https { "https" } else { "http" };
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// webauthn-rs set up for `origin`, its host being the relying party id.
pub fn party(origin: &str) -> Result<Webauthn, Error> {
    let url = Url::parse(origin).map_err(|_| unavailable())?;
    let rp_id = url.domain().ok_or_else(unavailable)?.to_owned();
    WebauthnBuilder::new(&rp_id, &url)
        .and_then(|b| b.rp_name("Securechat").build())
        .map_err(|_| unavailable())
}

fn unavailable() -> Error {
    Error::unprocessable(
        "passkeys_unavailable",
        "Passkeys need the site to be reached by its domain name (set PUBLIC_URL)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_needs_a_domain() {
        assert!(party("http://localhost:5000").is_ok());
        assert!(party("https://chat.example.com").is_ok());
        for origin in ["http://127.0.0.1:5000", "http://[::1]:5000", "not a url"] {
            match party(origin) {
                Err(Error::Unprocessable { code, .. }) => assert_eq!(code, "passkeys_unavailable"),
                other => panic!("{origin}: {:?}", other.map(|_| ())),
            }
        }
    }
}
