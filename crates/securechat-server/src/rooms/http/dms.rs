//! Direct messages: one private, encrypted, two-member room per pair.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::rooms::{RoomResponse, room_response};
use crate::auth::{AuthUser, store as users};
use crate::error::{Error, ErrorBody};
use crate::http::ApiJson;
use crate::rooms::access::RoomAccess;
use crate::rooms::events::RoomEvent;
use crate::rooms::model::Role;
use crate::rooms::store;
use crate::state::AppState;
use crate::storage::now_ms;

#[derive(Deserialize, ToSchema)]
pub struct NewDm {
    /// The other person.
    pub user_id: i64,
}

/// The pair key: the same for (a, b) and (b, a).
fn dm_key(a: i64, b: i64) -> String {
    format!("{}:{}", a.min(b), a.max(b))
}

/// Opens the DM with a user: created on first use (201), the existing one
/// afterwards (200).
#[utoipa::path(post, path = "/api/dms", operation_id = "open_dm", tag = "rooms", request_body = NewDm,
    responses((status = 201, body = RoomResponse, description = "Created"),
        (status = 200, body = RoomResponse, description = "Already existed"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewDm>,
) -> Result<(StatusCode, axum::Json<RoomResponse>), Error> {
    if body.user_id == user.id {
        return Err(Error::unprocessable(
            "cannot_target_self",
            "A direct message needs another person",
        ));
    }
    users::user_by_id(&state.db, body.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| Error::not_found("user_not_found", "No such user"))?;
    let key = dm_key(user.id, body.user_id);
    let mut status = StatusCode::OK;
    if store::dm_by_key(&state.db, &key).await?.is_none() {
        match store::create_dm(&state.db, &key, user.id, body.user_id, now_ms()).await {
            Ok((room, _)) => {
                status = StatusCode::CREATED;
                for member in [user.id, body.user_id] {
                    state.events.publish(RoomEvent::MemberJoined {
                        room_id: room.id,
                        user_id: member,
                        role: Role::Member,
                        rotations: Vec::new(),
                    });
                }
            }
            // Created concurrently by the other side: use theirs.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let room = store::dm_by_key(&state.db, &key)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("DM vanished after creation")))?;
    let access = RoomAccess::load(&state.db, &user, room.id).await?;
    Ok((status, axum::Json(room_response(&state, &access).await?)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pair_key_is_symmetric() {
        assert_eq!(super::dm_key(3, 7), super::dm_key(7, 3));
        assert_eq!(super::dm_key(3, 7), "3:7");
    }
}
