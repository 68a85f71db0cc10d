//! The lying-server scenarios, built deterministically.
//!
//! Shared by `examples/gen-scenarios.rs` (which writes `scenarios/*.json`)
//! and `tests/lying_server.rs` (which rebuilds them, requires byte equality
//! with the committed files, then runs every scenario through
//! `securechat_e2ee::call`). `tests-wasm/lying_server.test.mjs` runs the same
//! files against the WebAssembly build in Node, so the browser is held to
//! the same rules.
//!
//! Every identity, channel key, share and envelope comes from a ChaCha20 RNG
//! seeded with a fixed label, and membership entries are Ed25519-signed
//! (deterministic), so the output never changes unless this file does.
//! The expectations are written here by hand, from what each rule demands
//! (docs/PROTOCOL.md §2–§6, §10); nothing here runs the machine.
//!
//! A scenario:
//!
//! ```json
//! { "name": "...", "rule": "what the client must do",
//!   "user_id": 1, "state": { <State document> },
//!   "machines": { "phone": { "user_id": 1, "state": {...} } },   (optional)
//!   "steps": [ { "op": "accept_share", "args": {...},
//!                "on": "phone",          (optional: default the main machine)
//!                "save": "name",         (optional: keep the answer)
//!                "note": "what the server does here",
//!                "expect": { "ok": <subset of the answer> } | { "refused": "<code>" } } ] }
//! ```
//!
//! Matching: an expected object matches an answer object that has each of
//! its keys with a matching value; an expected array matches an answer
//! array of the same length whose elements can be paired with the
//! expected ones in any order; anything else must be equal. A string
//! argument of the exact form `${name.field}` is replaced by `field` of the
//! answer saved as `name` (sealed envelopes are random, so a reader step
//! takes them from the sealing step); a longer path goes deeper, a number
//! indexing an array (`${name.shares.0.encrypted_key}`).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::{Value, json};

use securechat_crypto::encoding::{from_wire, to_wire};
use securechat_crypto::{
    Action, ChannelKey, DeviceKey, DeviceList, EntryFields, Envelope, Identity, MembershipEntry,
    MembershipLog, MessageBinding, MessageKind, Op, PrekeySecret, Role, SafetyNumber, SealedShare,
    SharePurpose, device_counter,
};
use securechat_e2ee::{Pin, State, StoredKey};

/// The server every scenario state belongs to.
pub const SERVER: &str = "https://chat.example";
/// The scenarios' clock origin (unix seconds).
pub const T0: u64 = 1_700_000_000;
/// One day in seconds.
pub const DAY: u64 = 86_400;

const ALICE: i64 = 1;
const BOB: i64 = 2;
const CAROL: i64 = 3;
const DAVE: i64 = 4;
const ERIN: i64 = 5;

/// Room 10 (private group: alice owner, bob, carol) and its channel 100.
const ROOM: i64 = 10;
const CHANNEL: i64 = 100;

/// Bob's device tag in the envelopes he sends in these scenarios.
const BOB_DEVICE: u16 = 0x0b0b;

// ---- deterministic material -------------------------------------------------

/// FNV-1a, to turn a label into an RNG seed.
fn seed(label: &str) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn rng(label: &str) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed(label))
}

/// The identity of `user_id` called `label` (`"bob"`, or `"bob forged"` for
/// the key a lying server serves in bob's name).
pub fn identity(label: &str, user_id: i64) -> Identity {
    Identity::generate_with_rng(user_id, &mut rng(&format!("identity {label}"))).unwrap()
}

fn alice() -> Identity {
    identity("alice", ALICE)
}
fn bob() -> Identity {
    identity("bob", BOB)
}
fn carol() -> Identity {
    identity("carol", CAROL)
}
fn dave() -> Identity {
    identity("dave", DAVE)
}
fn erin() -> Identity {
    identity("erin", ERIN)
}

/// The served bundle (wire form) of an identity.
fn bundle(id: &Identity) -> String {
    id.bundle().to_wire()
}

/// The fingerprint of an identity's bundle, in hex (as the core shows it).
fn fp(id: &Identity) -> String {
    id.bundle()
        .fingerprint()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A channel key named `label`.
pub fn channel_key(label: &str) -> ChannelKey {
    ChannelKey::generate_with_rng(&mut rng(&format!("channel key {label}"))).unwrap()
}

/// The seq of room 10's log head ([`room_log`]): where its shares are made.
const ROOM_HEAD: u64 = 2;

/// `key` sealed by `sender` to `recipient`'s bundle, as a version of a
/// channel of room 10 made at its log head.
fn share(
    sender: &Identity,
    recipient: &Identity,
    channel_id: i64,
    version: u32,
    purpose: SharePurpose,
    key: &ChannelKey,
) -> String {
    share_at(
        sender, recipient, ROOM, ROOM_HEAD, channel_id, version, purpose, key,
    )
}

/// `key` sealed by `sender` to `recipient`'s bundle as a version of
/// `channel_id` in `room_id`, made at log seq `log_seq` (format 2).
#[allow(clippy::too_many_arguments)]
fn share_at(
    sender: &Identity,
    recipient: &Identity,
    room_id: i64,
    log_seq: u64,
    channel_id: i64,
    version: u32,
    purpose: SharePurpose,
    key: &ChannelKey,
) -> String {
    let label = format!(
        "share {} {} {} {room_id} {log_seq} {channel_id} {version} {purpose:?}",
        fp(sender),
        fp(recipient),
        key.export().as_str()
    );
    SealedShare::seal_with_rng(
        sender,
        &recipient.bundle(),
        room_id,
        channel_id,
        version,
        log_seq,
        purpose,
        key,
        &mut rng(&label),
    )
    .unwrap()
    .to_wire()
}

/// `key` sealed as a format-1 share (as clients made them before format 2).
fn share_v1(
    sender: &Identity,
    recipient: &Identity,
    channel_id: i64,
    version: u32,
    purpose: SharePurpose,
    key: &ChannelKey,
) -> String {
    let label = format!(
        "share v1 {} {} {} {channel_id} {version} {purpose:?}",
        fp(sender),
        fp(recipient),
        key.export().as_str()
    );
    SealedShare::seal_format1_with_rng(
        sender,
        &recipient.bundle(),
        channel_id,
        version,
        purpose,
        key,
        &mut rng(&label),
    )
    .unwrap()
    .to_wire()
}

/// The room of a scenario channel: 130 is in room 13, the others in room 10.
fn room_of(channel_id: i64) -> i64 {
    if channel_id == 130 { 13 } else { ROOM }
}

/// `text` sealed by `sender` under `key` with envelope counter `counter`,
/// as a new message of the channel's room.
fn envelope(
    sender: &Identity,
    key: &ChannelKey,
    channel_id: i64,
    version: u32,
    counter: u32,
    text: &str,
) -> String {
    let binding = MessageBinding {
        room_id: room_of(channel_id),
        kind: MessageKind::Message,
        target_id: 0,
        reply_to: 0,
    };
    envelope_as(sender, key, channel_id, version, counter, &binding, text)
}

/// `text` sealed by `sender` under `key` with what `binding` says.
fn envelope_as(
    sender: &Identity,
    key: &ChannelKey,
    channel_id: i64,
    version: u32,
    counter: u32,
    binding: &MessageBinding,
    text: &str,
) -> String {
    let label = format!(
        "envelope {} {channel_id} {version} {counter} {binding:?} {text}",
        fp(sender)
    );
    Envelope::encrypt_with_rng(
        sender,
        key,
        channel_id,
        version,
        counter,
        binding,
        text.as_bytes(),
        &mut rng(&label),
    )
    .unwrap()
    .to_wire()
}

/// A format-1 envelope (as clients made them before format 2).
fn envelope_v1(
    sender: &Identity,
    key: &ChannelKey,
    channel_id: i64,
    version: u32,
    counter: u32,
    text: &str,
) -> String {
    let label = format!(
        "envelope v1 {} {channel_id} {version} {counter} {text}",
        fp(sender)
    );
    Envelope::encrypt_format1_with_rng(
        sender,
        key,
        channel_id,
        version,
        counter,
        text.as_bytes(),
        &mut rng(&label),
    )
    .unwrap()
    .to_wire()
}

/// `wire` with its last ciphertext byte flipped (still parses as an envelope).
fn tampered(wire: &str) -> String {
    let mut bytes = from_wire(wire).unwrap();
    let at = bytes.len() - 65;
    bytes[at] ^= 0x01;
    to_wire(&bytes)
}

/// A membership log: `owner` creates room `room_id`, then each
/// `(actor, action)` is signed by `actor` (one second apart).
fn log(
    owner: &Identity,
    room_id: i64,
    public: bool,
    t: u64,
    actions: &[(&Identity, Action)],
) -> Vec<String> {
    let mut log = MembershipLog::create(owner, room_id, public, t);
    for (i, (actor, action)) in actions.iter().enumerate() {
        log.append(actor, *action, t + 1 + i as u64).unwrap();
    }
    log.entries().iter().map(MembershipEntry::to_wire).collect()
}

/// The entries `start_log` signs for `owner` at [`T0`]: `create`, then one
/// `add` per member, all at the same time.
fn started_log(owner: &Identity, room_id: i64, public: bool, adds: &[(i64, Role)]) -> Vec<String> {
    let mut l = MembershipLog::create(owner, room_id, public, T0);
    for (subject, role) in adds {
        l.append(owner, add(*subject, *role), T0).unwrap();
    }
    l.entries().iter().map(MembershipEntry::to_wire).collect()
}

fn add(subject: i64, role: Role) -> Action {
    Action::Add { subject, role }
}

/// Room 10's log with channel 100 registered by alice (its owner) after
/// the adds: the log of a room whose encrypted channel was made with protocol
/// v2's `channel` entry.
fn registered_room_log() -> Vec<String> {
    let a = alice();
    log(
        &a,
        ROOM,
        false,
        T0,
        &[
            (&a, add(BOB, Role::Member)),
            (&a, add(CAROL, Role::Member)),
            (&a, Action::RegisterChannel { channel: CHANNEL }),
        ],
    )
}

/// Room 10's log: alice creates it and adds bob and carol as members.
fn room_log() -> Vec<String> {
    let a = alice();
    log(
        &a,
        ROOM,
        false,
        T0,
        &[(&a, add(BOB, Role::Member)), (&a, add(CAROL, Role::Member))],
    )
}

// ---- states -----------------------------------------------------------------

/// The state of `me` (an identity export) on [`SERVER`], with `pinned`
/// users pinned (trust on first use already happened).
fn state_of(me: &Identity, pinned: &[&Identity]) -> State {
    let mut state = State::new(SERVER, me.user_id());
    state.identity = Some(me.export().to_string());
    for other in pinned {
        let wire = bundle(other);
        state.pins.insert(
            other.user_id(),
            Pin {
                current: wire.clone(),
                accepted: vec![wire],
                offered: None,
            },
        );
    }
    state
}

/// Stores `key` as version `version` of `channel_id`.
fn hold(
    state: &mut State,
    channel_id: i64,
    version: u32,
    key: &ChannelKey,
    obtained_at: u64,
    next_counter: u32,
) {
    state.channel_keys.entry(channel_id).or_default().insert(
        version,
        StoredKey {
            key: key.export().to_string(),
            obtained_at,
            next_counter,
            made_at: Some(ROOM_HEAD),
            members: vec![ALICE, BOB, CAROL],
        },
    );
    state
        .channel_rooms
        .entry(channel_id)
        .or_insert(room_of(channel_id));
}

/// The state document, without its empty fields (every field but `format`
/// and `user_id` has a default), so a field the core adds later does not
/// change the scenario files.
fn doc(state: &State) -> Value {
    let mut value = serde_json::to_value(state).unwrap();
    if let Some(fields) = value.as_object_mut() {
        fields.retain(|name, v| {
            name == "format"
                || name == "user_id"
                || !(v.is_null()
                    || v.as_object().is_some_and(serde_json::Map::is_empty)
                    || v.as_array().is_some_and(Vec::is_empty)
                    || v.as_str().is_some_and(str::is_empty)
                    || v.as_u64() == Some(0))
        });
    }
    value
}

// ---- steps ------------------------------------------------------------------

fn ok(answer: Value) -> Value {
    json!({ "ok": answer })
}

fn refused(code: &str) -> Value {
    json!({ "refused": code })
}

fn step(op: &str, args: Value, expect: Value, note: &str) -> Value {
    json!({ "op": op, "args": args, "expect": expect, "note": note })
}

/// A step on another machine of the scenario.
fn step_on(on: &str, op: &str, args: Value, expect: Value, note: &str) -> Value {
    let mut s = step(op, args, expect, note);
    s["on"] = json!(on);
    s
}

/// A `channel_key_share` event as the server pushes it.
fn share_event(
    channel_id: i64,
    version: u32,
    sender_id: i64,
    rotation: bool,
    encrypted_key: &str,
) -> Value {
    json!({
        "channel_id": channel_id,
        "key_version": version,
        "sender_id": sender_id,
        "is_key_rotation": rotation,
        "encrypted_key": encrypted_key,
    })
}

fn accept_share(share: Value, entries: &[String], now: u64) -> Value {
    json!({ "share": share, "room_id": ROOM, "entries": entries, "now": now })
}

fn channel(id: i64, encrypted: bool, key_version: u32, pending: Option<u32>) -> Value {
    json!({
        "id": id,
        "room_id": ROOM,
        "is_encrypted": encrypted,
        "key_version": key_version,
        "pending_version": pending,
    })
}

fn plan(channel: Value, now: u64) -> Value {
    json!({ "channel": channel, "now": now })
}

fn message(id: i64, channel_id: i64, sender_id: i64, envelope: &str, key_version: u32) -> Value {
    json!({
        "message": {
            "id": id,
            "channel_id": channel_id,
            "sender_id": sender_id,
            "envelope": envelope,
            "key_version": key_version,
        },
        "encrypted": true,
    })
}

fn plaintext(id: i64, channel_id: i64, sender_id: i64, content: &str, encrypted: bool) -> Value {
    json!({
        "message": { "id": id, "channel_id": channel_id, "sender_id": sender_id, "content": content },
        "encrypted": encrypted,
    })
}

fn verified(text: &str, sender_id: i64) -> Value {
    ok(json!({ "kind": "verified", "text": text, "sender_id": sender_id }))
}

/// An approved key request answered with one share to the requester's
/// identity (they have no device list): `share` is a subset of it.
fn approved(share: Value) -> Value {
    ok(json!({ "shares": [share], "skipped": [] }))
}

fn warned(code: &str) -> Value {
    ok(json!({ "kind": "warning", "code": code }))
}

fn members(list: &[(i64, &str)]) -> Value {
    list.iter()
        .map(|(id, role)| json!({ "user_id": id, "role": role }))
        .collect()
}

fn scenario(name: &str, rule: &str, state: &State, steps: Vec<Value>) -> (String, Value) {
    (
        format!("{name}.json"),
        json!({
            "name": name,
            "rule": rule,
            "user_id": state.user_id,
            "state": doc(state),
            "steps": steps,
        }),
    )
}

// ---- the scenarios ----------------------------------------------------------

/// Every scenario, as (file name, JSON).
pub fn all() -> Vec<(String, Value)> {
    vec![
        share_from_non_member(),
        share_fields_mismatch(),
        share_signer_checks(),
        request_share_unrequested(),
        reshare_different_key(),
        plan_send_rotation(),
        downgrade(),
        log_rollback_and_reset(),
        log_unknown_signer(),
        start_log_authority(),
        make_version_recipients(),
        make_version_not_member(),
        read_message_checks(),
        read_locked(),
        two_devices(),
        key_change(),
        approve_request_checks(),
        dm_log_two_people(),
        private_room_stays_private(),
        approve_releases_the_current_version(),
        share_justified_by_log(),
        rotation_after_removal(),
        reader_checks_membership(),
        approve_covers_requester(),
        channel_stays_in_room(),
        format1_history(),
        envelope_metadata(),
        thread_placement(),
        key_commitment(),
        forged_key_history(),
        channel_registered_in_log(),
        disappearing_timer_from_log(),
        device_list_signed_by_identity(),
        prekey_replay(),
        prekey_forward_secrecy(),
        device_revocation(),
        device_linking(),
        request_from_revoked_device(),
        revoked_device_stays_out(),
        channel_mention_by_log(),
    ]
}

/// The file's text: pretty JSON and a final newline.
pub fn render(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap();
    s.push('\n');
    s
}

fn share_from_non_member() -> (String, Value) {
    let (a, b, d) = (alice(), bob(), dave());
    let state = state_of(&a, &[&b, &d]);
    let entries = room_log();
    let k = channel_key("ch100 v1");
    let from_dave = share(&d, &a, CHANNEL, 1, SharePurpose::Initial, &k);
    let from_bob = share(&b, &a, CHANNEL, 1, SharePurpose::Initial, &k);
    scenario(
        "share_from_non_member",
        "A key share is accepted only from a member of the room's verified membership log (§6, §10).",
        &state,
        vec![
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, DAVE, false, &from_dave),
                    &entries,
                    T0,
                ),
                refused("not_a_member"),
                "the server relays a valid, signed share from dave, who is not in the room's log",
            ),
            step(
                "has_key",
                json!({ "channel_id": CHANNEL, "version": 1 }),
                ok(json!({ "held": false })),
                "nothing was stored",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, BOB, false, &from_bob), &entries, T0),
                ok(json!({ "kind": "accepted", "channel_id": CHANNEL, "version": 1 })),
                "control: the same key from bob, a member",
            ),
        ],
    )
}

fn share_fields_mismatch() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let state = state_of(&a, &[&b, &c]);
    let entries = room_log();
    let k = channel_key("ch100 v1");
    let other_channel = share(&b, &a, 101, 1, SharePurpose::Initial, &k);
    let other_version = share(&b, &a, CHANNEL, 2, SharePurpose::Rotation, &k);
    let to_carol = share(&b, &c, CHANNEL, 1, SharePurpose::Initial, &k);
    let rotation = share(&b, &a, CHANNEL, 1, SharePurpose::Rotation, &k);
    let good = share(&b, &a, CHANNEL, 1, SharePurpose::Initial, &k);
    scenario(
        "share_fields_mismatch",
        "A share's sealed channel, version, sender, recipient and purpose must equal what the server says about it (§3, §10).",
        &state,
        vec![
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &other_channel),
                    &entries,
                    T0,
                ),
                refused("share_mismatch"),
                "a share sealed for channel 101 is delivered as channel 100's",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, true, &other_version),
                    &entries,
                    T0,
                ),
                refused("share_mismatch"),
                "a share sealed for version 2 is delivered as version 1",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, BOB, false, &to_carol), &entries, T0),
                refused("share_mismatch"),
                "carol's share is delivered to alice",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, BOB, false, &rotation), &entries, T0),
                refused("share_mismatch"),
                "a rotation share is announced as an initial one (is_key_rotation false)",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, BOB, true, &good), &entries, T0),
                refused("share_mismatch"),
                "an initial share is announced as a rotation",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, CAROL, false, &good), &entries, T0),
                refused("share_mismatch"),
                "bob's share is attributed to carol",
            ),
            step(
                "has_key",
                json!({ "channel_id": CHANNEL, "version": 1 }),
                ok(json!({ "held": false })),
                "nothing was stored",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, BOB, false, &good), &entries, T0),
                ok(json!({ "kind": "accepted", "channel_id": CHANNEL, "version": 1 })),
                "control: the share as it was sealed",
            ),
        ],
    )
}

fn share_signer_checks() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let forged_bob = identity("bob forged", BOB);
    let forged_alice = identity("alice forged", ALICE);
    // Carol is a member of the log but not pinned.
    let state = state_of(&a, &[&b]);
    let entries = room_log();
    let k = channel_key("ch100 v1");
    let by_forged_bob = share(&forged_bob, &a, CHANNEL, 1, SharePurpose::Initial, &k);
    let to_forged_alice = share(&b, &forged_alice, CHANNEL, 1, SharePurpose::Initial, &k);
    let from_carol = share(&c, &a, CHANNEL, 1, SharePurpose::Initial, &k);
    scenario(
        "share_signer_checks",
        "A share opens only if signed under the sender's pinned key and sealed to my own current key (§3).",
        &state,
        vec![
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &by_forged_bob),
                    &entries,
                    T0,
                ),
                refused("bad_signature"),
                "a share signed by a key the server made up for bob",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &to_forged_alice),
                    &entries,
                    T0,
                ),
                refused("context_mismatch"),
                "bob sealed to a key the server swapped in for alice",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, CAROL, false, &from_carol),
                    &entries,
                    T0,
                ),
                refused("no_bundle"),
                "a member whose key this client has not pinned yet",
            ),
            step(
                "has_key",
                json!({ "channel_id": CHANNEL, "version": 1 }),
                ok(json!({ "held": false })),
                "nothing was stored",
            ),
        ],
    )
}

fn request_share_unrequested() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let state = state_of(&a, &[&b]);
    let entries = room_log();
    let k = channel_key("ch100 v1");
    let answer = share(
        &b,
        &a,
        CHANNEL,
        1,
        SharePurpose::Request { request_id: 77 },
        &k,
    );
    let event = share_event(CHANNEL, 1, BOB, false, &answer);
    scenario(
        "request_share_unrequested",
        "A `request` share is opened only for a request id this device recorded for that channel (§3, property 7).",
        &state,
        vec![
            step(
                "accept_share",
                accept_share(event.clone(), &entries, T0),
                refused("unrequested_share"),
                "a share answering request 77, which this device never made",
            ),
            step(
                "record_request",
                json!({ "channel_id": 101, "request_id": 77 }),
                ok(json!({})),
                "request 77 was made, but for channel 101",
            ),
            step(
                "accept_share",
                accept_share(event.clone(), &entries, T0),
                refused("unrequested_share"),
                "request 77 of another channel does not count",
            ),
            step(
                "record_request",
                json!({ "channel_id": CHANNEL, "request_id": 76 }),
                ok(json!({})),
                "another request on this channel",
            ),
            step(
                "accept_share",
                accept_share(event.clone(), &entries, T0),
                refused("unrequested_share"),
                "request 76 is not 77",
            ),
            step(
                "record_request",
                json!({ "channel_id": CHANNEL, "request_id": 77 }),
                ok(json!({})),
                "this device asks for the key (request 77)",
            ),
            step(
                "accept_share",
                accept_share(event, &entries, T0),
                ok(json!({ "kind": "accepted", "channel_id": CHANNEL, "version": 1 })),
                "now the answer is accepted",
            ),
            step(
                "has_key",
                json!({ "channel_id": CHANNEL, "version": 1 }),
                ok(json!({ "held": true })),
                "and stored",
            ),
        ],
    )
}

fn reshare_different_key() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let entries = room_log();
    let k1 = channel_key("ch100 v1");
    let other = channel_key("ch100 v1 substitute");
    hold(&mut state, CHANNEL, 1, &k1, T0, 0);
    let substitute = share(&b, &a, CHANNEL, 1, SharePurpose::Initial, &other);
    let again = share(&b, &a, CHANNEL, 1, SharePurpose::Initial, &k1);
    let ch = channel(CHANNEL, true, 1, None);
    scenario(
        "reshare_different_key",
        "A share never replaces a key version already held, and delivering it again never resets its age (§5).",
        &state,
        vec![
            step(
                "plan_send",
                plan(ch.clone(), T0 + 1),
                ok(json!({ "kind": "seal", "version": 1 })),
                "control: version 1 is held and fresh",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &substitute),
                    &entries,
                    T0 + 100,
                ),
                refused("different_key"),
                "a valid share of another key for version 1, which this device already holds",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &again),
                    &entries,
                    T0 + 6 * DAY,
                ),
                ok(json!({ "kind": "already_held", "channel_id": CHANNEL, "version": 1 })),
                "the same key delivered again six days later",
            ),
            step(
                "plan_send",
                plan(ch, T0 + 7 * DAY),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "key_age" })),
                "seven days after the key was first obtained it is used up, re-delivery or not",
            ),
        ],
    )
}

fn plan_send_rotation() -> (String, Value) {
    let a = alice();
    let mut state = state_of(&a, &[]);
    let k = channel_key("plan");
    hold(&mut state, 201, 1, &k, T0, 100);
    hold(&mut state, 202, 1, &k, T0, 99);
    hold(&mut state, 203, 1, &k, T0, 0);
    hold(&mut state, 204, 1, &k, T0, 0);
    hold(&mut state, 205, 1, &k, T0, 0);
    let now = T0 + DAY;
    let seal = |channel_id: i64, text: &str, now: u64| json!({ "channel_id": channel_id, "version": 1, "text": text, "now": now });
    scenario(
        "plan_send_rotation",
        "A sender never uses a key version past 100 of its messages or 7 days after obtaining it, and makes the next version itself (§5).",
        &state,
        vec![
            step(
                "plan_send",
                plan(channel(200, true, 0, None), now),
                ok(json!({ "kind": "make_version", "version": 1, "reason": "first_key" })),
                "an encrypted channel without any key yet",
            ),
            step(
                "plan_send",
                plan(channel(201, true, 1, None), now),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "message_limit" })),
                "this device already sent 100 messages under version 1",
            ),
            step(
                "plan_send",
                plan(channel(202, true, 1, None), now),
                ok(json!({ "kind": "seal", "version": 1 })),
                "control: the 100th message may still go under version 1",
            ),
            step(
                "plan_send",
                plan(channel(203, true, 1, None), T0 + 7 * DAY),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "key_age" })),
                "version 1 was obtained 7 days ago; the server never asked for a rotation",
            ),
            step(
                "plan_send",
                plan(channel(203, true, 1, None), T0 + 7 * DAY - 1),
                ok(json!({ "kind": "seal", "version": 1 })),
                "control: one second earlier it is still usable",
            ),
            step(
                "plan_send",
                plan(channel(204, true, 1, Some(2)), now),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "rotation_pending" })),
                "a rotation to version 2 waits for its key",
            ),
            step(
                "plan_send",
                plan(channel(205, true, 2, None), now),
                ok(json!({ "kind": "fetch_key", "version": 2 })),
                "the channel moved to version 2; this device holds only version 1",
            ),
            step(
                "seal",
                seal(201, "the 101st", now),
                refused("rotation_required"),
                "sealing anyway a 101st message under version 1: nothing is sent",
            ),
            step(
                "seal",
                seal(203, "a week later", T0 + 7 * DAY),
                refused("rotation_required"),
                "sealing anyway under a key obtained 7 days ago",
            ),
            step(
                "seal",
                seal(202, "the 100th", now),
                ok(json!({})),
                "control: the 100th message is sealed",
            ),
            step(
                "seal",
                seal(202, "the 101st", now),
                refused("rotation_required"),
                "and the next one is not",
            ),
            step(
                "plan_send",
                plan(channel(202, true, 1, None), now),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "message_limit" })),
                "the plan now asks for version 2",
            ),
        ],
    )
}

fn downgrade() -> (String, Value) {
    let a = alice();
    let state = state_of(&a, &[]);
    scenario(
        "downgrade",
        "A channel once seen encrypted stays encrypted: no plaintext is sent there, and plaintext found there is shown as injected (§10).",
        &state,
        vec![
            step(
                "plan_send",
                plan(channel(300, false, 0, None), T0),
                ok(json!({ "kind": "plain" })),
                "control: a channel never seen encrypted is plaintext",
            ),
            step(
                "read",
                plaintext(1, 300, BOB, "hello", false),
                ok(json!({ "kind": "plain", "text": "hello" })),
                "control: its messages are plain",
            ),
            step(
                "note_encrypted",
                json!({ "channel_id": 300 }),
                ok(json!({})),
                "the client saw the channel encrypted",
            ),
            step(
                "plan_send",
                plan(channel(300, false, 0, None), T0),
                refused("downgrade"),
                "the server now says channel 300 is not encrypted",
            ),
            step(
                "read",
                plaintext(2, 300, BOB, "send me your password", false),
                ok(json!({ "kind": "injected", "content": "send me your password" })),
                "a plaintext message in channel 300, which the server says is unencrypted",
            ),
            step(
                "plan_send",
                plan(channel(301, true, 0, None), T0),
                ok(json!({ "kind": "make_version", "version": 1, "reason": "first_key" })),
                "a send planned in channel 301 while it is encrypted",
            ),
            step(
                "plan_send",
                plan(channel(301, false, 0, None), T0),
                refused("downgrade"),
                "the server then says channel 301 is not encrypted",
            ),
            step(
                "read",
                plaintext(3, 301, BOB, "plain", false),
                ok(json!({ "kind": "injected", "content": "plain" })),
                "plaintext in channel 301",
            ),
            step(
                "read",
                plaintext(4, 302, BOB, "no envelope", true),
                ok(json!({ "kind": "injected", "content": "no envelope" })),
                "a message without an envelope in encrypted channel 302",
            ),
            step(
                "plan_send",
                plan(channel(302, false, 0, None), T0),
                refused("downgrade"),
                "reading channel 302 as encrypted was enough to remember it",
            ),
        ],
    )
}

fn log_rollback_and_reset() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let state = state_of(&a, &[&b, &c, &d]);
    let adds = [
        (&a, add(BOB, Role::Member)),
        (&a, add(CAROL, Role::Admin)),
        (&a, add(DAVE, Role::Member)),
    ];
    let four = log(&a, ROOM, false, T0, &adds);
    let mut five_actions = adds.to_vec();
    five_actions.push((&a, Action::Remove { subject: DAVE }));
    let five = log(&a, ROOM, false, T0, &five_actions);
    let three = four[..3].to_vec();
    let rewritten = log(
        &a,
        ROOM,
        false,
        T0,
        &[
            (&a, add(BOB, Role::Member)),
            (&a, add(CAROL, Role::Admin)),
            (&a, add(ERIN, Role::Member)),
        ],
    );
    let recreated = log(&a, ROOM, false, T0 + 500, &[(&a, add(BOB, Role::Member))]);
    let room = json!({ "id": ROOM, "is_dm": false, "is_private": true, "my_role": "owner" });
    let listed = members(&[(ALICE, "owner"), (BOB, "member")]);
    scenario(
        "log_rollback_and_reset",
        "The membership log only grows from the last verified head: a shortened, rewritten or emptied log is refused, and a log once seen is never started again (§6).",
        &state,
        vec![
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": four }),
                ok(json!({
                    "room_id": ROOM,
                    "public": false,
                    "length": 4,
                    "members": members(&[(ALICE, "owner"), (BOB, "member"), (CAROL, "admin"), (DAVE, "member")]),
                })),
                "the room's log, verified and pinned",
            ),
            step(
                "verify_log",
                json!({ "room_id": 11, "entries": four }),
                refused("log_invalid"),
                "room 10's log served as room 11's",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": three }),
                refused("log_invalid"),
                "the log without its last entry (rolled back)",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": rewritten }),
                refused("log_invalid"),
                "the same length, but the last entry adds erin instead of dave (a fork)",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": recreated }),
                refused("log_invalid"),
                "a whole new history created by the owner",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": [] }),
                refused("log_reset"),
                "no log at all for a room whose log this device has seen",
            ),
            step(
                "start_log",
                json!({ "room": room, "members": listed, "now": T0 + 600 }),
                refused("log_reset"),
                "the owner's client is asked to start the log again, with another member list",
            ),
            step(
                "should_start_log",
                room,
                ok(json!({ "start": false })),
                "and does not offer to",
            ),
            step(
                "verify_log",
                json!({ "room_id": 11, "entries": [] }),
                refused("no_membership_log"),
                "control: a room never seen without a log is only not started",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": five }),
                ok(json!({
                    "length": 5,
                    "members": members(&[(ALICE, "owner"), (BOB, "member"), (CAROL, "admin")]),
                })),
                "control: the log extended by dave's removal",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": four }),
                refused("log_invalid"),
                "the server hides dave's removal again",
            ),
            step(
                "make_version",
                json!({
                    "channel": channel(CHANNEL, true, 1, None),
                    "version": 2,
                    "entries": four,
                    "bundles": { "2": bundle(&b), "3": bundle(&c), "4": bundle(&d) },
                }),
                refused("log_invalid"),
                "asked to rotate on the log without the removal: nothing is sealed",
            ),
        ],
    )
}

fn log_unknown_signer() -> (String, Value) {
    let (a, b, e) = (alice(), bob(), erin());
    let forged_bob = identity("bob forged", BOB);
    let state = state_of(&a, &[&b]);
    let erins = log(&e, 12, false, T0, &[(&e, add(ALICE, Role::Member))]);
    let base = [(&a, add(BOB, Role::Admin))];
    let mut forged_actions = base.to_vec();
    forged_actions.push((&forged_bob, add(CAROL, Role::Member)));
    let forged = log(&a, 13, false, T0, &forged_actions);
    let mut genuine_actions = base.to_vec();
    genuine_actions.push((&b, add(CAROL, Role::Member)));
    let genuine = log(&a, 13, false, T0, &genuine_actions);
    scenario(
        "log_unknown_signer",
        "Membership entries verify only under keys this client pinned (§6 trusted keys).",
        &state,
        vec![
            step(
                "unknown_signers",
                json!({ "room_id": 12, "entries": erins }),
                ok(json!([ERIN])),
                "room 12's log is signed by erin, whom this client never pinned: fetch her key first",
            ),
            step(
                "verify_log",
                json!({ "room_id": 12, "entries": erins }),
                refused("log_invalid"),
                "verified without her key",
            ),
            step(
                "unknown_signers",
                json!({ "room_id": 13, "entries": forged }),
                ok(json!([])),
                "bob is pinned",
            ),
            step(
                "verify_log",
                json!({ "room_id": 13, "entries": forged }),
                refused("log_invalid"),
                "an entry in bob's name signed by a key the server made up",
            ),
            step(
                "verify_log",
                json!({ "room_id": 13, "entries": genuine }),
                ok(json!({
                    "length": 3,
                    "members": members(&[(ALICE, "owner"), (BOB, "admin"), (CAROL, "member")]),
                })),
                "control: the entry bob really signed",
            ),
            step(
                "observe_bundle",
                json!({ "user_id": ERIN, "public_key": bundle(&e) }),
                ok(json!({ "kind": "pinned", "fingerprint": fp(&e) })),
                "erin's key, on first contact (trust on first use)",
            ),
            step(
                "verify_log",
                json!({ "room_id": 12, "entries": erins }),
                ok(
                    json!({ "length": 2, "members": members(&[(ALICE, "member"), (ERIN, "owner")]) }),
                ),
                "control: now room 12's log verifies",
            ),
        ],
    )
}

fn start_log_authority() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let state = state_of(&b, &[&a, &c, &d]);
    // `start_log` signs every entry at `now` (T0 here).
    let dm_expected = {
        let mut l = MembershipLog::create(&b, 21, false, T0);
        l.append(&b, add(ALICE, Role::Member), T0).unwrap();
        l.entries()
            .iter()
            .map(MembershipEntry::to_wire)
            .collect::<Vec<_>>()
    };
    let group_expected = {
        let mut l = MembershipLog::create(&b, 22, true, T0);
        l.append(&b, add(CAROL, Role::Admin), T0).unwrap();
        l.append(&b, add(DAVE, Role::Member), T0).unwrap();
        l.entries()
            .iter()
            .map(MembershipEntry::to_wire)
            .collect::<Vec<_>>()
    };
    let start = |room: Value, list: Value| json!({ "room": room, "members": list, "now": T0 });
    scenario(
        "start_log_authority",
        "Only a room's owner, or either person of a DM, starts its log, from a member list that can form it (§6 the server's role).",
        &state,
        vec![
            step(
                "start_log",
                start(
                    json!({ "id": 20, "is_private": true, "my_role": "member" }),
                    members(&[(ALICE, "owner"), (BOB, "member")]),
                ),
                refused("may_not_start_log"),
                "the server asks a plain member to start room 20's log",
            ),
            step(
                "start_log",
                start(
                    json!({ "id": 20, "is_private": true, "my_role": "admin" }),
                    members(&[(ALICE, "owner"), (BOB, "admin")]),
                ),
                refused("may_not_start_log"),
                "or an admin",
            ),
            step(
                "start_log",
                start(
                    json!({ "id": 21, "is_dm": true }),
                    members(&[(ALICE, "member"), (BOB, "member"), (CAROL, "member")]),
                ),
                refused("bad_member_list"),
                "a DM listed with three people",
            ),
            step(
                "start_log",
                start(
                    json!({ "id": 21, "is_dm": true }),
                    members(&[(BOB, "member")]),
                ),
                refused("bad_member_list"),
                "a DM listed with only me",
            ),
            step(
                "start_log",
                start(
                    json!({ "id": 21, "is_dm": true }),
                    members(&[(ALICE, "member"), (CAROL, "member")]),
                ),
                refused("bad_member_list"),
                "a DM between two other people",
            ),
            step(
                "start_log",
                start(
                    json!({ "id": 22, "my_role": "owner" }),
                    members(&[(BOB, "owner"), (ALICE, "owner")]),
                ),
                refused("bad_member_list"),
                "a group listed with a second owner",
            ),
            step(
                "start_log",
                start(
                    json!({ "id": 21, "is_dm": true }),
                    members(&[(ALICE, "member"), (BOB, "member")]),
                ),
                ok(json!(dm_expected)),
                "control: the DM's two people: create, then add alice, signed by bob",
            ),
            step(
                "start_log",
                start(
                    json!({ "id": 22, "my_role": "owner" }),
                    members(&[(BOB, "owner"), (CAROL, "admin"), (DAVE, "member")]),
                ),
                ok(json!(group_expected)),
                "control: bob owns public room 22: create, add carol as admin, add dave",
            ),
        ],
    )
}

fn make_version_recipients() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let forged_carol = identity("carol forged", CAROL);
    let state = state_of(&a, &[&b, &c, &d]);
    // Alice registered channel 100 in the log (keys are made only then).
    let entries = registered_room_log();
    scenario(
        "make_version_recipients",
        "A new key version is sealed only to members of the verified log whose served key equals their pin; the server's member list is only a hint (§6, §10).",
        &state,
        vec![
            step(
                "make_version",
                json!({
                    "channel": channel(CHANNEL, true, 0, None),
                    "version": 1,
                    "entries": entries,
                    "bundles": { "2": bundle(&b), "3": bundle(&forged_carol), "4": bundle(&d) },
                    "hint": [BOB, CAROL, DAVE],
                }),
                ok(json!({
                    "own": { "user_id": ALICE, "channel_id": CHANNEL, "key_version": 1, "is_key_rotation": false },
                    "shares": [ { "user_id": BOB, "channel_id": CHANNEL, "key_version": 1, "is_key_rotation": false } ],
                    "skipped": [ { "user_id": DAVE }, { "user_id": CAROL } ],
                })),
                "the server lists dave (not in the log) and serves another key for carol",
            ),
            step(
                "key_changes",
                json!({}),
                ok(json!([CAROL])),
                "carol's served key is recorded as a change",
            ),
            step(
                "make_version",
                json!({
                    "channel": channel(CHANNEL, true, 1, None),
                    "version": 2,
                    "entries": entries,
                    "bundles": { "2": bundle(&b), "3": bundle(&c), "4": bundle(&d) },
                    "hint": [BOB],
                }),
                ok(json!({
                    "own": { "user_id": ALICE, "key_version": 2, "is_key_rotation": true },
                    "shares": [ { "user_id": BOB, "key_version": 2, "is_key_rotation": true } ],
                    "skipped": [],
                })),
                "the hint names only bob: carol is left out",
            ),
            step(
                "make_version",
                json!({
                    "channel": channel(CHANNEL, true, 2, None),
                    "version": 3,
                    "entries": entries,
                    "bundles": { "2": bundle(&b), "4": bundle(&d) },
                }),
                ok(json!({
                    "own": { "user_id": ALICE, "key_version": 3 },
                    "shares": [ { "user_id": BOB, "key_version": 3 } ],
                    "skipped": [ { "user_id": CAROL } ],
                })),
                "no hint: the log's members; carol serves no key, dave is not a member",
            ),
        ],
    )
}

fn make_version_not_member() -> (String, Value) {
    let (a, b, d) = (alice(), bob(), dave());
    let state = state_of(&d, &[&a, &b]);
    scenario(
        "make_version_not_member",
        "A client makes a key version only for a room whose verified log lists it as a member (§6).",
        &state,
        vec![step(
            "make_version",
            json!({
                "channel": channel(CHANNEL, true, 0, None),
                "version": 1,
                "entries": room_log(),
                "bundles": { "1": bundle(&a), "2": bundle(&b) },
            }),
            refused("not_a_member"),
            "dave is asked to make channel 100's first key; the log does not list him",
        )],
    )
}

fn read_message_checks() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let forged_bob = identity("bob forged", BOB);
    let mut state = state_of(&a, &[&b, &c]);
    let k1 = channel_key("ch100 v1");
    let k2 = channel_key("ch100 v2");
    hold(&mut state, CHANNEL, 1, &k1, T0, 0);
    // Dave was a member when version 1 was made (he left since): his
    // message waits for his bundle.
    if let Some(v1) = state
        .channel_keys
        .get_mut(&CHANNEL)
        .and_then(|k| k.get_mut(&1))
    {
        v1.members.push(DAVE);
    }
    let counter = |seq| device_counter(BOB_DEVICE, seq);
    let hello = envelope(&b, &k1, CHANNEL, 1, counter(0), "hello alice");
    let last = envelope(&b, &k1, CHANNEL, 1, counter(99), "the 100th");
    let over = envelope(&b, &k1, CHANNEL, 1, counter(100), "the 101st");
    let v2 = envelope(&b, &k2, CHANNEL, 2, counter(0), "under version 2");
    let from_dave = envelope(&d, &k1, CHANNEL, 1, device_counter(0x0d0d, 0), "from dave");
    let forged = envelope(&forged_bob, &k1, CHANNEL, 1, counter(1), "forged");
    let edit1 = envelope(&b, &k1, CHANNEL, 1, counter(3), "edited");
    let edit0 = envelope(&b, &k1, CHANNEL, 1, counter(2), "original");
    scenario(
        "read_message_checks",
        "A message is shown as encrypted only when it decrypts, verifies under the sender's pinned key and matches what the server says about it, once; anything else is a warning or says what is missing (§4, §10).",
        &state,
        vec![
            step(
                "read",
                message(500, CHANNEL, BOB, &hello, 1),
                verified("hello alice", BOB),
                "a valid message from bob",
            ),
            step(
                "read",
                message(500, CHANNEL, BOB, &hello, 1),
                verified("hello alice", BOB),
                "control: the same message read again (history)",
            ),
            step(
                "read",
                message(501, CHANNEL, BOB, &hello, 1),
                warned("replay"),
                "the same envelope served again under another message id",
            ),
            step(
                "read",
                message(502, CHANNEL, BOB, &tampered(&hello), 1),
                warned("bad_signature"),
                "one ciphertext byte altered",
            ),
            step(
                "read",
                message(503, CHANNEL, BOB, &forged, 1),
                warned("bad_signature"),
                "an envelope in bob's name signed by a key the server made up",
            ),
            step(
                "read",
                message(504, CHANNEL, CAROL, &hello, 1),
                warned("context_mismatch"),
                "bob's envelope attributed to carol",
            ),
            step(
                "read",
                message(505, 101, BOB, &hello, 1),
                warned("context_mismatch"),
                "channel 100's envelope filed in channel 101",
            ),
            step(
                "read",
                message(506, CHANNEL, BOB, &v2, 1),
                warned("context_mismatch"),
                "a version 2 envelope filed under version 1",
            ),
            step(
                "read",
                message(507, CHANNEL, BOB, &over, 1),
                warned("policy_violation"),
                "bob's 101st message under one version (sequence 100)",
            ),
            step(
                "read",
                message(508, CHANNEL, BOB, &last, 1),
                verified("the 100th", BOB),
                "control: sequence 99 is within the cap",
            ),
            step(
                "read",
                message(509, CHANNEL, BOB, &v2, 2),
                ok(json!({ "kind": "need_key", "channel_id": CHANNEL, "version": 2 })),
                "a version this device does not hold",
            ),
            step(
                "read",
                message(510, CHANNEL, DAVE, &from_dave, 1),
                ok(json!({ "kind": "need_bundle", "user_id": DAVE })),
                "a sender whose key is not pinned yet",
            ),
            step(
                "read",
                plaintext(511, CHANNEL, BOB, "plain text", true),
                ok(json!({ "kind": "injected", "content": "plain text" })),
                "no envelope in an encrypted channel",
            ),
            step(
                "read",
                json!({
                    "message": { "id": 512, "channel_id": CHANNEL, "sender_id": BOB, "envelope": "not-an-envelope", "key_version": 1 },
                    "encrypted": true,
                }),
                ok(json!({ "kind": "injected" })),
                "an envelope that does not parse",
            ),
            step(
                "read",
                json!({
                    "message": { "id": 513, "channel_id": CHANNEL, "sender_id": BOB, "envelope": hello },
                    "encrypted": true,
                }),
                warned("no_version"),
                "filed under no key version",
            ),
            step(
                "read",
                message(520, CHANNEL, BOB, &edit1, 1),
                verified("edited", BOB),
                "an edited message (a later counter)",
            ),
            step(
                "read",
                message(520, CHANNEL, BOB, &edit0, 1),
                warned("rollback"),
                "the same message id served with its earlier envelope",
            ),
        ],
    )
}

fn read_locked() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    state.identity = None;
    let k1 = channel_key("ch100 v1");
    hold(&mut state, CHANNEL, 1, &k1, T0, 0);
    let hello = envelope(
        &b,
        &k1,
        CHANNEL,
        1,
        device_counter(BOB_DEVICE, 0),
        "hello alice",
    );
    scenario(
        "read_locked",
        "A device without an identity shows encrypted messages as locked and sends nothing encrypted (§10).",
        &state,
        vec![
            step(
                "read",
                message(500, CHANNEL, BOB, &hello, 1),
                ok(json!({ "kind": "locked" })),
                "a valid message, on a device whose keys are not restored",
            ),
            step(
                "plan_send",
                plan(channel(CHANNEL, true, 1, None), T0 + 1),
                refused("no_identity"),
                "sending in the encrypted channel",
            ),
            step(
                "my_bundle",
                json!({}),
                refused("no_identity"),
                "no bundle to publish",
            ),
        ],
    )
}

fn two_devices() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let k1 = channel_key("ch100 v1");
    let device = |tag: u16| {
        let mut s = state_of(&a, &[&b]);
        s.device = tag;
        hold(&mut s, CHANNEL, 1, &k1, T0, 0);
        s
    };
    let laptop = device(0x0a01);
    let phone = device(0x0a02);
    let copy = device(0x0a01);
    let mut reader = state_of(&b, &[&a]);
    hold(&mut reader, CHANNEL, 1, &k1, T0, 0);
    let seal =
        |text: &str| json!({ "channel_id": CHANNEL, "version": 1, "text": text, "now": T0 + 10 });
    let read = |id: i64, saved: &str| {
        json!({
            "message": {
                "id": id,
                "channel_id": CHANNEL,
                "sender_id": ALICE,
                "envelope": format!("${{{saved}.envelope}}"),
                "key_version": 1,
            },
            "encrypted": true,
        })
    };
    let saved = |mut s: Value, name: &str| {
        s["save"] = json!(name);
        s
    };
    let (name, mut value) = scenario(
        "two_devices",
        "Envelope counters are per device: two devices of one person sending under the same version are both verified, never taken for a replay (§5 device counters).",
        &reader,
        vec![
            saved(
                step_on(
                    "laptop",
                    "seal",
                    seal("from the laptop"),
                    ok(json!({})),
                    "alice's laptop sends its first message under version 1",
                ),
                "laptop1",
            ),
            saved(
                step_on(
                    "phone",
                    "seal",
                    seal("from the phone"),
                    ok(json!({})),
                    "alice's phone sends its first message under version 1",
                ),
                "phone1",
            ),
            step(
                "read",
                read(900, "laptop1"),
                verified("from the laptop", ALICE),
                "bob reads the laptop's message",
            ),
            step(
                "read",
                read(901, "phone1"),
                verified("from the phone", ALICE),
                "and the phone's: same sequence, other device",
            ),
            saved(
                step_on(
                    "laptop",
                    "seal",
                    seal("laptop again"),
                    ok(json!({})),
                    "the laptop's second message",
                ),
                "laptop2",
            ),
            step(
                "read",
                read(902, "laptop2"),
                verified("laptop again", ALICE),
                "bob reads it",
            ),
            step(
                "read",
                read(903, "laptop1"),
                warned("replay"),
                "control: the laptop's first envelope under another id is a replay",
            ),
            saved(
                step_on(
                    "copy",
                    "seal",
                    seal("from a copied state"),
                    ok(json!({})),
                    "a copy of the laptop's state (same device tag) sends its first message",
                ),
                "copy1",
            ),
            step(
                "read",
                read(904, "copy1"),
                warned("replay"),
                "control: the same device tag and sequence is taken for a replay",
            ),
        ],
    );
    value["machines"] = json!({
        "laptop": { "user_id": ALICE, "state": doc(&laptop) },
        "phone": { "user_id": ALICE, "state": doc(&phone) },
        "copy": { "user_id": ALICE, "state": doc(&copy) },
    });
    (name, value)
}

fn key_change() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let new_bob = identity("bob new", BOB);
    let newer_bob = identity("bob newer", BOB);
    let mut state = state_of(&a, &[&b]);
    let k = channel_key("ch130 v1");
    hold(&mut state, 130, 1, &k, T0, 0);
    // Room 13: alice creates it, adds bob as admin; bob (old key) adds carol.
    let entries = log(
        &a,
        13,
        false,
        T0,
        &[(&a, add(BOB, Role::Admin)), (&b, add(CAROL, Role::Member))],
    );
    let by_new_key = envelope(
        &new_bob,
        &k,
        130,
        1,
        device_counter(BOB_DEVICE, 0),
        "new phone, who dis",
    );
    let sn = |theirs: &Identity| SafetyNumber::compute(&a.bundle(), &theirs.bundle()).display();
    let ch130 = json!({ "id": 130, "room_id": 13, "is_encrypted": true, "key_version": 1 });
    scenario(
        "key_change",
        "A changed key is only offered: it gets no key and verifies nothing until the person accepts exactly the key whose safety number they were shown (§7).",
        &state,
        vec![
            step(
                "observe_bundle",
                json!({ "user_id": BOB, "public_key": bundle(&b) }),
                ok(json!({ "kind": "unchanged", "fingerprint": fp(&b) })),
                "control: bob's pinned key",
            ),
            step(
                "safety_number",
                json!({ "user_id": BOB }),
                ok(json!({ "number": sn(&b), "mine": fp(&a), "theirs": fp(&b), "offered": false })),
                "control: the number with the pinned key",
            ),
            step(
                "observe_bundle",
                json!({ "user_id": BOB, "public_key": bundle(&new_bob) }),
                ok(json!({ "kind": "changed", "pinned": fp(&b), "offered": fp(&new_bob) })),
                "the server serves another key for bob",
            ),
            step(
                "key_changes",
                json!({}),
                ok(json!([BOB])),
                "shown as a key change",
            ),
            step(
                "safety_number",
                json!({ "user_id": BOB }),
                ok(json!({ "number": sn(&new_bob), "theirs": fp(&new_bob), "offered": true })),
                "the number to compare is the offered key's",
            ),
            step(
                "read",
                message(700, 130, BOB, &by_new_key, 1),
                warned("key_changed"),
                "a message signed with the offered key",
            ),
            step(
                "make_version",
                json!({
                    "channel": ch130,
                    "version": 2,
                    "entries": entries,
                    "bundles": { "2": bundle(&new_bob) },
                }),
                ok(
                    json!({ "shares": [], "skipped": [ { "user_id": BOB }, { "user_id": CAROL } ] }),
                ),
                "a rotation: bob's changed key gets no share (carol has none published)",
            ),
            step(
                "accept_offered",
                json!({ "user_id": BOB, "fingerprint": fp(&b) }),
                refused("offer_changed"),
                "accepting with a fingerprint that is not the offered key's",
            ),
            step(
                "observe_bundle",
                json!({ "user_id": BOB, "public_key": bundle(&newer_bob) }),
                ok(json!({ "kind": "changed", "pinned": fp(&b), "offered": fp(&newer_bob) })),
                "the server swaps the offered key while the person compares numbers",
            ),
            step(
                "accept_offered",
                json!({ "user_id": BOB, "fingerprint": fp(&new_bob) }),
                refused("offer_changed"),
                "the key the person was shown is no longer the one offered",
            ),
            step(
                "observe_bundle",
                json!({ "user_id": BOB, "public_key": bundle(&new_bob) }),
                ok(json!({ "kind": "changed", "offered": fp(&new_bob) })),
                "the key shown is offered again",
            ),
            step(
                "accept_offered",
                json!({ "user_id": BOB, "fingerprint": fp(&new_bob) }),
                ok(json!({ "previous": fp(&b), "fingerprint": fp(&new_bob) })),
                "the person accepts the key whose number they compared",
            ),
            step("key_changes", json!({}), ok(json!([])), "no change pending"),
            step(
                "safety_number",
                json!({ "user_id": BOB }),
                ok(json!({ "number": sn(&new_bob), "theirs": fp(&new_bob), "offered": false })),
                "the number is now the pinned key's",
            ),
            step(
                "read",
                message(700, 130, BOB, &by_new_key, 1),
                verified("new phone, who dis", BOB),
                "the message signed with the accepted key verifies",
            ),
            step(
                "verify_log",
                json!({ "room_id": 13, "entries": entries }),
                ok(json!({ "length": 3 })),
                "entries bob signed with his old key still verify",
            ),
            step(
                "accept_offered",
                json!({ "user_id": BOB, "fingerprint": fp(&new_bob) }),
                refused("offer_changed"),
                "nothing is offered any more",
            ),
        ],
    )
}

fn approve_request_checks() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let forged_carol = identity("carol forged", CAROL);
    let mut state = state_of(&a, &[&b, &c, &d]);
    let k1 = channel_key("ch100 v1");
    hold(&mut state, CHANNEL, 1, &k1, T0, 0);
    let entries = room_log();
    let approve = |request_id: i64, key: &Identity| json!({ "request_id": request_id, "room_id": ROOM, "entries": entries, "public_key": bundle(key) });
    let request = |request_id: i64, requester: i64, name: &str| {
        json!({
            "request_id": request_id,
            "channel_id": CHANNEL,
            "requester_id": requester,
            "requester_username": name,
            "key_version": 1,
        })
    };
    scenario(
        "approve_request_checks",
        "A key is given on request only to a member of the verified log whose served key equals their pin, bound to that request (§3 purposes, §10).",
        &state,
        vec![
            step(
                "approve_request",
                approve(5, &b),
                refused("unknown_request"),
                "approving a request that was never queued",
            ),
            step(
                "queue_request",
                request(5, DAVE, "dave"),
                ok(json!({})),
                "dave, not in the log, asks for channel 100's key",
            ),
            step(
                "approve_request",
                approve(5, &d),
                refused("not_a_member"),
                "the person clicks approve",
            ),
            step(
                "queue_request",
                request(6, CAROL, "carol"),
                ok(json!({})),
                "carol, a member, asks",
            ),
            step(
                "approve_request",
                approve(6, &forged_carol),
                refused("key_changed"),
                "the server serves another key for carol",
            ),
            step(
                "approve_request",
                approve(6, &c),
                approved(
                    json!({ "user_id": CAROL, "channel_id": CHANNEL, "key_version": 1, "is_key_rotation": false }),
                ),
                "control: carol's pinned key",
            ),
            step(
                "pending_requests",
                json!({}),
                ok(json!([ { "request_id": 5 }, { "request_id": 6 } ])),
                "approving does not dismiss",
            ),
            step(
                "dismiss_request",
                json!({ "request_id": 5 }),
                ok(json!({})),
                "dave's request is declined",
            ),
            step(
                "pending_requests",
                json!({}),
                ok(json!([ { "request_id": 6 } ])),
                "only carol's is left",
            ),
        ],
    )
}

fn dm_log_two_people() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let state = state_of(&b, &[&a, &c]);
    let dm = 31;
    let two = log(&b, dm, false, T0, &[(&b, add(ALICE, Role::Member))]);
    let three = log(
        &b,
        dm,
        false,
        T0,
        &[
            (&b, add(ALICE, Role::Member)),
            (&b, add(CAROL, Role::Member)),
        ],
    );
    let verify = |entries: &[String]| json!({ "room_id": dm, "entries": entries });
    let other = 32;
    let started = started_log(&b, other, false, &[(ALICE, Role::Member)]);
    let other_three = log(
        &b,
        other,
        false,
        T0,
        &[
            (&b, add(ALICE, Role::Member)),
            (&b, add(CAROL, Role::Member)),
        ],
    );
    scenario(
        "dm_log_two_people",
        "A DM's log is exactly its two people: a room once seen as a DM stays one, and a log that adds a third person to it does not verify (§6, §10).",
        &state,
        vec![
            step(
                "observe_rooms",
                json!({ "rooms": [{ "id": dm, "is_dm": true }] }),
                ok(json!({})),
                "room 31 is listed as bob's DM with alice",
            ),
            step(
                "verify_log",
                verify(&three),
                refused("log_invalid"),
                "a log of the DM that adds carol (signed by bob's pinned key, valid by the group rules)",
            ),
            step(
                "verify_log",
                verify(&two),
                ok(
                    json!({ "room_id": dm, "members": members(&[(ALICE, "member"), (BOB, "owner")]) }),
                ),
                "the DM's real log: bob and alice",
            ),
            step(
                "start_log",
                json!({ "room": { "id": other, "is_dm": true }, "members": members(&[(ALICE, "member"), (BOB, "member")]), "now": T0 }),
                ok(json!(started)),
                "starting another DM's log records it as a DM too",
            ),
            step(
                "verify_log",
                json!({ "room_id": other, "entries": other_three }),
                refused("log_invalid"),
                "so a third person in that DM's log is refused as well",
            ),
        ],
    )
}

fn private_room_stays_private() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let state = state_of(&b, &[&a]);
    let room = 33;
    let public_log = log(&b, room, true, T0, &[(&b, add(ALICE, Role::Member))]);
    let private_log = started_log(&b, room, false, &[(ALICE, Role::Member)]);
    scenario(
        "private_room_stays_private",
        "The public flag of a room's log cannot be chosen by the server: a room once seen private stays private, its log is started private, and a log that declares it public (open to join_public) does not verify (§6, §10).",
        &state,
        vec![
            step(
                "observe_rooms",
                json!({ "rooms": [{ "id": room, "is_private": true, "my_role": "owner" }] }),
                ok(json!({})),
                "bob's room 33 is listed as private",
            ),
            step(
                "verify_log",
                json!({ "room_id": room, "entries": public_log }),
                refused("log_invalid"),
                "a log of room 33 whose create entry makes it public",
            ),
            step(
                "start_log",
                json!({ "room": { "id": room, "is_private": false, "my_role": "owner" }, "members": members(&[(ALICE, "member"), (BOB, "owner")]), "now": T0 }),
                ok(json!(private_log)),
                "the server now lists it as public when bob starts its log: the log is started private all the same",
            ),
        ],
    )
}

fn approve_releases_the_current_version() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let mut state = state_of(&a, &[&b, &c]);
    hold(&mut state, CHANNEL, 1, &channel_key("ch100 v1"), T0, 0);
    hold(&mut state, CHANNEL, 2, &channel_key("ch100 v2"), T0 + 60, 0);
    let entries = room_log();
    scenario(
        "approve_releases_the_current_version",
        "Approving a key request releases the current version, whatever version the server writes into the request; an older one only when the approver chooses it (§3 purposes, §10).",
        &state,
        vec![
            step(
                "queue_request",
                json!({ "request_id": 7, "channel_id": CHANNEL, "requester_id": CAROL, "requester_username": "carol", "key_version": 1 }),
                ok(json!({})),
                "the server says carol asks for version 1 (history from before she was given version 2)",
            ),
            step(
                "approve_request",
                json!({ "request_id": 7, "room_id": ROOM, "entries": entries, "public_key": bundle(&c) }),
                approved(
                    json!({ "user_id": CAROL, "channel_id": CHANNEL, "key_version": 2, "is_key_rotation": false }),
                ),
                "alice approves: the current version is sealed, not the one the server named",
            ),
            step(
                "approve_request",
                json!({ "request_id": 7, "room_id": ROOM, "entries": entries, "public_key": bundle(&c), "version": 1 }),
                approved(json!({ "user_id": CAROL, "channel_id": CHANNEL, "key_version": 1 })),
                "alice chooses to give carol the history of version 1",
            ),
            step(
                "approve_request",
                json!({ "request_id": 7, "room_id": ROOM, "entries": entries, "public_key": bundle(&c), "version": 3 }),
                refused("no_key"),
                "a version alice does not hold",
            ),
        ],
    )
}

/// Room 10's log with dave added by alice at seq 3.
fn room_log_with_dave() -> Vec<String> {
    let a = alice();
    log(
        &a,
        ROOM,
        false,
        T0,
        &[
            (&a, add(BOB, Role::Member)),
            (&a, add(CAROL, Role::Member)),
            (&a, add(DAVE, Role::Member)),
        ],
    )
}

/// Room 10's log with carol removed by alice at seq 3.
fn room_log_without_carol() -> Vec<String> {
    let a = alice();
    log(
        &a,
        ROOM,
        false,
        T0,
        &[
            (&a, add(BOB, Role::Member)),
            (&a, add(CAROL, Role::Member)),
            (&a, Action::Remove { subject: CAROL }),
        ],
    )
}

fn share_justified_by_log() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let state = state_of(&a, &[&b, &c, &d]);
    let dave_state = state_of(&d, &[&a, &b, &c]);
    let entries = room_log_with_dave();
    let k = channel_key("ch100 v1");
    let ahead = share_at(&b, &a, ROOM, 4, CHANNEL, 1, SharePurpose::Initial, &k);
    let dave_before_joining = share_at(&d, &a, ROOM, 2, CHANNEL, 1, SharePurpose::Initial, &k);
    let dave_after_joining = share_at(&d, &a, ROOM, 3, CHANNEL, 1, SharePurpose::Initial, &k);
    let to_dave_before = share_at(&b, &d, ROOM, 2, CHANNEL, 1, SharePurpose::Initial, &k);
    let to_dave_after = share_at(&b, &d, ROOM, 3, CHANNEL, 1, SharePurpose::Initial, &k);
    let mut value = scenario(
        "share_justified_by_log",
        "Attack 1: a key share names the membership-log entry its version was made at; it is accepted only if this client verified that entry, the sender was a member there, and (unless answering my request) so was I (§3, §10).",
        &state,
        vec![
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, BOB, false, &ahead), &entries, T0),
                refused("unjustified_share"),
                "bob's share names log entry 4; the server shows alice a log that ends at 3",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, DAVE, false, &dave_before_joining),
                    &entries,
                    T0,
                ),
                refused("not_a_member"),
                "dave signs a share dated before he was added (seq 2): he was no member there",
            ),
            step(
                "has_key",
                json!({ "channel_id": CHANNEL, "version": 1 }),
                ok(json!({ "held": false })),
                "nothing was stored",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, DAVE, false, &dave_after_joining),
                    &entries,
                    T0,
                ),
                ok(json!({ "kind": "accepted", "version": 1 })),
                "control: the same key from dave, made after he was added",
            ),
            step_on(
                "dave",
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &to_dave_before),
                    &entries,
                    T0,
                ),
                refused("unjustified_share"),
                "a version made before dave joined (seq 2) is not for dave: the server cannot hand a newcomer old keys in a rotation's name",
            ),
            step_on(
                "dave",
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &to_dave_after),
                    &entries,
                    T0,
                ),
                ok(json!({ "kind": "accepted", "version": 1 })),
                "control: made after dave joined",
            ),
        ],
    );
    value.1["machines"] = json!({ "dave": { "user_id": DAVE, "state": doc(&dave_state) } });
    value
}

fn rotation_after_removal() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let mut state = state_of(&a, &[&b, &c]);
    hold(&mut state, CHANNEL, 1, &channel_key("ch100 v1"), T0, 3);
    let entries = room_log_without_carol();
    let k_far = channel_key("carol far future");
    let k_next = channel_key("carol next");
    let k2 = channel_key("ch100 v2");
    let far = share_at(
        &c,
        &a,
        ROOM,
        2,
        CHANNEL,
        u32::MAX,
        SharePurpose::Rotation,
        &k_far,
    );
    let carol_next = share_at(&c, &a, ROOM, 2, CHANNEL, 2, SharePurpose::Rotation, &k_next);
    let bob_skip = share_at(&b, &a, ROOM, 2, CHANNEL, 3, SharePurpose::Rotation, &k_next);
    let bob_v2 = share_at(&b, &a, ROOM, 3, CHANNEL, 2, SharePurpose::Rotation, &k2);
    let bob_huge = share_at(
        &b,
        &a,
        ROOM,
        3,
        CHANNEL,
        1 << 31,
        SharePurpose::Rotation,
        &k_far,
    );
    let entries_arg = json!({ "room_id": ROOM, "entries": entries });
    scenario(
        "rotation_after_removal",
        "Attack 6: a version made before a member left is never sent under; the client makes the next one itself, and shares a removed member made in advance (a far version, or the next one made before the removal) are refused (§5, §10).",
        &state,
        vec![
            step(
                "verify_log",
                entries_arg,
                ok(json!({ "length": 4 })),
                "alice's client sees carol's removal (seq 3); the server announces no rotation",
            ),
            step(
                "plan_send",
                plan(channel(CHANNEL, true, 1, None), T0 + 60),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "membership_changed" })),
                "version 1 was made for alice, bob and carol: alice makes version 2 before she writes",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, u32::MAX, CAROL, true, &far),
                    &entries,
                    T0 + 60,
                ),
                refused("unjustified_share"),
                "carol pushed a share for version 4294967295 before she was removed",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 2, CAROL, true, &carol_next),
                    &entries,
                    T0 + 60,
                ),
                refused("unjustified_share"),
                "carol made version 2 before her removal; she is no member now",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 3, BOB, true, &bob_skip),
                    &entries,
                    T0 + 60,
                ),
                refused("unjustified_share"),
                "a version 3 dated before the removal, skipping version 2",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1 << 31, BOB, true, &bob_huge),
                    &entries,
                    T0 + 60,
                ),
                refused("unjustified_share"),
                "even from a member after the removal, a version of 2^31 or more would exhaust the numbers",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 2, BOB, true, &bob_v2),
                    &entries,
                    T0 + 60,
                ),
                ok(json!({ "kind": "accepted", "version": 2 })),
                "control: bob's version 2, made after the removal",
            ),
            step(
                "plan_send",
                plan(channel(CHANNEL, true, 2, None), T0 + 60),
                ok(json!({ "kind": "seal", "version": 2 })),
                "alice writes under version 2, which carol does not have",
            ),
        ],
    )
}

fn reader_checks_membership() -> (String, Value) {
    let (a, b, d) = (alice(), bob(), dave());
    let mut state = state_of(&a, &[&b, &d]);
    let k = channel_key("ch100 v1");
    hold(&mut state, CHANNEL, 1, &k, T0, 0);
    let by_dave = envelope(
        &d,
        &k,
        CHANNEL,
        1,
        device_counter(0x0d0d, 0),
        "I was never here",
    );
    let by_bob = envelope(&b, &k, CHANNEL, 1, device_counter(BOB_DEVICE, 0), "hello");
    scenario(
        "reader_checks_membership",
        "Attack 10: a message is shown as verified only if its sender was a member when its key version was made (§4, §10).",
        &state,
        vec![
            step(
                "read",
                message(501, CHANNEL, DAVE, &by_dave, 1),
                warned("not_a_member_then"),
                "dave, not a member of room 10, got version 1 somehow and wrote under it",
            ),
            step(
                "read",
                message(502, CHANNEL, BOB, &by_bob, 1),
                verified("hello", BOB),
                "control: bob, for whom version 1 was made",
            ),
        ],
    )
}

fn approve_covers_requester() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let mut state = state_of(&a, &[&b, &c, &d]);
    hold(&mut state, CHANNEL, 1, &channel_key("ch100 v1"), T0, 0);
    let entries = room_log_with_dave();
    let request = |id: i64, who: i64, name: &str| json!({ "request_id": id, "channel_id": CHANNEL, "requester_id": who, "requester_username": name, "key_version": 1 });
    scenario(
        "approve_covers_requester",
        "Attack 12: a key request is answered only with a version made for the requester, whatever the server writes into the request (§3, §10).",
        &state,
        vec![
            step(
                "queue_request",
                request(8, DAVE, "dave"),
                ok(json!({})),
                "dave, added at seq 3, asks for the channel's key",
            ),
            step(
                "approve_request",
                json!({ "request_id": 8, "room_id": ROOM, "entries": entries, "public_key": bundle(&d) }),
                refused("not_covered"),
                "alice's newest version was made at seq 2, before dave joined",
            ),
            step(
                "approve_request",
                json!({ "request_id": 8, "room_id": ROOM, "entries": entries, "public_key": bundle(&d), "version": 1 }),
                refused("not_covered"),
                "nor when alice names that version herself",
            ),
            step(
                "queue_request",
                request(9, CAROL, "carol"),
                ok(json!({})),
                "carol lost her keys and asks",
            ),
            step(
                "approve_request",
                json!({ "request_id": 9, "room_id": ROOM, "entries": entries, "public_key": bundle(&c) }),
                approved(json!({ "user_id": CAROL, "channel_id": CHANNEL, "key_version": 1 })),
                "control: version 1 was made for carol",
            ),
        ],
    )
}

fn channel_stays_in_room() -> (String, Value) {
    let (a, b, e) = (alice(), bob(), erin());
    let mut state = state_of(&a, &[&b, &e]);
    hold(&mut state, CHANNEL, 1, &channel_key("ch100 v1"), T0, 0);
    let entries = room_log();
    let k = channel_key("ch101 v1");
    // Room 99: erin (the server's account) created it and added alice.
    let room99 = log(&e, 99, false, T0, &[(&e, add(ALICE, Role::Member))]);
    let by_erin = share_at(&e, &a, 99, 1, CHANNEL, 2, SharePurpose::Rotation, &k);
    let bound_elsewhere = share_at(&b, &a, 99, 2, 101, 1, SharePurpose::Initial, &k);
    let in_room = |room_id: i64| json!({ "id": CHANNEL, "room_id": room_id, "is_encrypted": true, "key_version": 1 });
    scenario(
        "channel_stays_in_room",
        "Attack 2: a channel stays in the room this client first saw it in, and a share binds its room: the server cannot move a channel into a room it controls (§3, §10).",
        &state,
        vec![
            step(
                "plan_send",
                plan(in_room(ROOM), T0),
                ok(json!({ "kind": "seal", "version": 1 })),
                "alice writes in channel 100 of room 10",
            ),
            step(
                "plan_send",
                plan(in_room(99), T0),
                refused("wrong_room"),
                "the server now lists channel 100 under room 99, where erin, its own account, is the owner",
            ),
            step(
                "accept_share",
                json!({ "share": share_event(CHANNEL, 2, ERIN, true, &by_erin), "room_id": 99, "entries": room99, "now": T0 }),
                refused("wrong_room"),
                "erin's key for channel 100, justified by room 99's log",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(101, 1, BOB, false, &bound_elsewhere),
                    &entries,
                    T0,
                ),
                refused("context_mismatch"),
                "a share bound to room 99, shown as one of room 10",
            ),
        ],
    )
}

fn format1_history() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let k1 = channel_key("ch100 v1");
    let k2 = channel_key("ch100 v2");
    let k3 = channel_key("ch100 v3");
    // Version 1 as a client before format 2 stored it.
    hold(&mut state, CHANNEL, 1, &k1, T0, 5);
    if let Some(v1) = state
        .channel_keys
        .get_mut(&CHANNEL)
        .and_then(|k| k.get_mut(&1))
    {
        v1.made_at = None;
        v1.members.clear();
    }
    let entries = room_log();
    let old = envelope_v1(
        &b,
        &k1,
        CHANNEL,
        1,
        device_counter(BOB_DEVICE, 0),
        "from before the upgrade",
    );
    let v1_again = share_v1(&b, &a, CHANNEL, 1, SharePurpose::Initial, &k1);
    let v2 = share(&b, &a, CHANNEL, 2, SharePurpose::Rotation, &k2);
    let v3_old_format = share_v1(&b, &a, CHANNEL, 3, SharePurpose::Rotation, &k3);
    let old_under_v2 = envelope_v1(
        &b,
        &k2,
        CHANNEL,
        2,
        device_counter(BOB_DEVICE, 0),
        "format 1 under version 2",
    );
    scenario(
        "format1_history",
        "Rooms from before format 2: their keys stay readable, are never sent under (the next version is made in format 2), and once a channel has a format-2 version no later format-1 share is taken (§3, §14).",
        &state,
        vec![
            step(
                "read",
                message(601, CHANNEL, BOB, &old, 1),
                verified("from before the upgrade", BOB),
                "history under the format-1 key reads as before",
            ),
            step(
                "plan_send",
                plan(channel(CHANNEL, true, 1, None), T0 + 60),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "protocol_upgrade" })),
                "alice's next message goes under a new, format-2 version",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 1, BOB, false, &v1_again),
                    &entries,
                    T0 + 60,
                ),
                ok(json!({ "kind": "already_held", "version": 1 })),
                "a format-1 share of version 1 is still read",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 2, BOB, true, &v2), &entries, T0 + 60),
                ok(json!({ "kind": "accepted", "version": 2 })),
                "bob made version 2 in format 2",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 3, BOB, true, &v3_old_format),
                    &entries,
                    T0 + 60,
                ),
                refused("unjustified_share"),
                "a format-1 share after that would skip every format-2 check",
            ),
            step(
                "read",
                message(602, CHANNEL, BOB, &old_under_v2, 2),
                warned("old_format"),
                "a format-1 envelope under the format-2 version: no binding of room, kind or reply to check",
            ),
        ],
    )
}

fn envelope_metadata() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let k = channel_key("ch100 v1");
    hold(&mut state, CHANNEL, 1, &k, T0, 0);
    let bound = |kind: MessageKind, target_id: i64, reply_to: i64| MessageBinding {
        room_id: ROOM,
        kind,
        target_id,
        reply_to,
    };
    let c = |n: u32| device_counter(BOB_DEVICE, n);
    let edit = envelope_as(
        &b,
        &k,
        CHANNEL,
        1,
        c(1),
        &bound(MessageKind::Edit, 700, 0),
        "fixed typo",
    );
    let resource = envelope_as(
        &b,
        &k,
        CHANNEL,
        1,
        c(2),
        &bound(MessageKind::Resource, 0, 0),
        "https://example.org/plan",
    );
    let reply = envelope_as(
        &b,
        &k,
        CHANNEL,
        1,
        c(3),
        &bound(MessageKind::Message, 0, 650),
        "yes, that one",
    );
    let other_room = envelope_as(
        &b,
        &k,
        CHANNEL,
        1,
        c(4),
        &MessageBinding {
            room_id: 99,
            ..bound(MessageKind::Message, 0, 0)
        },
        "written elsewhere",
    );
    let shown = |id: i64, env: &str, reply_to: Option<i64>, resource: bool| {
        json!({
            "message": { "id": id, "channel_id": CHANNEL, "sender_id": BOB, "envelope": env,
                         "key_version": 1, "reply_to": reply_to, "resource": resource },
            "encrypted": true,
        })
    };
    scenario(
        "envelope_metadata",
        "Attack 9: an envelope binds its room, its kind (message, edit, file note, resource), an edit's target and the message it replies to; the server showing any of them otherwise is a warning (§4).",
        &state,
        vec![
            step(
                "read",
                shown(701, &edit, None, false),
                warned("misplaced_edit"),
                "bob's edit of message 700 is shown as message 701",
            ),
            step(
                "read",
                shown(700, &edit, None, false),
                ok(json!({ "kind": "verified", "text": "fixed typo", "what": "edit" })),
                "control: shown as the edit of message 700",
            ),
            step(
                "read",
                shown(702, &resource, None, false),
                warned("wrong_kind"),
                "a resource bob added is replayed into the chat as a message",
            ),
            step(
                "read",
                shown(703, &reply, Some(651), false),
                warned("reply_mismatch"),
                "bob replied to message 650; the server threads it under 651",
            ),
            step(
                "read",
                shown(703, &reply, Some(650), false),
                ok(json!({ "kind": "verified", "what": "message", "reply_to": 650 })),
                "control: under 650",
            ),
            step(
                "read",
                shown(704, &other_room, None, false),
                warned("wrong_room"),
                "an envelope bound to room 99, shown in channel 100 of room 10",
            ),
        ],
    )
}

fn thread_placement() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let k = channel_key("ch100 v1");
    hold(&mut state, CHANNEL, 1, &k, T0, 0);
    let bound = |kind: MessageKind, target_id: i64| MessageBinding {
        room_id: ROOM,
        kind,
        target_id,
        reply_to: 0,
    };
    let c = |n: u32| device_counter(BOB_DEVICE, n);
    let in_thread = envelope_as(
        &b,
        &k,
        CHANNEL,
        1,
        c(1),
        &bound(MessageKind::ThreadReply, 900),
        "in the thread only",
    );
    let in_both = envelope_as(
        &b,
        &k,
        CHANNEL,
        1,
        c(2),
        &bound(MessageKind::ThreadReplyInChannel, 900),
        "in the thread and the channel",
    );
    let in_channel = envelope_as(
        &b,
        &k,
        CHANNEL,
        1,
        c(3),
        &bound(MessageKind::Message, 0),
        "in the channel",
    );
    let shown = |id: i64, env: &str, root: Option<i64>, also: bool| {
        json!({
            "message": { "id": id, "channel_id": CHANNEL, "sender_id": BOB, "envelope": env,
                         "key_version": 1, "thread_root_id": root,
                         "also_send_to_channel": also },
            "encrypted": true,
        })
    };
    scenario(
        "thread_placement",
        "Threads: a thread reply binds its thread's root and whether it is also sent to the channel; the server moving it to another thread, out of its thread or into the channel, or moving a channel message into a thread, is a warning (§4).",
        &state,
        vec![
            step(
                "read",
                shown(910, &in_thread, Some(901), false),
                warned("wrong_thread"),
                "bob replied in thread 900; the server shows the reply in thread 901",
            ),
            step(
                "read",
                shown(910, &in_thread, None, false),
                warned("wrong_thread"),
                "the server takes the reply out of its thread into the channel",
            ),
            step(
                "read",
                shown(910, &in_thread, Some(900), true),
                warned("wrong_thread"),
                "the server also shows a thread-only reply in the channel",
            ),
            step(
                "read",
                shown(910, &in_thread, Some(900), false),
                ok(
                    json!({ "kind": "verified", "text": "in the thread only", "what": "thread_reply" }),
                ),
                "control: in thread 900 only",
            ),
            step(
                "read",
                shown(911, &in_both, Some(900), false),
                warned("wrong_thread"),
                "a reply also sent to the channel is hidden from the channel",
            ),
            step(
                "read",
                shown(911, &in_both, Some(900), true),
                ok(json!({ "kind": "verified", "what": "thread_reply_in_channel" })),
                "control: in thread 900 and the channel",
            ),
            step(
                "read",
                shown(912, &in_channel, Some(900), false),
                warned("wrong_thread"),
                "a channel message is moved into thread 900",
            ),
            step(
                "read",
                shown(912, &in_channel, None, false),
                ok(json!({ "kind": "verified", "what": "message" })),
                "control: in the channel",
            ),
        ],
    )
}

fn key_commitment() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let mine = channel_key("ch100 v1 for alice");
    let carols = channel_key("ch100 v1 for carol");
    hold(&mut state, CHANNEL, 1, &mine, T0, 0);
    let c = |n: u32| device_counter(BOB_DEVICE, n);
    let under_carols = envelope(&b, &carols, CHANNEL, 1, c(0), "what carol reads");
    let under_mine = envelope(&b, &mine, CHANNEL, 1, c(1), "what alice reads");
    scenario(
        "key_commitment",
        "Attack 11: an envelope commits to the channel key it was made under, so a rotator who gave members different keys for one version is caught, not read differently by each (§4).",
        &state,
        vec![
            step(
                "read",
                message(801, CHANNEL, BOB, &under_carols, 1),
                warned("key_mismatch"),
                "bob made version 1 with one key for carol and another for alice; his message under carol's key reaches alice",
            ),
            step(
                "read",
                message(802, CHANNEL, BOB, &under_mine, 1),
                verified("what alice reads", BOB),
                "control: under alice's key",
            ),
        ],
    )
}

fn forged_key_history() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let bob_old = identity("bob old", BOB);
    let made_up = identity("bob made up", BOB);
    // Alice pinned bob with a history the server served on first contact:
    // his genuine old key, a key the server made up, and his current key.
    let mut state = state_of(&a, &[&c]);
    let accepted: Vec<String> = [&bob_old, &made_up, &b].iter().map(|i| bundle(i)).collect();
    state.pins.insert(
        BOB,
        Pin {
            current: bundle(&b),
            accepted,
            offered: None,
        },
    );
    let honest = log(
        &a,
        ROOM,
        false,
        T0,
        &[
            (&a, add(BOB, Role::Admin)),
            (&bob_old, add(CAROL, Role::Member)),
            (&b, add(DAVE, Role::Member)),
        ],
    );
    let mut extended = honest.clone();
    let mut forged_log = MembershipLog::verify_wire(
        &honest,
        &securechat_crypto::KeyRing::from_bundles([a.bundle(), bob_old.bundle(), b.bundle()]),
    )
    .unwrap();
    extended.push(
        forged_log
            .append(&made_up, add(ERIN, Role::Member), T0 + 10)
            .unwrap()
            .to_wire(),
    );
    let rewritten = log(
        &a,
        ROOM,
        false,
        T0,
        &[
            (&a, add(BOB, Role::Admin)),
            (&b, add(CAROL, Role::Member)),
            (&made_up, add(ERIN, Role::Member)),
        ],
    );
    let args = |entries: &[String]| json!({ "room_id": ROOM, "entries": entries });
    let mut value = scenario(
        "forged_key_history",
        "Attack 5: a person's keys only move forward in a log: an entry under a key older than one they already signed with is refused, and entries past the head I verified must be signed with their current key, so a made-up \"old\" key signs nothing (§6).",
        &state,
        vec![
            step(
                "verify_log",
                args(&honest),
                ok(json!({ "length": 4 })),
                "control: bob signed seq 2 with his old key and seq 3 with his current one",
            ),
            step(
                "verify_log",
                args(&extended),
                refused("log_invalid"),
                "the server appends an entry signed with the key it added to bob's history",
            ),
            step_on(
                "newcomer",
                "verify_log",
                args(&rewritten),
                refused("log_invalid"),
                "a device that never saw the room: the made-up key signs after bob's current key did",
            ),
        ],
    );
    value.1["machines"] = json!({ "newcomer": { "user_id": ALICE, "state": doc(&state) } });
    value
}

fn channel_registered_in_log() -> (String, Value) {
    let (a, b, c, d) = (alice(), bob(), carol(), dave());
    let bob_state = state_of(&b, &[&a, &c, &d]);
    let alice_state = state_of(&a, &[&b, &c]);
    // Carol held keys of channel 200 before channels were registered.
    let mut carol_state = state_of(&c, &[&a, &b]);
    hold(&mut carol_state, 200, 1, &channel_key("ch200 v1"), T0, 0);
    let unregistered = room_log();
    let registered = registered_room_log();
    // What alice's client signs: the registration on top of room 10's log, at T0 + 50.
    let mut expected = MembershipLog::verify_wire(
        &unregistered,
        &securechat_crypto::KeyRing::from_bundles([a.bundle()]),
    )
    .unwrap();
    let entry = expected
        .append(&a, Action::RegisterChannel { channel: CHANNEL }, T0 + 50)
        .unwrap()
        .to_wire();
    // Room 11: dave (the server's account) created it, added bob, and
    // registered channel 100 there.
    let room11 = log(
        &d,
        11,
        false,
        T0,
        &[
            (&d, add(BOB, Role::Member)),
            (&d, Action::RegisterChannel { channel: CHANNEL }),
        ],
    );
    let in_room = |room_id: i64, encrypted: bool| json!({ "id": CHANNEL, "room_id": room_id, "is_encrypted": encrypted, "key_version": 0 });
    let make = |entries: &[String]| {
        json!({
            "channel": in_room(ROOM, true),
            "version": 1,
            "entries": entries,
            "bundles": { "1": bundle(&a), "3": bundle(&c) },
        })
    };
    let register = |entries: &[String], now: u64| json!({ "room_id": ROOM, "entries": entries, "channel_id": CHANNEL, "now": now });
    let (name, mut value) = scenario(
        "channel_registered_in_log",
        "Attack 2: an encrypted channel's room comes from the signed log. Keys are made only for a channel the room's log registers (a `channel` entry signed by an owner or admin) or one this client held keys of before registration existed; a registered channel stays encrypted and in its room, and a log registering a channel of another room is refused (§3, §6, §10).",
        &bob_state,
        vec![
            step(
                "make_version",
                make(&unregistered),
                refused("channel_not_registered"),
                "the server lists channel 100 as a new encrypted channel of room 10, whose log does not register it",
            ),
            step(
                "register_channel",
                register(&unregistered, T0 + 50),
                refused("channel_not_registered"),
                "bob is a plain member: he may not register it himself",
            ),
            step_on(
                "alice",
                "register_channel",
                register(&unregistered, T0 + 50),
                ok(json!({ "entry": entry })),
                "alice, the owner, signs the registration",
            ),
            step_on(
                "alice",
                "register_channel",
                register(&registered, T0 + 60),
                ok(json!({ "entry": null })),
                "once the log has it, nothing more is signed",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": registered }),
                ok(json!({ "room_id": ROOM, "channels": [CHANNEL] })),
                "the log now registers channel 100",
            ),
            step(
                "plan_send",
                plan(in_room(ROOM, false), T0 + 60),
                refused("downgrade"),
                "the server lists channel 100 as plaintext: the signed log says it is encrypted",
            ),
            step(
                "make_version",
                make(&registered),
                ok(json!({ "own": { "user_id": BOB, "channel_id": CHANNEL, "key_version": 1 } })),
                "bob makes its first key",
            ),
            step(
                "verify_log",
                json!({ "room_id": 11, "entries": room11 }),
                refused("log_invalid"),
                "room 11's log, signed by dave, claims channel 100 as well",
            ),
            step(
                "plan_send",
                plan(in_room(11, true), T0 + 60),
                refused("wrong_room"),
                "the server lists channel 100 under room 11",
            ),
            step_on(
                "carol",
                "make_version",
                json!({
                    "channel": { "id": 200, "room_id": ROOM, "is_encrypted": true, "key_version": 1 },
                    "version": 2,
                    "entries": registered,
                    "bundles": { "1": bundle(&a), "2": bundle(&b) },
                }),
                ok(json!({ "own": { "user_id": CAROL, "channel_id": 200, "key_version": 2 } })),
                "carol held keys of channel 200 from before registration: she goes on making them",
            ),
            step_on(
                "carol",
                "verify_log",
                json!({ "room_id": ROOM, "entries": registered }),
                ok(json!({ "channels": [CHANNEL] })),
                "carol verifies room 10's log; she never used channel 100",
            ),
            step_on(
                "carol",
                "plan_send",
                plan(in_room(11, true), T0 + 60),
                refused("wrong_room"),
                "the server lists channel 100 under room 11 to carol: the log put it in room 10",
            ),
        ],
    );
    value["machines"] = json!({
        "alice": { "user_id": ALICE, "state": doc(&alice_state) },
        "carol": { "user_id": CAROL, "state": doc(&carol_state) },
    });
    (name, value)
}

fn disappearing_timer_from_log() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let bob_state = state_of(&b, &[&a, &c]);
    let alice_state = state_of(&a, &[&b, &c]);
    let registered = registered_room_log();
    let keys = securechat_crypto::KeyRing::from_bundles([a.bundle()]);
    // Alice sets 5 minutes at T0 + 100, then turns it off at T0 + 300.
    let mut signed = MembershipLog::verify_wire(&registered, &keys).unwrap();
    let timer = |seconds| Action::SetDisappearing {
        channel: CHANNEL,
        seconds,
    };
    let five = signed.append(&a, timer(300), T0 + 100).unwrap().to_wire();
    let with_timer: Vec<String> = signed
        .entries()
        .iter()
        .map(MembershipEntry::to_wire)
        .collect();
    let off = signed.append(&a, timer(0), T0 + 300).unwrap().to_wire();
    let turned_off: Vec<String> = signed
        .entries()
        .iter()
        .map(MembershipEntry::to_wire)
        .collect();
    let set = |entries: &[String], seconds: u32, now: u64| json!({ "room_id": ROOM, "entries": entries, "channel_id": CHANNEL, "seconds": seconds, "now": now });
    let timer_of = |channel_id: i64, server: Value| json!({ "channel_id": channel_id, "server_seconds": server });
    let ms = |t: u64| t * 1000;
    // A message sent at T0 + 200 (under the timer) and one at T0 + 50 (before it).
    let expiry = |expires_at: Value| {
        json!({ "channel_id": CHANNEL, "messages": [
            { "id": 1, "created_at": ms(T0 + 200), "expires_at": expires_at },
            { "id": 2, "created_at": ms(T0 + 50), "expires_at": null },
        ] })
    };
    let signed_expiry = ms(T0 + 200) + 300_000;
    let expired =
        |first: u64| ok(json!([{ "id": 1, "expires_at": first }, { "id": 2, "expires_at": null }]));
    let (name, mut value) = scenario(
        "disappearing_timer_from_log",
        "Disappearing messages: an encrypted channel's timer is the one its room's signed log sets (a `disappearing` entry by an owner or admin). The server's setting is shown only where it agrees, and a disagreement is reported; a message disappears at the earlier of the log's expiry and the server's `expires_at`, so a server that drops, lengthens or omits the timer cannot keep a message longer (§6).",
        &bob_state,
        vec![
            step(
                "set_disappearing",
                set(&registered, 300, T0 + 100),
                refused("log_unauthorized"),
                "bob, a plain member, may not set the timer",
            ),
            step_on(
                "alice",
                "set_disappearing",
                set(&registered, 300, T0 + 100),
                ok(json!({ "entry": five })),
                "alice, the owner, signs 5 minutes",
            ),
            step_on(
                "alice",
                "set_disappearing",
                set(&with_timer, 300, T0 + 110),
                ok(json!({ "entry": null })),
                "the log already says 5 minutes: nothing more is signed",
            ),
            step_on(
                "alice",
                "set_disappearing",
                set(&with_timer, 60, T0 + 110),
                refused("invalid_field"),
                "one minute is below the shortest timer",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": with_timer }),
                ok(json!({ "disappearing": { "100": 300 } })),
                "bob verifies the log with the timer",
            ),
            step(
                "channel_timer",
                timer_of(CHANNEL, json!(300)),
                ok(
                    json!({ "seconds": 300, "server_seconds": 300, "signed": true, "mismatch": false }),
                ),
                "the server agrees",
            ),
            step(
                "channel_timer",
                timer_of(CHANNEL, Value::Null),
                ok(json!({ "seconds": 300, "server_seconds": null, "mismatch": true })),
                "the server drops the timer: the log's is shown, and the disagreement reported",
            ),
            step(
                "channel_timer",
                timer_of(CHANNEL, json!(2_419_200)),
                ok(json!({ "seconds": 300, "mismatch": true })),
                "the server lengthens it to 4 weeks",
            ),
            step(
                "message_expiry",
                expiry(json!(signed_expiry)),
                expired(signed_expiry),
                "the server's expires_at agrees; the older message keeps its life",
            ),
            step(
                "message_expiry",
                expiry(Value::Null),
                expired(signed_expiry),
                "the server omits expires_at",
            ),
            step(
                "message_expiry",
                expiry(json!(ms(T0 + 200) + 2_419_200_000)),
                expired(signed_expiry),
                "the server stamps a 4-week expiry",
            ),
            step(
                "message_expiry",
                expiry(json!(ms(T0 + 200) + 60_000)),
                expired(ms(T0 + 200) + 60_000),
                "the server removes it sooner: that it may",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": registered }),
                refused("log_invalid"),
                "the server serves the log without the timer entry",
            ),
            step(
                "message_expiry",
                expiry(Value::Null),
                expired(signed_expiry),
                "the timer bob verified still applies",
            ),
            step(
                "note_encrypted",
                json!({ "channel_id": 200 }),
                ok(json!({})),
                "bob sees channel 200 encrypted",
            ),
            step(
                "channel_timer",
                timer_of(200, json!(300)),
                ok(
                    json!({ "seconds": null, "server_seconds": 300, "signed": true, "mismatch": true }),
                ),
                "the server claims a timer for channel 200 that no log sets",
            ),
            step_on(
                "alice",
                "set_disappearing",
                set(&with_timer, 0, T0 + 300),
                ok(json!({ "entry": off })),
                "alice turns the timer off",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": turned_off }),
                ok(json!({ "disappearing": { "100": 0 } })),
                "bob verifies the log with the timer off",
            ),
            step(
                "channel_timer",
                timer_of(CHANNEL, json!(300)),
                ok(json!({ "seconds": null, "mismatch": true })),
                "the server still claims 5 minutes",
            ),
            step(
                "message_expiry",
                json!({ "channel_id": CHANNEL, "messages": [
                    { "id": 1, "created_at": ms(T0 + 200), "expires_at": null },
                    { "id": 3, "created_at": ms(T0 + 400), "expires_at": null },
                ] }),
                ok(
                    json!([{ "id": 1, "expires_at": signed_expiry }, { "id": 3, "expires_at": null }]),
                ),
                "a message sent under the timer still disappears; one sent after it was turned off does not",
            ),
        ],
    );
    value["machines"] = json!({
        "alice": { "user_id": ALICE, "state": doc(&alice_state) },
    });
    (name, value)
}

// ---- devices and prekeys ----------------------------------------------------

const WEEK: u64 = 7 * DAY;

fn device(label: &str, user_id: i64) -> DeviceKey {
    DeviceKey::generate_with_rng(user_id, &mut rng(&format!("device {label}"))).unwrap()
}

fn prekey(label: &str, device: &DeviceKey, prekey_id: u32, created: u64) -> PrekeySecret {
    PrekeySecret::generate_with_rng(
        device,
        prekey_id,
        created * 1000,
        &mut rng(&format!("prekey {label} {prekey_id}")),
    )
    .unwrap()
}

fn device_list(owner: &Identity, version: u64, devices: &[&DeviceKey]) -> String {
    let entries: Vec<_> = devices.iter().map(|d| d.entry()).collect();
    DeviceList::sign(owner, version, T0 * 1000, &entries)
        .unwrap()
        .to_wire()
}

/// `key` sealed by `sender` to a device prekey (format 3), as a version of
/// `channel_id` in room 10 made at its log head.
fn share_to_prekey(
    sender: &Identity,
    to: &PrekeySecret,
    channel_id: i64,
    version: u32,
    key: &ChannelKey,
) -> String {
    let label = format!("prekey share {} {channel_id} {version}", fp(sender));
    SealedShare::seal_to_prekey_with_rng(
        sender,
        to.public(),
        ROOM,
        channel_id,
        version,
        ROOM_HEAD,
        SharePurpose::Rotation,
        key,
        &mut rng(&label),
    )
    .unwrap()
    .to_wire()
}

fn device_list_signed_by_identity() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let state = state_of(&a, &[&b, &c]);
    let entries = registered_room_log();
    let phone = device("bob phone", BOB);
    let laptop = device("bob laptop", BOB);
    let rogue = device("server's own", BOB);
    let before_revocation = device_list(&b, 1, &[&phone, &laptop]);
    let current = device_list(&b, 2, &[&phone]);
    let forged = device_list(&identity("bob forged", BOB), 3, &[&phone, &rogue]);
    let served_prekeys = json!({ "2": [
        prekey("phone", &phone, 1, T0).public().to_wire(),
        prekey("laptop", &laptop, 1, T0).public().to_wire(),
        prekey("rogue", &rogue, 1, T0).public().to_wire(),
    ] });
    scenario(
        "device_list_signed_by_identity",
        "A device counts only in a device list signed by its person's pinned identity and not older than one already verified: a device the server adds, or brings back after a revocation, gets no key (§2a).",
        &state,
        vec![
            step(
                "observe_device_list",
                json!({ "user_id": BOB, "device_list": forged }),
                refused("device_list_invalid"),
                "the server serves a list with a device of its own, signed by another identity",
            ),
            step(
                "observe_device_list",
                json!({ "user_id": BOB, "device_list": current }),
                ok(json!({ "user_id": BOB, "version": 2, "devices": [phone.device_id()] })),
                "control: bob's own list, after he revoked his laptop",
            ),
            step(
                "observe_device_list",
                json!({ "user_id": BOB, "device_list": before_revocation }),
                refused("device_list_rollback"),
                "the server replays the list from before the revocation",
            ),
            step(
                "make_version",
                json!({
                    "channel": channel(CHANNEL, true, 0, None),
                    "version": 1,
                    "entries": entries,
                    "bundles": { "2": bundle(&b), "3": bundle(&c) },
                    "prekeys": served_prekeys,
                    "now": T0 + 60,
                }),
                ok(json!({
                    "own": { "user_id": ALICE, "key_version": 1 },
                    "shares": [
                        { "user_id": BOB, "device_id": phone.device_id() },
                        { "user_id": CAROL },
                    ],
                    "skipped": [
                        { "user_id": BOB, "device_id": laptop.device_id() },
                        { "user_id": BOB, "device_id": rogue.device_id() },
                    ],
                })),
                "bob's key goes to his listed phone only; carol, who has no devices yet, gets hers as before",
            ),
        ],
    )
}

fn prekey_replay() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let phone = device("bob phone", BOB);
    state
        .device_lists
        .insert(BOB, device_list(&b, 1, &[&phone]));
    let entries = registered_room_log();
    let last_week = prekey("phone", &phone, 1, T0);
    let this_week = prekey("phone", &phone, 2, T0 + WEEK);
    let future = prekey("phone", &phone, 3, T0 + 10 * WEEK);
    let now = T0 + WEEK + 60;
    let ask = |p: &PrekeySecret, now: u64| json!({ "user_id": BOB, "prekey": p.public().to_wire(), "now": now });
    scenario(
        "prekey_replay",
        "A key is sealed to a device only through a prekey its listed device signed, no older than one already seen for it and within its lifetime: a replayed old prekey, whose private half may have been stolen, is refused (§2b).",
        &state,
        vec![
            step(
                "prekey_to_seal_to",
                ask(&this_week, now),
                ok(json!({ "device_id": phone.device_id(), "prekey_id": 2 })),
                "control: this week's prekey",
            ),
            step(
                "prekey_to_seal_to",
                ask(&last_week, now),
                refused("stale_prekey"),
                "the server replays last week's prekey",
            ),
            step(
                "make_version",
                json!({
                    "channel": channel(CHANNEL, true, 0, None),
                    "version": 1,
                    "entries": entries,
                    "bundles": { "2": bundle(&b) },
                    "prekeys": { "2": [last_week.public().to_wire()] },
                    "now": now,
                }),
                ok(json!({
                    "shares": [],
                    "skipped": [
                        { "user_id": BOB, "device_id": phone.device_id() },
                        { "user_id": BOB },
                        { "user_id": CAROL },
                    ],
                })),
                "a new version: the replayed prekey gets nothing (and carol has no key published)",
            ),
            step(
                "prekey_to_seal_to",
                ask(&future, now),
                refused("stale_prekey"),
                "a prekey dated ten weeks ahead",
            ),
            step(
                "prekey_to_seal_to",
                ask(&this_week, T0 + 4 * WEEK),
                refused("stale_prekey"),
                "this week's prekey, three weeks later: past its lifetime",
            ),
        ],
    )
}

fn prekey_forward_secrecy() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let mut state = state_of(&b, &[&a, &c]);
    let phone = device("bob phone", BOB);
    let old = prekey("phone", &phone, 1, T0);
    let new = prekey("phone", &phone, 2, T0 + WEEK);
    state.device_key = Some(phone.export().to_string());
    state.prekeys = vec![old.export().to_string(), new.export().to_string()];
    let entries = registered_room_log();
    let (k1, k2, k3) = (
        channel_key("fs v1"),
        channel_key("fs v2"),
        channel_key("fs v3"),
    );
    let before = share_to_prekey(&a, &old, CHANNEL, 1, &k1);
    let late = share_to_prekey(&a, &old, CHANNEL, 2, &k2);
    let current = share_to_prekey(&a, &new, CHANNEL, 3, &k3);
    let now = T0 + WEEK + 60;
    scenario(
        "prekey_forward_secrecy",
        "A share sealed to a prekey opens only while the device still holds that prekey; once the device has fetched what was sealed to the old prekey and retired it, nothing it holds opens an older share (§2b).",
        &state,
        vec![
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 1, ALICE, true, &before), &entries, now),
                ok(json!({ "kind": "accepted", "channel_id": CHANNEL, "version": 1 })),
                "a share sealed to last week's prekey, fetched after the rotation",
            ),
            step(
                "retire_prekeys",
                json!({}),
                ok(json!({ "retired": 1 })),
                "the device deletes the old private half",
            ),
            step(
                "accept_share",
                accept_share(share_event(CHANNEL, 2, ALICE, true, &late), &entries, now),
                refused("prekey_gone"),
                "a share sealed to the retired prekey no longer opens",
            ),
            step(
                "accept_share",
                accept_share(
                    share_event(CHANNEL, 3, ALICE, true, &current),
                    &entries,
                    now,
                ),
                ok(json!({ "kind": "accepted", "channel_id": CHANNEL, "version": 3 })),
                "control: a share sealed to the current prekey",
            ),
            step(
                "rotate_prekey",
                json!({ "now": now }),
                ok(json!({ "prekey": null })),
                "the current prekey is a minute old: no rotation",
            ),
        ],
    )
}

fn device_revocation() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let laptop = device("alice laptop", ALICE);
    let phone = device("alice phone", ALICE);
    let both = device_list(&a, 1, &[&laptop, &phone]);
    state.device_key = Some(laptop.export().to_string());
    state.device_lists.insert(ALICE, both.clone());
    let k = channel_key("revocation v1");
    hold(&mut state, CHANNEL, 1, &k, T0, 3);
    let now = T0 + 60;
    scenario(
        "device_revocation",
        "Revoking a device is a new list without it, signed by the identity; every channel whose key the device could hold gets a new version on its next send, and the old list, which still names the device, is refused from then on (§2a).",
        &state,
        vec![
            step(
                "plan_send",
                plan(channel(CHANNEL, true, 1, None), now),
                ok(json!({ "kind": "seal", "version": 1 })),
                "control: before the revocation, version 1 is used",
            ),
            step(
                "revoke_device",
                json!({ "device_id": laptop.device_id(), "device_list": both, "now": now }),
                refused("bad_input"),
                "a device does not revoke itself",
            ),
            step(
                "revoke_device",
                json!({ "device_id": phone.device_id(), "device_list": both, "now": now }),
                ok(json!({})),
                "the laptop revokes the lost phone",
            ),
            step(
                "channels_to_rotate",
                json!({}),
                ok(json!([CHANNEL])),
                "every channel whose key the phone could hold",
            ),
            step(
                "plan_send",
                plan(channel(CHANNEL, true, 1, None), now),
                ok(json!({ "kind": "make_version", "version": 2, "reason": "device_revoked" })),
                "the next send makes version 2",
            ),
            step(
                "observe_device_list",
                json!({ "user_id": ALICE, "device_list": both }),
                refused("device_list_rollback"),
                "the server serves the list that still names the phone",
            ),
        ],
    )
}

fn device_linking() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let laptop = device("alice laptop", ALICE);
    let list = device_list(&a, 1, &[&laptop]);
    state.device_key = Some(laptop.export().to_string());
    state.device_lists.insert(ALICE, list.clone());
    let carried = channel_key("link carried");
    let left = channel_key("link left behind");
    hold(&mut state, CHANNEL, 1, &carried, T0, 5);
    hold(&mut state, 101, 1, &left, T0, 0);
    let from_bob = |key: &ChannelKey, channel: i64, text: &str| {
        envelope(&b, key, channel, 1, device_counter(BOB_DEVICE, 0), text)
    };
    let history = from_bob(&carried, CHANNEL, "history the phone may carry");
    let other = from_bob(&left, 101, "a channel left behind");
    let fresh = State::new(SERVER, ALICE);
    let now = T0 + 60;
    let mut value = scenario(
        "device_linking",
        "A new device is linked only through the other device's answer: a server that swaps in an ephemeral key of its own makes the two numbers differ, and the payload sealed for the real link does not open; the real link carries the identity, pins and the keys the person chose (§2c).",
        &state,
        vec![
            step_on("phone", "start_link", json!({}), ok(json!({})), "the new device shows its code")
                .with_save("offer"),
            step(
                "answer_link",
                json!({ "offer": "${offer.offer}" }),
                ok(json!({})),
                "the laptop answers the code",
            )
            .with_save("answer"),
            step_on("intruder", "start_link", json!({}), ok(json!({})), "the server starts a link of its own")
                .with_save("intruder_offer"),
            step(
                "answer_link",
                json!({ "offer": "${intruder_offer.offer}" }),
                ok(json!({})),
                "and has the laptop answer it",
            )
            .with_save("intruder_answer"),
            step_on(
                "phone",
                "link_sas",
                json!({ "approver": "${intruder_answer.ephemeral}" }),
                ok(json!({})),
                "the server hands the phone the other link's answer (the numbers differ)",
            ),
            step(
                "approve_link",
                json!({ "offer": "${offer.offer}", "device_list": list, "channels": [CHANNEL], "now": now }),
                ok(json!({})),
                "the laptop approves the phone's real offer",
            )
            .with_save("approved"),
            step_on(
                "phone",
                "finish_link",
                json!({ "payload": "${approved.payload}" }),
                refused("decryption_failed"),
                "sealed for the real link, the payload does not open under the swapped key",
            ),
            step_on(
                "phone",
                "link_sas",
                json!({ "approver": "${answer.ephemeral}" }),
                ok(json!({})),
                "the laptop's own answer",
            ),
            step_on(
                "phone",
                "finish_link",
                json!({ "payload": "${approved.payload}" }),
                ok(json!({ "pins": 1, "channels": 1 })),
                "the phone takes the identity, bob's pin and the carried channel",
            ),
            step_on(
                "phone",
                "read",
                message(900, CHANNEL, BOB, &history, 1),
                verified("history the phone may carry", BOB),
                "history of the carried channel reads on the phone",
            ),
            step_on(
                "phone",
                "read",
                message(901, 101, BOB, &other, 1),
                ok(json!({ "kind": "need_key", "channel_id": 101 })),
                "a channel the person did not carry has no key here (it is requested as any missing key)",
            ),
            step(
                "answer_link",
                json!({ "offer": "${offer.offer}" }),
                ok(json!({})),
                "control: answering again is harmless",
            ),
        ],
    );
    value.1["machines"] = json!({
        "phone": { "user_id": ALICE, "state": doc(&fresh) },
        "intruder": { "user_id": ALICE, "state": doc(&fresh) },
    });
    value
}

fn request_from_revoked_device() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let mut state = state_of(&a, &[&b, &c]);
    hold(&mut state, CHANNEL, 1, &channel_key("request v1"), T0, 0);
    let entries = room_log();
    let phone = device("bob phone", BOB);
    let laptop = device("bob laptop", BOB);
    let (phone_prekey, laptop_prekey) = (
        prekey("bob phone", &phone, 1, T0),
        prekey("bob laptop", &laptop, 1, T0),
    );
    let before = device_list(&b, 1, &[&phone, &laptop]);
    let after = device_list(&b, 2, &[&phone]);
    // Bob's two devices, as each holds its state: his identity, its own
    // device key and prekey, and the list it verified last.
    let bobs_device = |device: &DeviceKey, prekey: &PrekeySecret, list: &str| {
        let mut state = state_of(&b, &[&a, &c]);
        state.device_key = Some(device.export().to_string());
        state.prekeys = vec![prekey.export().to_string()];
        state.device_lists.insert(BOB, list.to_string());
        doc(&state)
    };
    let now = T0 + 60;
    let approve = |prekeys: &[&PrekeySecret]| {
        json!({
            "request_id": 12,
            "room_id": ROOM,
            "entries": entries,
            "public_key": bundle(&b),
            "prekeys": prekeys.iter().map(|p| p.public().to_wire()).collect::<Vec<_>>(),
            "now": now,
        })
    };
    let answer = share_event(
        CHANNEL,
        1,
        ALICE,
        false,
        "${approved.shares.0.encrypted_key}",
    );
    let mut value = scenario(
        "request_from_revoked_device",
        "A key request is answered, for a person whose device list this client verified, only to the listed devices' prekeys — never to the identity, which a revoked device still holds: a revoked device that asks gets nothing it can open (§2a, §3 purposes, §10).",
        &state,
        vec![
            step_on(
                "laptop",
                "record_request",
                json!({ "channel_id": CHANNEL, "request_id": 12 }),
                ok(json!({})),
                "bob's revoked laptop, which still holds his identity, asks for channel 100's key",
            ),
            step(
                "queue_request",
                json!({ "request_id": 12, "channel_id": CHANNEL, "requester_id": BOB, "requester_username": "bob", "key_version": 1 }),
                ok(json!({})),
                "the request reaches alice, an admin, in bob's name",
            ),
            step(
                "observe_device_list",
                json!({ "user_id": BOB, "device_list": after }),
                ok(json!({ "user_id": BOB, "version": 2, "devices": [phone.device_id()] })),
                "alice's client verifies bob's list: his phone only, the laptop was revoked",
            ),
            step(
                "approve_request",
                approve(&[]),
                refused("no_device_prekey"),
                "the server serves no prekey for bob: alice does not fall back to his identity",
            ),
            step(
                "approve_request",
                approve(&[&laptop_prekey]),
                refused("no_device_prekey"),
                "the server serves only the revoked laptop's prekey",
            ),
            step(
                "approve_request",
                approve(&[&phone_prekey, &laptop_prekey]),
                ok(json!({
                    "shares": [
                        { "user_id": BOB, "device_id": phone.device_id(), "key_version": 1, "is_key_rotation": false },
                    ],
                    "skipped": [ { "user_id": BOB, "device_id": laptop.device_id() } ],
                })),
                "alice approves: the key is sealed to bob's phone, the one listed device",
            )
            .with_save("approved"),
            step_on(
                "laptop",
                "accept_share",
                accept_share(answer.clone(), &entries, now),
                refused("prekey_gone"),
                "the server hands the answer to the laptop: it is sealed to a prekey the laptop never held",
            ),
            step_on(
                "laptop",
                "has_key",
                json!({ "channel_id": CHANNEL, "version": 1 }),
                ok(json!({ "held": false })),
                "the revoked laptop holds no key",
            ),
            step_on(
                "phone",
                "record_request",
                json!({ "channel_id": CHANNEL, "request_id": 12 }),
                ok(json!({})),
                "control: bob's phone asks too (the server reuses the open request)",
            ),
            step_on(
                "phone",
                "accept_share",
                accept_share(answer, &entries, now),
                ok(json!({ "kind": "accepted", "channel_id": CHANNEL, "version": 1 })),
                "the listed phone opens the answer",
            ),
        ],
    );
    value.1["machines"] = json!({
        "laptop": { "user_id": BOB, "state": bobs_device(&laptop, &laptop_prekey, &before) },
        "phone": { "user_id": BOB, "state": bobs_device(&phone, &phone_prekey, &after) },
    });
    value
}

fn revoked_device_stays_out() -> (String, Value) {
    let (a, b) = (alice(), bob());
    let mut state = state_of(&a, &[&b]);
    let phone = device("alice phone", ALICE);
    let laptop = device("alice laptop", ALICE);
    let first = device_list(&a, 1, &[&phone]);
    let both = device_list(&a, 2, &[&phone, &laptop]);
    let revoked = device_list(&a, 3, &[&phone]);
    let forged = device_list(&identity("alice forged", ALICE), 4, &[&phone]);
    state.device_key = Some(laptop.export().to_string());
    state.prekeys = vec![prekey("alice laptop", &laptop, 1, T0).export().to_string()];
    state.device_lists.insert(ALICE, both);
    hold(&mut state, CHANNEL, 1, &channel_key("stays out v1"), T0, 2);
    let now = T0 + 60;
    let set_up = |list: Option<&str>| json!({ "device_list": list, "now": now });
    let held = json!({ "channel_id": CHANNEL, "version": 1 });
    let mut value = scenario(
        "revoked_device_stays_out",
        "A device that sees my list, signed by my identity and newer than the one it verified, no longer name it was revoked from another device: it forgets every key it holds rather than sign itself back in; a server that shows no list, an old one or a forged one wipes nothing (§2a).",
        &state,
        vec![
            step(
                "set_up_device",
                set_up(None),
                ok(json!({ "device_id": laptop.device_id(), "device_list": null, "prekey": null })),
                "the server shows no list: the one the laptop verified stands, and names it",
            ),
            step(
                "set_up_device",
                set_up(Some(&first)),
                refused("device_list_rollback"),
                "the server serves the list from before the laptop, which does not name it",
            ),
            step(
                "set_up_device",
                set_up(Some(&forged)),
                refused("device_list_invalid"),
                "a newer list without the laptop, signed by another identity",
            ),
            step(
                "has_key",
                held.clone(),
                ok(json!({ "held": true })),
                "none of these made the laptop forget anything",
            ),
            step(
                "set_up_device",
                set_up(Some(&revoked)),
                refused("device_revoked"),
                "the phone revoked the laptop: alice's list, newer, no longer names it",
            ),
            step(
                "has_key",
                held.clone(),
                ok(json!({ "held": false })),
                "the laptop forgot its keys",
            ),
            step(
                "set_up_device",
                set_up(Some(&revoked)),
                refused("no_identity"),
                "on its next start it holds no identity to sign itself back in with",
            ),
            step(
                "my_bundle",
                json!({}),
                refused("no_identity"),
                "nor anything else of alice's",
            ),
            step_on(
                "tablet",
                "observe_device_list",
                json!({ "user_id": ALICE, "device_list": revoked }),
                refused("device_revoked"),
                "another revoked device meets the list while sealing a key, not at start",
            ),
            step_on(
                "tablet",
                "has_key",
                held,
                ok(json!({ "held": false })),
                "it forgot its keys too",
            ),
        ],
    );
    value.1["machines"] = json!({ "tablet": { "user_id": ALICE, "state": doc(&state) } });
    value
}

trait WithSave {
    fn with_save(self, name: &str) -> Value;
}

impl WithSave for Value {
    fn with_save(mut self, name: &str) -> Value {
        self["save"] = json!(name);
        self
    }
}

/// Channel-wide mentions in encrypted channels: the size rule applied from
/// the verified log, whatever the server says of roles and size.
fn channel_mention_by_log() -> (String, Value) {
    let (a, b, c) = (alice(), bob(), carol());
    let state = state_of(&c, &[&a, &b]);
    // alice owns room 10, bob is a member, carol (me) a member: 3 people.
    let real = room_log();
    // The server makes bob an admin with an entry bob signed himself.
    let mut promoted = real.clone();
    let head = MembershipEntry::parse(&real[2]).unwrap();
    let fields = EntryFields {
        room_id: ROOM,
        seq: head.seq() + 1,
        prev_hash: head.hash(),
        timestamp: T0 + 10,
        op: Op::SetRole,
        subject_id: BOB,
        role: Some(Role::Admin),
        public: false,
        seconds: 0,
    };
    promoted.push(
        MembershipEntry::sign_unchecked(&b, fields)
            .unwrap()
            .to_wire(),
    );
    // The server shows a smaller room: the log without carol's add.
    let shrunk = real[..2].to_vec();
    let mention = |sender: i64, text: &str, max: Option<u64>| json!({ "room_id": ROOM, "sender_id": sender, "text": text, "username": "carol", "max_members": max });
    let counted = |me: bool| ok(json!({ "mentions_me": me, "channel_wide": true }));
    scenario(
        "channel_mention_by_log",
        "Above the owner's size, a channel-wide mention counts only from an owner or admin of the verified membership log; a server that makes a member admin or shrinks the room changes nothing.",
        &state,
        vec![
            step(
                "mention",
                mention(BOB, "@channel deploy", Some(2)),
                ok(json!({ "mentions_me": false, "channel_wide": true, "allowed": false })),
                "no verified log yet: the mention is not counted",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": real }),
                ok(json!({ "length": 3 })),
                "the room's log: alice owner, bob and carol members",
            ),
            step(
                "mention",
                mention(BOB, "@channel deploy", Some(2)),
                ok(json!({ "mentions_me": false, "channel_wide": true, "allowed": false })),
                "a member's @channel in a room of 3 above the size 2",
            ),
            step(
                "mention",
                mention(ALICE, "@here deploy", Some(2)),
                counted(true),
                "the owner's",
            ),
            step(
                "mention",
                mention(BOB, "@room deploy", Some(3)),
                counted(true),
                "a member's at the size",
            ),
            step(
                "mention",
                mention(BOB, "@everyone deploy", None),
                counted(true),
                "no size set",
            ),
            step(
                "mention",
                mention(BOB, "`@channel` and @carol", Some(2)),
                ok(json!({ "mentions_me": true, "channel_wide": false })),
                "code does not count; a mention by name always does",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": promoted }),
                refused("log_invalid"),
                "the server adds an entry in which bob, a member, makes himself admin",
            ),
            step(
                "verify_log",
                json!({ "room_id": ROOM, "entries": shrunk }),
                refused("log_invalid"),
                "the server serves the log without carol's add: 2 members",
            ),
            step(
                "mention",
                mention(BOB, "@channel deploy", Some(2)),
                ok(json!({ "mentions_me": false, "channel_wide": true, "allowed": false })),
                "still not counted: the roles and size of the verified log stand",
            ),
        ],
    )
}
