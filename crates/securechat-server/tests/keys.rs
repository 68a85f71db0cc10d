//! The seed's channel-key protocol on the server, driven with the real
//! crypto crate: public keys, shares, rotation on membership change, key
//! requests, key backup — and the server refusing what does not fit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use securechat_client::Socket;
use securechat_crypto::backup::{BackupKey, RecoveryKey};
use securechat_crypto::{
    Action, Backup, ChannelKey, Envelope, Identity, MembershipEntry, MembershipLog, MessageBinding,
    MessageKind, PublicBundle, Role, SealedShare, ShareContext, SharePurpose,
};
use serde_json::{Value, json};
use sqlx::Connection;
use testkit::{
    Member, Server, WAIT, backends, call, connect, member, new_user, next_event, no_event,
};

async fn share(
    server: &Server,
    from: &Member,
    to: &Member,
    channel: i64,
    version: u32,
    purpose: SharePurpose,
    key: &ChannelKey,
) -> (u16, Value) {
    let sealed = SealedShare::seal_format1(
        &from.identity,
        &to.identity.bundle(),
        channel,
        version,
        purpose,
        key,
    )
    .unwrap();
    call(
        server,
        Some(&from.token),
        "POST",
        "/api/channels/share_key",
        Some(json!({
            "user_id": to.id, "channel_id": channel, "encrypted_key": sealed.to_wire(),
            "is_key_rotation": purpose.is_key_rotation(), "key_version": version,
        })),
    )
    .await
}

async fn my_key(
    server: &Server,
    who: &Member,
    from: &Member,
    channel: i64,
    version: u32,
    purpose: SharePurpose,
) -> ChannelKey {
    let (s, body) = call(
        server,
        Some(&who.token),
        "GET",
        &format!("/api/channels/{channel}/key?version={version}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let sealed = SealedShare::parse(body["encrypted_key"].as_str().unwrap()).unwrap();
    let expected = ShareContext {
        // A format-2 share names its room; format 1 names none.
        room_id: sealed.context().room_id,
        channel_id: channel,
        key_version: version,
        sender_id: from.id,
        recipient_id: who.id,
        purpose,
    };
    sealed
        .open(&who.identity, &from.identity.bundle(), &expected)
        .unwrap()
}

async fn send_sealed(
    socket: &Socket,
    me: &Member,
    key: &ChannelKey,
    channel: i64,
    version: u32,
    counter: u32,
    text: &str,
) -> Value {
    let envelope = Envelope::encrypt_format1(
        &me.identity,
        key,
        channel,
        version,
        counter,
        text.as_bytes(),
    )
    .unwrap();
    socket
        .emit_with_ack(
            "send_message",
            &json!({
                "channel_id": channel, "envelope": envelope.to_wire(), "key_version": version,
                "client_msg_id": format!("{}-{version}-{counter}", me.id),
            }),
            WAIT,
        )
        .await
        .unwrap()
}

async fn secrets_channel(server: &Server, token: &str) -> (i64, i64) {
    let (_, mine) = call(server, Some(token), "GET", "/api/rooms", None).await;
    let room = mine["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Project X")
        .unwrap()
        .clone();
    let channel = room["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "secrets")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    (room["id"].as_i64().unwrap(), channel)
}

#[tokio::test]
async fn encrypted_channel_end_to_end_with_rotation_on_kick() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (room, secrets) = secrets_channel(&server, &alice.token).await;

        // Public keys, exactly as the seed's client reads them.
        let (s, key) = call(
            &server,
            Some(&bob.token),
            "GET",
            &format!("/api/users/{}/public_key", alice.id),
            None,
        )
        .await;
        assert_eq!(s, 200, "{backend:?}");
        assert_eq!(key["success"], true);
        assert_eq!(
            PublicBundle::parse_for(key["public_key"].as_str().unwrap(), alice.id).unwrap(),
            alice.identity.bundle()
        );
        let (s, body) = call(
            &server,
            Some(&bob.token),
            "PUT",
            "/api/users/me/public_key",
            Some(json!({"public_key": alice.identity.bundle().to_wire()})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_public_key")),
            "a bundle bound to someone else"
        );

        // First speaker establishes version 1 for everyone.
        let (b_socket, mut b_events) = connect(&server, &bob.token).await;
        let (a_socket, _a_events) = connect(&server, &alice.token).await;
        let v1 = ChannelKey::generate().unwrap();
        for to in [&bob, &charlie, &alice] {
            let (s, body) =
                share(&server, &alice, to, secrets, 1, SharePurpose::Initial, &v1).await;
            assert_eq!(s, 200, "{body}");
        }
        let pushed = next_event(&mut b_events, "channel_key_share").await;
        for field in [
            "channel_id",
            "encrypted_key",
            "key_version",
            "is_key_rotation",
            "sender_id",
        ] {
            assert!(
                pushed.get(field).is_some(),
                "channel_key_share lacks {field}"
            );
        }
        assert_eq!(
            (
                pushed["key_version"].as_i64(),
                pushed["is_key_rotation"].as_bool()
            ),
            (Some(1), Some(false))
        );
        assert_eq!(
            my_key(&server, &bob, &alice, secrets, 1, SharePurpose::Initial)
                .await
                .as_bytes(),
            v1.as_bytes()
        );

        // Messages: ciphertext in, ciphertext out; bob decrypts.
        for s in [&a_socket, &b_socket] {
            s.emit_with_ack("join_channel", &json!({"channel_id": secrets}), WAIT)
                .await
                .unwrap();
        }
        let secret_text = "the launch code is 0000";
        let ack = send_sealed(&a_socket, &alice, &v1, secrets, 1, 0, secret_text).await;
        assert_eq!(ack["success"], true, "{ack}");
        let received = next_event(&mut b_events, "new_message").await;
        let envelope = Envelope::parse(received["envelope"].as_str().unwrap()).unwrap();
        let plain = envelope
            .decrypt(&v1, &alice.identity.bundle(), secrets, 1)
            .unwrap();
        assert_eq!(&plain[..], secret_text.as_bytes());
        assert!(received["content"].is_null());
        assert!(!server.log().contains(secret_text));

        // charlie is kicked: rotation to version 2, announced with a rotator.
        let (s, _) = call(
            &server,
            Some(&alice.token),
            "DELETE",
            &format!("/api/rooms/{room}/members/{}", charlie.id),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let rotation = next_event(&mut b_events, "key_rotation_needed").await;
        assert_eq!(rotation["channel_id"], secrets);
        assert_eq!(rotation["new_version"], 2);
        assert_eq!(rotation["reason"], "member_removed");
        let members: Vec<i64> = rotation["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert!(!members.contains(&charlie.id) && members.contains(&bob.id));
        assert_eq!(rotation["rotator_id"], alice.id, "the online owner rotates");

        // While pending, nothing is sent under the old key.
        let refused = send_sealed(&b_socket, &bob, &v1, secrets, 1, 0, "old key").await;
        assert_eq!(refused["code"], "key_rotation_pending");
        let v2 = ChannelKey::generate().unwrap();
        let (s, body) = share(
            &server,
            &alice,
            &charlie,
            secrets,
            2,
            SharePurpose::Rotation,
            &v2,
        )
        .await;
        assert!(
            s == 403 || s == 404,
            "the removed member never gets the new key: {s} {body}"
        );
        for to in [&bob, &alice] {
            let (s, body) =
                share(&server, &alice, to, secrets, 2, SharePurpose::Rotation, &v2).await;
            assert_eq!(s, 200, "{body}");
        }
        // The version made current is a line of the channel's timeline,
        // after the removal that called for it; version 1 was none.
        let (s, page) = call(
            &server,
            Some(&bob.token),
            "GET",
            &format!("/api/channels/{secrets}/events?limit=200"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{page}");
        let events = page["events"].as_array().unwrap();
        assert_eq!(events[0]["kind"], "key_rotated", "{page}");
        assert_eq!(events[0]["detail"], "2");
        assert_eq!(events[0]["actor"]["id"], alice.id);
        assert_eq!(events[1]["kind"], "removed");
        assert_eq!(events[1]["target"]["id"], charlie.id);
        assert_eq!(
            events.iter().filter(|e| e["kind"] == "key_rotated").count(),
            1
        );
        let stale = send_sealed(&b_socket, &bob, &v1, secrets, 1, 1, "old key again").await;
        assert_eq!(stale["code"], "stale_key_version");
        assert_eq!(
            my_key(&server, &bob, &alice, secrets, 2, SharePurpose::Rotation)
                .await
                .as_bytes(),
            v2.as_bytes()
        );
        let ok = send_sealed(&b_socket, &bob, &v2, secrets, 2, 0, "new key").await;
        assert_eq!(ok["success"], true, "{ok}");

        // Envelopes that do not fit are refused before they are stored.
        let post = |envelope: String, id: &'static str| {
            let socket = b_socket.clone();
            async move {
                socket
                    .emit_with_ack(
                        "send_message",
                        &json!({"channel_id": secrets,
                    "envelope": envelope, "key_version": 2, "client_msg_id": id}),
                        WAIT,
                    )
                    .await
                    .unwrap()
            }
        };
        let elsewhere =
            Envelope::encrypt_format1(&bob.identity, &v2, secrets + 1, 2, 1, b"x").unwrap();
        assert_eq!(
            post(elsewhere.to_wire(), "bad-1").await["code"],
            "envelope_context_mismatch"
        );
        let other_room = Envelope::encrypt(
            &bob.identity,
            &v2,
            secrets,
            2,
            1,
            &MessageBinding {
                room_id: room + 1,
                kind: MessageKind::Message,
                target_id: 0,
                reply_to: 0,
            },
            b"x",
        )
        .unwrap();
        assert_eq!(
            post(other_room.to_wire(), "bad-0").await["code"],
            "envelope_context_mismatch"
        );
        let by_alice =
            Envelope::encrypt_format1(&alice.identity, &v2, secrets, 2, 1, b"x").unwrap();
        assert_eq!(
            post(by_alice.to_wire(), "bad-2").await["code"],
            "envelope_context_mismatch"
        );
        assert_eq!(
            post("not-an-envelope".into(), "bad-3").await["code"],
            "invalid_envelope"
        );
        let mut forged = Envelope::encrypt_format1(&bob.identity, &v2, secrets, 2, 1, b"x")
            .unwrap()
            .to_wire();
        let flip = if forged.as_bytes()[80] == b'A' {
            "B"
        } else {
            "A"
        };
        forged.replace_range(80..81, flip);
        let code = post(forged, "bad-4").await["code"].clone();
        assert!(
            code == "bad_envelope_signature" || code == "invalid_envelope",
            "{code}"
        );
        let (s, _) = call(
            &server,
            Some(&charlie.token),
            "GET",
            &format!("/api/channels/{secrets}/key?version=2"),
            None,
        )
        .await;
        assert_eq!(s, 404, "charlie gets nothing of the new version");

        // The database holds no plaintext of the encrypted channel.
        let stored = testkit::db_count(
            &server,
            "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND content IS NOT NULL",
            secrets,
        )
        .await;
        assert_eq!(stored, 0);
    }
}

#[tokio::test]
async fn shares_that_do_not_fit_are_refused() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let (project, secrets) = secrets_channel(&server, &alice.token).await;
        let key = ChannelKey::generate().unwrap();
        let post = |body: Value| {
            call(
                &server,
                Some(&alice.token),
                "POST",
                "/api/channels/share_key",
                Some(body),
            )
        };

        // Sealed for bob but filed for alice (a replay to another recipient).
        let for_bob = SealedShare::seal_format1(
            &alice.identity,
            &bob.identity.bundle(),
            secrets,
            1,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let (s, body) = post(json!({"user_id": alice.id, "channel_id": secrets, "encrypted_key": for_bob.to_wire(), "key_version": 1})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("share_context_mismatch")),
            "{backend:?}"
        );
        // Another channel.
        let other = SealedShare::seal_format1(
            &alice.identity,
            &bob.identity.bundle(),
            secrets + 1,
            1,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let (s, body) = post(json!({"user_id": bob.id, "channel_id": secrets, "encrypted_key": other.to_wire(), "key_version": 1})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("share_context_mismatch"))
        );
        // A format-2 share that names another room.
        let elsewhere = SealedShare::seal(
            &alice.identity,
            &bob.identity.bundle(),
            project + 1,
            secrets,
            1,
            0,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let (s, body) = post(json!({"user_id": bob.id, "channel_id": secrets, "encrypted_key": elsewhere.to_wire(), "key_version": 1})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("share_context_mismatch"))
        );
        // A version that is neither current nor pending.
        let v5 = SealedShare::seal_format1(
            &alice.identity,
            &bob.identity.bundle(),
            secrets,
            5,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let (s, body) = post(json!({"user_id": bob.id, "channel_id": secrets, "encrypted_key": v5.to_wire(), "key_version": 5})).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("stale_key_version")));
        // Made by someone else (bob's share, posted by alice).
        let by_bob = SealedShare::seal_format1(
            &bob.identity,
            &bob.identity.bundle(),
            secrets,
            1,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let (s, _) = post(json!({"user_id": bob.id, "channel_id": secrets, "encrypted_key": by_bob.to_wire(), "key_version": 1})).await;
        assert_eq!(s, 422);
        // Garbage, and a plaintext channel.
        let (s, body) = post(json!({"user_id": bob.id, "channel_id": secrets, "encrypted_key": "not a share", "key_version": 1})).await;
        assert_eq!((s, body["code"].as_str()), (422, Some("invalid_share")));
        let (_, mine) = call(&server, Some(&alice.token), "GET", "/api/rooms", None).await;
        let lobby_general = mine["rooms"][0]["channels"][0]["id"].as_i64().unwrap();
        let (s, _) = post(json!({"user_id": bob.id, "channel_id": lobby_general, "encrypted_key": for_bob.to_wire()})).await;
        assert_eq!(s, 422);
        // A sender without a published key cannot share.
        let dave_token = new_user(&server, "dave").await.1;
        let (s, _) = call(&server, Some(&dave_token), "POST", "/api/channels/share_key", Some(json!({"user_id": bob.id, "channel_id": secrets, "encrypted_key": for_bob.to_wire(), "key_version": 1}))).await;
        assert_eq!(s, 404, "dave is not even a member");
    }
}

#[tokio::test]
async fn key_request_is_approved_by_an_admin() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let (room, secrets) = secrets_channel(&server, &alice.token).await;
        let v1 = ChannelKey::generate().unwrap();
        for to in [&bob, &alice] {
            assert_eq!(
                share(&server, &alice, to, secrets, 1, SharePurpose::Initial, &v1)
                    .await
                    .0,
                200
            );
        }
        let (dave_id, _) = new_user(&server, "dave").await;
        let (_a, mut a_events) = connect(&server, &alice.token).await;
        let (_b, mut b_events) = connect(&server, &bob.token).await;
        call(
            &server,
            Some(&alice.token),
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"user_id": dave_id})),
        )
        .await;
        // dave's arrival rotates to version 2; the rotator forgets dave.
        let rotation = next_event(&mut a_events, "key_rotation_needed").await;
        assert_eq!(
            (
                rotation["new_version"].as_i64(),
                rotation["reason"].as_str()
            ),
            (Some(2), Some("member_added")),
            "{backend:?}"
        );
        let v2 = ChannelKey::generate().unwrap();
        for to in [&bob, &alice] {
            assert_eq!(
                share(&server, &alice, to, secrets, 2, SharePurpose::Rotation, &v2)
                    .await
                    .0,
                200
            );
        }
        let dave = member(&server, "dave", "plum-kettle-orbit-7").await;
        let (s, _) = call(
            &server,
            Some(&dave.token),
            "GET",
            &format!("/api/channels/{secrets}/key"),
            None,
        )
        .await;
        assert_eq!(s, 404);

        // The seed's request flow.
        let (s, req) = call(
            &server,
            Some(&dave.token),
            "POST",
            &format!("/api/channels/{secrets}/request_key"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(req["success"], true);
        let request_id = req["request_id"].as_i64().unwrap();
        let (_, again) = call(
            &server,
            Some(&dave.token),
            "POST",
            &format!("/api/channels/{secrets}/request_key"),
            None,
        )
        .await;
        assert_eq!(again["request_id"], request_id, "an open request is reused");
        for events in [&mut a_events, &mut b_events] {
            let asked = next_event(events, "channel_key_request").await;
            assert_eq!(asked["channel_id"], secrets);
            assert_eq!(asked["requester_id"], dave.id);
            assert_eq!(asked["requester_username"], "dave");
            assert_eq!(asked["request_id"], request_id);
        }
        let (_d, mut d_events) = connect(&server, &dave.token).await;
        let purpose = SharePurpose::Request { request_id };
        let (s, body) = share(&server, &bob, &dave, secrets, 2, purpose, &v2).await;
        assert_eq!(s, 200, "{body}");
        let got = next_event(&mut d_events, "channel_key_share").await;
        assert_eq!(got["is_key_rotation"], false);
        assert_eq!(
            my_key(&server, &dave, &bob, secrets, 2, purpose)
                .await
                .as_bytes(),
            v2.as_bytes()
        );
        let (_, fresh) = call(
            &server,
            Some(&dave.token),
            "POST",
            &format!("/api/channels/{secrets}/request_key"),
            None,
        )
        .await;
        assert_ne!(
            fresh["request_id"], request_id,
            "the fulfilled request is closed"
        );
    }
}

#[tokio::test]
async fn key_backup_is_stored_opaquely() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let (s, body) = call(
            &server,
            Some(&alice.token),
            "PUT",
            "/api/users/me/key_backup",
            Some(json!({"backup": "garbage"})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_backup")),
            "{backend:?}"
        );
        let (s, none) = call(
            &server,
            Some(&alice.token),
            "GET",
            "/api/users/me/key_backup",
            None,
        )
        .await;
        assert_eq!(
            (s, &none["backup"], &none["updated_at"]),
            (200, &serde_json::Value::Null, &serde_json::Value::Null),
            "{backend:?}: no backup yet is a state, not an error: {none}"
        );
        let sealed = Backup::seal(&alice.identity, b"correct horse battery staple")
            .unwrap()
            .to_wire();
        let (s, _) = call(
            &server,
            Some(&alice.token),
            "PUT",
            "/api/users/me/key_backup",
            Some(json!({"backup": sealed})),
        )
        .await;
        assert_eq!(s, 200);
        let (_, got) = call(
            &server,
            Some(&alice.token),
            "GET",
            "/api/users/me/key_backup",
            None,
        )
        .await;
        let restored = Backup::parse(got["backup"].as_str().unwrap())
            .unwrap()
            .open(b"correct horse battery staple")
            .unwrap();
        assert_eq!(restored.bundle(), alice.identity.bundle());
        assert!(!server.log().contains("correct horse"));
        // A format-2 backup under a recovery key, with a trust document far
        // larger than the API's other bodies, is stored too.
        let key = BackupKey::from_recovery_key(&RecoveryKey::generate().unwrap()).unwrap();
        let trust = vec![b'x'; 300 * 1024];
        let big = Backup::seal_contents(&key, &alice.identity, &trust)
            .unwrap()
            .to_wire();
        let (s, body) = call(
            &server,
            Some(&alice.token),
            "PUT",
            "/api/users/me/key_backup",
            Some(json!({"backup": big})),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        let (_, got) = call(
            &server,
            Some(&alice.token),
            "GET",
            "/api/users/me/key_backup",
            None,
        )
        .await;
        assert_eq!(got["backup"].as_str(), Some(big.as_str()));
    }
}

/// Runs `sql` with integer parameters on the server's database; returns the
/// rows it changed.
async fn db_exec(server: &Server, sql: &'static str, binds: &[i64]) -> u64 {
    if server.db_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&server.db_url).await.unwrap();
        let mut query = sqlx::query(sql);
        for b in binds {
            query = query.bind(*b);
        }
        query.execute(&mut conn).await.unwrap().rows_affected()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&server.db_url)
            .await
            .unwrap();
        let mut query = sqlx::query(sql);
        for b in binds {
            query = query.bind(*b);
        }
        query.execute(&mut conn).await.unwrap().rows_affected()
    }
}

/// One integer from the server's database.
async fn db_i64(server: &Server, sql: &'static str, binds: &[i64]) -> i64 {
    if server.db_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&server.db_url).await.unwrap();
        let mut query = sqlx::query_scalar(sql);
        for b in binds {
            query = query.bind(*b);
        }
        query.fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&server.db_url)
            .await
            .unwrap();
        let mut query = sqlx::query_scalar(sql);
        for b in binds {
            query = query.bind(*b);
        }
        query.fetch_one(&mut conn).await.unwrap()
    }
}

/// The channel's current key version, as members see it.
async fn current_version(server: &Server, token: &str, channel: i64) -> i64 {
    let (_, mine) = call(server, Some(token), "GET", "/api/rooms", None).await;
    mine["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["channels"].as_array().unwrap().iter())
        .find(|c| c["id"] == channel)
        .unwrap()["key_version"]
        .as_i64()
        .unwrap()
}

/// `from` shares `key` of `version` with each of `to` in order; the statuses
/// and error codes.
async fn share_all(
    server: &Server,
    from: &Member,
    to: &[&Member],
    channel: i64,
    version: u32,
    key: &ChannelKey,
) -> Vec<(u16, Option<String>)> {
    let mut out = Vec::new();
    for recipient in to {
        let (s, body) = share(
            server,
            from,
            recipient,
            channel,
            version,
            SharePurpose::Rotation,
            key,
        )
        .await;
        out.push((s, body["code"].as_str().map(str::to_owned)));
    }
    out
}

fn all_ok(results: &[(u16, Option<String>)]) -> bool {
    results.iter().all(|(s, _)| *s == 200)
}

#[tokio::test]
async fn a_member_makes_the_next_version_when_theirs_is_used_up() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let (_, secrets) = secrets_channel(&server, &alice.token).await;
        let v1 = ChannelKey::generate().unwrap();
        for to in [&bob, &alice] {
            let (s, body) =
                share(&server, &alice, to, secrets, 1, SharePurpose::Initial, &v1).await;
            assert_eq!(s, 200, "{backend:?} {body}");
        }
        assert_eq!(current_version(&server, &alice.token, secrets).await, 1);

        // No membership change: bob's version is used up, so he makes
        // version 2 — the others' copies first, then his own.
        let v2 = ChannelKey::generate().unwrap();
        let (s, body) = share(
            &server,
            &bob,
            &alice,
            secrets,
            2,
            SharePurpose::Rotation,
            &v2,
        )
        .await;
        assert_eq!(s, 200, "{backend:?} {body}");
        assert_eq!(
            current_version(&server, &alice.token, secrets).await,
            1,
            "version 2 is current only once its creator holds it"
        );
        let (s, body) = share(&server, &bob, &bob, secrets, 2, SharePurpose::Rotation, &v2).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(current_version(&server, &alice.token, secrets).await, 2);
        assert_eq!(
            my_key(&server, &alice, &bob, secrets, 2, SharePurpose::Rotation)
                .await
                .as_bytes(),
            v2.as_bytes()
        );
        let (a_socket, _a_events) = connect(&server, &alice.token).await;
        let ok = send_sealed(&a_socket, &alice, &v2, secrets, 2, 0, "under v2").await;
        assert_eq!(ok["success"], true, "{ok}");
        let old = send_sealed(&a_socket, &alice, &v1, secrets, 1, 1, "under v1").await;
        assert_eq!(old["code"], "stale_key_version");

        // Own copy first: alice makes version 3, current at once, then
        // shares it; a version beyond the next is still refused.
        let v3 = ChannelKey::generate().unwrap();
        let (s, body) = share(
            &server,
            &alice,
            &alice,
            secrets,
            3,
            SharePurpose::Rotation,
            &v3,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(current_version(&server, &bob.token, secrets).await, 3);
        let (s, body) = share(
            &server,
            &alice,
            &bob,
            secrets,
            3,
            SharePurpose::Rotation,
            &v3,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(
            my_key(&server, &bob, &alice, secrets, 3, SharePurpose::Rotation)
                .await
                .as_bytes(),
            v3.as_bytes()
        );
        let (b_socket, _b_events) = connect(&server, &bob.token).await;
        let ok = send_sealed(&b_socket, &bob, &v3, secrets, 3, 0, "under v3").await;
        assert_eq!(ok["success"], true, "{ok}");
        let v5 = ChannelKey::generate().unwrap();
        let (s, body) = share(&server, &bob, &bob, secrets, 5, SharePurpose::Rotation, &v5).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("stale_key_version")));
    }
}

#[tokio::test]
async fn racing_members_cannot_both_make_a_version() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (_, secrets) = secrets_channel(&server, &alice.token).await;
        let mut winners = Vec::new();
        // Round 1 races for the first key; later rounds for the next one.
        for version in 1..=6u32 {
            let key_a = ChannelKey::generate().unwrap();
            let key_b = ChannelKey::generate().unwrap();
            let (to_a, to_b) = ([&charlie, &bob, &alice], [&charlie, &alice, &bob]);
            let (by_alice, by_bob) = tokio::join!(
                share_all(&server, &alice, &to_a, secrets, version, &key_a),
                share_all(&server, &bob, &to_b, secrets, version, &key_b),
            );
            let (winner, key, loser) = match (all_ok(&by_alice), all_ok(&by_bob)) {
                (true, false) => (&alice, &key_a, by_bob),
                (false, true) => (&bob, &key_b, by_alice),
                _ => panic!("{backend:?} v{version}: alice {by_alice:?}, bob {by_bob:?}"),
            };
            assert!(
                loser
                    .iter()
                    .all(|(s, code)| *s == 409 && code.as_deref() == Some("rotation_taken")),
                "{backend:?} v{version}: the loser is told to wait: {loser:?}"
            );
            winners.push(winner.id);
            assert_eq!(
                current_version(&server, &charlie.token, secrets).await,
                i64::from(version)
            );
            let others = db_i64(
                &server,
                "SELECT COUNT(*) FROM channel_keys WHERE channel_id = $1 AND key_version = $2 \
                 AND sender_id <> $3",
                &[secrets, i64::from(version), winner.id],
            )
            .await;
            assert_eq!(others, 0, "{backend:?} v{version}: a share by the loser");
            for who in [&alice, &bob, &charlie] {
                assert_eq!(
                    my_key(
                        &server,
                        who,
                        winner,
                        secrets,
                        version,
                        SharePurpose::Rotation
                    )
                    .await
                    .as_bytes(),
                    key.as_bytes(),
                    "{backend:?} v{version}: everyone holds the winner's key"
                );
            }
        }
        eprintln!("{backend:?}: winners {winners:?}");
    }
}

/// As a client makes a version: my own copy first (it claims the version),
/// the others only if that was stored; format-2 shares, as clients write.
async fn make_version_as_a_client(
    server: &Server,
    me: &Member,
    others: &[&Member],
    (room, channel): (i64, i64),
    version: u32,
    key: &ChannelKey,
) -> bool {
    for to in std::iter::once(&me).chain(others) {
        let sealed = SealedShare::seal(
            &me.identity,
            &to.identity.bundle(),
            room,
            channel,
            version,
            0,
            SharePurpose::Rotation,
            key,
        )
        .unwrap();
        let (s, _) = call(
            server,
            Some(&me.token),
            "POST",
            "/api/channels/share_key",
            Some(json!({
                "user_id": to.id, "channel_id": channel, "encrypted_key": sealed.to_wire(),
                "is_key_rotation": true, "key_version": version,
            })),
        )
        .await;
        if s != 200 {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn two_devices_of_one_person_making_one_version_leave_one_key() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (room, secrets) = secrets_channel(&server, &alice.token).await;
        // Alice's second device: the same person, its own session.
        let laptop = Member {
            id: alice.id,
            token: testkit::token(&server, "alice", "password123").await,
            identity: Identity::import(&alice.identity.export()).unwrap(),
        };
        let others = [&bob, &charlie];
        for version in 1..=6u32 {
            let key_phone = ChannelKey::generate().unwrap();
            let key_laptop = ChannelKey::generate().unwrap();
            let (phone_made, laptop_made) = tokio::join!(
                make_version_as_a_client(
                    &server,
                    &alice,
                    &others,
                    (room, secrets),
                    version,
                    &key_phone
                ),
                make_version_as_a_client(
                    &server,
                    &laptop,
                    &others,
                    (room, secrets),
                    version,
                    &key_laptop
                ),
            );
            assert!(
                phone_made ^ laptop_made,
                "{backend:?} v{version}: exactly one device makes it (phone {phone_made}, laptop {laptop_made})"
            );
            let key = if phone_made { &key_phone } else { &key_laptop };
            for who in [&alice, &bob, &charlie] {
                assert_eq!(
                    my_key(
                        &server,
                        who,
                        &alice,
                        secrets,
                        version,
                        SharePurpose::Rotation
                    )
                    .await
                    .as_bytes(),
                    key.as_bytes(),
                    "{backend:?} v{version}: everyone holds the one key"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_current_version_is_shared_only_by_its_creator() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (_, secrets) = secrets_channel(&server, &alice.token).await;
        let v1 = ChannelKey::generate().unwrap();
        for to in [&alice, &bob] {
            let (s, body) =
                share(&server, &alice, to, secrets, 1, SharePurpose::Initial, &v1).await;
            assert_eq!(s, 200, "{backend:?} {body}");
        }
        let by_alice = [secrets, alice.id];
        let stored = || {
            db_i64(
                &server,
                "SELECT COUNT(*) FROM channel_keys WHERE channel_id = $1 AND key_version = 1 \
                 AND sender_id = $2",
                &by_alice,
            )
        };
        assert_eq!(stored().await, 2);

        // bob holds version 1 but did not make it: a second key is refused,
        // to someone with a copy as to someone without.
        let other = ChannelKey::generate().unwrap();
        for to in [&alice, &charlie] {
            let (s, body) =
                share(&server, &bob, to, secrets, 1, SharePurpose::Initial, &other).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (409, Some("rotation_taken")),
                "{backend:?} {body}"
            );
        }
        // A request share does not replace a stored copy either.
        let answer = SharePurpose::Request { request_id: 1 };
        let (s, body) = share(&server, &bob, &alice, secrets, 1, answer, &other).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("share_exists")),
            "{body}"
        );
        assert_eq!(stored().await, 2);
        assert_eq!(
            my_key(&server, &alice, &alice, secrets, 1, SharePurpose::Initial)
                .await
                .as_bytes(),
            v1.as_bytes(),
            "alice's copy is unchanged"
        );
        let (s, _) = call(
            &server,
            Some(&charlie.token),
            "GET",
            &format!("/api/channels/{secrets}/key?version=1"),
            None,
        )
        .await;
        assert_eq!(s, 404, "charlie got no key from bob");
        // Its creator still shares it.
        let (s, body) = share(
            &server,
            &alice,
            &charlie,
            secrets,
            1,
            SharePurpose::Initial,
            &v1,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(current_version(&server, &alice.token, secrets).await, 1);
    }
}

#[tokio::test]
async fn a_stale_claim_can_be_taken_over() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (_, secrets) = secrets_channel(&server, &alice.token).await;
        let (b_socket, mut b_events) = connect(&server, &bob.token).await;
        b_socket
            .emit_with_ack("join_channel", &json!({"channel_id": secrets}), WAIT)
            .await
            .unwrap();

        // alice claims version 1 with charlie's copy, then goes away.
        let lost = ChannelKey::generate().unwrap();
        let (s, body) = share(
            &server,
            &alice,
            &charlie,
            secrets,
            1,
            SharePurpose::Initial,
            &lost,
        )
        .await;
        assert_eq!(s, 200, "{backend:?} {body}");
        let bobs = ChannelKey::generate().unwrap();
        let (s, body) = share(
            &server,
            &bob,
            &charlie,
            secrets,
            1,
            SharePurpose::Initial,
            &bobs,
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("rotation_taken")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains("version 1"),
            "{body}"
        );
        // Trying to send does not make bob a rotator of alice's version.
        let ack = send_sealed(&b_socket, &bob, &bobs, secrets, 1, 0, "too early").await;
        assert_eq!(ack["code"], "key_rotation_pending", "{ack}");
        no_event(
            &mut b_events,
            "key_rotation_needed",
            std::time::Duration::from_millis(500),
        )
        .await;

        // Ten minutes later the claim has expired.
        let ten_minutes_ago = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
            - 600_000;
        assert_eq!(
            db_exec(
                &server,
                "UPDATE channels SET pending_claimed_at = $1 WHERE id = $2",
                &[ten_minutes_ago, secrets],
            )
            .await,
            1
        );
        let ack = send_sealed(&b_socket, &bob, &bobs, secrets, 1, 1, "still early").await;
        assert_eq!(ack["code"], "key_rotation_pending", "{ack}");
        let asked = next_event(&mut b_events, "key_rotation_needed").await;
        assert_eq!(
            (asked["new_version"].as_i64(), asked["rotator_id"].as_i64()),
            (Some(1), Some(bob.id))
        );
        for to in [&charlie, &alice, &bob] {
            let (s, body) =
                share(&server, &bob, to, secrets, 1, SharePurpose::Initial, &bobs).await;
            assert_eq!(s, 200, "{backend:?} {body}");
        }
        assert_eq!(current_version(&server, &alice.token, secrets).await, 1);
        assert_eq!(
            my_key(&server, &charlie, &bob, secrets, 1, SharePurpose::Initial)
                .await
                .as_bytes(),
            bobs.as_bytes(),
            "alice's unfinished version is gone"
        );
        // alice comes back too late.
        let (s, body) = share(
            &server,
            &alice,
            &alice,
            secrets,
            1,
            SharePurpose::Initial,
            &lost,
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("rotation_taken")),
            "{body}"
        );
        let ack = send_sealed(&b_socket, &bob, &bobs, secrets, 1, 2, "now").await;
        assert_eq!(ack["success"], true, "{ack}");
    }
}

#[tokio::test]
async fn starting_a_membership_log_is_pushed_to_members() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let (s, body) = call(
            &server,
            Some(&alice.token),
            "POST",
            "/api/rooms",
            Some(json!({"name": "Signed", "is_private": true})),
        )
        .await;
        assert_eq!(s, 201, "{body}");
        let room = body["room"]["id"].as_i64().unwrap();
        let (s, body) = call(
            &server,
            Some(&alice.token),
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"user_id": bob.id})),
        )
        .await;
        assert_eq!(s, 201, "{body}");
        let (_b_socket, mut b_events) = connect(&server, &bob.token).await;
        let mut log = MembershipLog::create(&alice.identity, room, false, 1_790_000_000);
        log.append(
            &alice.identity,
            Action::Add {
                subject: bob.id,
                role: Role::Member,
            },
            1_790_000_000,
        )
        .unwrap();
        let entries: Vec<String> = log.entries().iter().map(MembershipEntry::to_wire).collect();
        let (s, body) = call(
            &server,
            Some(&alice.token),
            "POST",
            &format!("/api/rooms/{room}/membership_log"),
            Some(json!({ "entries": entries })),
        )
        .await;
        assert_eq!(s, 201, "{backend:?} {body}");
        let started = next_event(&mut b_events, "membership_log_started").await;
        assert_eq!(started["room_id"], room, "{backend:?}");
    }
}

#[tokio::test]
async fn a_membership_change_during_a_claim_moves_to_the_next_version() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (room, secrets) = secrets_channel(&server, &alice.token).await;
        let v1 = ChannelKey::generate().unwrap();
        for to in [&charlie, &bob, &alice] {
            let (s, body) =
                share(&server, &alice, to, secrets, 1, SharePurpose::Initial, &v1).await;
            assert_eq!(s, 200, "{backend:?} {body}");
        }

        // bob starts version 2 and has already sealed it for charlie when
        // charlie is removed: version 2 is abandoned, 3 is made instead.
        let v2 = ChannelKey::generate().unwrap();
        let (s, body) = share(
            &server,
            &bob,
            &charlie,
            secrets,
            2,
            SharePurpose::Rotation,
            &v2,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        let (_a_socket, mut a_events) = connect(&server, &alice.token).await;
        let (s, _) = call(
            &server,
            Some(&alice.token),
            "DELETE",
            &format!("/api/rooms/{room}/members/{}", charlie.id),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let rotation = next_event(&mut a_events, "key_rotation_needed").await;
        assert_eq!(rotation["new_version"], 3, "{backend:?} {rotation}");
        let (s, body) = share(&server, &bob, &bob, secrets, 2, SharePurpose::Rotation, &v2).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("stale_key_version")),
            "{body}"
        );
        let v3 = ChannelKey::generate().unwrap();
        for to in [&bob, &alice] {
            let (s, body) =
                share(&server, &alice, to, secrets, 3, SharePurpose::Rotation, &v3).await;
            assert_eq!(s, 200, "{body}");
        }
        assert_eq!(current_version(&server, &alice.token, secrets).await, 3);

        // An unclaimed pending version is kept, as before.
        let (dave_id, _) = new_user(&server, "dave").await;
        for _ in 0..2 {
            let (s, _) = call(
                &server,
                Some(&alice.token),
                "POST",
                &format!("/api/rooms/{room}/members"),
                Some(json!({"user_id": dave_id})),
            )
            .await;
            assert_eq!(s, 201);
            let rotation = next_event(&mut a_events, "key_rotation_needed").await;
            assert_eq!(rotation["new_version"], 4, "{rotation}");
            let (s, _) = call(
                &server,
                Some(&alice.token),
                "DELETE",
                &format!("/api/rooms/{room}/members/{dave_id}"),
                None,
            )
            .await;
            assert_eq!(s, 200);
            let rotation = next_event(&mut a_events, "key_rotation_needed").await;
            assert_eq!(rotation["new_version"], 4, "{rotation}");
        }
    }
}

/// The rotation a kick needs is written by the kick's own transaction, not
/// by whatever later announces it: a server killed with SIGKILL right after
/// answering the kick (before its event could reach anyone) comes back with
/// version 2 pending. The first member who then tries to send is asked to
/// make it, and the kicked member cannot be given it.
#[tokio::test]
async fn a_kick_rotates_even_if_the_server_dies_right_after_answering() {
    for backend in backends() {
        let mut server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (room, secrets) = secrets_channel(&server, &alice.token).await;
        let v1 = ChannelKey::generate().unwrap();
        for to in [&charlie, &bob, &alice] {
            let (s, body) =
                share(&server, &alice, to, secrets, 1, SharePurpose::Initial, &v1).await;
            assert_eq!(s, 200, "{backend:?} {body}");
        }

        let (s, body) = call(
            &server,
            Some(&alice.token),
            "DELETE",
            &format!("/api/rooms/{room}/members/{}", charlie.id),
            None,
        )
        .await;
        server.kill();
        assert_eq!(s, 200, "{backend:?} {body}");
        let pending = "SELECT COALESCE(pending_version, 0) FROM channels WHERE id = $1";
        assert_eq!(
            db_i64(&server, pending, &[secrets]).await,
            2,
            "{backend:?}: the kick was answered, so its rotation is stored"
        );

        server.restart();
        assert_eq!(db_i64(&server, pending, &[secrets]).await, 2, "{backend:?}");
        let (b_socket, mut b_events) = connect(&server, &bob.token).await;
        let joined = b_socket
            .emit_with_ack("join_channel", &json!({"channel_id": secrets}), WAIT)
            .await
            .unwrap();
        assert_eq!(joined["success"], true, "{joined}");
        let refused = send_sealed(&b_socket, &bob, &v1, secrets, 1, 0, "old key").await;
        assert_eq!(
            refused["code"], "key_rotation_pending",
            "{backend:?} {refused}"
        );
        let asked = next_event(&mut b_events, "key_rotation_needed").await;
        assert_eq!(
            (
                asked["channel_id"].as_i64(),
                asked["new_version"].as_i64(),
                asked["reason"].as_str(),
                asked["rotator_id"].as_i64(),
            ),
            (Some(secrets), Some(2), Some("first_sender"), Some(bob.id)),
            "{backend:?} {asked}"
        );
        let members: Vec<i64> = asked["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert!(!members.contains(&charlie.id) && members.contains(&alice.id));

        // bob makes version 2 for the remaining members only.
        let v2 = ChannelKey::generate().unwrap();
        let (s, body) = share(
            &server,
            &bob,
            &charlie,
            secrets,
            2,
            SharePurpose::Rotation,
            &v2,
        )
        .await;
        assert!(
            s == 403 || s == 404,
            "{backend:?}: the kicked member never gets the new key: {s} {body}"
        );
        assert!(all_ok(
            &share_all(&server, &bob, &[&alice, &bob], secrets, 2, &v2).await
        ));
        assert_eq!(current_version(&server, &alice.token, secrets).await, 2);
        let ok = send_sealed(&b_socket, &bob, &v2, secrets, 2, 0, "new key").await;
        assert_eq!(ok["success"], true, "{backend:?} {ok}");
        let (s, _) = call(
            &server,
            Some(&charlie.token),
            "GET",
            &format!("/api/channels/{secrets}/key?version=2"),
            None,
        )
        .await;
        assert_eq!(s, 404, "{backend:?}: charlie gets nothing of version 2");
    }
}
