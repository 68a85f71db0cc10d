//! Relaying a device link: `POST /api/users/me/devices/links` (the new
//! device's offer; answers the code to show), `GET …/links/{code}`,
//! `POST …/links/{code}/answer` (the approving device's ephemeral key),
//! `POST …/links/{code}/payload` (the sealed payload) and
//! `DELETE …/links/{code}`. Both ends are sessions of the same person; a
//! link lives ten minutes, each step happens once, and the server keeps
//! only the code's hash. What it relays is authenticated by the short
//! string both devices show (crypto crate `link`), so relaying is all the
//! server can do with it.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use rand::Rng;
use securechat_crypto::LinkOffer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store;
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// How long a link stays open.
const LINK_TTL_MS: i64 = 10 * 60 * 1000;
/// Links one person may have open at once.
const MAX_OPEN_LINKS: i64 = 5;
/// Longest offer and answer accepted, in characters.
const MAX_OFFER: usize = 256;
/// Longest payload accepted, in characters (identity, pins, log heads and
/// the carried keys).
const MAX_PAYLOAD: usize = 2 << 20;
/// The code's alphabet (Crockford's base 32: no I, L, O or U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_link))
        .routes(routes!(get_link, close_link))
        .routes(routes!(answer_link))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(link_payload))
                .layer(DefaultBodyLimit::max(MAX_PAYLOAD + 1024)),
        )
}

/// A fresh 8-character code, shown as `XXXX-XXXX` (40 bits).
fn new_code() -> String {
    let mut rng = rand::rng();
    let chars: String = (0..8)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The stored form of a code as a person typed it (case, spaces and dashes
/// do not matter; Crockford's look-alikes are read as digits).
fn code_hash(code: &str) -> Result<String, Error> {
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        })
        .collect();
    if normal.len() != 8 || !normal.bytes().all(|b| ALPHABET.contains(&b)) {
        return Err(link_not_found());
    }
    Ok(crate::files::naming::hex(&Sha256::digest(
        normal.as_bytes(),
    )))
}

fn link_not_found() -> Error {
    Error::not_found(
        "link_not_found",
        "No such link code, or it expired: start linking again on the new device",
    )
}

#[derive(Deserialize, ToSchema)]
pub struct LinkOfferUpload {
    /// The new device's offer (crypto crate `LinkOffer`, wire form).
    pub offer: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinkOpened {
    pub success: bool,
    /// The code the new device shows (`XXXX-XXXX`).
    pub code: String,
    pub expires_at: String,
}

/// Opens a link for a new device of mine; answers the code to show.
#[utoipa::path(post, path = "/api/users/me/devices/links", tag = "devices",
    request_body = LinkOfferUpload,
    responses((status = 201, body = LinkOpened),
        (status = 422, description = "`invalid_link_offer`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: five links are open", body = ErrorBody)))]
async fn open_link(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<LinkOfferUpload>,
) -> Result<(StatusCode, axum::Json<LinkOpened>), Error> {
    let invalid = |why: String| Error::unprocessable("invalid_link_offer", why);
    if body.offer.len() > MAX_OFFER {
        return Err(invalid("The link offer is too long".into()));
    }
    let offer = LinkOffer::parse(&body.offer).map_err(|e| invalid(e.to_string()))?;
    if offer.user_id != user.id {
        return Err(invalid("The offer names another person".into()));
    }
    let now = now_ms();
    let expires_at = now + LINK_TTL_MS;
    for _ in 0..3 {
        let code = new_code();
        let stored = store::open_link(
            &state.db,
            user.id,
            &code_hash(&code)?,
            &body.offer,
            expires_at,
            now,
            MAX_OPEN_LINKS,
        )
        .await?;
        if stored {
            return Ok((
                StatusCode::CREATED,
                axum::Json(LinkOpened {
                    success: true,
                    code,
                    expires_at: rfc3339(expires_at),
                }),
            ));
        }
        if store::link(&state.db, user.id, &code_hash(&code)?, now)
            .await?
            .is_none()
        {
            return Err(Error::TooManyRequests {
                retry_after: 600,
                message: "Five links are already open: finish or cancel one, or wait ten minutes"
                    .into(),
            });
        }
    }
    Err(Error::conflict(
        "link_code_taken",
        "Could not draw a free link code; try again",
    ))
}

#[derive(Serialize, ToSchema)]
pub struct LinkView {
    pub success: bool,
    /// The new device's offer.
    pub offer: String,
    /// The approving device's ephemeral key, once it answered.
    pub answer: Option<String>,
    /// The sealed payload, once the approving device sent it.
    pub payload: Option<String>,
    pub expires_at: String,
}

/// One of my open links, by its code: both devices poll it.
#[utoipa::path(get, path = "/api/users/me/devices/links/{code}", tag = "devices",
    params(("code" = String, Path, description = "The code the new device shows")),
    responses((status = 200, body = LinkView),
        (status = 404, description = "`link_not_found`", body = ErrorBody)))]
async fn get_link(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> Result<axum::Json<LinkView>, Error> {
    let row = store::link(&state.db, user.id, &code_hash(&code)?, now_ms())
        .await?
        .ok_or_else(link_not_found)?;
    Ok(axum::Json(LinkView {
        success: true,
        offer: row.offer,
        answer: row.answer,
        payload: row.payload,
        expires_at: rfc3339(row.expires_at),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct LinkAnswerUpload {
    /// The approving device's ephemeral X25519 public key (wire form).
    pub answer: String,
}

/// The approving device answers a link (once).
#[utoipa::path(post, path = "/api/users/me/devices/links/{code}/answer", tag = "devices",
    request_body = LinkAnswerUpload,
    params(("code" = String, Path, description = "The code the new device shows")),
    responses((status = 200, body = Success),
        (status = 404, description = "`link_not_found`", body = ErrorBody),
        (status = 409, description = "`link_answered`", body = ErrorBody),
        (status = 422, description = "`invalid_link_answer`", body = ErrorBody)))]
async fn answer_link(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<LinkAnswerUpload>,
) -> Result<axum::Json<Success>, Error> {
    let key = securechat_crypto::encoding::from_wire(&body.answer)
        .ok()
        .filter(|k| k.len() == 32 && body.answer.len() <= 64);
    if key.is_none() {
        return Err(Error::unprocessable(
            "invalid_link_answer",
            "An answer is a 32-byte key in base64url",
        ));
    }
    let hash = code_hash(&code)?;
    let now = now_ms();
    if store::answer_link(&state.db, user.id, &hash, &body.answer, now).await? {
        return Ok(axum::Json(Success::new()));
    }
    match store::link(&state.db, user.id, &hash, now).await? {
        Some(_) => Err(Error::conflict(
            "link_answered",
            "Another device already answered this link: start linking again on the new device",
        )),
        None => Err(link_not_found()),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LinkPayloadUpload {
    /// The sealed payload (crypto crate `LinkSession::seal_payload`).
    pub payload: String,
}

/// The approving device sends the sealed payload (once, after answering).
#[utoipa::path(post, path = "/api/users/me/devices/links/{code}/payload", tag = "devices",
    request_body = LinkPayloadUpload,
    params(("code" = String, Path, description = "The code the new device shows")),
    responses((status = 200, body = Success),
        (status = 404, description = "`link_not_found`", body = ErrorBody),
        (status = 409, description = "`link_not_answered` or `link_sent`", body = ErrorBody),
        (status = 413, description = "Payload too large", body = ErrorBody)))]
async fn link_payload(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<LinkPayloadUpload>,
) -> Result<axum::Json<Success>, Error> {
    if body.payload.len() > MAX_PAYLOAD {
        return Err(Error::unprocessable(
            "invalid_link_payload",
            "The link payload is too large: carry fewer channels",
        ));
    }
    let hash = code_hash(&code)?;
    let now = now_ms();
    if store::link_payload(&state.db, user.id, &hash, &body.payload, now).await? {
        return Ok(axum::Json(Success::new()));
    }
    match store::link(&state.db, user.id, &hash, now).await? {
        Some(row) if row.answer.is_none() => Err(Error::conflict(
            "link_not_answered",
            "Answer the link before sending its payload",
        )),
        Some(_) => Err(Error::conflict(
            "link_sent",
            "This link's payload was already sent",
        )),
        None => Err(link_not_found()),
    }
}

/// Closes one of my links (the new device is done, or gave up).
#[utoipa::path(delete, path = "/api/users/me/devices/links/{code}", tag = "devices",
    params(("code" = String, Path, description = "The code the new device shows")),
    responses((status = 200, body = Success),
        (status = 404, description = "`link_not_found`", body = ErrorBody)))]
async fn close_link(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> Result<axum::Json<Success>, Error> {
    if store::close_link(&state.db, user.id, &code_hash(&code)?).await? {
        Ok(axum::Json(Success::new()))
    } else {
        Err(link_not_found())
    }
}
