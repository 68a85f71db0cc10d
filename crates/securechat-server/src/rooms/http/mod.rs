//! The rooms API: rooms, members, bans, channels, DMs, audit log, export.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub mod audit;
pub mod channels;
pub mod dms;
pub mod export;
pub mod log;
pub mod members;
pub mod rooms;

/// The routes of the rooms domain.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rooms::list_mine, rooms::create))
        .routes(routes!(rooms::directory))
        .routes(routes!(rooms::show, rooms::update, rooms::delete))
        .routes(routes!(rooms::join))
        .routes(routes!(rooms::leave))
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::kick))
        .routes(routes!(members::set_role))
        .routes(routes!(members::ban))
        .routes(routes!(members::unban))
        .routes(routes!(members::transfer))
        .routes(routes!(channels::create))
        .routes(routes!(channels::update, channels::delete))
        .routes(routes!(dms::open))
        .routes(routes!(audit::list))
        .routes(routes!(log::show, log::append))
        .routes(routes!(export::export_room))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tokio::sync::broadcast::error::TryRecvError;
    use tower::ServiceExt;

    use crate::auth::password::Hasher;
    use crate::auth::{admin, session};
    use crate::rooms::events::{Departure, RoomEvent};
    use crate::rooms::model::Role;
    use crate::state::AppState;
    use crate::storage::Db;

    async fn send(
        app: &axum::Router,
        token: &str,
        method: &str,
        uri: &str,
        body: &str,
    ) -> serde_json::Value {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(
            response.status().is_success(),
            "{method} {uri}: {}",
            response.status()
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// Each committed change is published once, after the commit.
    #[tokio::test]
    async fn changes_are_published_as_events() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("t.db");
        let db = Db::connect(&format!("sqlite://{}", db_path.display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let alice = admin::add_demo_user(&db, "alice", "password123", false)
            .await
            .unwrap();
        let bob = admin::add_demo_user(&db, "bob", "password456", false)
            .await
            .unwrap();
        let env = |k: &str| match k {
            "SECRET_KEY" => Some("0123456789abcdef0123456789abcdef".to_owned()),
            _ => None,
        };
        let config =
            crate::config::load_serve(&env, &Default::default(), &Default::default()).unwrap();
        let vapid = crate::webpush::vapid::VapidKey::from_scalar(&[7; 32]).unwrap();
        let state = AppState::new(
            db.clone(),
            Hasher::new(1).unwrap(),
            &config,
            Vec::new(),
            vapid,
        )
        .unwrap();
        let token = session::create(&db, &state.keys, alice.id).await.unwrap();
        let mut events = state.events.subscribe();
        let app = crate::app::router(state);

        let created = send(&app, &token, "POST", "/api/rooms", r#"{"name":"Ev"}"#).await;
        let room = created["room"]["id"].as_i64().unwrap();
        let add = format!(r#"{{"user_id":{}}}"#, bob.id);
        send(
            &app,
            &token,
            "POST",
            &format!("/api/rooms/{room}/members"),
            &add,
        )
        .await;
        let role = r#"{"role":"admin"}"#;
        send(
            &app,
            &token,
            "PUT",
            &format!("/api/rooms/{room}/members/{}/role", bob.id),
            role,
        )
        .await;
        let channel = send(
            &app,
            &token,
            "POST",
            &format!("/api/rooms/{room}/channels"),
            r#"{"name":"x"}"#,
        )
        .await;
        let channel_id = channel["channel"]["id"].as_i64().unwrap();
        send(
            &app,
            &token,
            "DELETE",
            &format!("/api/rooms/{room}/members/{}", bob.id),
            "",
        )
        .await;
        send(&app, &token, "DELETE", &format!("/api/rooms/{room}"), "").await;

        let expected = [
            RoomEvent::MemberJoined {
                room_id: room,
                user_id: alice.id,
                role: Role::Owner,
                rotations: vec![],
            },
            RoomEvent::MemberJoined {
                room_id: room,
                user_id: bob.id,
                role: Role::Member,
                rotations: vec![],
            },
            RoomEvent::RoleChanged {
                room_id: room,
                user_id: bob.id,
                role: Role::Admin,
            },
            RoomEvent::ChannelCreated {
                room_id: room,
                channel_id,
            },
            RoomEvent::MemberLeft {
                room_id: room,
                user_id: bob.id,
                how: Departure::Kicked,
                rotations: vec![],
            },
        ];
        for want in expected {
            assert_eq!(events.try_recv().unwrap(), want);
        }
        match events.try_recv().unwrap() {
            RoomEvent::RoomDeleted {
                room_id,
                channel_ids,
                member_ids,
            } => {
                assert_eq!(room_id, room);
                assert_eq!(channel_ids.len(), 2);
                assert_eq!(member_ids, vec![alice.id]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(events.try_recv(), Err(TryRecvError::Empty)));
    }
}
