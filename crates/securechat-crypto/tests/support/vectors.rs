//! The deterministic test vectors, built from fixed secrets and seeded RNGs.
//!
//! Shared by `examples/gen-vectors.rs` (which writes `vectors/*.json`) and
//! `tests/vectors.rs` (which rebuilds them and requires byte equality, then
//! checks each one through the public API). The WASM test
//! (`tests-wasm/vectors.test.mjs`) checks the same files in Node.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use securechat_crypto::encoding::to_wire;
use securechat_crypto::{
    Action, Backup, BackupParams, ChannelKey, EntryFields, Envelope, Error, Identity,
    MembershipEntry, MembershipLog, MessageBinding, MessageKind, Op, Role, SafetyNumber,
    SealedShare, SharePurpose, kdf, labels,
};

/// The vector users: (user id, name).
pub const USERS: [(i64, &str); 4] = [(1, "alice"), (2, "bob"), (3, "carol"), (4, "dave")];

fn secret(purpose: &str, user_id: i64) -> [u8; 32] {
    Sha256::digest(format!("securechat test vector {purpose} {user_id}")).into()
}

/// The fixed identity of a vector user.
pub fn identity(user_id: i64) -> Identity {
    Identity::from_secrets(user_id, &secret("sign", user_id), &secret("dh", user_id))
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn channel_key(version: u32) -> ChannelKey {
    ChannelKey::from_bytes(secret("channel key", i64::from(version)))
}

fn code(r: Result<impl Sized, Error>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => e.code().to_string(),
    }
}

fn identities() -> Value {
    let list: Vec<Value> = USERS
        .iter()
        .map(|&(uid, name)| {
            let id = identity(uid);
            let b = id.bundle();
            json!({
                "name": name,
                "user_id": uid,
                "signing_seed_hex": hex::encode(secret("sign", uid)),
                "agreement_secret_hex": hex::encode(secret("dh", uid)),
                "signing_public_hex": hex::encode(b.signing_key()),
                "agreement_public_hex": hex::encode(b.agreement_key()),
                "export": id.export().as_str(),
                "bundle": b.to_wire(),
                "fingerprint": to_wire(&b.fingerprint()),
            })
        })
        .collect();
    json!({
        "description": "Identities from fixed secrets: export string, public bundle (the seed's public_key), fingerprint.",
        "labels": {
            "sig_bundle": String::from_utf8_lossy(labels::SIG_BUNDLE),
            "sig_share": String::from_utf8_lossy(labels::SIG_SHARE),
            "sig_message": String::from_utf8_lossy(labels::SIG_MESSAGE),
            "sig_membership": String::from_utf8_lossy(labels::SIG_MEMBERSHIP),
            "kdf_share": String::from_utf8_lossy(labels::KDF_SHARE),
            "kdf_message": String::from_utf8_lossy(labels::KDF_MESSAGE),
            "hash_membership": String::from_utf8_lossy(labels::HASH_MEMBERSHIP),
            "hash_bundle": String::from_utf8_lossy(labels::HASH_BUNDLE),
        },
        "identities": list,
    })
}

fn purpose_json(p: SharePurpose) -> (Value, Value) {
    match p {
        SharePurpose::Request { request_id } => (json!("request"), json!(request_id)),
        other => (json!(other.name()), Value::Null),
    }
}

fn shares() -> Result<Value, Error> {
    let cases = [
        (1, 2, 10, 1, SharePurpose::Initial, 101),
        (1, 3, 10, 2, SharePurpose::Rotation, 102),
        (2, 3, 10, 1, SharePurpose::Request { request_id: 55 }, 103),
    ];
    let mut valid = Vec::new();
    let mut first = None;
    for (sender, recipient, channel_id, version, purpose, seed) in cases {
        let key = channel_key(version);
        let share = SealedShare::seal_format1_with_rng(
            &identity(sender),
            &identity(recipient).bundle(),
            channel_id,
            version,
            purpose,
            &key,
            &mut rng(seed),
        )?;
        let bytes = share.to_bytes();
        // The ephemeral public key sits right before the ciphertext and signature.
        let eph: [u8; 32] = bytes[bytes.len() - 144..bytes.len() - 112]
            .try_into()
            .map_err(|_| Error::TooLarge(securechat_crypto::ObjectKind::Share))?;
        let header = &bytes[..bytes.len() - 112];
        let eph_secret = x25519_dalek::StaticSecret::from(seeded_bytes(seed));
        let shared = eph_secret.diffie_hellman(&x25519_dalek::PublicKey::from(
            identity(recipient).bundle().agreement_key(),
        ));
        let kek = kdf::share_kek(
            shared.as_bytes(),
            &eph,
            &identity(recipient).bundle().agreement_key(),
            header,
        )?;
        let (purpose_name, request_id) = purpose_json(purpose);
        valid.push(json!({
            "sender_id": sender,
            "recipient_id": recipient,
            "channel_id": channel_id,
            "key_version": version,
            "purpose": purpose_name,
            "request_id": request_id,
            "is_key_rotation": purpose.is_key_rotation(),
            "rng_seed": seed,
            "channel_key": key.export().as_str(),
            "ephemeral_public_hex": hex::encode(eph),
            "shared_secret_hex": hex::encode(shared.as_bytes()),
            "kek_hex": hex::encode(*kek.key),
            "nonce_hex": hex::encode(kek.nonce),
            "encrypted_key": share.to_wire(),
        }));
        first.get_or_insert(share);
    }
    // Format 2: bound to room 4 and log seq 6, with the key commitment.
    let mut second = None;
    for (sender, recipient, version, purpose, seed) in [
        (1, 2, 3, SharePurpose::Rotation, 104),
        (2, 1, 3, SharePurpose::Request { request_id: 56 }, 105),
    ] {
        let key = channel_key(version);
        let share = SealedShare::seal_with_rng(
            &identity(sender),
            &identity(recipient).bundle(),
            4,
            10,
            version,
            6,
            purpose,
            &key,
            &mut rng(seed),
        )?;
        let (purpose_name, request_id) = purpose_json(purpose);
        valid.push(json!({
            "format": 2,
            "room_id": 4,
            "log_seq": 6,
            "sender_id": sender,
            "recipient_id": recipient,
            "channel_id": 10,
            "key_version": version,
            "purpose": purpose_name,
            "request_id": request_id,
            "is_key_rotation": purpose.is_key_rotation(),
            "rng_seed": seed,
            "channel_key": key.export().as_str(),
            "key_commitment_hex": hex::encode(key.commitment(4, 10, version)),
            "encrypted_key": share.to_wire(),
        }));
        second.get_or_insert(share);
    }
    let bound = second.ok_or(Error::Rng)?.to_wire();
    let share = first.ok_or(Error::Rng)?;
    let wire = share.to_wire();
    let mut tampered = share.to_bytes();
    tampered[150] ^= 0x01;
    let open_as = |recipient: i64, sender: i64, channel_id: i64, version: u32, purpose: &str| {
        json!({"recipient_id": recipient, "sender_id": sender, "channel_id": channel_id,
               "key_version": version, "purpose": purpose, "request_id": Value::Null})
    };
    let invalid = vec![
        json!({"case": "opened for another channel", "encrypted_key": wire,
               "open_as": open_as(2, 1, 11, 1, "initial"), "error": "context_mismatch", "field": "channel_id"}),
        json!({"case": "opened for another key version", "encrypted_key": wire,
               "open_as": open_as(2, 1, 10, 2, "initial"), "error": "context_mismatch", "field": "key_version"}),
        json!({"case": "opened as another purpose", "encrypted_key": wire,
               "open_as": open_as(2, 1, 10, 1, "rotation"), "error": "context_mismatch", "field": "purpose"}),
        json!({"case": "opened by another recipient", "encrypted_key": wire,
               "open_as": open_as(3, 1, 10, 1, "initial"), "error": "context_mismatch", "field": "recipient_id"}),
        json!({"case": "ciphertext bit flipped", "encrypted_key": to_wire(&tampered),
               "open_as": open_as(2, 1, 10, 1, "initial"), "error": "bad_signature", "field": Value::Null}),
        json!({"case": "format 2 opened as a share of another room", "encrypted_key": bound,
               "open_as": {"room_id": 5, "recipient_id": 2, "sender_id": 1, "channel_id": 10, "key_version": 3,
                           "purpose": "rotation", "request_id": Value::Null},
               "error": "context_mismatch", "field": "room_id"}),
    ];
    Ok(json!({
        "description": "Sealed key shares (the seed's encrypted_key), format 1 and (with format: 2) format 2. rng_seed seeds ChaCha20 (rand_chacha 0.3) whose first 32 bytes are the ephemeral X25519 secret.",
        "valid": valid,
        "invalid": invalid,
    }))
}

fn seeded_bytes(seed: u64) -> [u8; 32] {
    use rand_core::RngCore;
    let mut b = [0u8; 32];
    rng(seed).fill_bytes(&mut b);
    b
}

/// (sender, channel, version, counter, plaintext, rng seed).
type MessageCase = (i64, i64, u32, u32, &'static [u8], u64);

fn messages() -> Result<Value, Error> {
    let cases: [MessageCase; 3] = [
        (1, 10, 1, 0, b"hello bob", 201),
        (
            2,
            10,
            1,
            0,
            "\u{4f60}\u{597d}, \u{4e16}\u{754c}".as_bytes(),
            202,
        ),
        (3, 10, 2, 7, b"", 203),
    ];
    let mut valid = Vec::new();
    for (sender, channel_id, version, counter, text, seed) in cases {
        let key = channel_key(version);
        let env = Envelope::encrypt_format1_with_rng(
            &identity(sender),
            &key,
            channel_id,
            version,
            counter,
            text,
            &mut rng(seed),
        )?;
        let bytes = env.to_bytes();
        let salt: [u8; 16] = seeded_bytes(seed)[..16]
            .try_into()
            .map_err(|_| Error::Rng)?;
        let mk = kdf::message_key(key.as_bytes(), &salt, &bytes[..42])?;
        valid.push(json!({
            "sender_id": sender,
            "channel_id": channel_id,
            "key_version": version,
            "counter": counter,
            "plaintext_hex": hex::encode(text),
            "rng_seed": seed,
            "channel_key": key.export().as_str(),
            "salt_hex": hex::encode(salt),
            "message_key_hex": hex::encode(*mk.key),
            "nonce_hex": hex::encode(mk.nonce),
            "envelope": env.to_wire(),
        }));
    }
    // Format 2: room 4, an edit of message 77 replying to 66.
    let binding = MessageBinding {
        room_id: 4,
        kind: MessageKind::Edit,
        target_id: 77,
        reply_to: 66,
    };
    let key = channel_key(1);
    let v2 = Envelope::encrypt_with_rng(
        &identity(2),
        &key,
        10,
        1,
        1,
        &binding,
        b"edited",
        &mut rng(204),
    )?;
    let bytes = v2.to_bytes();
    let salt: [u8; 16] = seeded_bytes(204)[..16].try_into().map_err(|_| Error::Rng)?;
    let mk = kdf::message_key(key.as_bytes(), &salt, &bytes[..99])?;
    valid.push(json!({
        "format": 2,
        "room_id": 4,
        "kind": "edit",
        "target_id": 77,
        "reply_to": 66,
        "sender_id": 2,
        "channel_id": 10,
        "key_version": 1,
        "counter": 1,
        "plaintext_hex": hex::encode(b"edited"),
        "rng_seed": 204,
        "channel_key": key.export().as_str(),
        "key_commitment_hex": hex::encode(key.commitment(4, 10, 1)),
        "salt_hex": hex::encode(salt),
        "message_key_hex": hex::encode(*mk.key),
        "nonce_hex": hex::encode(mk.nonce),
        "envelope": v2.to_wire(),
    }));
    let other_key = Envelope::encrypt_with_rng(
        &identity(1),
        &channel_key(2),
        10,
        1,
        0,
        &MessageBinding {
            kind: MessageKind::Message,
            target_id: 0,
            ..binding
        },
        b"x",
        &mut rng(212),
    )?;
    let env = Envelope::encrypt_format1_with_rng(
        &identity(1),
        &channel_key(1),
        10,
        1,
        0,
        b"x",
        &mut rng(210),
    )?;
    let forged = Envelope::encrypt_format1_with_rng(
        &identity(3),
        &channel_key(1),
        10,
        1,
        0,
        b"x",
        &mut rng(211),
    )?;
    let mut relabeled = forged.to_bytes();
    relabeled[14..22].copy_from_slice(&1i64.to_be_bytes());
    let read_as =
        |channel_id: i64, version: u32| json!({"channel_id": channel_id, "key_version": version});
    let invalid = vec![
        json!({"case": "replayed into another channel", "envelope": env.to_wire(), "sender_id": 1,
               "read_as": read_as(11, 1), "error": "context_mismatch", "field": "channel_id"}),
        json!({"case": "replayed under another key version", "envelope": env.to_wire(), "sender_id": 1,
               "read_as": read_as(10, 2), "error": "context_mismatch", "field": "key_version"}),
        json!({"case": "carol's message relabeled as alice's", "envelope": to_wire(&relabeled), "sender_id": 1,
               "read_as": read_as(10, 1), "error": "bad_signature", "field": Value::Null}),
        json!({"case": "format 2 made under another key for the version", "envelope": other_key.to_wire(), "sender_id": 1,
               "read_as": read_as(10, 1), "error": "context_mismatch", "field": "key_commitment"}),
    ];
    Ok(json!({
        "description": "Channel message envelopes, format 1 and (with format: 2) format 2; channel_key of version v is used (invalid cases are read with version 1's). rng_seed's first 16 ChaCha20 bytes are the salt.",
        "valid": valid,
        "invalid": invalid,
    }))
}

/// One scripted membership action: (actor, action, timestamp).
type Step = (i64, Action, u64);

fn action_json(actor: i64, action: Action, ts: u64) -> Value {
    let (op, subject, role) = match action {
        Action::Add { subject, role } => ("add", Some(subject), Some(role.as_str())),
        Action::Remove { subject } => ("remove", Some(subject), None),
        Action::Leave => ("leave", None, None),
        Action::JoinPublic => ("join_public", None, None),
        Action::SetRole { subject, role } => ("set_role", Some(subject), Some(role.as_str())),
        Action::RegisterChannel { channel } => ("channel", Some(channel), None),
        Action::SetDisappearing { channel, seconds } => {
            return json!({"actor_id": actor, "op": "disappearing", "subject_id": channel,
                "role": null, "seconds": seconds, "timestamp": ts});
        }
    };
    json!({"actor_id": actor, "op": op, "subject_id": subject, "role": role, "timestamp": ts})
}

fn members_json(log: &MembershipLog, seq: u64) -> Result<Value, Error> {
    let state = log.state_at(seq)?;
    Ok(state
        .members
        .iter()
        .map(|(&u, r)| json!({"user_id": u, "role": r.as_str()}))
        .collect())
}

fn log_json(
    name: &str,
    room_id: i64,
    public: bool,
    steps: &[Step],
    server_removal: Option<i64>,
) -> Result<(Value, MembershipLog), Error> {
    let t0 = 1_700_000_000;
    let mut log = MembershipLog::create(&identity(1), room_id, public, t0);
    let mut actions = Vec::new();
    for &(actor, action, ts) in steps {
        log.append(&identity(actor), action, ts)?;
        actions.push(action_json(actor, action, ts));
    }
    if let Some(subject) = server_removal {
        log.append_server_removal(subject, t0 + 100)?;
        actions.push(json!({"actor_id": 0, "op": "server_remove", "subject_id": subject, "role": Value::Null, "timestamp": t0 + 100}));
    }
    let mut members_after = Vec::new();
    for seq in 0..log.len() as u64 {
        members_after.push(members_json(&log, seq)?);
    }
    let mut value = json!({
        "name": name,
        "room_id": room_id,
        "public": public,
        "created_at": t0,
        "actions": actions,
        "entries": log.entries().iter().map(MembershipEntry::to_wire).collect::<Vec<_>>(),
        "members_after": members_after,
        "channels": log.channels().iter().copied().collect::<Vec<_>>(),
        "head_hash": to_wire(&log.head_hash()),
    });
    // Only logs that set timers say so, so the older vectors stay as they were.
    if !log.state().timers.is_empty() {
        value["timers"] = log
            .channels()
            .iter()
            .map(|&c| json!({"channel_id": c, "seconds": log.state().timer(c)}))
            .collect();
    }
    Ok((value, log))
}

fn membership() -> Result<Value, Error> {
    let t = 1_700_000_000;
    let add = |subject, role| Action::Add { subject, role };
    let private_steps: [Step; 7] = [
        (1, add(2, Role::Admin), t + 1),
        (1, add(3, Role::Member), t + 2),
        (2, add(4, Role::Member), t + 3),
        (4, Action::Leave, t + 4),
        (1, Action::Remove { subject: 3 }, t + 5),
        (
            1,
            Action::SetRole {
                subject: 2,
                role: Role::Owner,
            },
            t + 6,
        ),
        (2, Action::RegisterChannel { channel: 50 }, t + 7),
    ];
    let (private, plog) = log_json(
        "private room: add, leave, kick, ownership transfer, channel registration",
        100,
        false,
        &private_steps,
        None,
    )?;
    let (timers, _) = log_json(
        "encrypted channels with disappearing-message timers",
        300,
        false,
        &[
            (1, add(2, Role::Admin), t + 1),
            (1, Action::RegisterChannel { channel: 60 }, t + 2),
            (2, Action::RegisterChannel { channel: 61 }, t + 3),
            (
                2,
                Action::SetDisappearing {
                    channel: 60,
                    seconds: 300,
                },
                t + 4,
            ),
            (
                1,
                Action::SetDisappearing {
                    channel: 61,
                    seconds: 2_419_200,
                },
                t + 5,
            ),
            (
                1,
                Action::SetDisappearing {
                    channel: 61,
                    seconds: 0,
                },
                t + 6,
            ),
        ],
        None,
    )?;
    let (public, _) = log_json(
        "public room: join, server removal",
        200,
        true,
        &[(3, Action::JoinPublic, t + 1)],
        Some(3),
    )?;

    let entries: Vec<MembershipEntry> = plog.entries().to_vec();
    let wire = |es: &[MembershipEntry]| es.iter().map(MembershipEntry::to_wire).collect::<Vec<_>>();
    let prefix = &entries[..3];
    let head2 = entries[2].hash();
    let fields =
        |seq: u64, prev_hash: [u8; 32], op: Op, subject_id: i64, role: Option<Role>| EntryFields {
            room_id: 100,
            seq,
            prev_hash,
            timestamp: t + 9,
            op,
            subject_id,
            role,
            public: false,
            seconds: 0,
        };
    // Forged: "alice" adds dave with a key that is not alice's.
    let fake_alice = Identity::from_secrets(1, &secret("fake sign", 1), &secret("fake dh", 1));
    let forged = MembershipEntry::sign_unchecked(
        &fake_alice,
        fields(3, head2, Op::Add, 4, Some(Role::Member)),
    )?;
    // Unauthorized: carol (member) adds dave.
    let unauthorized = MembershipEntry::sign_unchecked(
        &identity(3),
        fields(3, head2, Op::Add, 4, Some(Role::Member)),
    )?;
    // Fork: two branches after entry 2; branch B's second entry spliced after branch A's first.
    let branch_b1 = MembershipEntry::sign_unchecked(
        &identity(1),
        fields(3, head2, Op::Add, 4, Some(Role::Admin)),
    )?;
    let branch_b2 = MembershipEntry::sign_unchecked(
        &identity(1),
        fields(4, branch_b1.hash(), Op::Remove, 4, None),
    )?;
    // Unsigned: an add with its signature stripped.
    let mut unsigned = entries[1].to_bytes();
    unsigned.truncate(unsigned.len() - 64);
    let mut reordered = entries.clone();
    reordered.swap(1, 2);

    let case = |name: &str, es: Vec<String>, error: &str, seq: u64| json!({"case": name, "entries": es, "error": error, "seq": seq});
    let concat = |es: &[MembershipEntry], extra: &[&MembershipEntry]| {
        let mut out = wire(es);
        out.extend(extra.iter().map(|e| e.to_wire()));
        out
    };
    let mut unsigned_log = wire(&entries[..1]);
    unsigned_log.push(to_wire(&unsigned));
    let invalid = vec![
        case(
            "forged signature",
            concat(prefix, &[&forged]),
            "log_bad_signature",
            3,
        ),
        case(
            "member adds someone",
            concat(prefix, &[&unauthorized]),
            "log_unauthorized",
            3,
        ),
        case("reordered", wire(&reordered), "log_out_of_order", 1),
        case("fork", concat(&entries[..4], &[&branch_b2]), "log_fork", 4),
        case("unsigned add", unsigned_log, "log_unsigned", 1),
        case(
            "first entry missing",
            wire(&entries[1..]),
            "log_not_genesis",
            1,
        ),
    ];
    Ok(json!({
        "description": "Membership logs. Verify with the bundles of identities.json; members_after[i] is the member set after entry i.",
        "valid": [private, public, timers],
        "invalid": invalid,
    }))
}

fn safety() -> Value {
    let pairs = [(1, 2), (2, 3)];
    let list: Vec<Value> = pairs
        .iter()
        .map(|&(a, b)| {
            let n = SafetyNumber::compute(&identity(a).bundle(), &identity(b).bundle());
            json!({"user_a": a, "user_b": b, "digits": n.digits(), "display": n.display(), "bytes_hex": hex::encode(n.bytes())})
        })
        .collect();
    json!({"description": "Safety numbers (60 digits) and their scannable byte form.", "pairs": list})
}

fn backup() -> Result<Value, Error> {
    let pass = "correct horse battery staple";
    let b = Backup::seal_v1_with(
        &identity(1),
        pass.as_bytes(),
        BackupParams::DEFAULT,
        &mut rng(301),
    )?;
    Ok(json!({
        "description": "Identity backup under a passphrase (Argon2id m=64MiB t=3 p=1). rng_seed's ChaCha20 output gives the salt (16) then the nonce (12).",
        "user_id": 1,
        "passphrase": pass,
        "rng_seed": 301,
        "params": {"m_cost": BackupParams::DEFAULT.m_cost, "t_cost": BackupParams::DEFAULT.t_cost, "p_cost": BackupParams::DEFAULT.p_cost},
        "blob": b.to_wire(),
        "identity_export": identity(1).export().as_str(),
        "wrong_passphrase_error": code(b.open(b"correct horse battery stapler")),
    }))
}

/// Every vector file: (file name, content).
pub fn all() -> Result<Vec<(&'static str, Value)>, Error> {
    Ok(vec![
        ("identities.json", identities()),
        ("shares.json", shares()?),
        ("messages.json", messages()?),
        ("membership.json", membership()?),
        ("safety.json", safety()),
        ("backup.json", backup()?),
    ])
}

/// The text written to a vector file.
pub fn render(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}
