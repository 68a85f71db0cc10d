//! Checks `vectors/*.json`: the files are exactly what the generator builds
//! today, and every vector behaves as recorded through the public API.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/vectors.rs"]
mod vectors;

use serde_json::Value;

use securechat_crypto::encoding::to_wire;
use securechat_crypto::{
    Backup, ChannelKey, Envelope, Error, Identity, KeyRing, MembershipLog, PublicBundle,
    SafetyNumber, SealedShare, ShareContext, SharePurpose,
};

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap()
}

fn u32_of(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap()).unwrap()
}

fn bundles() -> Vec<PublicBundle> {
    load("identities.json")["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| PublicBundle::parse_for(s(&id["bundle"]), i(&id["user_id"])).unwrap())
        .collect()
}

fn identity(user_id: i64) -> Identity {
    let ids = load("identities.json");
    let found = ids["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|id| i(&id["user_id"]) == user_id)
        .unwrap();
    Identity::import(s(&found["export"])).unwrap()
}

fn bundle(user_id: i64) -> PublicBundle {
    identity(user_id).bundle()
}

fn purpose(name: &Value, request_id: &Value) -> SharePurpose {
    match s(name) {
        "initial" => SharePurpose::Initial,
        "rotation" => SharePurpose::Rotation,
        "request" => SharePurpose::Request {
            request_id: i(request_id),
        },
        other => panic!("unknown purpose {other}"),
    }
}

fn check_error(result: Result<impl Sized, Error>, case: &Value) {
    let err = result
        .err()
        .unwrap_or_else(|| panic!("{} accepted", case["case"]));
    assert_eq!(err.code(), s(&case["error"]), "{}", case["case"]);
    if let Some(field) = case["field"].as_str() {
        assert!(err.to_string().starts_with(field), "{err}");
    }
}

#[test]
fn files_match_the_generator() {
    for (name, value) in vectors::all().unwrap() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("vectors")
            .join(name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == vectors::render(&value),
            "{name} is stale: run `cargo run -p securechat-crypto --example gen-vectors`"
        );
    }
}

#[test]
fn identities() {
    for id in load("identities.json")["identities"].as_array().unwrap() {
        let uid = i(&id["user_id"]);
        let seed: [u8; 32] = hex::decode(s(&id["signing_seed_hex"]))
            .unwrap()
            .try_into()
            .unwrap();
        let dh: [u8; 32] = hex::decode(s(&id["agreement_secret_hex"]))
            .unwrap()
            .try_into()
            .unwrap();
        let identity = Identity::from_secrets(uid, &seed, &dh);
        assert_eq!(identity.export().as_str(), s(&id["export"]));
        let b = PublicBundle::parse_for(s(&id["bundle"]), uid).unwrap();
        assert_eq!(b, identity.bundle());
        assert_eq!(hex::encode(b.signing_key()), s(&id["signing_public_hex"]));
        assert_eq!(
            hex::encode(b.agreement_key()),
            s(&id["agreement_public_hex"])
        );
        assert_eq!(to_wire(&b.fingerprint()), s(&id["fingerprint"]));
    }
}

#[test]
fn shares() {
    let v = load("shares.json");
    for case in v["valid"].as_array().unwrap() {
        let share = SealedShare::parse(s(&case["encrypted_key"])).unwrap();
        let expected = ShareContext {
            room_id: case["room_id"].as_i64().unwrap_or(0),
            channel_id: i(&case["channel_id"]),
            key_version: u32_of(&case["key_version"]),
            sender_id: i(&case["sender_id"]),
            recipient_id: i(&case["recipient_id"]),
            purpose: purpose(&case["purpose"], &case["request_id"]),
        };
        assert_eq!(*share.context(), expected);
        assert_eq!(
            u64::from(share.format()),
            case["format"].as_u64().unwrap_or(1)
        );
        if let Some(binding) = share.binding() {
            assert_eq!(binding.log_seq, case["log_seq"].as_u64().unwrap());
            assert_eq!(
                hex::encode(binding.commitment),
                s(&case["key_commitment_hex"])
            );
        }
        assert_eq!(
            share.context().purpose.is_key_rotation(),
            case["is_key_rotation"].as_bool().unwrap()
        );
        let key = share
            .open(
                &identity(expected.recipient_id),
                &bundle(expected.sender_id),
                &expected,
            )
            .unwrap();
        assert_eq!(key, ChannelKey::import(s(&case["channel_key"])).unwrap());
    }
    for case in v["invalid"].as_array().unwrap() {
        let o = &case["open_as"];
        let expected = ShareContext {
            room_id: o["room_id"].as_i64().unwrap_or(0),
            channel_id: i(&o["channel_id"]),
            key_version: u32_of(&o["key_version"]),
            sender_id: i(&o["sender_id"]),
            recipient_id: i(&o["recipient_id"]),
            purpose: purpose(&o["purpose"], &o["request_id"]),
        };
        let result = SealedShare::parse(s(&case["encrypted_key"])).and_then(|sh| {
            sh.open(
                &identity(expected.recipient_id),
                &bundle(expected.sender_id),
                &expected,
            )
        });
        check_error(result, case);
    }
}

#[test]
fn messages() {
    let v = load("messages.json");
    for case in v["valid"].as_array().unwrap() {
        let env = Envelope::parse(s(&case["envelope"])).unwrap();
        assert_eq!(env.header().counter, u32_of(&case["counter"]));
        assert_eq!(
            u64::from(env.format()),
            case["format"].as_u64().unwrap_or(1)
        );
        if let Some(b) = env.binding() {
            assert_eq!(b.room_id, i(&case["room_id"]));
            assert_eq!(b.kind.name(), s(&case["kind"]));
            assert_eq!(b.target_id, i(&case["target_id"]));
            assert_eq!(b.reply_to, i(&case["reply_to"]));
        }
        let plain = env
            .decrypt(
                &ChannelKey::import(s(&case["channel_key"])).unwrap(),
                &bundle(i(&case["sender_id"])),
                i(&case["channel_id"]),
                u32_of(&case["key_version"]),
            )
            .unwrap();
        assert_eq!(hex::encode(plain.as_slice()), s(&case["plaintext_hex"]));
    }
    let key = ChannelKey::import(s(&v["valid"][0]["channel_key"])).unwrap();
    for case in v["invalid"].as_array().unwrap() {
        let result = Envelope::parse(s(&case["envelope"])).and_then(|e| {
            e.decrypt(
                &key,
                &bundle(i(&case["sender_id"])),
                i(&case["read_as"]["channel_id"]),
                u32_of(&case["read_as"]["key_version"]),
            )
        });
        check_error(result, case);
    }
}

#[test]
fn membership() {
    let v = load("membership.json");
    let keys = KeyRing::from_bundles(bundles());
    for case in v["valid"].as_array().unwrap() {
        let entries: Vec<&str> = case["entries"].as_array().unwrap().iter().map(s).collect();
        let log = MembershipLog::verify_wire(&entries, &keys).unwrap();
        assert_eq!(to_wire(&log.head_hash()), s(&case["head_hash"]));
        for (seq, expected) in case["members_after"].as_array().unwrap().iter().enumerate() {
            let state = log.state_at(seq as u64).unwrap();
            let got: Vec<(i64, &str)> = state
                .members
                .iter()
                .map(|(&u, r)| (u, r.as_str()))
                .collect();
            let want: Vec<(i64, &str)> = expected
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (i(&m["user_id"]), s(&m["role"])))
                .collect();
            assert_eq!(got, want, "{} after {seq}", case["name"]);
        }
        for timer in case["timers"].as_array().into_iter().flatten() {
            assert_eq!(
                i64::from(log.state().timer(i(&timer["channel_id"]))),
                i(&timer["seconds"]),
                "{}",
                case["name"]
            );
        }
    }
    for case in v["invalid"].as_array().unwrap() {
        let entries: Vec<&str> = case["entries"].as_array().unwrap().iter().map(s).collect();
        let err = MembershipLog::verify_wire(&entries, &keys).unwrap_err();
        assert_eq!(err.code(), s(&case["error"]), "{}", case["case"]);
        assert!(
            err.to_string().contains(&format!(" {}", case["seq"])),
            "{err}"
        );
    }
}

#[test]
fn safety_numbers() {
    for case in load("safety.json")["pairs"].as_array().unwrap() {
        let n = SafetyNumber::compute(&bundle(i(&case["user_a"])), &bundle(i(&case["user_b"])));
        assert_eq!(n.digits(), s(&case["digits"]));
        assert_eq!(n.display(), s(&case["display"]));
        assert_eq!(hex::encode(n.bytes()), s(&case["bytes_hex"]));
    }
}

#[test]
fn backup() {
    let v = load("backup.json");
    let b = Backup::parse(s(&v["blob"])).unwrap();
    // The vector is format 1 (identity only), which every reader keeps opening.
    assert_eq!(b.version(), 1);
    assert_eq!(
        u64::from(b.params().unwrap().m_cost),
        v["params"]["m_cost"].as_u64().unwrap()
    );
    let restored = b.open(s(&v["passphrase"]).as_bytes()).unwrap();
    assert_eq!(restored.export().as_str(), s(&v["identity_export"]));
    assert_eq!(
        b.open(b"correct horse battery stapler")
            .err()
            .map(|e| e.code()),
        Some(s(&v["wrong_passphrase_error"]))
    );
}
