//! The signed membership log on the server: starting it, signed changes
//! performed exactly as signed, refusals of what does not verify, plain
//! endpoints closed once a room is signed, server removals on disable, and
//! the key history that old entries verify under.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use securechat_crypto::{
    Action, EntryFields, Identity, KeyRing, MembershipEntry, MembershipLog, Op, Role,
};
use serde_json::{Value, json};
use testkit::{Member, Server, backends, call, db_count, member, new_user};

const NOW: u64 = 1_790_000_000;

async fn create_room(server: &Server, owner: &Member, name: &str, private: bool) -> i64 {
    let (s, body) = call(
        server,
        Some(&owner.token),
        "POST",
        "/api/rooms",
        Some(json!({"name": name, "is_private": private})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    body["room"]["id"].as_i64().unwrap()
}

async fn plain_add(server: &Server, by: &Member, room: i64, user: i64) -> (u16, Value) {
    call(
        server,
        Some(&by.token),
        "POST",
        &format!("/api/rooms/{room}/members"),
        Some(json!({"user_id": user})),
    )
    .await
}

async fn submit(server: &Server, by: &Member, room: i64, entries: Value) -> (u16, Value) {
    call(
        server,
        Some(&by.token),
        "POST",
        &format!("/api/rooms/{room}/membership_log"),
        Some(json!({ "entries": entries })),
    )
    .await
}

fn wire(entries: &[MembershipEntry]) -> Value {
    json!(
        entries
            .iter()
            .map(MembershipEntry::to_wire)
            .collect::<Vec<_>>()
    )
}

/// The room's log as served, verified by a client that trusts `keys`.
async fn fetch_log(server: &Server, who: &Member, room: i64, keys: &KeyRing) -> MembershipLog {
    let (s, body) = call(
        server,
        Some(&who.token),
        "GET",
        &format!("/api/rooms/{room}/membership_log"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let entries: Vec<String> = serde_json::from_value(body["entries"].clone()).unwrap();
    let log = MembershipLog::verify_wire(&entries, keys).unwrap();
    assert_eq!(
        body["head"]["hash"],
        securechat_crypto::encoding::to_wire(&log.head_hash())
    );
    log
}

async fn members(server: &Server, who: &Member, room: i64) -> Vec<(i64, String)> {
    let (_, body) = call(
        server,
        Some(&who.token),
        "GET",
        &format!("/api/rooms/{room}/members"),
        None,
    )
    .await;
    let mut out: Vec<(i64, String)> = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_i64().unwrap(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn add_member(subject: i64) -> Action {
    Action::Add {
        subject,
        role: Role::Member,
    }
}

fn ring(members: &[&Member]) -> KeyRing {
    KeyRing::from_bundles(members.iter().map(|m| m.identity.bundle()))
}

#[tokio::test]
async fn a_log_starts_only_as_the_rooms_true_membership() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let room = create_room(&server, &alice, "Signed", true).await;
        assert_eq!(plain_add(&server, &alice, room, bob.id).await.0, 201);

        // Before a log exists the room works as in the seed.
        let (s, body) = call(
            &server,
            Some(&bob.token),
            "GET",
            &format!("/api/rooms/{room}/membership_log"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["entries"], json!([]));
        assert_eq!(body["head"], Value::Null);

        // A log that leaves bob out, or says public, or is started by a
        // plain member, is refused.
        let only_alice = MembershipLog::create(&alice.identity, room, false, NOW);
        let (s, body) = submit(&server, &alice, room, wire(only_alice.entries())).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("log_mismatch")));
        assert!(body["message"].as_str().unwrap().contains("bob"), "{body}");
        let mut public = MembershipLog::create(&alice.identity, room, true, NOW);
        public
            .append(&alice.identity, add_member(bob.id), NOW)
            .unwrap();
        let (s, body) = submit(&server, &alice, room, wire(public.entries())).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("log_mismatch")));
        let mut by_bob = MembershipLog::create(&bob.identity, room, false, NOW);
        by_bob
            .append(&bob.identity, add_member(alice.id), NOW)
            .unwrap();
        let (s, body) = submit(&server, &bob, room, wire(by_bob.entries())).await;
        assert_eq!((s, body["code"].as_str()), (403, Some("insufficient_role")));
        // Signed by a key alice never published.
        let stranger = Identity::generate(alice.id).unwrap();
        let mut forged = MembershipLog::create(&stranger, room, false, NOW);
        forged.append(&stranger, add_member(bob.id), NOW).unwrap();
        let (s, body) = submit(&server, &alice, room, wire(forged.entries())).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("log_bad_signature")),
            "{body}"
        );

        // The true membership starts the log, once.
        let mut log = MembershipLog::create(&alice.identity, room, false, NOW);
        log.append(&alice.identity, add_member(bob.id), NOW)
            .unwrap();
        let (s, body) = submit(&server, &alice, room, wire(log.entries())).await;
        assert_eq!(s, 201, "{body}");
        assert_eq!(body["head"]["seq"], 1);
        let (s, body) = submit(&server, &alice, room, wire(log.entries())).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("log_exists")));
        let served = fetch_log(&server, &bob, room, &ring(&[&alice, &bob])).await;
        assert_eq!(served.entries(), log.entries());
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM membership_log WHERE room_id = $1",
                room
            )
            .await,
            2
        );
    }
}

#[tokio::test]
async fn signed_changes_are_performed_exactly_as_signed() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let charlie = member(&server, "charlie", "password789").await;
        let (dave_id, dave_token) = new_user(&server, "dave").await;
        let dave = Member {
            id: dave_id,
            identity: Identity::generate(dave_id).unwrap(),
            token: dave_token,
        };
        let room = create_room(&server, &alice, "Team", true).await;
        let mut log = MembershipLog::create(&alice.identity, room, false, NOW);
        assert_eq!(
            submit(&server, &alice, room, wire(log.entries())).await.0,
            201
        );

        // Plain membership endpoints are closed now.
        let (s, body) = plain_add(&server, &alice, room, bob.id).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("signed_entry_required"))
        );

        // alice adds bob as admin and charlie as member, signed.
        for (who, role) in [(bob.id, Role::Admin), (charlie.id, Role::Member)] {
            let entry = log
                .append(&alice.identity, Action::Add { subject: who, role }, NOW)
                .unwrap();
            let (s, body) = submit(&server, &alice, room, wire(&[entry])).await;
            assert_eq!(s, 200, "{body}");
        }
        assert_eq!(
            members(&server, &alice, room).await,
            vec![
                (alice.id, "owner".into()),
                (bob.id, "admin".into()),
                (charlie.id, "member".into())
            ]
        );

        // charlie (a member) may not add anyone: the log's rules refuse it.
        let charlies_view = fetch_log(&server, &charlie, room, &ring(&[&alice])).await;
        let fields = EntryFields {
            room_id: room,
            seq: charlies_view.len() as u64,
            prev_hash: charlies_view.head_hash(),
            timestamp: NOW,
            op: Op::Add,
            subject_id: dave.id,
            role: Some(Role::Member),
            public: false,
            seconds: 0,
        };
        let sneaky = MembershipEntry::sign_unchecked(&charlie.identity, fields).unwrap();
        let (s, body) = submit(&server, &charlie, room, wire(&[sneaky])).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("log_unauthorized")),
            "{body}"
        );
        // Someone else's entry, submitted by charlie.
        let alices = charlies_view
            .clone()
            .append(&alice.identity, add_member(dave.id), NOW)
            .unwrap();
        let (s, body) = submit(&server, &charlie, room, wire(&[alices])).await;
        assert_eq!((s, body["code"].as_str()), (422, Some("log_wrong_actor")));
        // An entry whose signature was altered.
        let mut bytes = log
            .clone()
            .append(&alice.identity, add_member(dave.id), NOW)
            .unwrap()
            .to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = MembershipEntry::from_bytes(&bytes).unwrap();
        let (s, body) = submit(&server, &alice, room, wire(&[altered])).await;
        assert_eq!((s, body["code"].as_str()), (422, Some("log_bad_signature")));

        // bob (admin) kicks charlie; an entry built on the old head then
        // conflicts.
        let mut bobs_view = fetch_log(&server, &bob, room, &ring(&[&alice, &bob])).await;
        let kick = bobs_view
            .append(
                &bob.identity,
                Action::Remove {
                    subject: charlie.id,
                },
                NOW,
            )
            .unwrap();
        let (s, body) = submit(&server, &bob, room, wire(&[kick])).await;
        assert_eq!(s, 200, "{body}");
        let stale = log
            .append(&alice.identity, add_member(dave.id), NOW)
            .unwrap();
        let (s, body) = submit(&server, &alice, room, wire(&[stale])).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("log_conflict")));

        // alice bans charlie's re-add path: add, then ban with a reason.
        let mut log = fetch_log(&server, &alice, room, &ring(&[&alice, &bob])).await;
        let add = log
            .append(&alice.identity, add_member(charlie.id), NOW)
            .unwrap();
        assert_eq!(submit(&server, &alice, room, wire(&[add])).await.0, 200);
        let remove = log
            .append(
                &alice.identity,
                Action::Remove {
                    subject: charlie.id,
                },
                NOW,
            )
            .unwrap();
        let (s, body) = call(
            &server,
            Some(&alice.token),
            "POST",
            &format!("/api/rooms/{room}/membership_log"),
            Some(json!({"entries": [remove.to_wire()], "ban": true, "reason": "spam"})),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM room_bans WHERE room_id = $1 AND reason = 'spam'",
                room
            )
            .await,
            1
        );

        // Ownership transfer and leaving, signed by the actors themselves.
        let transfer = log
            .append(
                &alice.identity,
                Action::SetRole {
                    subject: bob.id,
                    role: Role::Owner,
                },
                NOW,
            )
            .unwrap();
        assert_eq!(
            submit(&server, &alice, room, wire(&[transfer])).await.0,
            200
        );
        let leave = log.append(&alice.identity, Action::Leave, NOW).unwrap();
        assert_eq!(submit(&server, &alice, room, wire(&[leave])).await.0, 200);
        assert_eq!(
            members(&server, &bob, room).await,
            vec![(bob.id, "owner".into())]
        );

        // What the server holds is exactly what a client verifies.
        let served = fetch_log(&server, &bob, room, &ring(&[&alice, &bob])).await;
        assert_eq!(served.entries(), log.entries());
        assert_eq!(
            served
                .members()
                .iter()
                .map(|(k, v)| (*k, *v))
                .collect::<Vec<_>>(),
            vec![(bob.id, Role::Owner)]
        );
        assert_eq!(served.len(), 8);
    }
}

#[tokio::test]
async fn public_rooms_are_joined_with_a_signed_entry() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let room = create_room(&server, &alice, "Open", false).await;
        let log = MembershipLog::create(&alice.identity, room, true, NOW);
        assert_eq!(
            submit(&server, &alice, room, wire(log.entries())).await.0,
            201
        );
        let join_url = format!("/api/rooms/{room}/join");
        let (s, body) = call(&server, Some(&bob.token), "POST", &join_url, None).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("signed_entry_required"))
        );
        let mut view = fetch_log(&server, &bob, room, &ring(&[&alice])).await;
        let join = view.append(&bob.identity, Action::JoinPublic, NOW).unwrap();
        let (s, body) = submit(&server, &bob, room, wire(&[join])).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(
            members(&server, &alice, room).await,
            vec![(alice.id, "owner".into()), (bob.id, "member".into())]
        );
    }
}

#[tokio::test]
async fn a_disabled_account_is_removed_by_an_unsigned_server_entry() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let room = create_room(&server, &alice, "Kept", true).await;
        assert_eq!(plain_add(&server, &alice, room, bob.id).await.0, 201);
        let mut log = MembershipLog::create(&alice.identity, room, false, NOW);
        log.append(&alice.identity, add_member(bob.id), NOW)
            .unwrap();
        assert_eq!(
            submit(&server, &alice, room, wire(log.entries())).await.0,
            201
        );

        let out = server.cli(&["user", "disable", "bob"], None);
        assert!(out.status.success(), "{}", testkit::text(&out.stderr));
        assert!(testkit::text(&out.stdout).contains("1 room"));

        let served = fetch_log(&server, &alice, room, &ring(&[&alice])).await;
        let last = served.entries().last().unwrap();
        assert_eq!(
            (last.op(), last.actor_id(), last.subject_id()),
            (Op::ServerRemove, 0, bob.id)
        );
        assert!(!served.members().contains_key(&bob.id));
        assert_eq!(
            members(&server, &alice, room).await,
            vec![(alice.id, "owner".into())]
        );
    }
}

#[tokio::test]
async fn every_published_key_is_kept_for_old_signatures() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let room = create_room(&server, &alice, "Rekeyed", true).await;
        let mut log = MembershipLog::create(&alice.identity, room, false, NOW);
        assert_eq!(
            submit(&server, &alice, room, wire(log.entries())).await.0,
            201
        );

        // alice moves to a new identity; her first entry still verifies,
        // and her next change is signed with the new key.
        let renewed = Identity::generate(alice.id).unwrap();
        let (s, _) = call(
            &server,
            Some(&alice.token),
            "PUT",
            "/api/users/me/public_key",
            Some(json!({"public_key": renewed.bundle().to_wire()})),
        )
        .await;
        assert_eq!(s, 200);
        let (s, body) = call(
            &server,
            Some(&bob.token),
            "GET",
            &format!("/api/users/{}/public_keys", alice.id),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let keys: Vec<&str> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["public_key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            vec![
                alice.identity.bundle().to_wire(),
                renewed.bundle().to_wire()
            ]
        );
        let add = log.append(&renewed, add_member(bob.id), NOW).unwrap();
        let (s, body) = submit(&server, &alice, room, wire(&[add])).await;
        assert_eq!(s, 200, "{body}");
    }
}

async fn create_channel(
    server: &Server,
    by: &Member,
    room: i64,
    name: &str,
    encrypted: bool,
) -> i64 {
    let (s, body) = call(
        server,
        Some(&by.token),
        "POST",
        &format!("/api/rooms/{room}/channels"),
        Some(json!({"name": name, "is_encrypted": encrypted})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    body["channel"]["id"].as_i64().unwrap()
}

async fn log_len(server: &Server, room: i64) -> i64 {
    db_count(
        server,
        "SELECT COUNT(*) FROM membership_log WHERE room_id = $1",
        room,
    )
    .await
}

fn register(channel: i64) -> Action {
    Action::RegisterChannel { channel }
}

#[tokio::test]
async fn encrypted_channels_are_registered_in_the_log_by_owners_and_admins() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let room = create_room(&server, &alice, "Vaulted", true).await;
        let other_room = create_room(&server, &alice, "Elsewhere", true).await;
        let vault = create_channel(&server, &alice, room, "vault", true).await;
        let notes = create_channel(&server, &alice, room, "notes", true).await;
        let plain = create_channel(&server, &alice, room, "plain", false).await;
        let elsewhere = create_channel(&server, &alice, other_room, "far", true).await;
        assert_eq!(plain_add(&server, &alice, room, bob.id).await.0, 201);

        // A log cannot start by registering a plaintext channel.
        let mut bad_start = MembershipLog::create(&alice.identity, room, false, NOW);
        bad_start
            .append(&alice.identity, add_member(bob.id), NOW)
            .unwrap();
        bad_start
            .append(&alice.identity, register(plain), NOW)
            .unwrap();
        let (s, body) = submit(&server, &alice, room, wire(bad_start.entries())).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("channel_not_encrypted")),
            "{body}"
        );

        let mut log = MembershipLog::create(&alice.identity, room, false, NOW);
        log.append(&alice.identity, add_member(bob.id), NOW)
            .unwrap();
        assert_eq!(
            submit(&server, &alice, room, wire(log.entries())).await.0,
            201
        );

        // bob, a plain member, may not register a channel.
        let mut bobs = log.clone();
        let fields = EntryFields {
            room_id: room,
            seq: bobs.len() as u64,
            prev_hash: bobs.head_hash(),
            timestamp: NOW,
            op: Op::Channel,
            subject_id: vault,
            role: None,
            public: false,
            seconds: 0,
        };
        let sneaky = MembershipEntry::sign_unchecked(&bob.identity, fields).unwrap();
        let (s, body) = submit(&server, &bob, room, wire(&[sneaky])).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("log_unauthorized")),
            "{body}"
        );
        assert!(bobs.append(&bob.identity, register(vault), NOW).is_err());

        // Only an encrypted channel of this very room is registered.
        for channel in [plain, elsewhere, 999_999] {
            let entry = log
                .clone()
                .append(&alice.identity, register(channel), NOW)
                .unwrap();
            let (s, body) = submit(&server, &alice, room, wire(&[entry])).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (422, Some("channel_not_encrypted")),
                "{channel}: {body}"
            );
        }
        assert_eq!(log_len(&server, room).await, 2);

        // Two registrations signed on the same head at once: one is stored,
        // the other is told to sign again on the new head.
        let first = log
            .clone()
            .append(&alice.identity, register(vault), NOW)
            .unwrap();
        let second = log
            .clone()
            .append(&alice.identity, register(notes), NOW)
            .unwrap();
        let (a, b) = tokio::join!(
            submit(&server, &alice, room, wire(std::slice::from_ref(&first))),
            submit(&server, &alice, room, wire(std::slice::from_ref(&second)))
        );
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
        let conflict = if a.0 == 409 { &a.1 } else { &b.1 };
        assert_eq!(conflict["code"], "log_conflict");
        assert_eq!(log_len(&server, room).await, 3);

        let served = fetch_log(&server, &bob, room, &ring(&[&alice, &bob])).await;
        let winner = if a.0 == 200 { vault } else { notes };
        assert_eq!(
            served.channels().iter().copied().collect::<Vec<_>>(),
            [winner]
        );
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM room_audit WHERE room_id = $1 AND action = 'channel_registered'",
                room
            )
            .await,
            1
        );

        // Registering it again is refused by the log's rules.
        let again = served
            .clone()
            .append(&alice.identity, register(winner), NOW)
            .unwrap_err();
        assert!(again.to_string().contains("already registered"), "{again}");
        let mut replay = MembershipEntry::sign_unchecked(
            &alice.identity,
            EntryFields {
                room_id: room,
                seq: served.len() as u64,
                prev_hash: served.head_hash(),
                timestamp: NOW,
                op: Op::Channel,
                subject_id: winner,
                role: None,
                public: false,
                seconds: 0,
            },
        )
        .unwrap();
        let (s, body) = submit(&server, &alice, room, wire(std::slice::from_ref(&replay))).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("log_invalid_transition")),
            "{body}"
        );
        // The other channel goes in on the new head.
        let loser = if winner == vault { notes } else { vault };
        replay = served
            .clone()
            .append(&alice.identity, register(loser), NOW)
            .unwrap();
        let (s, body) = submit(&server, &alice, room, wire(&[replay])).await;
        assert_eq!(s, 200, "{body}");
        let served = fetch_log(&server, &bob, room, &ring(&[&alice, &bob])).await;
        assert_eq!(served.channels().len(), 2);
        // Registration changes no membership.
        assert_eq!(
            members(&server, &alice, room).await,
            vec![(alice.id, "owner".into()), (bob.id, "member".into())]
        );
    }
}
