//! Reminders against the real binary, on every configured storage backend:
//! one falls due and reaches every socket of its person once, with its note
//! in a plaintext channel and none in an encrypted one (where a note is
//! refused, so the server never holds it); only one's own channels and
//! reminders; times in the past or too far ahead refused; and the cap of
//! pending reminders holds when a hundred and five are set at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use testkit::{
    Server, backends, call, connect, new_user, next_event, no_event, room_and_channel, token,
};

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

async fn remind(server: &Server, token: &str, body: Value) -> (u16, Value) {
    call(server, Some(token), "POST", "/api/reminders", Some(body)).await
}

#[tokio::test]
async fn a_reminder_falls_due_once_on_every_socket_of_its_person() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_, secrets) = room_and_channel(&server, &alice, "Project X", "secrets").await;
        let (_laptop, mut laptop) = connect(&server, &alice).await;
        let (_phone, mut phone) = connect(&server, &alice).await;
        let (_bob_socket, mut bob_events) = connect(&server, &bob).await;

        let due = now_ms() + 1500;
        let (status, body) = remind(
            &server,
            &alice,
            json!({"channel_id": general, "due_at": due, "note": "call the printer people"}),
        )
        .await;
        assert_eq!(status, 201, "{backend:?} {body}");
        let id = body["reminder"]["id"].as_i64().unwrap();
        // In an encrypted channel a note is refused: the server would hold it.
        let (status, body) = remind(
            &server,
            &alice,
            json!({"channel_id": secrets, "due_at": due, "note": "the launch code"}),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("note_in_encrypted_channel"))
        );
        let (status, body) = remind(
            &server,
            &alice,
            json!({"channel_id": secrets, "due_at": due + 100}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (_, listed) = call(&server, Some(&alice), "GET", "/api/reminders", None).await;
        assert_eq!(listed["reminders"].as_array().unwrap().len(), 2, "{listed}");
        let (_, theirs) = call(&server, Some(&bob), "GET", "/api/reminders", None).await;
        assert_eq!(theirs["reminders"], json!([]), "only one's own");

        for events in [&mut laptop, &mut phone] {
            let first = next_event(events, "reminder_due").await;
            assert_eq!(first["id"], id);
            assert_eq!(first["note"], "call the printer people");
            assert_eq!(first["channel_id"], general);
            let second = next_event(events, "reminder_due").await;
            assert_eq!(second["channel_id"], secrets);
            assert_eq!(second["note"], Value::Null);
            assert!(second["due_at"].as_i64().unwrap() <= now_ms());
        }
        // Once each, and to nobody else.
        no_event(
            &mut laptop,
            "reminder_due",
            std::time::Duration::from_millis(1500),
        )
        .await;
        no_event(
            &mut bob_events,
            "reminder_due",
            std::time::Duration::from_millis(300),
        )
        .await;
        let (_, listed) = call(&server, Some(&alice), "GET", "/api/reminders", None).await;
        assert_eq!(
            listed["reminders"],
            json!([]),
            "delivered: no longer pending"
        );
        let sql = "SELECT COUNT(*) FROM reminders WHERE note LIKE '%launch code%' AND id > $1";
        assert_eq!(testkit::db_count(&server, sql, 0).await, 0);
    }
}

#[tokio::test]
async fn only_ones_own_channels_and_reminders_and_sane_times() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, outsider) = new_user(&server, "outsider").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let later = now_ms() + 3_600_000;
        let (status, _) = remind(
            &server,
            &outsider,
            json!({"channel_id": general, "due_at": later}),
        )
        .await;
        assert_eq!(status, 404, "not a channel of theirs");
        for due in [now_ms() - 1000, now_ms() + 400 * 24 * 3_600_000] {
            let (status, body) = remind(
                &server,
                &alice,
                json!({"channel_id": general, "due_at": due}),
            )
            .await;
            assert_eq!(
                (status, body["code"].as_str()),
                (422, Some("invalid_due_at"))
            );
        }
        let (status, body) = remind(
            &server,
            &alice,
            json!({"channel_id": general, "due_at": later, "note": "bad\u{0007}bell"}),
        )
        .await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid_note")));
        let (_, body) = remind(
            &server,
            &alice,
            json!({"channel_id": general, "due_at": later}),
        )
        .await;
        let id = body["reminder"]["id"].as_i64().unwrap();
        let path = format!("/api/reminders/{id}");
        let (status, _) = call(&server, Some(&outsider), "DELETE", &path, None).await;
        assert_eq!(status, 404, "someone else's reminder");
        let (status, _) = call(&server, Some(&alice), "DELETE", &path, None).await;
        assert_eq!(status, 200);
        let (status, _) = call(&server, Some(&alice), "DELETE", &path, None).await;
        assert_eq!(status, 404, "cancelled once");
    }
}

#[tokio::test]
async fn the_cap_holds_when_many_are_set_at_once() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let later = now_ms() + 3_600_000;
        let calls = (0..105).map(|i| {
            remind(
                &server,
                &alice,
                json!({"channel_id": general, "due_at": later + i}),
            )
        });
        let statuses: Vec<u16> = futures_util::future::join_all(calls)
            .await
            .into_iter()
            .map(|(status, _)| status)
            .collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 201).count(),
            100,
            "{backend:?}"
        );
        assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 5);
        let (_, listed) = call(&server, Some(&alice), "GET", "/api/reminders", None).await;
        assert_eq!(listed["reminders"].as_array().unwrap().len(), 100);
    }
}
