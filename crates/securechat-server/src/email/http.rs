//! The email routes: the caller's address (`/api/email`: read, set — which
//! mails a code —, confirm with the code, remove) and the unsubscribe page
//! a digest links to (`/api/email/unsubscribe`, no session: the token is
//! the authority). Without `SMTP_URL`, `GET /api/email` says email is off
//! and the writes answer 409 `email_off`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::compose::{self, escape};
use super::store::{self, Checked, NewCode};
use super::{Email, code_hash, token_user, unsubscribe_token};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::storage::now_ms;

/// How long a verification code is valid.
pub const CODE_MINUTES: i64 = 15;
/// Codes entered before a code is used up.
pub const MAX_ATTEMPTS: i64 = 5;
/// A new code at most this often per person.
pub const CODE_SPACING_MS: i64 = 60_000;
/// Longest address (RFC 5321's path limit).
const MAX_ADDRESS: usize = 254;
/// Longest unsubscribe token accepted.
const MAX_TOKEN: usize = 80;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_email, put_email, delete_email))
        .routes(routes!(verify))
        .routes(routes!(unsubscribe_page, unsubscribe))
}

/// The caller's email settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailStatus {
    pub success: bool,
    /// Whether this server sends email at all (`SMTP_URL`); when false,
    /// nothing else here applies.
    pub enabled: bool,
    /// The caller's address, verified or not (null: none).
    pub address: Option<String>,
    /// Digests go only to a verified address.
    pub verified: bool,
    /// A code was mailed and can still be entered.
    pub code_pending: bool,
    /// Minutes a message stays unread before it is mailed (null when off).
    pub delay_minutes: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAddress {
    /// The address to mail digests to; a code is mailed to it first.
    #[schema(max_length = 254)]
    pub address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeInput {
    /// The six digits mailed to the address.
    #[schema(max_length = 16)]
    pub code: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the link in a digest.
    #[param(max_length = 80)]
    pub token: String,
}

fn enabled(state: &AppState) -> Result<&Email, Error> {
    state
        .email
        .as_ref()
        .ok_or_else(|| Error::conflict("email_off", "This server does not send email"))
}

async fn status(state: &AppState, user_id: i64) -> Result<EmailStatus, Error> {
    let Some(email) = state.email.as_ref() else {
        return Ok(EmailStatus {
            success: true,
            enabled: false,
            address: None,
            verified: false,
            code_pending: false,
            delay_minutes: None,
        });
    };
    let stored = store::get(&state.db, user_id).await?;
    let now = now_ms();
    Ok(EmailStatus {
        success: true,
        enabled: true,
        verified: stored.as_ref().is_some_and(|a| a.verified_at.is_some()),
        code_pending: stored
            .as_ref()
            .and_then(|a| a.code_expires_at)
            .is_some_and(|t| t > now),
        address: stored.map(|a| a.address),
        delay_minutes: Some((email.delay_ms / 60_000).max(1)),
    })
}

/// The caller's address and whether this server sends email.
#[utoipa::path(get, path = "/api/email", operation_id = "get_email", tag = "email",
    responses((status = 200, body = EmailStatus)))]
async fn get_email(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<EmailStatus>, Error> {
    Ok(axum::Json(status(&state, user.id).await?))
}

/// Sets the caller's address, unverified, and mails it a code; the
/// previous address (and what was waiting for it) goes.
#[utoipa::path(put, path = "/api/email", operation_id = "put_email", tag = "email",
    request_body = NewAddress,
    responses((status = 200, body = EmailStatus, description = "Code mailed"),
        (status = 409, body = ErrorBody, description = "The server sends no email (`email_off`)"),
        (status = 422, body = ErrorBody, description = "Not an address (`invalid_address`)"),
        (status = 429, body = ErrorBody, description = "A code was mailed less than a minute ago"),
        (status = 503, body = ErrorBody, description = "The mail server could not be reached; try again later")))]
async fn put_email(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<NewAddress>,
) -> Result<axum::Json<EmailStatus>, Error> {
    let email = enabled(&state)?;
    let address = valid_address(&input.address)?;
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    let now = now_ms();
    let stored = store::start(
        &state.db,
        &NewCode {
            user_id: user.id,
            address: &address,
            code_hash: &code_hash(&state.keys, user.id, &code),
            now,
            expires_at: now + CODE_MINUTES * 60_000,
            spacing_ms: CODE_SPACING_MS,
        },
    )
    .await?;
    if !stored {
        return Err(Error::TooManyRequests {
            retry_after: 60,
            message: "A code was mailed less than a minute ago; wait before asking again".into(),
        });
    }
    let mail = compose::verification(&code, CODE_MINUTES, &email.app_url());
    if let Err(e) = email.send(&address, &mail, None).await {
        tracing::warn!(error = %e, "mailing a verification code failed");
        store::forget_code(&state.db, user.id).await?;
        return Err(Error::Unavailable {
            retry_after: 60,
            message: "The mail server could not be reached; try again later".into(),
        });
    }
    Ok(axum::Json(status(&state, user.id).await?))
}

/// An address people can mail: one `local@domain`, no display name.
fn valid_address(input: &str) -> Result<String, Error> {
    let address = input.trim();
    let invalid = || {
        Error::unprocessable(
            "invalid_address",
            "Enter one email address, like name@example.com",
        )
    };
    if address.is_empty() || address.len() > MAX_ADDRESS {
        return Err(invalid());
    }
    let parsed = address.parse::<lettre::Address>().map_err(|_| invalid())?;
    Ok(format!(
        "{}@{}",
        parsed.user(),
        parsed.domain().to_ascii_lowercase()
    ))
}

/// Confirms the caller's address with the code mailed to it.
#[utoipa::path(post, path = "/api/email/verify", operation_id = "verify_email", tag = "email",
    request_body = CodeInput,
    responses((status = 200, body = EmailStatus, description = "Verified"),
        (status = 409, body = ErrorBody, description = "No code is waiting (`no_code`), or the server sends no email (`email_off`)"),
        (status = 422, body = ErrorBody, description = "Wrong code (`wrong_code`), expired (`code_expired`), or too many wrong ones (`too_many_attempts`): ask for a new one")))]
async fn verify(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<CodeInput>,
) -> Result<axum::Json<EmailStatus>, Error> {
    enabled(&state)?;
    let code = input.code.trim();
    if code.len() > 16 {
        return Err(Error::unprocessable("wrong_code", "That is not the code"));
    }
    let hash = code_hash(&state.keys, user.id, code);
    match store::check(&state.db, user.id, &hash, now_ms(), MAX_ATTEMPTS).await? {
        Checked::Verified { .. } => Ok(axum::Json(status(&state, user.id).await?)),
        Checked::NoCode => Err(Error::conflict(
            "no_code",
            "No code is waiting; ask for a new one",
        )),
        Checked::Expired => Err(Error::unprocessable(
            "code_expired",
            "The code has expired; ask for a new one",
        )),
        Checked::Wrong { attempts_left } => Err(Error::unprocessable(
            "wrong_code",
            format!("That is not the code; {attempts_left} tries left"),
        )),
        Checked::TooMany => Err(Error::unprocessable(
            "too_many_attempts",
            "Too many wrong codes; ask for a new one",
        )),
    }
}

/// Removes the caller's address: no more email.
#[utoipa::path(delete, path = "/api/email", operation_id = "delete_email", tag = "email",
    responses((status = 200, body = EmailStatus)))]
async fn delete_email(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<EmailStatus>, Error> {
    store::remove(&state.db, user.id, None).await?;
    Ok(axum::Json(status(&state, user.id).await?))
}

/// The person a valid unsubscribe token names, with the moment their
/// address was verified (which the token is bound to).
async fn token_holder(state: &AppState, token: &str) -> Result<Option<(i64, i64)>, Error> {
    let Some(user_id) = (token.len() <= MAX_TOKEN)
        .then(|| token_user(token))
        .flatten()
    else {
        return Ok(None);
    };
    let Some(verified_at) = store::get(&state.db, user_id)
        .await?
        .and_then(|a| a.verified_at)
    else {
        return Ok(None);
    };
    let expected = unsubscribe_token(&state.keys, user_id, verified_at);
    Ok(same(expected.as_bytes(), token.as_bytes()).then_some((user_id, verified_at)))
}

/// Equality in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn page(status: StatusCode, title: &str, body: &str) -> (StatusCode, Html<String>) {
    (
        status,
        Html(format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta \
             name=\"viewport\" content=\"width=device-width\"><title>{0}</title></head><body>\
             <main><h1>{0}</h1>{body}</main></body></html>",
            escape(title)
        )),
    )
}

fn gone() -> (StatusCode, Html<String>) {
    page(
        StatusCode::NOT_FOUND,
        "Link no longer valid",
        "<p>This link does not stop any email: the address was removed or changed already. \
         Sign in to Securechat to change your email settings.</p>",
    )
}

/// The page a digest's unsubscribe link opens: a button that stops the
/// digests (a GET changes nothing, since mail scanners follow links).
#[utoipa::path(get, path = "/api/email/unsubscribe", operation_id = "unsubscribe_page", tag = "email",
    params(TokenQuery),
    responses((status = 200, content_type = "text/html", body = String, description = "A page with the button"),
        (status = 404, content_type = "text/html", body = String, description = "The link is no longer valid")))]
async fn unsubscribe_page(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<(StatusCode, Html<String>), Error> {
    if token_holder(&state, &query.token).await?.is_none() {
        return Ok(gone());
    }
    Ok(page(
        StatusCode::OK,
        "Stop email from Securechat",
        &format!(
            "<p>You get an email when messages for you stay unread.</p><form method=\"post\" \
             action=\"/api/email/unsubscribe?token={}\"><button type=\"submit\">Stop these \
             emails</button></form>",
            escape(&query.token)
        ),
    ))
}

/// Stops the digests of the token's holder: their address is removed.
/// Also the one-click unsubscribe of RFC 8058 (`List-Unsubscribe-Post`).
#[utoipa::path(post, path = "/api/email/unsubscribe", operation_id = "unsubscribe", tag = "email",
    params(TokenQuery),
    responses((status = 200, content_type = "text/html", body = String, description = "Unsubscribed"),
        (status = 404, content_type = "text/html", body = String, description = "The link is no longer valid")))]
async fn unsubscribe(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<(StatusCode, Html<String>), Error> {
    let Some((user_id, verified_at)) = token_holder(&state, &query.token).await? else {
        return Ok(gone());
    };
    if !store::remove(&state.db, user_id, Some(verified_at)).await? {
        return Ok(gone());
    }
    Ok(page(
        StatusCode::OK,
        "Unsubscribed",
        "<p>Securechat will not email this address again. You can add an address again on \
         your account page.</p>",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_one_mailbox_with_a_lower_case_domain() {
        assert_eq!(
            valid_address(" Bob@Example.COM ").unwrap(),
            "Bob@example.com"
        );
        for bad in [
            "",
            "bob",
            "bob@",
            "@example.com",
            "Bob <bob@example.com>",
            "a@b.example, c@d.example",
            "bob@exa mple.com",
            "bob@example.com\r\nBcc: x@y.example",
        ] {
            assert!(valid_address(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(valid_address(&long).is_err());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert_eq!(
            token_user("12.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            Some(12)
        );
        assert_eq!(token_user("12.short"), None);
        assert_eq!(
            token_user("x.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None
        );
    }
}
