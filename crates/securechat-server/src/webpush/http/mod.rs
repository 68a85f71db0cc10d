//! The Web Push routes: the VAPID public key (here), subscriptions
//! ([`subscriptions`]) and notification settings ([`settings`]). All take
//! a session; writes pass the cross-site check like every other route.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::state::AppState;

mod settings;
mod subscriptions;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vapid_public_key))
        .merge(subscriptions::router())
        .merge(settings::router())
}

#[derive(Serialize, ToSchema)]
pub struct VapidPublicKey {
    pub success: bool,
    /// The server's VAPID public key: base64url (no padding) of the
    /// uncompressed P-256 point, for `pushManager.subscribe({applicationServerKey})`.
    pub key: String,
}

/// The key browsers subscribe with; pushes from this server are signed
/// with its private half.
#[utoipa::path(get, path = "/api/push/vapid_public_key", operation_id = "get_vapid_public_key", tag = "push",
    responses((status = 200, body = VapidPublicKey)))]
async fn vapid_public_key(
    State(state): State<AppState>,
    _user: AuthUser,
) -> axum::Json<VapidPublicKey> {
    axum::Json(VapidPublicKey {
        success: true,
        key: state.webpush.vapid.public_key().to_owned(),
    })
}
