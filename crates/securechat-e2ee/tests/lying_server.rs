//! The lying-server suite: `scenarios/*.json` feed the machine scripted
//! server answers and state what the client must do (accept, refuse with a
//! code, warn, or send nothing).
//!
//! This file checks that the committed files are exactly what the generator
//! (`tests/support/scenarios.rs`) builds today, then runs every scenario
//! through [`securechat_e2ee::call`], the dispatcher the WebAssembly build
//! exposes too; `tests-wasm/lying_server.test.mjs` runs the same files
//! against that build in Node.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/scenarios.rs"]
mod scenarios;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use securechat_e2ee::{Machine, State, call};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The scenario files on disk, by name.
fn files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn files_match_the_generator() {
    let built = scenarios::all();
    let mut names: Vec<String> = built.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), built.len(), "two scenarios share a name");
    for (name, value) in &built {
        let on_disk = std::fs::read_to_string(dir().join(name)).unwrap_or_default();
        assert!(
            on_disk == scenarios::render(value),
            "scenarios/{name} is stale: run `cargo run -p securechat-e2ee --example gen-scenarios`"
        );
    }
    assert_eq!(
        files(),
        names,
        "scenarios/ holds files the generator no longer builds: run `cargo run -p securechat-e2ee --example gen-scenarios`"
    );
}

/// Whether `actual` contains `expected`: objects by key (extra keys
/// allowed), arrays of the same length paired in any order, anything else
/// by equality. The Node runner implements the same rule.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => want
            .iter()
            .all(|(k, v)| have.get(k).is_some_and(|h| matches(v, h))),
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                return false;
            }
            let mut used = vec![false; have.len()];
            want.iter().all(|w| {
                let found = have
                    .iter()
                    .enumerate()
                    .find(|(i, h)| !used[*i] && matches(w, h));
                found.is_some_and(|(i, _)| {
                    used[i] = true;
                    true
                })
            })
        }
        _ => expected == actual,
    }
}

/// `args` with every string `${name.field}` replaced by `field` of the
/// answer saved as `name`; a longer path goes deeper, a number indexing an
/// array (`${name.shares.0.encrypted_key}`).
fn substitute(args: &Value, saved: &BTreeMap<String, Value>) -> Value {
    match args {
        Value::String(s) => {
            if let Some(path) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                let (name, fields) = path.split_once('.').unwrap();
                let answer = saved
                    .get(name)
                    .unwrap_or_else(|| panic!("no answer saved as {name}"));
                return fields.split('.').fold(answer.clone(), |value, field| {
                    match (field.parse::<usize>(), &value) {
                        (Ok(i), Value::Array(items)) => items.get(i).cloned().unwrap_or_default(),
                        _ => value[field].clone(),
                    }
                });
            }
            args.clone()
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, saved)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, saved)))
                .collect(),
        ),
        _ => args.clone(),
    }
}

/// A machine over a scenario's state (a document, or its JSON text).
fn machine(state: &Value, user_id: i64) -> Machine {
    let text = match state {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let state = State::from_json(&text).unwrap();
    assert_eq!(state.user_id, user_id, "the state belongs to another user");
    Machine::new(state).unwrap()
}

/// Runs one scenario file; panics with every step that did not do what it
/// expects, naming the scenario, the step and the rule.
fn run(file: &str) {
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    let scenario: Value = serde_json::from_str(&text).unwrap();
    let name = scenario["name"].as_str().unwrap();
    let rule = scenario["rule"].as_str().unwrap();
    let mut machines = BTreeMap::new();
    machines.insert(
        "me".to_string(),
        machine(&scenario["state"], scenario["user_id"].as_i64().unwrap()),
    );
    if let Some(others) = scenario["machines"].as_object() {
        for (label, m) in others {
            machines.insert(
                label.clone(),
                machine(&m["state"], m["user_id"].as_i64().unwrap()),
            );
        }
    }
    let mut saved = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let op = step["op"].as_str().unwrap();
        let on = step["on"].as_str().unwrap_or("me");
        let note = step["note"].as_str().unwrap_or("");
        let args = substitute(&step["args"], &saved);
        let m = machines
            .get_mut(on)
            .unwrap_or_else(|| panic!("{name}: no machine {on}"));
        let result = call(m, op, &args);
        let expect = &step["expect"];
        let at = format!("scenario {name}, step {i} ({op} on {on}: {note})");
        match (&result, expect.get("refused").and_then(Value::as_str)) {
            (Ok(answer), None) => {
                if !matches(&expect["ok"], answer) {
                    failures.push(format!(
                        "{at}: answered {answer}, expected {}",
                        expect["ok"]
                    ));
                }
            }
            (Ok(answer), Some(code)) => {
                failures.push(format!("{at}: answered {answer}, expected refusal {code}"));
            }
            (Err(refusal), None) => failures.push(format!(
                "{at}: refused {} ({refusal}), expected {}",
                refusal.code(),
                expect["ok"]
            )),
            (Err(refusal), Some(code)) => {
                if refusal.code() != code {
                    failures.push(format!(
                        "{at}: refused {} ({refusal}), expected refusal {code}",
                        refusal.code()
                    ));
                }
            }
        }
        if let (Some(label), Ok(answer)) = (step["save"].as_str(), &result) {
            saved.insert(label.to_string(), answer.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "\n{}\n  rule: {rule}\n",
        failures.join("\n")
    );
}

/// One test per scenario file; `every_scenario_has_a_test` keeps the list
/// complete.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        const NAMES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                run(concat!(stringify!($name), ".json"));
            }
        )*
    };
}

scenarios!(
    share_from_non_member,
    share_fields_mismatch,
    share_signer_checks,
    request_share_unrequested,
    reshare_different_key,
    plan_send_rotation,
    downgrade,
    log_rollback_and_reset,
    log_unknown_signer,
    start_log_authority,
    make_version_recipients,
    make_version_not_member,
    read_message_checks,
    read_locked,
    two_devices,
    key_change,
    approve_request_checks,
    dm_log_two_people,
    private_room_stays_private,
    approve_releases_the_current_version,
    share_justified_by_log,
    rotation_after_removal,
    reader_checks_membership,
    approve_covers_requester,
    channel_stays_in_room,
    format1_history,
    envelope_metadata,
    thread_placement,
    key_commitment,
    forged_key_history,
    channel_registered_in_log,
    disappearing_timer_from_log,
    device_list_signed_by_identity,
    prekey_replay,
    prekey_forward_secrecy,
    device_revocation,
    device_linking,
    request_from_revoked_device,
    revoked_device_stays_out,
    channel_mention_by_log,
);

#[test]
fn every_scenario_has_a_test() {
    let mut listed: Vec<String> = NAMES.iter().map(|n| format!("{n}.json")).collect();
    listed.sort();
    assert_eq!(files(), listed);
}

#[test]
fn the_matcher_is_a_subset_match() {
    use serde_json::json;
    assert!(matches(&json!({}), &json!({"a": 1})));
    assert!(matches(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    assert!(!matches(&json!({"a": 1}), &json!({"a": 2})));
    assert!(!matches(&json!({"c": null}), &json!({"a": 1})));
    assert!(matches(
        &json!([{"u": 2}, {"u": 1}]),
        &json!([{"u": 1, "x": 0}, {"u": 2}])
    ));
    assert!(!matches(&json!([{"u": 1}]), &json!([{"u": 1}, {"u": 2}])));
    assert!(!matches(
        &json!([{"u": 1}, {"u": 1}]),
        &json!([{"u": 1}, {"u": 2}])
    ));
    assert!(!matches(&json!({}), &json!([])));
}

/// Two devices of one person, each with the device tag `Machine::new`
/// draws at random (the JSON scenario `two_devices` fixes the tags): both
/// messages verify for the reader, and neither is a replay.
#[test]
fn two_fresh_devices_are_not_replays() {
    use serde_json::json;
    let scenario: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("two_devices.json")).unwrap())
            .unwrap();
    let device_state = |label: &str| {
        let mut state = scenario["machines"][label]["state"].clone();
        state["device"] = json!(0);
        machine(&state, 1)
    };
    let mut laptop = device_state("laptop");
    let mut phone = device_state("phone");
    assert_ne!(laptop.device(), 0);
    assert_ne!(phone.device(), 0);
    if laptop.device() == phone.device() {
        // One chance in 65535: two devices drew the same tag. Nothing to
        // check about per-device counters then.
        return;
    }
    let mut reader = machine(&scenario["state"], 2);
    for (id, device, text) in [(1, &mut laptop, "laptop"), (2, &mut phone, "phone")] {
        let sealed = call(
            device,
            "seal",
            &json!({"channel_id": 100, "version": 1, "text": text, "now": 1_700_000_010u64}),
        )
        .unwrap();
        let shown = call(
            &mut reader,
            "read",
            &json!({"message": {"id": id, "channel_id": 100, "sender_id": 1,
                "envelope": sealed["envelope"], "key_version": 1}, "encrypted": true}),
        )
        .unwrap();
        assert_eq!(
            shown,
            json!({"kind": "verified", "text": text, "sender_id": 1, "what": "message", "reply_to": null})
        );
    }
}
