//! `POST` and `DELETE /api/push/subscriptions`: a browser's push
//! subscription, as `PushSubscription.toJSON()` gives it. The endpoint
//! passes the SSRF guard now (and again on every send); the keys must be
//! ones a push can be encrypted for.

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, Success};
use crate::outbound::guard::{self, Refusal};
use crate::state::AppState;
use crate::storage::now_ms;
use crate::webpush::ece::{AUTH_LEN, UaKeys, uncompressed_point};
use crate::webpush::store::subscriptions::{self, NewSubscription};

/// Subscriptions one person may hold (browsers and devices).
pub const MAX_PER_PERSON: i64 = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(subscribe, unsubscribe))
}

/// The keys of a subscription, base64url as browsers give them.
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key: the uncompressed point (65 bytes).
    #[schema(max_length = 128)]
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    #[schema(max_length = 64)]
    pub auth: String,
}

/// A push subscription (`PushSubscription.toJSON()`; other fields such
/// as `expirationTime` are ignored).
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionInput {
    /// The push service URL to send to: `https`, on a public address
    /// (unless the operator allows its host in `PUSH_ALLOW_HOSTS`), at
    /// most 2048 bytes.
    #[schema(max_length = 2048)]
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

fn decode(value: &str) -> Option<Vec<u8>> {
    if value.len() > 128 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()
}

fn refused(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Invalid(why) => Error::unprocessable("invalid_endpoint", why),
        Refusal::NotAllowed(why) => Error::bad_request("endpoint_not_allowed", why),
    }
}

/// Registers this browser's push subscription for the caller (201), or
/// updates it; a subscription another account held moves to the caller.
#[utoipa::path(post, path = "/api/push/subscriptions", operation_id = "subscribe_push", tag = "push",
    request_body = SubscriptionInput,
    responses((status = 201, body = Success),
        (status = 400, body = ErrorBody, description = "The endpoint is plain http or not on a public address, and its host is not in PUSH_ALLOW_HOSTS, or its host does not resolve (`endpoint_not_allowed`)"),
        (status = 409, body = ErrorBody, description = "The caller already has 10 subscriptions; remove one first (`too_many_subscriptions`)"),
        (status = 422, body = ErrorBody, description = "Not an https URL of at most 2048 bytes (`invalid_endpoint`), p256dh not an uncompressed P-256 point (`invalid_p256dh`), auth not 16 bytes (`invalid_auth`)")))]
async fn subscribe(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<SubscriptionInput>,
) -> Result<(StatusCode, axum::Json<Success>), Error> {
    let p256dh = decode(&input.keys.p256dh)
        .and_then(|bytes| uncompressed_point(&bytes).ok())
        .ok_or_else(|| {
            Error::unprocessable(
                "invalid_p256dh",
                "keys.p256dh must be the base64url of an uncompressed P-256 point (65 bytes)",
            )
        })?;
    let auth = decode(&input.keys.auth)
        .filter(|a| a.len() == AUTH_LEN)
        .ok_or_else(|| {
            Error::unprocessable(
                "invalid_auth",
                "keys.auth must be the base64url of 16 bytes",
            )
        })?;
    // Both are valid now; check them together as a send will use them.
    UaKeys::parse(&p256dh, &auth)
        .map_err(|e| Error::unprocessable("invalid_p256dh", e.to_string()))?;
    let target = guard::check_now(&input.endpoint, &state.webpush.allow_hosts)
        .await
        .map_err(refused)?;
    let new = NewSubscription {
        user_id: user.id,
        endpoint: target.url.as_str(),
        p256dh: &URL_SAFE_NO_PAD.encode(p256dh),
        auth: &URL_SAFE_NO_PAD.encode(&auth),
        now: now_ms(),
    };
    match subscriptions::upsert(&state.db, &new, MAX_PER_PERSON).await? {
        Some(_) => Ok((StatusCode::CREATED, axum::Json(Success::new()))),
        None => Err(Error::conflict(
            "too_many_subscriptions",
            format!(
                "You already have {MAX_PER_PERSON} push subscriptions; remove one (sign out of \
                 an old browser) first"
            ),
        )),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionRef {
    /// The endpoint of the caller's subscription to remove.
    #[schema(max_length = 2048)]
    pub endpoint: String,
}

/// Removes one of the caller's subscriptions (a browser signing out or
/// turning notifications off).
#[utoipa::path(delete, path = "/api/push/subscriptions", operation_id = "unsubscribe_push", tag = "push",
    request_body = SubscriptionRef,
    responses((status = 200, body = Success),
        (status = 404, body = ErrorBody, description = "The caller has no subscription with this endpoint (`subscription_not_found`)")))]
async fn unsubscribe(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<SubscriptionRef>,
) -> Result<axum::Json<Success>, Error> {
    // Stored endpoints are normalized URLs; match the same form.
    let endpoint = url::Url::parse(&input.endpoint)
        .map(String::from)
        .unwrap_or(input.endpoint);
    if subscriptions::delete_own(&state.db, user.id, &endpoint).await? {
        Ok(axum::Json(Success::new()))
    } else {
        Err(Error::not_found(
            "subscription_not_found",
            "You have no push subscription with this endpoint",
        ))
    }
}
