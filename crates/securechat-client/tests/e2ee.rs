//! End-to-end encryption with several SDK clients against the real server
//! binary (see `securechat-testkit`): encrypted channels, rotation on kick, key
//! requests, and a server that lies — its database edited directly and its
//! events forged — whose lies the clients must catch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use securechat_client::{
    Body, Carry, Client, Event, EventStream, Handled, HistoryQuery, MembershipChange, Message,
    NewRoom, PendingLink, SecureClient, Socket,
};
use securechat_crypto::{ChannelKey, DeviceKey, DeviceList, Envelope, Identity, PrekeySecret};
use securechat_testkit::sdk::login;
use securechat_testkit::{Backend, Server, backends};
use securechat_testkit::{db_count, db_execute};
use serde_json::json;
use sqlx::sqlite::SqlitePoolOptions;

const WAIT: Duration = Duration::from_secs(5);

/// One user's device: the secure client, a socket and its events.
struct Device {
    sc: SecureClient,
    socket: Socket,
    events: EventStream,
    _dir: tempfile::TempDir,
}

impl Device {
    async fn open(client: Client) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sc = SecureClient::open(client, dir.path().join("keys.json"))
            .await
            .unwrap();
        let (socket, events) = sc.client().socket().await.unwrap();
        Self {
            sc,
            socket,
            events,
            _dir: dir,
        }
    }

    fn id(&self) -> i64 {
        self.sc.user_id()
    }

    /// Reads events, letting the secure client handle each, until one named
    /// `name` has been handled; returns what it did.
    async fn until(&mut self, name: &str) -> (Event, Handled) {
        tokio::time::timeout(WAIT, async {
            loop {
                let event = self.events.recv().await.expect("connection ended");
                let handled = self.sc.handle_event(&event).await.unwrap();
                if event.name == name {
                    return (event, handled);
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {name} in time"))
    }

    /// Handles `channel_key_share` events until version `version` of
    /// `channel` is accepted (earlier shares may be ones already held).
    async fn until_key(&mut self, channel: i64, version: u32) {
        for _ in 0..5 {
            let (_, handled) = self.until("channel_key_share").await;
            if handled
                == (Handled::KeyAccepted {
                    channel_id: channel,
                    version,
                })
            {
                return;
            }
        }
        panic!("version {version} of channel {channel} never arrived");
    }

    /// The newest messages of a channel as this device reads them, oldest first.
    async fn read(&mut self, channel: i64) -> Vec<(Message, Body)> {
        let mut read = self
            .sc
            .history(channel, HistoryQuery::latest())
            .await
            .unwrap();
        read.reverse();
        read.into_iter().map(|r| (r.message, r.body)).collect()
    }

    async fn send(&mut self, channel: i64, text: &str) -> Message {
        self.sc.send(&self.socket, channel, text).await.unwrap()
    }
}

fn verified(text: &str, sender: i64) -> Body {
    Body::Verified {
        text: text.to_owned(),
        sender_id: sender,
    }
}

/// A private room owned by alice with an encrypted channel `vault`, whose
/// log alice starts when she adds `others` with signed entries.
async fn encrypted_room(alice: &mut Device, others: &[i64]) -> (i64, i64) {
    let room = alice
        .sc
        .client()
        .create_room(&NewRoom::private("Ops"))
        .await
        .unwrap()
        .id;
    let vault = alice
        .sc
        .create_channel(room, "vault", true)
        .await
        .unwrap()
        .id;
    for &user_id in others {
        alice
            .sc
            .change_membership(
                room,
                &MembershipChange::Add {
                    user_id,
                    admin: false,
                },
            )
            .await
            .unwrap();
    }
    (room, vault)
}

async fn db(server: &Server) -> sqlx::SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", server.db_path().display()))
        .await
        .unwrap()
}

/// Every byte of the database (main file and write-ahead log), as text.
fn db_bytes(server: &Server) -> String {
    let mut all = Vec::new();
    for suffix in ["", "-wal"] {
        let mut path = server.db_path().into_os_string();
        path.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(path)) {
            all.extend(bytes);
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

async fn registered(server: &Server, name: &str) -> Client {
    let mut client = Client::new(&server.base).unwrap();
    client.register(name, "plum-kettle-orbit-7").await.unwrap();
    client.login(name, "plum-kettle-orbit-7").await.unwrap();
    client
}

#[tokio::test]
async fn members_read_each_other_the_server_sees_no_plaintext_and_a_kick_rotates() {
    let server = Server::start(Backend::Sqlite).await;
    let mut alice = Device::open(login(&server, "alice").await).await;
    let mut bob = Device::open(login(&server, "bob").await).await;
    let mut charlie = Device::open(login(&server, "charlie").await).await;
    let (room, vault) = encrypted_room(&mut alice, &[bob.id(), charlie.id()]).await;

    let texts = [
        "alpha: the launch code is 4711",
        "bravo: meet at pier nine",
        "charlie: the vault opens at dawn",
    ];
    let a = alice.send(vault, texts[0]).await;
    assert_eq!(a.key_version, Some(1), "alice made version 1 on first send");
    bob.send(vault, texts[1]).await;
    charlie.send(vault, texts[2]).await;
    let ids = [alice.id(), bob.id(), charlie.id()];
    for reader in [&mut alice, &mut bob, &mut charlie] {
        let read = reader.read(vault).await;
        let bodies: Vec<Body> = read.into_iter().map(|(_, b)| b).collect();
        let expected: Vec<Body> = texts.iter().zip(ids).map(|(t, s)| verified(t, s)).collect();
        assert_eq!(bodies, expected);
        // Reading again is not a replay.
        assert!(
            reader
                .read(vault)
                .await
                .iter()
                .all(|(_, b)| b.is_verified())
        );
    }
    let stored = db_bytes(&server);
    let logged = server.log();
    for text in texts {
        assert!(!stored.contains(text), "the database holds {text:?}");
        assert!(!logged.contains(text), "the server log holds {text:?}");
    }
    assert!(
        stored.contains(a.envelope.as_deref().unwrap()),
        "ciphertext is stored"
    );

    // charlie is kicked (a signed entry): alice, the online owner, rotates.
    let old_key = ChannelKey::import(&charlie.sc.store().key(vault, 1).unwrap().key).unwrap();
    alice
        .sc
        .change_membership(
            room,
            &MembershipChange::Kick {
                user_id: charlie.id(),
            },
        )
        .await
        .unwrap();
    let (event, handled) = alice.until("key_rotation_needed").await;
    assert_eq!(event.data()["new_version"], 2);
    let Handled::Rotated(rotation) = handled else {
        panic!("alice did not rotate: {handled:?}");
    };
    assert_eq!(rotation.version, 2);
    let mut shared = rotation.shared_with.clone();
    shared.sort_unstable();
    assert_eq!(shared, [alice.id(), bob.id()]);
    bob.until_key(vault, 2).await;

    let after = bob.send(vault, "after the kick").await;
    assert_eq!(after.key_version, Some(2));
    let last = alice.read(vault).await.pop().unwrap().1;
    assert_eq!(last, verified("after the kick", bob.id()));

    // charlie's old key reads nothing new; the server gives him nothing new.
    let envelope = Envelope::parse(after.envelope.as_deref().unwrap()).unwrap();
    let bob_bundle = bob.sc.bundle();
    assert!(envelope.decrypt(&old_key, &bob_bundle, vault, 2).is_err());
    assert!(envelope.decrypt(&old_key, &bob_bundle, vault, 1).is_err());
    let refused = charlie
        .sc
        .client()
        .my_share(vault, Some(2))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(404));
    // A message under the old version is refused, even from a member.
    let bob_identity = Identity::import(bob.sc.store().identity.as_deref().unwrap()).unwrap();
    let stale =
        Envelope::encrypt_format1(&bob_identity, &old_key, vault, 1, 50, b"old key").unwrap();
    let ack = bob
        .socket
        .emit_with_ack(
            "send_message",
            &json!({"channel_id": vault, "envelope": stale.to_wire(), "key_version": 1,
                "client_msg_id": "stale-1"}),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(ack["code"], "stale_key_version", "{ack}");
}

#[tokio::test]
async fn a_new_member_requests_the_key_and_an_admin_approves() {
    let server = Server::start(Backend::Sqlite).await;
    let mut alice = Device::open(login(&server, "alice").await).await;
    let bob = Device::open(login(&server, "bob").await).await;
    let (room, vault) = encrypted_room(&mut alice, &[bob.id()]).await;
    alice.send(vault, "before dave").await;

    let dave_client = registered(&server, "dave").await;
    let dave_id = dave_client.me().await.unwrap().id;
    alice
        .sc
        .change_membership(
            room,
            &MembershipChange::Add {
                user_id: dave_id,
                admin: false,
            },
        )
        .await
        .unwrap();
    let (_, handled) = alice.until("key_rotation_needed").await;
    let Handled::Rotated(rotation) = handled else {
        panic!("{handled:?}");
    };
    assert!(
        rotation.skipped.iter().any(|(id, _)| *id == dave_id),
        "dave has no key published yet: {rotation:?}"
    );
    alice.send(vault, "welcome dave").await;

    let mut dave = Device::open(dave_client).await;
    let (_, body) = dave.read(vault).await.pop().unwrap();
    assert!(
        matches!(&body, Body::Undecryptable { reason } if reason.contains("no key")),
        "{body:?}"
    );
    let request_id = dave.sc.request_key(vault).await.unwrap();
    let (_, queued) = alice.until("channel_key_request").await;
    let Handled::RequestQueued(request) = queued else {
        panic!("{queued:?}");
    };
    assert_eq!(
        (request.request_id, request.requester_id),
        (request_id, dave_id)
    );
    // Nothing is sent until the admin approves explicitly.
    assert!(dave.sc.client().my_share(vault, None).await.is_err());
    let approved = alice.sc.approve(request_id).await.unwrap();
    assert_eq!(approved.shared_with, [dave_id]);
    let (_, accepted) = dave.until("channel_key_share").await;
    assert!(
        matches!(accepted, Handled::KeyAccepted { .. }),
        "{accepted:?}"
    );
    let (_, body) = dave.read(vault).await.pop().unwrap();
    assert_eq!(body, verified("welcome dave", alice.id()));
}

#[tokio::test]
async fn a_lying_server_is_caught() {
    let server = Server::start(Backend::Sqlite).await;
    let mut alice = Device::open(login(&server, "alice").await).await;
    let mut bob = Device::open(login(&server, "bob").await).await;
    let charlie = Device::open(login(&server, "charlie").await).await;
    let eve = Device::open(registered(&server, "eve").await).await;
    let mallory = Device::open(registered(&server, "mallory").await).await;
    let (room, vault) = encrypted_room(&mut alice, &[bob.id(), charlie.id()]).await;
    let (_, other) = {
        let other = alice
            .sc
            .create_channel(room, "other", true)
            .await
            .unwrap()
            .id;
        (room, other)
    };
    alice.send(vault, "v1 established").await;
    alice.send(other, "other established").await;
    bob.read(vault).await;
    let pool = db(&server).await;

    // 1. eve's member row is inserted without a signed log entry; 2. bob's
    // key row is replaced by an identity the attacker made for bob.
    sqlx::query(
        "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (?, ?, 'member', 0)",
    )
    .bind(room)
    .bind(eve.id())
    .execute(&pool)
    .await
    .unwrap();
    let fake_bob = Identity::generate(bob.id()).unwrap().bundle().to_wire();
    sqlx::query("UPDATE user_keys SET public_key = ? WHERE user_id = ?")
        .bind(&fake_bob)
        .bind(bob.id())
        .execute(&pool)
        .await
        .unwrap();
    alice
        .sc
        .change_membership(
            room,
            &MembershipChange::Kick {
                user_id: charlie.id(),
            },
        )
        .await
        .unwrap();
    let (event, handled) = alice.until("key_rotation_needed").await;
    let hinted: Vec<i64> = event.data()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(
        hinted.contains(&eve.id()),
        "the server lists eve: {hinted:?}"
    );
    let Handled::Rotated(rotation) = handled else {
        panic!("{handled:?}");
    };
    assert_eq!(rotation.shared_with, [alice.id()], "{rotation:?}");
    let skipped: Vec<i64> = rotation.skipped.iter().map(|(id, _)| *id).collect();
    assert!(
        skipped.contains(&eve.id()) && skipped.contains(&bob.id()),
        "{rotation:?}"
    );
    assert!(
        rotation
            .skipped
            .iter()
            .any(|(id, why)| *id == bob.id() && why.contains("CHANGED")),
        "{rotation:?}"
    );
    let shares_for = |user: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM channel_keys WHERE recipient_id = ? AND key_version >= 2",
            )
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(shares_for(eve.id()).await, 0, "eve got no key");
    assert_eq!(shares_for(bob.id()).await, 0, "the swapped key got no key");
    assert_eq!(
        alice.sc.store().pins[&bob.id()].offered.as_deref(),
        Some(fake_bob.as_str()),
        "the change is recorded, not accepted"
    );

    // The attacker puts bob's real key back (the server checks share
    // signatures against stored keys, and bob shares below).
    sqlx::query("UPDATE user_keys SET public_key = ? WHERE user_id = ?")
        .bind(bob.sc.bundle().to_wire())
        .bind(bob.id())
        .execute(&pool)
        .await
        .unwrap();

    // 3. Replayed shares: another version, another channel, another recipient.
    let share_of = |channel: i64, version: i64, recipient: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT encrypted_key FROM channel_keys WHERE channel_id = ? AND key_version = ? AND recipient_id = ?",
            )
            .bind(channel)
            .bind(version)
            .bind(recipient)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let forged = |channel: i64, version: u32, key: String| {
        json!({"channel_id": channel, "encrypted_key": key, "key_version": version,
            "is_key_rotation": true, "sender_id": alice.id()})
    };
    let bob_v1 = share_of(vault, 1, bob.id()).await;
    let bob_other = share_of(other, 1, bob.id()).await;
    let alice_v2 = share_of(vault, 2, alice.id()).await;
    for (what, payload) in [
        ("another version", forged(vault, 2, bob_v1.clone())),
        ("another channel", forged(vault, 1, bob_other)),
        ("another recipient", forged(vault, 2, alice_v2)),
    ] {
        let handled = bob.sc.handle("channel_key_share", &payload).await.unwrap();
        assert!(
            matches!(handled, Handled::Rejected(_)),
            "{what}: {handled:?}"
        );
    }
    assert!(bob.sc.store().key(vault, 2).is_none());

    // 4. A forged rotation naming outsiders: bob is told to rotate for
    // mallory (no member at all) and eve (a bare DB row).
    let forged_rotation = json!({"channel_id": vault, "room_id": room, "new_version": 3,
        "reason": "member_added", "rotator_id": bob.id(),
        "members": [{"id": alice.id()}, {"id": bob.id()}, {"id": mallory.id()}, {"id": eve.id()}]});
    sqlx::query("UPDATE channels SET pending_version = 3 WHERE id = ?")
        .bind(vault)
        .execute(&pool)
        .await
        .unwrap();
    let handled = bob
        .sc
        .handle("key_rotation_needed", &forged_rotation)
        .await
        .unwrap();
    let Handled::Rotated(rotation) = handled else {
        panic!("{handled:?}");
    };
    let mut shared = rotation.shared_with.clone();
    shared.sort_unstable();
    assert_eq!(shared, [alice.id(), bob.id()], "{rotation:?}");
    assert_eq!(shares_for(mallory.id()).await, 0);
    assert_eq!(shares_for(eve.id()).await, 0);

    // 5. Messages altered in the database: signature, then sender.
    alice.until_key(vault, 3).await;
    let signed = alice.send(vault, "signed by alice").await;
    let sender_swapped = alice.send(vault, "sender swapped").await;
    let mut tampered = signed.envelope.clone().unwrap();
    let at = tampered.len() - 20;
    let flip = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, flip);
    sqlx::query("UPDATE messages SET envelope = ? WHERE id = ?")
        .bind(&tampered)
        .bind(signed.id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET sender_id = ? WHERE id = ?")
        .bind(bob.id())
        .bind(sender_swapped.id)
        .execute(&pool)
        .await
        .unwrap();
    // 6. A plaintext message injected into the encrypted channel.
    sqlx::query(
        "INSERT INTO messages (channel_id, sender_id, content, key_version, client_msg_id, created_at) \
         VALUES (?, ?, 'injected by the server', 3, 'inj-1', 0)",
    )
    .bind(vault)
    .bind(alice.id())
    .execute(&pool)
    .await
    .unwrap();
    let read = bob.read(vault).await;
    let body_of = |id: i64| read.iter().find(|(m, _)| m.id == id).unwrap().1.clone();
    assert!(
        matches!(body_of(signed.id), Body::Undecryptable { reason } if reason.contains("bad_signature")),
        "{:?}",
        body_of(signed.id)
    );
    assert!(
        matches!(body_of(sender_swapped.id), Body::Undecryptable { .. }),
        "{:?}",
        body_of(sender_swapped.id)
    );
    let injected = read.last().unwrap();
    assert_eq!(
        injected.1,
        Body::Injected {
            content: Some("injected by the server".into())
        }
    );
    assert!(!injected.1.is_verified());
}

/// The version of each message of a channel, newest page, oldest first.
/// A thread reply in an encrypted channel binds its root: bob reads it in
/// its thread, verified; a server that moves it to another thread, into the
/// channel, or a channel message into a thread, is caught by every reader.
#[tokio::test]
async fn thread_replies_are_bound_to_their_thread() {
    let server = Server::start(Backend::Sqlite).await;
    let mut alice = Device::open(login(&server, "alice").await).await;
    let mut bob = Device::open(login(&server, "bob").await).await;
    let (_, vault) = encrypted_room(&mut alice, &[bob.id()]).await;
    let root = alice.send(vault, "shall we rotate the tyres?").await;
    let other = alice.send(vault, "another topic").await;
    let reply = bob
        .sc
        .send_in_thread(&bob.socket, vault, root.id, false, "yes, on monday")
        .await
        .unwrap();
    assert_eq!(reply.thread_root_id, Some(root.id));
    let thread = alice
        .sc
        .thread_history(vault, root.id, HistoryQuery::latest())
        .await
        .unwrap();
    let bodies: Vec<Body> = thread.into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [verified("yes, on monday", bob.id())]);
    // Kept out of the channel.
    let channel: Vec<i64> = alice.read(vault).await.iter().map(|(m, _)| m.id).collect();
    assert_eq!(channel, [root.id, other.id]);
    let summary = alice.read(vault).await[0].0.thread.clone().unwrap();
    assert_eq!(summary.reply_count, 1);

    let wrong_thread = |body: &Body| matches!(body, Body::Undecryptable { reason } if reason.contains("wrong_thread"));
    // The server moves the reply to the other thread.
    server_edits(
        &server,
        format!(
            "UPDATE messages SET thread_root_id = {} WHERE id = {}",
            other.id, reply.id
        ),
    )
    .await;
    let moved = bob
        .sc
        .thread_history(vault, other.id, HistoryQuery::latest())
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert!(wrong_thread(&moved[0].body), "{:?}", moved[0].body);
    // Out of its thread, into the channel.
    server_edits(
        &server,
        format!(
            "UPDATE messages SET thread_root_id = NULL WHERE id = {}",
            reply.id
        ),
    )
    .await;
    let read = alice.read(vault).await;
    let shown = read.iter().find(|(m, _)| m.id == reply.id).unwrap();
    assert!(wrong_thread(&shown.1), "{:?}", shown.1);
    // A channel message moved into a thread.
    server_edits(
        &server,
        format!(
            "UPDATE messages SET thread_root_id = {} WHERE id = {}",
            root.id, other.id
        ),
    )
    .await;
    let thread = bob
        .sc
        .thread_history(vault, root.id, HistoryQuery::latest())
        .await
        .unwrap();
    let shown = thread.iter().find(|r| r.message.id == other.id).unwrap();
    assert!(wrong_thread(&shown.body), "{:?}", shown.body);
}

async fn versions(reader: &mut Device, channel: i64) -> Vec<i64> {
    let mut page = reader
        .sc
        .client()
        .history(channel, HistoryQuery::latest())
        .await
        .unwrap()
        .messages;
    page.reverse();
    page.iter().map(|m| m.key_version.unwrap_or(0)).collect()
}

#[tokio::test]
async fn used_up_keys_are_replaced_by_the_sender_and_two_devices_of_one_person_never_collide() {
    let server = Server::start(Backend::Sqlite).await;
    let mut alice = Device::open(login(&server, "alice").await).await;
    let mut bob = Device::open(login(&server, "bob").await).await;
    let (_, vault) = encrypted_room(&mut alice, &[bob.id()]).await;
    // Three messages per device and version: the sender makes the next
    // version itself, with no membership change and nobody's help.
    let small = securechat_crypto::ForwardSecrecyPolicy {
        max_messages: 3,
        max_age_secs: 7 * 24 * 3600,
    };
    alice.sc.set_policy(small);
    bob.sc.set_policy(small);
    for i in 0..7 {
        alice.send(vault, &format!("alice {i}")).await;
    }
    assert_eq!(versions(&mut bob, vault).await, [1, 1, 1, 2, 2, 2, 3]);
    let read = bob.read(vault).await;
    for (i, (_, body)) in read.iter().enumerate() {
        assert_eq!(*body, verified(&format!("alice {i}"), alice.id()), "{i}");
    }

    // bob's own version is used up too: he makes the next one, alice reads it.
    for i in 0..4 {
        bob.send(vault, &format!("bob {i}")).await;
    }
    let read = alice.read(vault).await;
    assert!(read.iter().all(|(_, body)| body.is_verified()), "{read:?}");

    // alice's second device: her identity restored from the backup into
    // another key store. Both write in turn under the same version.
    alice
        .sc
        .backup_with_passphrase("plinth orbit saffron ledger kettle")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut second = SecureClient::restore(
        login(&server, "alice").await,
        dir.path().join("keys.json"),
        "plinth orbit saffron ledger kettle",
    )
    .await
    .unwrap();
    second.set_policy(small);
    assert_ne!(
        second.device(),
        alice.sc.device(),
        "each device has its own tag"
    );
    let (second_socket, _second_events) = second.client().socket().await.unwrap();
    alice.send(vault, "first device").await;
    second
        .send(&second_socket, vault, "second device")
        .await
        .unwrap();
    let read = bob.read(vault).await;
    let tail: Vec<&Body> = read.iter().rev().take(2).map(|(_, b)| b).collect();
    assert_eq!(
        tail,
        [
            &verified("second device", alice.id()),
            &verified("first device", alice.id())
        ],
        "no replay: the two devices' counters differ"
    );
    let last: Vec<&Message> = read.iter().rev().take(2).map(|(m, _)| m).collect();
    assert_eq!(
        last[0].key_version, last[1].key_version,
        "both devices sent under one version"
    );
}

/// Attack 2 with the SDK: a channel's room and encryption come from the
/// room's signed log. A channel nobody registered gets no key from a plain
/// member; the server moving a registered channel into a room it controls,
/// or listing it as plaintext, is caught by members who verified the log.
#[tokio::test]
async fn channels_are_used_as_the_signed_log_registers_them() {
    let server = Server::start(Backend::Sqlite).await;
    let mut alice = Device::open(login(&server, "alice").await).await;
    let mut bob = Device::open(login(&server, "bob").await).await;
    let mut charlie = Device::open(login(&server, "charlie").await).await;
    let mut mallory = Device::open(registered(&server, "mallory").await).await;
    let (room, vault) = encrypted_room(&mut alice, &[bob.id(), charlie.id()]).await;
    let pool = db(&server).await;

    // A channel made by hand (not registered): bob, a plain member, makes
    // no key for it and says why; once alice registers it, he sends.
    let late = alice
        .sc
        .client()
        .create_channel(room, "late", true)
        .await
        .unwrap()
        .id;
    let refused = bob
        .sc
        .send(&bob.socket, late, "too early")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("channel_not_registered"), "{refused}");
    alice.sc.register_channel(room, late).await.unwrap();
    bob.send(late, "registered now").await;
    let log = bob.sc.verified_log(room).await.unwrap();
    assert!(log.channels().contains(&vault) && log.channels().contains(&late));

    // charlie has verified the log but never used `vault`. The server lists
    // it as plaintext: the signed log says otherwise, nothing is sent.
    charlie.sc.verified_log(room).await.unwrap();
    sqlx::query("UPDATE channels SET is_encrypted = 0 WHERE id = ?")
        .bind(vault)
        .execute(&pool)
        .await
        .unwrap();
    let refused = charlie
        .sc
        .send(&charlie.socket, vault, "plaintext?")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("downgrade"), "{refused}");

    // erin joins the room (a signed entry) and verifies its log, without
    // ever using `vault`. The server then moves `vault` into a room of its
    // own account, mallory, where erin is a member and whose log mallory
    // registers it in.
    let mut erin = Device::open(registered(&server, "erin").await).await;
    alice
        .sc
        .change_membership(
            room,
            &MembershipChange::Add {
                user_id: erin.id(),
                admin: false,
            },
        )
        .await
        .unwrap();
    erin.sc.verified_log(room).await.unwrap();
    sqlx::query("UPDATE channels SET is_encrypted = 1 WHERE id = ?")
        .bind(vault)
        .execute(&pool)
        .await
        .unwrap();
    let trap = mallory
        .sc
        .client()
        .create_room(&NewRoom::private("Trap"))
        .await
        .unwrap()
        .id;
    mallory
        .sc
        .change_membership(
            trap,
            &MembershipChange::Add {
                user_id: erin.id(),
                admin: false,
            },
        )
        .await
        .unwrap();
    sqlx::query("UPDATE channels SET room_id = ? WHERE id = ?")
        .bind(trap)
        .bind(vault)
        .execute(&pool)
        .await
        .unwrap();
    mallory.sc.register_channel(trap, vault).await.unwrap();
    let refused = erin.sc.verified_log(trap).await.unwrap_err();
    assert_eq!(refused.code(), Some("log_invalid"), "{refused}");
    assert!(refused.to_string().contains("does not verify"), "{refused}");
    let refused = erin
        .sc
        .send(&erin.socket, vault, "into the trap?")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("wrong_room"), "{refused}");
    let shares_to_mallory: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM channel_keys WHERE recipient_id = ?")
            .bind(mallory.id())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(shares_to_mallory, 0);
}

/// The mailbox rows of one device.
async fn mailbox_rows(server: &Server, device_id: u64) -> i64 {
    db_count(
        server,
        "SELECT COUNT(*) FROM device_shares WHERE device_id = $1",
        i64::try_from(device_id).unwrap(),
    )
    .await
}

/// Runs `sql` on the server's database (a lying server's own edit).
async fn server_edits(server: &Server, sql: String) {
    db_execute(server, Box::leak(sql.into_boxed_str())).await;
}

#[tokio::test]
async fn keys_reach_listed_devices_only_and_the_server_deletes_what_a_device_fetched() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let mut alice = Device::open(login(&server, "alice").await).await;
        let mut bob = Device::open(login(&server, "bob").await).await;
        alice.sc.set_up_device().await.unwrap();
        let bob_device = bob.sc.set_up_device().await.unwrap();
        assert_eq!(bob.sc.device_id(), Some(bob_device));
        let (room, vault) = encrypted_room(&mut alice, &[bob.id()]).await;

        // The server adds a device of its own to bob: a prekey row, and a
        // device list that bob's identity did not sign.
        let rogue = DeviceKey::generate(bob.id()).unwrap();
        let rogue_prekey = PrekeySecret::generate(&rogue, 1, now_ms()).unwrap();
        let real_list: String = {
            let page = alice.sc.client().devices(bob.id()).await.unwrap();
            page.device_list.unwrap()
        };
        let real =
            DeviceList::from_bytes(&securechat_crypto::encoding::from_wire(&real_list).unwrap())
                .unwrap();
        let forged = DeviceList::sign(
            &Identity::generate(bob.id()).unwrap(),
            real.version() + 1,
            now_ms(),
            &[real.devices()[0], rogue.entry()],
        )
        .unwrap();
        server_edits(
            &server,
            format!(
                "INSERT INTO device_prekeys (user_id, device_id, prekey_id, prekey, created_ms, last_seen_at) \
                 VALUES ({}, {}, 1, '{}', {}, 0)",
                bob.id(),
                rogue.device_id(),
                rogue_prekey.public().to_wire(),
                now_ms()
            ),
        )
        .await;
        server_edits(
            &server,
            format!(
                "UPDATE device_lists SET device_list = '{}', version = {} WHERE user_id = {}",
                forged.to_wire(),
                forged.version(),
                bob.id()
            ),
        )
        .await;

        alice.send(vault, "first, under a forged list").await;
        assert_eq!(
            mailbox_rows(&server, rogue.device_id()).await,
            0,
            "{backend:?}: the server's device got a key"
        );
        assert_eq!(
            bob.read(vault).await.last().unwrap().1,
            verified("first, under a forged list", alice.id())
        );

        // The server serves bob's real list again but keeps its prekey row:
        // a new channel's key goes to bob's listed device, not to its own.
        server_edits(
            &server,
            format!(
                "UPDATE device_lists SET device_list = '{real_list}', version = {} WHERE user_id = {}",
                real.version(),
                bob.id()
            ),
        )
        .await;
        let vault2 = alice
            .sc
            .create_channel(room, "vault-two", true)
            .await
            .unwrap()
            .id;
        alice.send(vault2, "second, to bob's devices").await;
        assert_eq!(mailbox_rows(&server, rogue.device_id()).await, 0);
        assert_eq!(
            mailbox_rows(&server, bob_device).await,
            1,
            "{backend:?}: bob's device has its share waiting"
        );
        assert!(
            bob.sc.client().my_share(vault2, Some(1)).await.is_err(),
            "{backend:?}: nothing for bob's identity key: the share is sealed to his device"
        );
        assert_eq!(
            bob.read(vault2).await.last().unwrap().1,
            verified("second, to bob's devices", alice.id())
        );
        assert_eq!(
            mailbox_rows(&server, bob_device).await,
            0,
            "{backend:?}: the server deleted the share bob's device fetched"
        );
    }
}

#[tokio::test]
async fn a_revoked_device_reads_nothing_new() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let mut laptop = Device::open(login(&server, "alice").await).await;
        let laptop_id = laptop.sc.set_up_device().await.unwrap();
        // A second device of alice's, with her identity (as a restore or a
        // link gives it) and a device key of its own.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phone.json");
        let identity = laptop.sc.store().identity.clone().unwrap();
        let origin = laptop.sc.store().server.clone();
        std::fs::write(
            &path,
            json!({"format": 2, "server": origin, "user_id": laptop.id(), "identity": identity})
                .to_string(),
        )
        .unwrap();
        let phone_sc = SecureClient::open(login(&server, "alice").await, &path)
            .await
            .unwrap();
        let (socket, events) = phone_sc.client().socket().await.unwrap();
        let mut phone = Device {
            sc: phone_sc,
            socket,
            events,
            _dir: dir,
        };
        let phone_id = phone.sc.set_up_device().await.unwrap();
        assert_ne!(phone_id, laptop_id);
        // Bob is an admin of the room: alice's key requests go to him.
        let mut bob = Device::open(login(&server, "bob").await).await;
        bob.sc.set_up_device().await.unwrap();
        let (room, vault) = encrypted_room(&mut laptop, &[]).await;
        laptop
            .sc
            .change_membership(
                room,
                &MembershipChange::Add {
                    user_id: bob.id(),
                    admin: true,
                },
            )
            .await
            .unwrap();

        bob.send(vault, "before: both of alice's devices").await;
        for reader in [&mut laptop, &mut phone] {
            assert_eq!(
                reader.read(vault).await.last().unwrap().1,
                verified("before: both of alice's devices", bob.id())
            );
        }

        // The phone is lost: the laptop revokes it, and rotates at once.
        let rotated = laptop.sc.revoke_device(phone_id).await.unwrap();
        assert_eq!(rotated, vec![vault], "{backend:?}");
        assert_eq!(mailbox_rows(&server, phone_id).await, 0);
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM device_prekeys WHERE device_id = $1",
                i64::try_from(phone_id).unwrap()
            )
            .await,
            0,
            "{backend:?}: the server dropped the revoked device's prekey"
        );
        bob.send(vault, "after: the phone is gone").await;
        assert_eq!(
            laptop.read(vault).await.last().unwrap().1,
            verified("after: the phone is gone", bob.id())
        );
        // The laptop empties its mailbox (its own copy of the new version).
        laptop.sc.sync_device().await.unwrap();
        assert_eq!(mailbox_rows(&server, laptop_id).await, 0);

        // The phone, which still holds alice's identity, asks for the key
        // before it syncs, and bob approves: the answer goes to alice's
        // listed device, the laptop, not to her identity.
        let request_id = phone.sc.request_key(vault).await.unwrap();
        let (_, queued) = bob.until("channel_key_request").await;
        assert!(
            matches!(&queued, Handled::RequestQueued(r) if r.request_id == request_id),
            "{queued:?}"
        );
        let approved = bob.sc.approve(request_id).await.unwrap();
        assert_eq!(approved.shared_with, [laptop.id()], "{backend:?}");
        assert_eq!(
            mailbox_rows(&server, laptop_id).await,
            1,
            "{backend:?}: the answer waits for the laptop, the one listed device"
        );
        assert!(
            phone.sc.client().my_share(vault, None).await.is_err(),
            "{backend:?}: nothing is sealed to alice's identity, which the phone holds"
        );

        // The phone's next sync sees the list without it: it forgets
        // everything and says so.
        let error = phone.sc.sync_device().await.unwrap_err();
        assert_eq!(error.code(), Some("device_revoked"), "{backend:?}: {error}");
        assert!(error.to_string().contains("recovery key"), "{error}");
        assert!(phone.sc.store().identity.is_none());
        assert!(phone.sc.store().channel_keys.is_empty());
        let saved = std::fs::read_to_string(phone.sc.store_path()).unwrap();
        assert!(
            !saved.contains(&identity),
            "{backend:?}: the wiped key store is saved"
        );
        let on_phone = phone.read(vault).await;
        assert!(
            on_phone.iter().all(|(_, body)| !body.is_verified()),
            "{backend:?}: the revoked phone read {on_phone:?}"
        );
        // It does not sign itself back in.
        assert!(phone.sc.set_up_device().await.is_err());
        let page = bob.sc.client().devices(laptop.id()).await.unwrap();
        let listed = DeviceList::from_bytes(
            &securechat_crypto::encoding::from_wire(&page.device_list.unwrap()).unwrap(),
        )
        .unwrap();
        assert!(listed.device(phone_id).is_err(), "{backend:?}");
    }
}

#[tokio::test]
async fn a_linked_device_reads_the_history_carried_over_and_new_messages() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let mut laptop = Device::open(login(&server, "alice").await).await;
        laptop.sc.set_up_device().await.unwrap();
        let mut bob = Device::open(login(&server, "bob").await).await;
        bob.sc.set_up_device().await.unwrap();
        let (_, vault) = encrypted_room(&mut laptop, &[bob.id()]).await;
        bob.send(vault, "history from before the phone").await;
        assert!(laptop.read(vault).await.last().unwrap().1.is_verified());

        // The phone starts a link; the laptop answers the code.
        let dir = tempfile::tempdir().unwrap();
        let mut pending =
            PendingLink::start(login(&server, "alice").await, dir.path().join("phone.json"))
                .await
                .unwrap();
        let code = pending.code().to_owned();
        assert_eq!(code.len(), 9, "a code like ABCD-EFGH: {code}");
        let on_laptop = laptop.sc.answer_link(&code.to_lowercase()).await.unwrap();
        let on_phone = pending.sas(WAIT).await.unwrap();
        assert_eq!(
            on_laptop, on_phone,
            "{backend:?}: both devices show the same number"
        );
        laptop.sc.approve_link(&code, &Carry::All).await.unwrap();
        let phone_sc = pending.finish(WAIT).await.unwrap();
        assert!(phone_sc.device_id().is_some());
        assert!(
            laptop.sc.client().link(&code).await.is_err(),
            "{backend:?}: the link is closed once used"
        );
        let (socket, events) = phone_sc.client().socket().await.unwrap();
        let mut phone = Device {
            sc: phone_sc,
            socket,
            events,
            _dir: dir,
        };
        assert_eq!(
            phone.read(vault).await.last().unwrap().1,
            verified("history from before the phone", bob.id()),
            "{backend:?}: the carried history reads on the phone"
        );
        // The phone is in alice's signed list now: bob's next version reaches it.
        let page = bob.sc.client().devices(laptop.id()).await.unwrap();
        assert_eq!(page.devices.len(), 2, "{backend:?}: {page:?}");
        bob.send(vault, "after the link").await;
        assert_eq!(
            phone.read(vault).await.last().unwrap().1,
            verified("after the link", bob.id())
        );
        phone.send(vault, "hello from the phone").await;
        assert_eq!(
            bob.read(vault).await.last().unwrap().1,
            verified("hello from the phone", laptop.id())
        );
    }
}

fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}
