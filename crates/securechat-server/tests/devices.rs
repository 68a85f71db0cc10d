//! Several devices per person on the server: identity-signed device lists,
//! device-signed prekeys, key shares sealed to a prekey (format 3) routed to
//! that device's mailbox, fetched, acknowledged and deleted — and the
//! server refusing lists, prekeys and shares that do not fit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use securechat_crypto::encoding::to_wire;
use securechat_crypto::{
    ChannelKey, DeviceEntry, DeviceKey, DeviceList, Identity, LinkEphemeral, LinkOffer,
    PrekeySecret, SealedShare, ShareContext, SharePurpose,
};
use securechat_testkit as testkit;
use serde_json::{Value, json};
use testkit::{
    Member, Server, backends, call, connect, db_count, db_execute, member, new_user, next_event,
    room_and_channel,
};

/// Milliseconds since the epoch, for prekey creation times.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn put_list(server: &Server, who: &Member, list: &DeviceList) -> (u16, Value) {
    call(
        server,
        Some(&who.token),
        "PUT",
        "/api/users/me/devices",
        Some(json!({"device_list": list.to_wire()})),
    )
    .await
}

fn sign_list(who: &Member, version: u64, devices: &[&DeviceKey]) -> DeviceList {
    let entries: Vec<DeviceEntry> = devices.iter().map(|d| d.entry()).collect();
    DeviceList::sign(&who.identity, version, now_ms(), &entries).unwrap()
}

async fn put_prekey(
    server: &Server,
    who: &Member,
    device_id: u64,
    prekey: &PrekeySecret,
) -> (u16, Value) {
    call(
        server,
        Some(&who.token),
        "PUT",
        &format!("/api/users/me/devices/{device_id}/prekey"),
        Some(json!({"prekey": prekey.public().to_wire()})),
    )
    .await
}

async fn devices_of(server: &Server, asker: &Member, user_id: i64) -> Value {
    let (s, body) = call(
        server,
        Some(&asker.token),
        "GET",
        &format!("/api/users/{user_id}/devices"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    body
}

fn code(reply: &(u16, Value)) -> (u16, Option<&str>) {
    (reply.0, reply.1["code"].as_str())
}

/// A device of `who`: its key and a published prekey numbered `prekey_id`.
struct Device {
    key: DeviceKey,
    prekey: PrekeySecret,
}

impl Device {
    fn new(who: &Member) -> Self {
        let key = DeviceKey::generate(who.id).unwrap();
        let prekey = PrekeySecret::generate(&key, 1, now_ms()).unwrap();
        Device { key, prekey }
    }

    fn id(&self) -> u64 {
        self.key.device_id()
    }

    /// Replaces the prekey with number `prekey_id` and publishes it.
    async fn rotate(&mut self, server: &Server, who: &Member, prekey_id: u32) {
        self.prekey = PrekeySecret::generate(&self.key, prekey_id, now_ms()).unwrap();
        let reply = put_prekey(server, who, self.id(), &self.prekey).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
    }
}

/// `who` publishes version 1 of a list of `count` devices, each with
/// prekey 1.
async fn with_devices(server: &Server, who: &Member, count: usize) -> Vec<Device> {
    let devices: Vec<Device> = (0..count).map(|_| Device::new(who)).collect();
    let keys: Vec<&DeviceKey> = devices.iter().map(|d| &d.key).collect();
    let reply = put_list(server, who, &sign_list(who, 1, &keys)).await;
    assert_eq!(reply.0, 200, "{}", reply.1);
    for d in &devices {
        let reply = put_prekey(server, who, d.id(), &d.prekey).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
    }
    devices
}

/// Where shares are sent: Project X's encrypted channel `secrets`.
struct Channel {
    room: i64,
    id: i64,
}

async fn secrets(server: &Server, who: &Member) -> Channel {
    let (room, id) = room_and_channel(server, &who.token, "Project X", "secrets").await;
    Channel { room, id }
}

fn context(ch: &Channel, from: &Member, to: &Member, version: u32) -> ShareContext {
    ShareContext {
        room_id: ch.room,
        channel_id: ch.id,
        key_version: version,
        sender_id: from.id,
        recipient_id: to.id,
        purpose: SharePurpose::Initial,
    }
}

/// `from` posts `sealed` (an initial share of `version`) for `to`.
async fn post_share(
    server: &Server,
    from: &Member,
    to: &Member,
    ch: &Channel,
    version: u32,
    sealed: &SealedShare,
) -> (u16, Value) {
    call(
        server,
        Some(&from.token),
        "POST",
        "/api/channels/share_key",
        Some(json!({
            "user_id": to.id, "channel_id": ch.id, "encrypted_key": sealed.to_wire(),
            "is_key_rotation": false, "key_version": version,
        })),
    )
    .await
}

/// `from` seals `key` as `version` to `to`'s device prekey and posts it.
async fn share_to_device(
    server: &Server,
    from: &Member,
    to: &Member,
    prekey: &PrekeySecret,
    ch: &Channel,
    version: u32,
    key: &ChannelKey,
) -> (u16, Value) {
    let sealed = SealedShare::seal_to_prekey(
        &from.identity,
        prekey.public(),
        ch.room,
        ch.id,
        version,
        0,
        SharePurpose::Initial,
        key,
    )
    .unwrap();
    post_share(server, from, to, ch, version, &sealed).await
}

/// `who`'s per-user copy of the channel's current key (formats 1 and 2).
async fn my_key(server: &Server, who: &Member, ch: &Channel) -> (u16, Value) {
    let path = format!("/api/channels/{}/key", ch.id);
    call(server, Some(&who.token), "GET", &path, None).await
}

async fn mailbox(server: &Server, who: &Member, device_id: u64, query: &str) -> (u16, Value) {
    call(
        server,
        Some(&who.token),
        "GET",
        &format!("/api/users/me/devices/{device_id}/shares{query}"),
        None,
    )
    .await
}

async fn acknowledge(server: &Server, who: &Member, device_id: u64, ids: &[i64]) -> (u16, Value) {
    call(
        server,
        Some(&who.token),
        "POST",
        &format!("/api/users/me/devices/{device_id}/shares/ack"),
        Some(json!({ "ids": ids })),
    )
    .await
}

/// Bob lists two devices, and alice shares key version 1 of `secrets` with
/// each of them.
async fn shared_to_two_devices(
    server: &Server,
) -> (Member, Member, Channel, Vec<Device>, ChannelKey) {
    let alice = member(server, "alice", "password123").await;
    let bob = member(server, "bob", "password456").await;
    let ch = secrets(server, &alice).await;
    let bobs = with_devices(server, &bob, 2).await;
    let key = ChannelKey::generate().unwrap();
    for d in &bobs {
        let reply = share_to_device(server, &alice, &bob, &d.prekey, &ch, 1, &key).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
    }
    (alice, bob, ch, bobs, key)
}

/// Rows of one device (ids are random: no other device has the same one).
const PREKEYS_OF: &str = "SELECT COUNT(*) FROM device_prekeys WHERE device_id = $1";
const SHARES_OF: &str = "SELECT COUNT(*) FROM device_shares WHERE device_id = $1";

fn ids_of(page: &Value) -> Vec<i64> {
    page["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_device_list_is_stored_only_if_signed_by_the_identity_and_newer() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let (a, b, c) = (
            DeviceKey::generate(alice.id).unwrap(),
            DeviceKey::generate(alice.id).unwrap(),
            DeviceKey::generate(alice.id).unwrap(),
        );

        // Signed by another identity for alice's id: refused with the crypto code.
        let impostor = Member {
            id: alice.id,
            token: alice.token.clone(),
            identity: Identity::generate(alice.id).unwrap(),
        };
        let reply = put_list(&server, &alice, &sign_list(&impostor, 1, &[&a])).await;
        assert_eq!(
            code(&reply),
            (422, Some("invalid_device_list")),
            "{backend:?}"
        );
        assert!(
            reply.1["message"]
                .as_str()
                .unwrap()
                .contains("bad_signature"),
            "{}",
            reply.1
        );
        // Alice's list, posted by bob: not signed by bob's identity.
        let reply = put_list(&server, &bob, &sign_list(&alice, 1, &[&a])).await;
        assert_eq!(code(&reply), (422, Some("invalid_device_list")));
        // Without a published bundle there is nothing to verify against.
        let (carol_id, carol_token) = new_user(&server, "carol").await;
        let carol = Member {
            id: carol_id,
            token: carol_token,
            identity: Identity::generate(carol_id).unwrap(),
        };
        let reply = put_list(&server, &carol, &sign_list(&carol, 1, &[&a])).await;
        assert_eq!(code(&reply), (422, Some("no_public_key")));

        let v1 = sign_list(&alice, 1, &[&a, &b]);
        let reply = put_list(&server, &alice, &v1).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
        assert_eq!(reply.1["version"], 1);
        let seen = devices_of(&server, &bob, alice.id).await;
        assert_eq!(seen["device_list"], v1.to_wire());
        let mut ids = vec![a.device_id(), b.device_id()];
        ids.sort_unstable();
        let listed: Vec<u64> = seen["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device_id"].as_u64().unwrap())
            .collect();
        assert_eq!(listed, ids);
        assert!(seen["devices"][0]["prekey"].is_null());
        assert!(seen["devices"][0]["last_seen_at"].is_null());

        // An equal or older version is refused, even with other devices.
        for old in [sign_list(&alice, 1, &[&c]), sign_list(&alice, 0, &[&c])] {
            let reply = put_list(&server, &alice, &old).await;
            assert_eq!(code(&reply), (409, Some("device_list_outdated")));
        }
        assert_eq!(
            devices_of(&server, &bob, alice.id).await["device_list"],
            v1.to_wire()
        );

        // Two different lists of the same version at once: exactly one wins.
        for version in 2..6 {
            let one = sign_list(&alice, version, &[&a]);
            let two = sign_list(&alice, version, &[&b, &c]);
            let (r1, r2) = tokio::join!(
                put_list(&server, &alice, &one),
                put_list(&server, &alice, &two)
            );
            let mut statuses = [r1.0, r2.0];
            statuses.sort_unstable();
            assert_eq!(
                statuses,
                [200, 409],
                "{backend:?} v{version}: {r1:?} {r2:?}"
            );
            let winner = if r1.0 == 200 { &one } else { &two };
            assert_eq!(
                devices_of(&server, &bob, alice.id).await["device_list"],
                winner.to_wire()
            );
        }

        // Nobody's list yet, and nobody at all.
        let none = devices_of(&server, &alice, bob.id).await;
        assert!(none["device_list"].is_null());
        assert_eq!(none["devices"], json!([]));
        let (s, body) = call(
            &server,
            Some(&alice.token),
            "GET",
            "/api/users/987654/devices",
            None,
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (404, Some("user_not_found")));
    }
}

#[tokio::test]
async fn prekeys_come_only_from_listed_devices_and_only_move_forward() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let listed = Device::new(&alice);
        let unlisted = Device::new(&alice);

        // No list yet: no device is known.
        let reply = put_prekey(&server, &alice, listed.id(), &listed.prekey).await;
        assert_eq!(code(&reply), (422, Some("unknown_device")), "{backend:?}");
        let reply = put_list(&server, &alice, &sign_list(&alice, 1, &[&listed.key])).await;
        assert_eq!(reply.0, 200);

        let reply = put_prekey(&server, &alice, unlisted.id(), &unlisted.prekey).await;
        assert_eq!(code(&reply), (422, Some("unknown_device")));
        // A prekey of another device, or of another person, under this path.
        let reply = put_prekey(&server, &alice, listed.id(), &unlisted.prekey).await;
        assert_eq!(code(&reply), (422, Some("invalid_prekey")));
        let reply = put_prekey(&server, &bob, listed.id(), &listed.prekey).await;
        assert_eq!(code(&reply), (422, Some("invalid_prekey")));

        let fifth = PrekeySecret::generate(&listed.key, 5, now_ms()).unwrap();
        let reply = put_prekey(&server, &alice, listed.id(), &fifth).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
        assert_eq!(reply.1["prekey_id"], 5);
        for id in [4, 5] {
            let older = PrekeySecret::generate(&listed.key, id, now_ms()).unwrap();
            let reply = put_prekey(&server, &alice, listed.id(), &older).await;
            assert_eq!(code(&reply), (409, Some("stale_prekey")), "prekey {id}");
        }
        let seen = devices_of(&server, &bob, alice.id).await;
        let device = &seen["devices"][0];
        assert_eq!(device["device_id"].as_u64(), Some(listed.id()));
        assert_eq!(device["prekey"], fifth.public().to_wire());
        assert!(device["last_seen_at"].is_string());
    }
}

#[tokio::test]
async fn a_format3_share_reaches_only_its_device_mailbox_until_acknowledged() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let ch = secrets(&server, &alice).await;
        let mine = with_devices(&server, &alice, 1).await;
        let mut bobs = with_devices(&server, &bob, 2).await;
        let (_bob_socket, mut bob_events) = connect(&server, &bob.token).await;
        let key = ChannelKey::generate().unwrap();

        // Bob's first device rotates: a share to its old prekey is refused.
        let old = PrekeySecret::import(&bobs[0].prekey.export()).unwrap();
        bobs[0].rotate(&server, &bob, 2).await;
        let reply = share_to_device(&server, &alice, &bob, &old, &ch, 1, &key).await;
        assert_eq!(code(&reply), (409, Some("stale_prekey")), "{backend:?}");
        // A device bob never listed.
        let stranger = Device::new(&bob);
        let reply = share_to_device(&server, &alice, &bob, &stranger.prekey, &ch, 1, &key).await;
        assert_eq!(code(&reply), (422, Some("unknown_device")));

        // To the current prekeys: delivered, pushed with the device.
        for d in &bobs {
            let reply = share_to_device(&server, &alice, &bob, &d.prekey, &ch, 1, &key).await;
            assert_eq!(reply.0, 200, "{}", reply.1);
        }
        let pushed = next_event(&mut bob_events, "channel_key_share").await;
        assert_eq!(pushed["device_id"].as_u64(), Some(bobs[0].id()));
        // Alice's copy to her own device makes version 1 current.
        let reply = share_to_device(&server, &alice, &alice, &mine[0].prekey, &ch, 1, &key).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
        let (_, rooms) = call(&server, Some(&bob.token), "GET", "/api/rooms", None).await;
        let version = rooms["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["channels"].as_array().unwrap().iter())
            .find(|c| c["id"] == ch.id)
            .unwrap()["key_version"]
            .clone();
        assert_eq!(version, 1);

        // Only in the mailboxes, not among bob's per-user copies.
        assert_eq!(my_key(&server, &bob, &ch).await.0, 404);
        let (s, page) = mailbox(&server, &bob, bobs[0].id(), "").await;
        assert_eq!(s, 200, "{page}");
        let first = ids_of(&page);
        assert_eq!(first.len(), 1);
        assert!(page["next"].is_null());
        let share = &page["shares"][0];
        assert_eq!(
            (share["channel_id"].as_i64(), share["key_version"].as_i64()),
            (Some(ch.id), Some(1))
        );
        assert_eq!(share["sender_id"].as_i64(), Some(alice.id));
        let sealed = SealedShare::parse(share["encrypted_key"].as_str().unwrap()).unwrap();
        let opened = sealed
            .open_with_prekey(
                &bobs[0].prekey,
                &alice.identity.bundle(),
                &context(&ch, &alice, &bob, 1),
            )
            .unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
        // Another device's mailbox, and paging by `next`.
        let (_, other) = mailbox(&server, &bob, bobs[1].id(), "?limit=1").await;
        let second = ids_of(&other);
        assert_eq!(second.len(), 1);
        assert_ne!(second, first);
        assert_eq!(other["next"].as_i64(), Some(second[0]));
        let (_, rest) = mailbox(
            &server,
            &bob,
            bobs[1].id(),
            &format!("?after={}", second[0]),
        )
        .await;
        assert_eq!(ids_of(&rest), Vec::<i64>::new());
        // Nobody reads another person's mailbox, or an unlisted device's.
        let reply = mailbox(&server, &alice, bobs[0].id(), "").await;
        assert_eq!(code(&reply), (422, Some("unknown_device")));

        // Acknowledged through the wrong device or by someone else: kept.
        let reply = acknowledge(&server, &bob, bobs[1].id(), &first).await;
        assert_eq!(reply.1["deleted"], 0);
        let reply = acknowledge(&server, &alice, mine[0].id(), &first).await;
        assert_eq!(reply.1["deleted"], 0);
        let reply = acknowledge(&server, &bob, bobs[0].id(), &first).await;
        assert_eq!((reply.0, reply.1["deleted"].as_u64()), (200, Some(1)));
        let (_, page) = mailbox(&server, &bob, bobs[0].id(), "").await;
        assert_eq!(ids_of(&page), Vec::<i64>::new());
        let by_id = "SELECT COUNT(*) FROM device_shares WHERE id = $1";
        assert_eq!(db_count(&server, by_id, first[0]).await, 0);
        let (_, other) = mailbox(&server, &bob, bobs[1].id(), "").await;
        assert_eq!(ids_of(&other), second);
        let too_many: Vec<i64> = (1..=501).collect();
        let reply = acknowledge(&server, &bob, bobs[1].id(), &too_many).await;
        assert_eq!(code(&reply), (422, Some("too_many_ids")));
    }
}

#[tokio::test]
async fn a_revoked_device_loses_its_prekey_and_its_mailbox() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (alice, bob, ch, bobs, key) = shared_to_two_devices(&server).await;
        let revoked = bobs[1].id() as i64;
        assert_eq!(db_count(&server, PREKEYS_OF, revoked).await, 1);
        assert_eq!(db_count(&server, SHARES_OF, revoked).await, 1);

        let reply = put_list(&server, &bob, &sign_list(&bob, 2, &[&bobs[0].key])).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
        assert_eq!(
            db_count(&server, PREKEYS_OF, revoked).await,
            0,
            "{backend:?}"
        );
        assert_eq!(db_count(&server, SHARES_OF, revoked).await, 0);
        let seen = devices_of(&server, &alice, bob.id).await;
        assert_eq!(seen["devices"].as_array().unwrap().len(), 1);
        assert_eq!(seen["devices"][0]["device_id"].as_u64(), Some(bobs[0].id()));
        assert!(seen["devices"][0]["prekey"].is_string());
        let reply = mailbox(&server, &bob, bobs[1].id(), "").await;
        assert_eq!(code(&reply), (422, Some("unknown_device")));
        let reply = share_to_device(&server, &alice, &bob, &bobs[1].prekey, &ch, 1, &key).await;
        assert_eq!(code(&reply), (422, Some("unknown_device")));
        // The device that stayed keeps its share.
        let (_, page) = mailbox(&server, &bob, bobs[0].id(), "").await;
        assert_eq!(ids_of(&page).len(), 1);
    }
}

#[tokio::test]
async fn a_request_answer_sealed_to_a_device_reaches_its_mailbox_only() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let ch = secrets(&server, &alice).await;
        let bobs = with_devices(&server, &bob, 2).await;
        // Bob revokes his second device.
        let reply = put_list(&server, &bob, &sign_list(&bob, 2, &[&bobs[0].key])).await;
        assert_eq!(reply.0, 200, "{}", reply.1);
        // Alice makes version 1 with her own copy (to her identity).
        let key = ChannelKey::generate().unwrap();
        let own = SealedShare::seal(
            &alice.identity,
            &alice.identity.bundle(),
            ch.room,
            ch.id,
            1,
            0,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let reply = post_share(&server, &alice, &alice, &ch, 1, &own).await;
        assert_eq!(reply.0, 200, "{}", reply.1);

        let ask = format!("/api/channels/{}/request_key", ch.id);
        let (s, asked) = call(&server, Some(&bob.token), "POST", &ask, None).await;
        assert_eq!(s, 200, "{asked}");
        let request_id = asked["request_id"].as_i64().unwrap();
        let purpose = SharePurpose::Request { request_id };
        let answer = |to: &PrekeySecret| {
            SealedShare::seal_to_prekey(
                &alice.identity,
                to.public(),
                ch.room,
                ch.id,
                1,
                0,
                purpose,
                &key,
            )
            .unwrap()
        };
        // To the revoked device: refused. To the listed one: its mailbox.
        let reply = post_share(&server, &alice, &bob, &ch, 1, &answer(&bobs[1].prekey)).await;
        assert_eq!(code(&reply), (422, Some("unknown_device")), "{backend:?}");
        let reply = post_share(&server, &alice, &bob, &ch, 1, &answer(&bobs[0].prekey)).await;
        assert_eq!(reply.0, 200, "{backend:?}: {}", reply.1);
        let (s, page) = mailbox(&server, &bob, bobs[0].id(), "").await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(ids_of(&page).len(), 1, "{backend:?}: {page}");
        let share = &page["shares"][0];
        assert_eq!(share["is_key_rotation"], false);
        let sealed = SealedShare::parse(share["encrypted_key"].as_str().unwrap()).unwrap();
        let expected = ShareContext {
            purpose,
            ..context(&ch, &alice, &bob, 1)
        };
        let opened = sealed
            .open_with_prekey(&bobs[0].prekey, &alice.identity.bundle(), &expected)
            .unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
        // Nothing for bob's identity, which the revoked device still holds.
        assert_eq!(my_key(&server, &bob, &ch).await.0, 404, "{backend:?}");
        assert_eq!(db_count(&server, SHARES_OF, bobs[1].id() as i64).await, 0);
        // The answer closed the request.
        let (_, again) = call(&server, Some(&bob.token), "POST", &ask, None).await;
        assert_ne!(again["request_id"], request_id, "{backend:?}");
    }
}

#[tokio::test]
async fn unfetched_shares_are_deleted_after_the_retention_period() {
    for backend in backends() {
        let mut server = Server::start_with(backend, &[("DEVICE_SHARE_RETENTION_DAYS", "3")]).await;
        let (_, _, _, bobs, _) = shared_to_two_devices(&server).await;
        server.kill();
        // The first share waited four days, the second two.
        db_execute(
            &server,
            "UPDATE device_shares SET created_at = created_at - 345600000 \
             WHERE id = (SELECT MIN(id) FROM device_shares)",
        )
        .await;
        db_execute(
            &server,
            "UPDATE device_shares SET created_at = created_at - 172800000 \
             WHERE id = (SELECT MAX(id) FROM device_shares)",
        )
        .await;
        server.restart();
        let (old, recent) = (bobs[0].id() as i64, bobs[1].id() as i64);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while db_count(&server, SHARES_OF, old).await > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{backend:?}: the janitor kept a share past its retention"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            db_count(&server, SHARES_OF, recent).await,
            1,
            "a share within retention"
        );
    }
}

#[tokio::test]
async fn seed_style_shares_still_reach_the_person() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;
        let ch = secrets(&server, &alice).await;
        // Bob has devices, but a seed-style client shares to his identity.
        with_devices(&server, &bob, 1).await;
        let (_bob_socket, mut bob_events) = connect(&server, &bob.token).await;
        let key = ChannelKey::generate().unwrap();
        for to in [&bob, &alice] {
            let sealed = SealedShare::seal(
                &alice.identity,
                &to.identity.bundle(),
                ch.room,
                ch.id,
                1,
                0,
                SharePurpose::Initial,
                &key,
            )
            .unwrap();
            let reply = post_share(&server, &alice, to, &ch, 1, &sealed).await;
            assert_eq!(reply.0, 200, "{backend:?}: {}", reply.1);
        }
        let pushed = next_event(&mut bob_events, "channel_key_share").await;
        assert!(pushed.get("device_id").is_none(), "{pushed}");
        let (s, mine) = my_key(&server, &bob, &ch).await;
        assert_eq!(s, 200, "{mine}");
        let sealed = SealedShare::parse(mine["encrypted_key"].as_str().unwrap()).unwrap();
        let opened = sealed
            .open(
                &bob.identity,
                &alice.identity.bundle(),
                &context(&ch, &alice, &bob, 1),
            )
            .unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
    }
}

/// A new device's offer for `who`.
fn link_offer(who: &Member) -> String {
    LinkOffer {
        user_id: who.id,
        device: DeviceKey::generate(who.id).unwrap().entry(),
        ephemeral: LinkEphemeral::generate().unwrap().public(),
    }
    .to_wire()
}

async fn link_call(
    server: &Server,
    who: &Member,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call(
        server,
        Some(&who.token),
        method,
        &format!("/api/users/me/devices/links{path}"),
        body,
    )
    .await
}

#[tokio::test]
async fn a_link_relays_each_step_once_to_the_same_person_only() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let bob = member(&server, "bob", "password456").await;

        // An offer for someone else, or not an offer, is refused.
        let (s, body) = link_call(
            &server,
            &alice,
            "POST",
            "",
            Some(json!({"offer": link_offer(&bob)})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_link_offer"))
        );
        let (s, _) = link_call(&server, &alice, "POST", "", Some(json!({"offer": "AAAA"}))).await;
        assert_eq!(s, 422);

        let offer = link_offer(&alice);
        let (s, opened) =
            link_call(&server, &alice, "POST", "", Some(json!({"offer": offer}))).await;
        assert_eq!(s, 201, "{opened}");
        let code = opened["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 9);
        // Typed in lower case, without the dash: the same link.
        let typed = code.replace('-', "").to_lowercase();
        let (s, view) = link_call(&server, &alice, "GET", &format!("/{typed}"), None).await;
        assert_eq!(s, 200, "{view}");
        assert_eq!(view["offer"], json!(offer));
        assert!(view["answer"].is_null() && view["payload"].is_null());
        // Another person learns nothing about it.
        let (s, _) = link_call(&server, &bob, "GET", &format!("/{code}"), None).await;
        assert_eq!(s, 404);

        // The payload only after an answer; each only once.
        let (s, body) = link_call(
            &server,
            &alice,
            "POST",
            &format!("/{code}/payload"),
            Some(json!({"payload": "sealed"})),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (409, Some("link_not_answered")));
        let answer = to_wire(&LinkEphemeral::generate().unwrap().public());
        let (s, body) = link_call(
            &server,
            &bob,
            "POST",
            &format!("/{code}/answer"),
            Some(json!({"answer": answer})),
        )
        .await;
        assert_eq!(s, 404, "bob cannot answer alice's link: {body}");
        let (s, _) = link_call(
            &server,
            &alice,
            "POST",
            &format!("/{code}/answer"),
            Some(json!({"answer": "short"})),
        )
        .await;
        assert_eq!(s, 422);
        let (s, _) = link_call(
            &server,
            &alice,
            "POST",
            &format!("/{code}/answer"),
            Some(json!({"answer": answer})),
        )
        .await;
        assert_eq!(s, 200);
        let other = to_wire(&LinkEphemeral::generate().unwrap().public());
        let (s, body) = link_call(
            &server,
            &alice,
            "POST",
            &format!("/{code}/answer"),
            Some(json!({"answer": other})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("link_answered")),
            "the first answer stays"
        );
        let (s, _) = link_call(
            &server,
            &alice,
            "POST",
            &format!("/{code}/payload"),
            Some(json!({"payload": "sealed"})),
        )
        .await;
        assert_eq!(s, 200);
        let (s, body) = link_call(
            &server,
            &alice,
            "POST",
            &format!("/{code}/payload"),
            Some(json!({"payload": "other"})),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (409, Some("link_sent")));
        let (_, view) = link_call(&server, &alice, "GET", &format!("/{code}"), None).await;
        assert_eq!(
            (view["answer"].as_str(), view["payload"].as_str()),
            (Some(answer.as_str()), Some("sealed"))
        );
        let (s, _) = link_call(&server, &alice, "DELETE", &format!("/{code}"), None).await;
        assert_eq!(s, 200);
        let (s, _) = link_call(&server, &alice, "GET", &format!("/{code}"), None).await;
        assert_eq!(s, 404, "closed");

        // At most five open at once; an expired one frees its place.
        let mut codes = Vec::new();
        for _ in 0..5 {
            let (s, opened) = link_call(
                &server,
                &alice,
                "POST",
                "",
                Some(json!({"offer": link_offer(&alice)})),
            )
            .await;
            assert_eq!(s, 201);
            codes.push(opened["code"].as_str().unwrap().to_owned());
        }
        let (s, _) = link_call(
            &server,
            &alice,
            "POST",
            "",
            Some(json!({"offer": link_offer(&alice)})),
        )
        .await;
        assert_eq!(s, 429);
        db_execute(&server, "UPDATE device_links SET expires_at = 0").await;
        let (s, _) = link_call(&server, &alice, "GET", &format!("/{}", codes[0]), None).await;
        assert_eq!(s, 404, "an expired link is gone");
        let (s, _) = link_call(
            &server,
            &alice,
            "POST",
            "",
            Some(json!({"offer": link_offer(&alice)})),
        )
        .await;
        assert_eq!(s, 201, "{backend:?}");
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM device_links WHERE user_id = $1",
                alice.id
            )
            .await,
            1,
            "{backend:?}: expired links were deleted"
        );
    }
}
