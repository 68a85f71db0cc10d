//! `/api/openapi.json` is a valid OpenAPI 3.1 document (checked by
//! `openapi-spec-validator`, which `make api-check` installs) and says what
//! the server does: unique operation ids, parameters where the server reads
//! them, and the session every non-public operation needs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::Value;
use testkit::{Server, api_client};

/// The operations that need no session.
const PUBLIC: [&str; 14] = [
    "register",
    "login",
    "registration_info",
    "redeem_password_reset",
    "auth_options",
    "oidc_login",
    "oidc_callback",
    "oidc_second_factor",
    "passkey_sign_in_begin",
    "passkey_sign_in_finish",
    "passkey_second_factor_begin",
    "unsubscribe_page",
    "unsubscribe",
    "post_webhook_message",
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document() -> Value {
    let server = Server::start(testkit::Backend::Sqlite).await;
    api_client()
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                all.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    all
}

/// `openapi-spec-validator` from the venv `make api-check` builds (or
/// `OPENAPI_SPEC_VALIDATOR`).
fn validator() -> PathBuf {
    let path = std::env::var_os("OPENAPI_SPEC_VALIDATOR").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/api-check/bin/openapi-spec-validator")
        },
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "openapi-spec-validator is missing at {}: run `make api-check` (or set OPENAPI_SPEC_VALIDATOR)",
        path.display()
    );
    path
}

#[tokio::test]
async fn document_is_valid_openapi() {
    let doc = document().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let output = std::process::Command::new(validator())
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the OpenAPI document is invalid:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn operations_are_complete() {
    let doc = document().await;
    let ops = operations(&doc);
    assert!(ops.len() > 40, "only {} operations", ops.len());
    let mut ids = HashSet::new();
    let mut problems = Vec::new();
    for (method, path, op) in &ops {
        let name = format!("{method} {path}");
        let Some(id) = op["operationId"].as_str() else {
            problems.push(format!("{name}: no operationId"));
            continue;
        };
        if !ids.insert(id) {
            problems.push(format!("{name}: operationId {id} is used twice"));
        }
        let responses = &op["responses"];
        for param in op["parameters"].as_array().into_iter().flatten() {
            let pname = param["name"].as_str().unwrap();
            if param["in"] == "path" && !path.contains(&format!("{{{pname}}}")) {
                problems.push(format!("{name}: {pname} is not in the path"));
            }
        }
        if path.contains('{') && responses.get("400").is_none() {
            problems.push(format!("{name}: no 400 for an invalid path"));
        }
        let public = PUBLIC.contains(&id);
        let security = op["security"].as_array();
        if public {
            if security.is_some_and(|s| !s.is_empty()) {
                problems.push(format!("{name}: public but requires a session"));
            }
        } else {
            let schemes: HashSet<&str> = security
                .into_iter()
                .flatten()
                .flat_map(|req| req.as_object().unwrap().keys().map(String::as_str))
                .collect();
            if schemes != HashSet::from(["cookie", "bearer"]) {
                problems.push(format!("{name}: security is {schemes:?}"));
            }
            if responses.get("401").is_none() {
                problems.push(format!("{name}: no 401"));
            }
        }
        if let Some(content) = op["requestBody"]["content"].as_object() {
            if content.contains_key("application/json") {
                for status in ["400", "413", "415", "422"] {
                    if responses.get(status).is_none() {
                        problems.push(format!("{name}: JSON body without a {status}"));
                    }
                }
            }
            if let Some(binary) = content.get("application/octet-stream") {
                let schema = &binary["schema"];
                let schema = match schema["$ref"].as_str() {
                    Some(r) => {
                        &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]
                    }
                    None => schema,
                };
                if schema["type"] != "string" || schema["format"] != "binary" {
                    problems.push(format!("{name}: the upload is not binary: {schema}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
