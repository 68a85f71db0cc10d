//! Upgrading from protocol version 1: a room whose key version 1 was shared
//! and used as version-1 clients did (format-1 shares and envelopes, key
//! stores without the format-2 fields), on SQLite and on PostgreSQL. After a
//! restart of the server on the same database and of the clients on the same
//! key stores, history stays readable, and the first message makes the
//! channel's next version in format 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use securechat_client::{Body, HistoryQuery, MembershipChange, NewRoom, SecureClient};
use securechat_crypto::{
    ChannelKey, Envelope, Identity, SealedShare, SharePurpose, device_counter,
};
use securechat_testkit::sdk::login;
use securechat_testkit::{Backend, Server, backends};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

async fn open(server: &Server, name: &str, path: &Path) -> SecureClient {
    SecureClient::open(login(server, name).await, path)
        .await
        .unwrap()
}

fn identity(sc: &SecureClient) -> Identity {
    Identity::import(sc.store().identity.as_deref().unwrap()).unwrap()
}

/// The channel's messages as `sc` reads them, oldest first.
async fn read(sc: &mut SecureClient, channel: i64) -> Vec<Body> {
    let mut read = sc.history(channel, HistoryQuery::latest()).await.unwrap();
    read.reverse();
    read.into_iter().map(|r| r.body).collect()
}

fn verified(text: &str, sender_id: i64) -> Body {
    Body::Verified {
        text: text.to_owned(),
        sender_id,
    }
}

async fn upgrade_on(backend: Backend) {
    let mut server = Server::start(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let (alice_path, bob_path) = (dir.path().join("alice.json"), dir.path().join("bob.json"));
    let mut alice = open(&server, "alice", &alice_path).await;
    let mut bob = open(&server, "bob", &bob_path).await;
    let (alice_id, bob_id) = (alice.user_id(), bob.user_id());

    // A private room with an encrypted channel and a signed membership log
    // (the log's format is the same in both versions).
    let room = alice
        .create_room(&NewRoom::private("Archive"))
        .await
        .unwrap()
        .id;
    let vault = alice
        .client()
        .create_channel(room, "vault", true)
        .await
        .unwrap()
        .id;
    alice
        .change_membership(
            room,
            &MembershipChange::Add {
                user_id: bob_id,
                admin: false,
            },
        )
        .await
        .unwrap();

    // Version 1, shared and used as version-1 clients did.
    let key = ChannelKey::generate().unwrap();
    let alice_identity = identity(&alice);
    for recipient in [alice.bundle(), bob.bundle()] {
        let share = SealedShare::seal_format1(
            &alice_identity,
            &recipient,
            vault,
            1,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        alice
            .client()
            .share_key(vault, recipient.user_id(), 1, false, &share.to_wire())
            .await
            .unwrap();
    }
    let old = [
        (&alice_identity, "filed before the upgrade", 0x0a),
        (&identity(&bob), "and answered before it", 0x0b),
    ];
    for (n, (sender, text, device)) in old.iter().enumerate() {
        let envelope = Envelope::encrypt_format1(
            sender,
            &key,
            vault,
            1,
            device_counter(*device, 0),
            text.as_bytes(),
        )
        .unwrap();
        let client = if sender.user_id() == alice_id {
            &alice
        } else {
            &bob
        };
        let (socket, _events) = client.client().socket().await.unwrap();
        let ack = socket
            .emit_with_ack(
                "send_message",
                &json!({"channel_id": vault, "envelope": envelope.to_wire(), "key_version": 1,
                        "client_msg_id": format!("v1-{n}")}),
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(ack["success"], true, "{ack}");
    }
    for sc in [&mut alice, &mut bob] {
        sc.fetch_key(vault, 1).await.unwrap();
        let stored = sc.store().key(vault, 1).unwrap();
        assert_eq!(
            stored.made_at, None,
            "a format-1 key, as version 1 stored it"
        );
    }
    drop((alice, bob));

    // The server restarts on the same database, the clients on their key stores.
    server.restart_after(Duration::from_millis(100));
    let mut alice = open(&server, "alice", &alice_path).await;
    let mut bob = open(&server, "bob", &bob_path).await;

    let history = [
        verified("filed before the upgrade", alice_id),
        verified("and answered before it", bob_id),
    ];
    assert_eq!(read(&mut bob, vault).await, history);

    // alice's first message moves the channel to version 2, in format 2.
    let (socket, _events) = alice.client().socket().await.unwrap();
    let sent = alice
        .send(&socket, vault, "after the upgrade")
        .await
        .unwrap();
    assert_eq!(sent.key_version, Some(2));
    let envelope = Envelope::parse(sent.envelope.as_deref().unwrap()).unwrap();
    assert_eq!(envelope.format(), 2);
    assert_eq!(envelope.binding().unwrap().room_id, room);
    let mine = alice.client().my_share(vault, Some(2)).await.unwrap();
    assert_eq!(SealedShare::parse(&mine.encrypted_key).unwrap().format(), 2);

    let mut expected = history.to_vec();
    expected.push(verified("after the upgrade", alice_id));
    assert_eq!(read(&mut bob, vault).await, expected);
    assert_eq!(read(&mut alice, vault).await, expected);
    assert!(bob.store().key(vault, 2).unwrap().made_at.is_some());

    // A format-1 share for a later version is no longer taken.
    let later = SealedShare::seal_format1(
        &identity(&alice),
        &bob.bundle(),
        vault,
        3,
        SharePurpose::Rotation,
        &ChannelKey::generate().unwrap(),
    )
    .unwrap();
    let refused = bob
        .accept_share(vault, 3, alice_id, true, &later.to_wire())
        .await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("format 1")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_room_from_version_1_keeps_its_history_and_moves_to_format_2() {
    for backend in backends() {
        upgrade_on(backend).await;
    }
}
