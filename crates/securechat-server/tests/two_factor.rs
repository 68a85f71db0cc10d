//! Two-factor sign-in with TOTP against the real binary, on every
//! configured storage backend. Codes come from PyPI's pyotp
//! (`tests/totp/totp_code.py`), an implementation independent of the
//! server's, as an authenticator app's would: enrolment, sign-in with a
//! code, wrong and replayed codes, parallel sign-ins with one code (one
//! wins), recovery codes (once each), the lockout counting wrong second
//! factors, the site policy holding admins at enrolment, and turning it
//! off (by the person, and by an operator with `user reset-2fa`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::{SystemTime, UNIX_EPOCH};

use securechat_client::{Socket, SocketOptions};
use serde_json::{Value, json};
use testkit::{PeerSpec, Server, backends, call, db_count, new_user};

/// pyotp, run once per code.
const PYOTP: PeerSpec = PeerSpec {
    what: "the TOTP test peer (pyotp)",
    venv: "totp-peer",
    python_var: "TOTP_PEER",
    script: "tests/totp/totp_code.py",
    requirements: "tests/totp/requirements.txt",
};

/// The password `new_user` registers with.
const PASSWORD: &str = "plum-kettle-orbit-7";

/// pyotp's code for `secret` at `steps` 30-second steps from now (the
/// server accepts the previous, current and next step; a test that signs
/// in twice uses the current step, then the next, since a step is taken
/// once).
fn code(secret: &str, steps: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let at = (now + steps * 30).to_string();
    PYOTP.run_once(&[secret, &at]).trim().to_owned()
}

async fn login(server: &Server, username: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({"username": username, "password": PASSWORD});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    call(server, None, "POST", "/api/auth/login", Some(body)).await
}

/// POSTs `body` to `path` as the holder of `token`.
async fn post(server: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(server, Some(token), "POST", path, Some(body)).await
}

/// Asks for a new TOTP secret as the holder of `token`.
async fn totp_setup(server: &Server, token: &str) -> (u16, Value) {
    call(
        server,
        Some(token),
        "POST",
        "/api/auth/2fa/totp/setup",
        None,
    )
    .await
}

/// Sets TOTP up and turns it on with the current code; the base32 secret
/// and the recovery codes.
async fn enrol(server: &Server, token: &str) -> (String, Vec<String>) {
    let (s, setup) = totp_setup(server, token).await;
    assert_eq!(s, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let (s, enabled) = post(
        server,
        token,
        "/api/auth/2fa/totp/enable",
        json!({"code": code(&secret, 0)}),
    )
    .await;
    assert_eq!(s, 200, "{enabled}");
    let codes = enabled["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

#[tokio::test]
async fn enrolment_then_sign_in_with_a_code_and_no_replay() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (id, token) = new_user(&server, "erin").await;
        let (s, status) = call(&server, Some(&token), "GET", "/api/auth/2fa", None).await;
        assert_eq!(s, 200, "{status}");
        assert_eq!(status["totp_enabled"], false);
        assert_eq!(status["enrolment_required"], false);

        // Enabling needs a setup first.
        let (s, body) = post(
            &server,
            &token,
            "/api/auth/2fa/totp/enable",
            json!({"code": "123456"}),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (409, Some("totp_not_set_up")));

        let (s, first) = totp_setup(&server, &token).await;
        assert_eq!(s, 200, "{first}");
        let (s, setup) = totp_setup(&server, &token).await;
        assert_eq!(s, 200, "{setup}");
        let secret = setup["secret"].as_str().unwrap();
        assert_ne!(
            first["secret"], setup["secret"],
            "a new setup replaces the old"
        );
        assert_eq!(secret.len(), 32, "160 bits in base32");
        let uri = setup["otpauth_uri"].as_str().unwrap();
        assert!(uri.starts_with("otpauth://totp/Securechat:erin?"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")) && uri.contains("issuer=Securechat"));

        // A setup not yet enabled asks nothing at sign-in.
        assert_eq!(login(&server, "erin", json!({})).await.0, 200);

        // The first setup's code, or a wrong one, does not enable it.
        for wrong in [code(first["secret"].as_str().unwrap(), 0), "000000x".into()] {
            let (s, body) = post(
                &server,
                &token,
                "/api/auth/2fa/totp/enable",
                json!({"code": wrong}),
            )
            .await;
            assert!(matches!(s, 422 | 400), "{s} {body}");
        }
        // Kept: the replay below must send this very code, not the code of
        // whatever step the clock has reached by then.
        let enabling = code(secret, 0);
        let (s, enabled) = post(
            &server,
            &token,
            "/api/auth/2fa/totp/enable",
            json!({"code": enabling}),
        )
        .await;
        assert_eq!(s, 200, "{enabled}");
        let codes = enabled["recovery_codes"].as_array().unwrap();
        assert_eq!(codes.len(), 10);
        let (_, status) = call(&server, Some(&token), "GET", "/api/auth/2fa", None).await;
        assert_eq!(status["totp_enabled"], true);
        assert_eq!(status["recovery_codes_left"], 10);
        let (s, body) = totp_setup(&server, &token).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("totp_already_enabled"))
        );

        // The secret is not stored in the clear: 12-byte nonce, 20 bytes
        // sealed, 16-byte tag.
        let sealed = db_count(
            &server,
            "SELECT CAST(LENGTH(secret_sealed) AS BIGINT) FROM totp_credentials WHERE user_id = $1",
            id,
        )
        .await;
        assert_eq!(sealed, 48);
        assert!(!server.log().contains(secret), "the secret is in the log");

        // The password alone starts no session.
        let response = testkit::api_client()
            .post(server.url("/api/auth/login"))
            .json(&json!({"username": "erin", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().get("set-cookie").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "second_factor_required");
        assert!(body.get("token").is_none());

        let (s, body) = login(&server, "erin", json!({"totp_code": "000000"})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );
        // The code that enabled it is used up; the next step's works once.
        let (s, _) = login(&server, "erin", json!({"totp_code": enabling})).await;
        assert_eq!(s, 401, "the enabling code was replayed");
        let next = code(secret, 1);
        let (s, body) = login(&server, "erin", json!({"totp_code": next})).await;
        assert_eq!(s, 200, "{body}");
        assert!(body["token"].as_str().is_some());
        let (s, body) = login(&server, "erin", json!({"totp_code": next})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor")),
            "{backend:?}: a replayed code"
        );
        // Accounts without two-factor sign in as before.
        assert_eq!(
            testkit::login_status(&server, "alice", "password123").await,
            200
        );
    }
}

#[tokio::test]
async fn parallel_sign_ins_with_one_code_let_one_in() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (id, token) = new_user(&server, "frank").await;
        let (secret, _) = enrol(&server, &token).await;
        let sessions = db_count(
            &server,
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1",
            id,
        )
        .await;
        let next = code(&secret, 1);
        // Five: the account's lockout threshold, so none is refused before
        // its code is looked at.
        let attempts = (0..5).map(|_| login(&server, "frank", json!({"totp_code": next})));
        let results = futures_util::future::join_all(attempts).await;
        let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 200).count(),
            1,
            "{backend:?}: {results:?}"
        );
        assert!(
            results
                .iter()
                .all(|(s, b)| *s == 200 || b["code"] == "invalid_second_factor"),
            "{results:?}"
        );
        let after = db_count(
            &server,
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1",
            id,
        )
        .await;
        assert_eq!(after, sessions + 1, "{backend:?}: one session started");
    }
}

#[tokio::test]
async fn recovery_codes_work_once_and_can_be_replaced() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, token) = new_user(&server, "grace").await;
        let (secret, codes) = enrol(&server, &token).await;
        // Typed in capitals with spaces for the dash, it still counts.
        let typed = codes[0].to_uppercase().replace('-', " ");
        let (s, body) = login(&server, "grace", json!({"recovery_code": typed})).await;
        assert_eq!(s, 200, "{body}");
        let (s, body) = login(&server, "grace", json!({"recovery_code": codes[0]})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );
        let (_, status) = call(&server, Some(&token), "GET", "/api/auth/2fa", None).await;
        assert_eq!(status["recovery_codes_left"], 9);

        // New codes need a current code, and void the old ones.
        let (s, body) = post(
            &server,
            &token,
            "/api/auth/2fa/recovery-codes",
            json!({"totp_code": "000000"}),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );
        let (s, fresh) = post(
            &server,
            &token,
            "/api/auth/2fa/recovery-codes",
            json!({"totp_code": code(&secret, 1)}),
        )
        .await;
        assert_eq!(s, 200, "{fresh}");
        let fresh = fresh["recovery_codes"].as_array().unwrap();
        assert_eq!(fresh.len(), 10);
        let (s, _) = login(&server, "grace", json!({"recovery_code": codes[1]})).await;
        assert_eq!(s, 401, "{backend:?}: an old code after replacement");
        let (s, body) = login(&server, "grace", json!({"recovery_code": fresh[0]})).await;
        assert_eq!(s, 200, "{body}");
    }
}

#[tokio::test]
async fn wrong_second_factors_lock_the_account() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, token) = new_user(&server, "heidi").await;
        let (secret, codes) = enrol(&server, &token).await;
        // Asking for the code is not a failure: no lock however often.
        for _ in 0..8 {
            let (s, body) = login(&server, "heidi", json!({})).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (401, Some("second_factor_required"))
            );
        }
        // Wrong codes are: five, then the account is locked.
        let mut statuses = Vec::new();
        for guess in ["000000", "111111", "222222", "333333", "444444", "555555"] {
            statuses.push(login(&server, "heidi", json!({"totp_code": guess})).await.0);
        }
        assert_eq!(statuses[..5], [401; 5], "{backend:?}: {statuses:?}");
        assert_eq!(statuses[5], 429, "{backend:?}: {statuses:?}");
        // The lock holds even for a right code or recovery code.
        let (s, _) = login(&server, "heidi", json!({"totp_code": code(&secret, 1)})).await;
        assert_eq!(s, 429);
        let (s, _) = login(&server, "heidi", json!({"recovery_code": codes[0]})).await;
        assert_eq!(s, 429);
        // Signed-in checks (new recovery codes) count against the same lock.
        let (s, _) = post(
            &server,
            &token,
            "/api/auth/2fa/recovery-codes",
            json!({"totp_code": code(&secret, 1)}),
        )
        .await;
        assert_eq!(s, 429, "{backend:?}");
    }
}

#[tokio::test]
async fn the_policy_holds_admins_at_enrolment() {
    for backend in backends() {
        let server = Server::start_with(backend, &[("TWO_FACTOR_REQUIRED", "admins")]).await;
        let (s, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": "admin", "password": "admin123"})),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["second_factor_enrolment_required"], true);
        let admin = body["token"].as_str().unwrap().to_owned();
        let (s, body) = call(&server, Some(&admin), "GET", "/api/rooms", None).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (403, Some("second_factor_enrolment_required")),
            "{backend:?}"
        );
        let (s, me) = call(&server, Some(&admin), "GET", "/api/auth/me", None).await;
        assert_eq!(s, 200);
        assert_eq!(me["second_factor_enrolment_required"], true);
        let (_, status) = call(&server, Some(&admin), "GET", "/api/auth/2fa", None).await;
        assert_eq!(
            (
                status["required"].as_bool(),
                status["enrolment_required"].as_bool()
            ),
            (Some(true), Some(true))
        );

        // Members are not covered.
        let (s, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": "alice", "password": "password123"})),
        )
        .await;
        assert_eq!(body["second_factor_enrolment_required"], false);
        let alice = body["token"].as_str().unwrap().to_owned();
        assert_eq!(
            call(&server, Some(&alice), "GET", "/api/rooms", None)
                .await
                .0,
            200,
            "{s}"
        );

        // Socket.IO refuses the handshake, with the reason.
        let options = || SocketOptions::new(&server.base).unwrap().token(&admin);
        let Err(refused) = Socket::connect(options()).await else {
            panic!("{backend:?}: a socket was opened before enrolment");
        };
        assert!(refused.to_string().contains("two-factor"), "{refused}");

        // Once enrolled, the same session reaches everything, sockets too.
        enrol(&server, &admin).await;
        let (s, body) = call(&server, Some(&admin), "GET", "/api/rooms", None).await;
        assert_eq!(s, 200, "{body}");
        let (_, me) = call(&server, Some(&admin), "GET", "/api/auth/me", None).await;
        assert_eq!(me["second_factor_enrolment_required"], false);
        assert!(Socket::connect(options()).await.is_ok(), "{backend:?}");
    }
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, token) = new_user(&server, "ivan").await;
        let (secret, _) = enrol(&server, &token).await;
        let disable = |body: Value| {
            call(
                &server,
                Some(&token),
                "POST",
                "/api/auth/2fa/totp/disable",
                Some(body),
            )
        };
        let (s, body) =
            disable(json!({"password": "wrong-password", "totp_code": code(&secret, 1)})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_credentials"))
        );
        let (s, body) = disable(json!({"password": PASSWORD, "totp_code": "000000"})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );
        let (s, body) = disable(json!({"password": PASSWORD})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("second_factor_required"))
        );
        let (s, body) = disable(json!({"password": PASSWORD, "totp_code": code(&secret, 1)})).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(login(&server, "ivan", json!({})).await.0, 200);
        let (s, body) = disable(json!({"password": PASSWORD, "totp_code": "000000"})).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("totp_not_enabled")));

        // An operator resets it for someone locked out.
        let (_, judy) = new_user(&server, "judy").await;
        enrol(&server, &judy).await;
        assert_eq!(login(&server, "judy", json!({})).await.0, 401);
        let out = server.cli(&["user", "reset-2fa", "judy"], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            login(&server, "judy", json!({})).await.0,
            200,
            "{backend:?}"
        );
    }
}
