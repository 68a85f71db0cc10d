//! Passkeys against the real binary, on every configured storage backend.
//! The authenticator is webauthn-authenticator-rs's `SoftPasskey` (the
//! software authenticator webauthn-rs's own tests use): it makes real key
//! pairs and signs real assertions, so the server's verification is
//! exercised end to end. Covered: adding, listing and removing passkeys;
//! password-less sign-in; a passkey as the second factor of a password
//! sign-in; and the refusals — an unknown credential, another account's
//! credential, a replayed challenge, a removed passkey, and the lockout
//! after repeated wrong answers.
//!
//! `SoftPasskey` keeps no resident credentials, so for the password-less
//! (discoverable) sign-in the test plays the part a browser and a
//! resident-key authenticator play together: it names the credential the
//! authenticator holds and returns the user handle it was registered with.
//! The user handle is not covered by the signature; the server checks it
//! against the one it stored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use testkit::{PeerSpec, Server, backends, new_user};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

/// pyotp, for turning TOTP on (the second-factor step only exists then).
const PYOTP: PeerSpec = PeerSpec {
    what: "the TOTP test peer (pyotp)",
    venv: "totp-peer",
    python_var: "TOTP_PEER",
    script: "tests/totp/totp_code.py",
    requirements: "tests/totp/requirements.txt",
};

/// The password `new_user` registers with.
const PASSWORD: &str = "plum-kettle-orbit-7";

type Authenticator = WebauthnAuthenticator<SoftPasskey>;

fn authenticator() -> Authenticator {
    // `true`: it reports user verification, which passkeys require.
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

/// The origin the test's "browser" is on: WebAuthn needs a domain name,
/// so the server is reached as `localhost`, not `127.0.0.1`.
fn origin(server: &Server) -> Url {
    Url::parse(&format!("http://localhost:{}", server.port)).unwrap()
}

/// Sends `method path` to the server through `localhost`.
async fn call(
    server: &Server,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", origin(server).as_str().trim_end_matches('/'));
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A passkey the server registered: its credential id (base64url) and the
/// user handle it was made with.
struct Registered {
    credential_id: String,
    user_handle: String,
    id: i64,
}

/// Registers a passkey on `authenticator` for the holder of `token`.
async fn register(
    server: &Server,
    token: &str,
    authenticator: &mut Authenticator,
    name: &str,
) -> Registered {
    let (s, begun) = call(
        server,
        Some(token),
        "POST",
        "/api/auth/passkeys/register/begin",
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "{begun}");
    assert_eq!(
        begun["options"]["publicKey"]["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    let user_handle = begun["options"]["publicKey"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let options: CreationChallengeResponse =
        serde_json::from_value(begun["options"].clone()).unwrap();
    let credential = authenticator
        .do_registration(origin(server), options)
        .unwrap();
    let credential_id = serde_json::to_value(&credential).unwrap()["rawId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, done) = call(
        server,
        Some(token),
        "POST",
        "/api/auth/passkeys/register/finish",
        Some(json!({
            "challenge_id": begun["challenge_id"],
            "name": name,
            "credential": credential,
        })),
    )
    .await;
    assert_eq!(s, 201, "{done}");
    assert_eq!(done["passkey"]["name"], name);
    Registered {
        credential_id,
        user_handle,
        id: done["passkey"]["id"].as_i64().unwrap(),
    }
}

/// A password-less sign-in challenge: its id and options.
async fn sign_in_challenge(server: &Server) -> (String, Value) {
    let (s, begun) = call(
        server,
        None,
        "POST",
        "/api/auth/passkeys/sign-in/begin",
        None,
    )
    .await;
    assert_eq!(s, 200, "{begun}");
    let allowed = &begun["options"]["publicKey"]["allowCredentials"];
    assert!(
        allowed.is_null() || allowed.as_array().unwrap().is_empty(),
        "a discoverable challenge names no credential: {allowed}"
    );
    (
        begun["challenge_id"].as_str().unwrap().to_owned(),
        begun["options"].clone(),
    )
}

/// `authenticator`'s answer to `options` with the credential
/// `credential_id`, returning `user_handle` as a resident key would.
fn answer(
    server: &Server,
    authenticator: &mut Authenticator,
    mut options: Value,
    credential_id: &str,
    user_handle: &str,
) -> Value {
    options["publicKey"]["allowCredentials"] = json!([{"type": "public-key", "id": credential_id}]);
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let assertion = authenticator
        .do_authentication(origin(server), options)
        .unwrap();
    let mut assertion = serde_json::to_value(assertion).unwrap();
    assertion["response"]["userHandle"] = json!(user_handle);
    assertion
}

/// A password-less sign-in answered by `authenticator`.
async fn sign_in(
    server: &Server,
    authenticator: &mut Authenticator,
    passkey: &Registered,
) -> (u16, Value) {
    let (challenge_id, options) = sign_in_challenge(server).await;
    let credential = answer(
        server,
        authenticator,
        options,
        &passkey.credential_id,
        &passkey.user_handle,
    );
    finish(server, &challenge_id, credential).await
}

async fn finish(server: &Server, challenge_id: &str, credential: Value) -> (u16, Value) {
    call(
        server,
        None,
        "POST",
        "/api/auth/passkeys/sign-in/finish",
        Some(json!({"challenge_id": challenge_id, "credential": credential})),
    )
    .await
}

#[tokio::test]
async fn passkeys_sign_in_without_a_password() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, token) = new_user(&server, "petra").await;
        let (_, other_token) = new_user(&server, "quinn").await;

        // Adding one needs the current password.
        let (s, body) = call(
            &server,
            Some(&token),
            "POST",
            "/api/auth/passkeys/register/begin",
            Some(json!({"password": "not-the-password-1"})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_credentials"))
        );

        let mut laptop = authenticator();
        let passkey = register(&server, &token, &mut laptop, "Laptop").await;
        let (s, list) = call(&server, Some(&token), "GET", "/api/auth/passkeys", None).await;
        assert_eq!(s, 200, "{list}");
        assert_eq!(list["passkeys"].as_array().unwrap().len(), 1);
        assert_eq!(list["passkeys"][0]["name"], "Laptop");
        assert!(list["passkeys"][0]["last_used_at"].is_null());
        // Nobody else sees it.
        let (_, theirs) = call(
            &server,
            Some(&other_token),
            "GET",
            "/api/auth/passkeys",
            None,
        )
        .await;
        assert_eq!(theirs["passkeys"], json!([]));

        // Password-less sign-in: a session for the passkey's owner.
        let (s, signed_in) = sign_in(&server, &mut laptop, &passkey).await;
        assert_eq!(s, 200, "{signed_in}");
        assert_eq!(signed_in["user"]["username"], "petra");
        let session = signed_in["token"].as_str().unwrap();
        let (s, me) = call(&server, Some(session), "GET", "/api/auth/me", None).await;
        assert_eq!((s, me["user"]["username"].as_str()), (200, Some("petra")));
        let (_, list) = call(&server, Some(&token), "GET", "/api/auth/passkeys", None).await;
        assert!(list["passkeys"][0]["last_used_at"].is_string(), "{list}");

        // A replayed answer (same challenge, same signature) is refused.
        let (challenge_id, options) = sign_in_challenge(&server).await;
        let credential = answer(
            &server,
            &mut laptop,
            options,
            &passkey.credential_id,
            &passkey.user_handle,
        );
        let (s, _) = finish(&server, &challenge_id, credential.clone()).await;
        assert_eq!(s, 200);
        let (s, body) = finish(&server, &challenge_id, credential).await;
        assert_eq!((s, body["code"].as_str()), (401, Some("invalid_passkey")));

        // A credential the server never registered is refused: an
        // authenticator that answered a registration nobody finished.
        let mut stranger = authenticator();
        let (_, begun) = call(
            &server,
            Some(&other_token),
            "POST",
            "/api/auth/passkeys/register/begin",
            Some(json!({"password": PASSWORD})),
        )
        .await;
        let unfinished = stranger
            .do_registration(
                origin(&server),
                serde_json::from_value(begun["options"].clone()).unwrap(),
            )
            .unwrap();
        let unknown_id = serde_json::to_value(&unfinished).unwrap()["rawId"]
            .as_str()
            .unwrap()
            .to_owned();
        let (challenge_id, options) = sign_in_challenge(&server).await;
        let credential = answer(
            &server,
            &mut stranger,
            options,
            &unknown_id,
            &passkey.user_handle,
        );
        let (s, body) = finish(&server, &challenge_id, credential).await;
        assert_eq!((s, body["code"].as_str()), (401, Some("invalid_passkey")));

        // The right credential id with another authenticator's signature
        // is refused.
        let (challenge_id, options) = sign_in_challenge(&server).await;
        let mut forged = answer(
            &server,
            &mut stranger,
            options,
            &unknown_id,
            &passkey.user_handle,
        );
        forged["id"] = json!(passkey.credential_id);
        forged["rawId"] = json!(passkey.credential_id);
        let (s, body) = finish(&server, &challenge_id, forged).await;
        assert_eq!((s, body["code"].as_str()), (401, Some("invalid_passkey")));

        // A removed passkey no longer signs in, even on a challenge asked
        // before it was removed.
        let (challenge_id, options) = sign_in_challenge(&server).await;
        let (s, _) = call(
            &server,
            Some(&other_token),
            "DELETE",
            &format!("/api/auth/passkeys/{}", passkey.id),
            None,
        )
        .await;
        assert_eq!(s, 404, "only its owner removes it");
        let (s, _) = call(
            &server,
            Some(&token),
            "DELETE",
            &format!("/api/auth/passkeys/{}", passkey.id),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let credential = answer(
            &server,
            &mut laptop,
            options,
            &passkey.credential_id,
            &passkey.user_handle,
        );
        let (s, body) = finish(&server, &challenge_id, credential).await;
        assert_eq!((s, body["code"].as_str()), (401, Some("invalid_passkey")));
        let (s, body) = sign_in(&server, &mut laptop, &passkey).await;
        assert_eq!((s, body["code"].as_str()), (401, Some("invalid_passkey")));
        let (_, list) = call(&server, Some(&token), "GET", "/api/auth/passkeys", None).await;
        assert_eq!(list["passkeys"], json!([]));
    }
}

#[tokio::test]
async fn wrong_passkey_answers_lock_the_account() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, token) = new_user(&server, "rosa").await;
        let mut key = authenticator();
        let passkey = register(&server, &token, &mut key, "Key").await;

        // Five answers with a broken signature: each is refused and counted.
        for _ in 0..5 {
            let (challenge_id, options) = sign_in_challenge(&server).await;
            let mut credential = answer(
                &server,
                &mut key,
                options,
                &passkey.credential_id,
                &passkey.user_handle,
            );
            credential["response"]["signature"] = json!("AAAA");
            let (s, body) = finish(&server, &challenge_id, credential).await;
            assert_eq!((s, body["code"].as_str()), (401, Some("invalid_passkey")));
        }
        // Now even a right answer waits, and so does the password.
        let (s, _) = sign_in(&server, &mut key, &passkey).await;
        assert_eq!(s, 429);
        let (s, _) = call(
            &server,
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": "rosa", "password": PASSWORD})),
        )
        .await;
        assert_eq!(s, 429, "the account is locked for passwords too");
    }
}

/// pyotp's current code for `secret` (offset by `steps` 30-second steps).
fn code(secret: &str, steps: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    PYOTP
        .run_once(&[secret, &(now + steps * 30).to_string()])
        .trim()
        .to_owned()
}

/// A second-factor challenge for `username` (password checked again).
async fn second_factor_challenge(server: &Server, username: &str) -> (u16, Value) {
    call(
        server,
        None,
        "POST",
        "/api/auth/passkeys/second-factor/begin",
        Some(json!({"username": username, "password": PASSWORD})),
    )
    .await
}

/// The password sign-in of `username` with `passkey` as the second factor.
async fn login_with(server: &Server, username: &str, passkey: Value) -> (u16, Value) {
    call(
        server,
        None,
        "POST",
        "/api/auth/login",
        Some(json!({"username": username, "password": PASSWORD, "passkey": passkey})),
    )
    .await
}

#[tokio::test]
async fn a_passkey_is_a_second_factor() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, token) = new_user(&server, "sami").await;
        let (_, other_token) = new_user(&server, "tove").await;
        let mut key = authenticator();
        let passkey = register(&server, &token, &mut key, "Key").await;
        let mut their_key = authenticator();
        let theirs = register(&server, &other_token, &mut their_key, "Theirs").await;

        // Without TOTP there is no second step to answer.
        let (s, body) = second_factor_challenge(&server, "sami").await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("second_factor_not_needed"))
        );

        // TOTP on: the password alone asks for a second factor.
        let (s, setup) = call(
            &server,
            Some(&token),
            "POST",
            "/api/auth/2fa/totp/setup",
            None,
        )
        .await;
        assert_eq!(s, 200, "{setup}");
        let secret = setup["secret"].as_str().unwrap();
        let (s, enabled) = call(
            &server,
            Some(&token),
            "POST",
            "/api/auth/2fa/totp/enable",
            Some(json!({"code": code(secret, 0)})),
        )
        .await;
        assert_eq!(s, 200, "{enabled}");
        let (s, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": "sami", "password": PASSWORD})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("second_factor_required"))
        );

        // A wrong password gets no challenge.
        let (s, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/passkeys/second-factor/begin",
            Some(json!({"username": "sami", "password": "wrong-password-22"})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_credentials"))
        );

        // The passkey answers the second step.
        let (s, begun) = second_factor_challenge(&server, "sami").await;
        assert_eq!(s, 200, "{begun}");
        let allowed = begun["options"]["publicKey"]["allowCredentials"][0]["id"].clone();
        assert_eq!(allowed, json!(passkey.credential_id));
        let options: RequestChallengeResponse =
            serde_json::from_value(begun["options"].clone()).unwrap();
        let credential = key.do_authentication(origin(&server), options).unwrap();
        let answer = json!({"challenge_id": begun["challenge_id"], "credential": credential});
        let (s, signed_in) = login_with(&server, "sami", answer.clone()).await;
        assert_eq!(s, 200, "{signed_in}");
        assert_eq!(signed_in["user"]["username"], "sami");

        // Not twice.
        let (s, body) = login_with(&server, "sami", answer).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );

        // A malformed answer is a wrong one, not a malformed request.
        let (_, begun) = second_factor_challenge(&server, "sami").await;
        let (s, body) = login_with(
            &server,
            "sami",
            json!({"challenge_id": begun["challenge_id"], "credential": {"id": "x"}}),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );

        // Another account's passkey does not answer for this one.
        let (_, begun) = second_factor_challenge(&server, "sami").await;
        let mut options = begun["options"].clone();
        options["publicKey"]["allowCredentials"] =
            json!([{"type": "public-key", "id": theirs.credential_id}]);
        let credential = their_key
            .do_authentication(origin(&server), serde_json::from_value(options).unwrap())
            .unwrap();
        let (s, body) = login_with(
            &server,
            "sami",
            json!({"challenge_id": begun["challenge_id"], "credential": credential}),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );

        // A challenge made for one account does not serve another.
        let (_, begun) = second_factor_challenge(&server, "sami").await;
        let options: RequestChallengeResponse =
            serde_json::from_value(begun["options"].clone()).unwrap();
        let credential = key.do_authentication(origin(&server), options).unwrap();
        let (s, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/passkeys/sign-in/finish",
            Some(json!({"challenge_id": begun["challenge_id"], "credential": credential})),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (401, Some("invalid_passkey")));

        // A removed passkey is no second factor, even on an earlier challenge.
        let (_, begun) = second_factor_challenge(&server, "sami").await;
        let (s, _) = call(
            &server,
            Some(&token),
            "DELETE",
            &format!("/api/auth/passkeys/{}", passkey.id),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let options: RequestChallengeResponse =
            serde_json::from_value(begun["options"].clone()).unwrap();
        let credential = key.do_authentication(origin(&server), options).unwrap();
        let (s, body) = login_with(
            &server,
            "sami",
            json!({"challenge_id": begun["challenge_id"], "credential": credential}),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );
        let (s, body) = second_factor_challenge(&server, "sami").await;
        assert_eq!((s, body["code"].as_str()), (409, Some("no_passkeys")));
    }
}

#[tokio::test]
async fn a_bare_ip_address_offers_no_passkeys() {
    let server = Server::start(backends()[0]).await;
    let (status, body) = testkit::call(
        &server,
        None,
        "POST",
        "/api/auth/passkeys/sign-in/begin",
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("passkeys_unavailable"))
    );
}
