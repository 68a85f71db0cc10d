//! Accounts and sessions, end to end against the real binary, on every
//! configured storage backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::{Value, json};
use testkit::{
    Server, api_client, backends, browser, db_count, db_execute, login, login_status, me_status,
    post_as, text, token,
};

#[tokio::test]
async fn register_validates_and_refuses_duplicates_in_any_case() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let client = api_client();
        let post = |body: Value| {
            client
                .post(server.url("/api/auth/register"))
                .json(&body)
                .send()
        };

        let response = post(json!({"username": "Dave.Smith", "password": "otter-canvas-drum"}))
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{backend:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], true);
        assert_eq!(body["user"]["username"], "Dave.Smith");
        assert!(body["user"]["id"].as_i64().unwrap() > 0);

        for name in ["dave.smith", "DAVE.SMITH", "ALICE"] {
            let response = post(json!({"username": name, "password": "otter-canvas-drum"}))
                .await
                .unwrap();
            assert_eq!(response.status(), 409, "{backend:?} {name}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["success"], false);
            assert_eq!(body["code"], "username_taken");
        }

        for (body, code) in [
            (
                json!({"username": "ab", "password": "otter-canvas-drum"}),
                "invalid_username",
            ),
            (
                json!({"username": "bad name", "password": "otter-canvas-drum"}),
                "invalid_username",
            ),
            (
                json!({"username": "x".repeat(33), "password": "otter-canvas-drum"}),
                "invalid_username",
            ),
            (
                json!({"username": "erin", "password": "short"}),
                "weak_password",
            ),
        ] {
            let response = post(body).await.unwrap();
            assert_eq!(response.status(), 422, "{backend:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], code);
            assert!(!body["message"].as_str().unwrap().is_empty());
        }

        // The new account can log in.
        assert_eq!(
            login_status(&server, "dave.smith", "otter-canvas-drum").await,
            200
        );
    }
}

#[tokio::test]
async fn login_me_logout_with_cookie_and_bearer() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let tab = browser();

        let response = login(&tab, &server, "alice", "password123").await;
        assert_eq!(response.status(), 200, "{backend:?}");
        let cookie = response
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cookie.starts_with("securechat_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(
            !cookie.contains("Secure"),
            "plain HTTP cookie must not be Secure: {cookie}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], true);
        assert_eq!(body["user"]["username"], "alice");
        assert_eq!(body["user"]["is_admin"], false);
        let token = body["token"].as_str().unwrap().to_owned();
        assert_eq!(token.len(), 43);
        assert!(
            !cookie.contains(&token) || cookie.contains(&format!("securechat_session={token}")),
        );

        // The cookie works, as does the same token as a bearer.
        let me: Value = tab
            .get(server.url("/api/auth/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["username"], "alice");
        assert_eq!(me_status(&server, &token).await, 200);

        // Logging out kills the token everywhere and clears the cookie.
        let response = tab
            .post(server.url("/api/auth/logout"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let cleared = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert_eq!(me_status(&server, &token).await, 401);
        let response = tab.get(server.url("/api/auth/me")).send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthenticated");

        // Anonymous and garbage tokens.
        assert_eq!(me_status(&server, "not-a-token").await, 401);
        assert_eq!(me_status(&server, &"A".repeat(43)).await, 401);
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_401() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let client = api_client();
        for (user, pass) in [
            ("alice", "wrong-password"),
            ("nobody", "password123"),
            ("ALICE", "nope"),
        ] {
            let response = login(&client, &server, user, pass).await;
            assert_eq!(response.status(), 401, "{backend:?} {user}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "invalid_credentials");
            assert_eq!(body["success"], false);
        }
        // Usernames are case-insensitive at login too.
        assert_eq!(login_status(&server, "Alice", "password123").await, 200);
    }
}

#[tokio::test]
async fn password_change_revokes_other_sessions() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let first = token(&server, "bob", "password456").await;
        let second = token(&server, "bob", "password456").await;

        let wrong = post_as(
            &server,
            &first,
            "/api/auth/password",
            json!({"current_password": "nope-nope", "new_password": "river-lantern-quiet-9"}),
        )
        .await;
        assert_eq!(wrong.status(), 401, "{backend:?}");

        let weak = post_as(
            &server,
            &first,
            "/api/auth/password",
            json!({"current_password": "password456", "new_password": "short"}),
        )
        .await;
        assert_eq!(weak.status(), 422);

        let ok = post_as(
            &server,
            &first,
            "/api/auth/password",
            json!({"current_password": "password456", "new_password": "river-lantern-quiet-9"}),
        )
        .await;
        assert_eq!(ok.status(), 200);
        assert_eq!(
            me_status(&server, &first).await,
            200,
            "the changing session stays"
        );
        assert_eq!(me_status(&server, &second).await, 401, "other sessions end");
        assert_eq!(login_status(&server, "bob", "password456").await, 401);
        assert_eq!(
            login_status(&server, "bob", "river-lantern-quiet-9").await,
            200
        );
    }
}

#[tokio::test]
async fn logout_all_ends_every_session() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let a = token(&server, "charlie", "password789").await;
        let b = token(&server, "charlie", "password789").await;
        let other = token(&server, "alice", "password123").await;
        let response = api_client()
            .post(server.url("/api/auth/logout-all"))
            .bearer_auth(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{backend:?}");
        assert_eq!(me_status(&server, &a).await, 401);
        assert_eq!(me_status(&server, &b).await, 401);
        assert_eq!(
            me_status(&server, &other).await,
            200,
            "other users unaffected"
        );
    }
}

#[tokio::test]
async fn disabled_user_loses_access_at_once() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let session = token(&server, "alice", "password123").await;
        assert_eq!(me_status(&server, &session).await, 200);

        let out = server.cli(&["user", "disable", "alice"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(me_status(&server, &session).await, 401, "{backend:?}");
        let response = login(&api_client(), &server, "alice", "password123").await;
        assert_eq!(response.status(), 403);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "account_disabled");

        let out = server.cli(&["user", "enable", "alice"], None);
        assert!(out.status.success());
        assert_eq!(login_status(&server, "alice", "password123").await, 200);
    }
}

#[tokio::test]
async fn cross_site_writes_are_refused_and_same_origin_accepted() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let client = api_client();
        let origin = server.base.clone();
        let host = format!("127.0.0.1:{}", server.port);
        let creds = json!({"username": "alice", "password": "password123"});

        // A form on another site (Origin header, no fetch metadata).
        let response = client
            .post(server.url("/api/auth/login"))
            .header("origin", "https://evil.example")
            .json(&creds)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{backend:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "cross_site_request");

        // A modern browser's fetch metadata from another site, with the victim's cookie.
        let session = token(&server, "alice", "password123").await;
        let response = client
            .post(server.url("/api/auth/logout"))
            .header("cookie", format!("securechat_session={session}"))
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        assert_eq!(
            me_status(&server, &session).await,
            200,
            "the session survived"
        );

        // A form post (not JSON) is refused too, even from the same origin.
        let response = client
            .post(server.url("/api/auth/login"))
            .header("origin", &origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("username=alice&password=password123")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);

        // The seed's same-origin fetch: JSON content type, browser headers.
        let response = client
            .post(server.url("/api/auth/login"))
            .header("origin", &origin)
            .header("host", &host)
            .header("sec-fetch-site", "same-origin")
            .json(&creds)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let response = client
            .post(server.url("/api/auth/logout"))
            .header("cookie", format!("securechat_session={session}"))
            .header("origin", &origin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "same origin without fetch metadata");
        assert_eq!(me_status(&server, &session).await, 401);
    }
}

#[tokio::test]
async fn login_burst_is_throttled_with_retry_after() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let client = api_client();
        let mut statuses = Vec::new();
        for _ in 0..8 {
            statuses.push(login(&client, &server, "alice", "not-her-password").await);
        }
        let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(&codes[..5], &[401; 5], "{backend:?} {codes:?}");
        assert!(codes[5..].iter().all(|&c| c == 429), "{codes:?}");
        let retry: u64 = statuses[7].headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        // Even the right password waits out the lock.
        let response = login(&client, &server, "alice", "password123").await;
        assert_eq!(response.status(), 429);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
        // Other users are not locked by alice's lock.
        assert_eq!(login_status(&server, "bob", "password456").await, 200);
    }
}

#[tokio::test]
async fn parallel_guesses_get_no_more_checks_than_the_limit() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let client = api_client();
        let passwords: Vec<String> = (0..30).map(|i| format!("guess-number-{i}")).collect();
        let guesses = passwords
            .iter()
            .map(|p| login(&client, &server, "alice", p));
        let codes: Vec<u16> = futures_util::future::join_all(guesses)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        let checked = codes.iter().filter(|c| **c == 401).count();
        assert!(
            checked <= 5,
            "{backend:?}: {checked} of 30 parallel guesses had their password checked: {codes:?}"
        );
        assert!(codes.iter().all(|c| *c == 401 || *c == 429), "{codes:?}");
        // The lock holds afterwards, and bob is not affected.
        assert_eq!(login_status(&server, "alice", "password123").await, 429);
        assert_eq!(login_status(&server, "bob", "password456").await, 200);
    }
}

#[tokio::test]
async fn behind_a_proxy_a_client_cannot_pick_its_own_address() {
    let server = Server::start_with(backends()[0], &[("TRUST_PROXY", "true")]).await;
    let client = api_client();
    // Each guess names another account and starts with a forged line of
    // its own; the proxy's line (the last) names the real address.
    let mut codes = Vec::new();
    for i in 0..25 {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.append("x-forwarded-for", format!("10.0.0.{i}").parse().unwrap());
        headers.append("x-forwarded-for", "203.0.113.9".parse().unwrap());
        let response = client
            .post(server.url("/api/auth/login"))
            .headers(headers)
            .json(&json!({"username": format!("nobody{i}"), "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        codes.push(response.status().as_u16());
    }
    assert_eq!(&codes[..20], &[401; 20], "{codes:?}");
    assert!(
        codes[20..].iter().all(|&c| c == 429),
        "the address 203.0.113.9 is limited whatever the first line says: {codes:?}"
    );
}

#[tokio::test]
async fn bad_bodies_get_4xx_never_500() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let client = api_client();
        let url = server.url("/api/auth/login");
        let send = |body: String, content_type: &'static str| {
            client
                .post(&url)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        let cases: Vec<(String, &str, u16)> = vec![
            ("{not json".into(), "application/json", 400),
            ("".into(), "application/json", 400),
            (
                r#"{"username": 5, "password": []}"#.into(),
                "application/json",
                422,
            ),
            (r#"{"username": "alice"}"#.into(), "application/json", 422),
            (
                r#"["alice", "password123"]"#.into(),
                "application/json",
                422,
            ),
            (
                r#"{"username":"alice","password":"password123"}"#.into(),
                "text/plain",
                415,
            ),
            (
                format!(
                    r#"{{"username":"alice","password":"{}"}}"#,
                    "x".repeat(100_000)
                ),
                "application/json",
                413,
            ),
            (
                format!(
                    r#"{{"username":"alice","password":"{}"}}"#,
                    "x".repeat(5_000)
                ),
                "application/json",
                422,
            ),
        ];
        for (body, content_type, expected) in cases {
            let preview: String = body.chars().take(40).collect();
            let response = send(body, content_type).await.unwrap();
            assert_eq!(response.status(), expected, "{backend:?} {preview}");
            let json: Value = response.json().await.unwrap();
            assert_eq!(json["success"], false);
            assert!(json["code"].is_string());
        }
        let response = client.get(server.url("/api/nope")).send().await.unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "not_found");
        let response = client
            .delete(server.url("/api/auth/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(
            response.json::<Value>().await.unwrap()["code"],
            "method_not_allowed"
        );
        assert!(!server.log().contains("panicked"));
    }
}

#[tokio::test]
async fn security_headers_health_and_openapi() {
    let server = Server::start(testkit::Backend::Sqlite).await;
    let client = api_client();
    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(headers.contains_key("x-request-id"));
    assert!(
        !headers.contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );
    let health: Value = response.json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let doc: Value = client
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/logout-all",
        "/api/auth/me",
        "/api/auth/password",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI misses {path}");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn logs_never_contain_passwords_or_tokens() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let tab = browser();
        let response = login(&tab, &server, "alice", "password123").await;
        let token = response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        tab.get(server.url("/api/auth/me")).send().await.unwrap();
        api_client()
            .get(server.url(&format!("/api/auth/me?token={token}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        login(&api_client(), &server, "alice", "wrong-secret-guess").await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let log = server.log();
        assert!(
            log.contains("logged in"),
            "the log is being captured: {log}"
        );
        for secret in [token.as_str(), "password123", "wrong-secret-guess"] {
            assert!(!log.contains(secret), "{backend:?}: log leaks {secret}");
        }
    }
}

#[tokio::test]
async fn cli_manages_users() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let out = server.cli(
            &["user", "add", "frank", "--password-stdin"],
            Some("frank-pass-1\n"),
        );
        assert!(out.status.success(), "{backend:?} {}", text(&out.stderr));
        let out = server.cli(
            &["user", "add", "FRANK", "--password-stdin"],
            Some("frank-pass-1\n"),
        );
        assert!(!out.status.success(), "duplicate refused");
        assert!(text(&out.stderr).contains("already exists"));
        let out = server.cli(
            &["user", "add", "weak", "--password-stdin"],
            Some("short\n"),
        );
        assert!(!out.status.success());

        let session = token(&server, "frank", "frank-pass-1").await;
        let out = server.cli(&["user", "set-admin", "frank"], None);
        assert!(out.status.success());
        let me: Value = api_client()
            .get(server.url("/api/auth/me"))
            .bearer_auth(&session)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["is_admin"], true);

        let out = server.cli(
            &["user", "set-password", "frank", "--password-stdin"],
            Some("frank-pass-2\n"),
        );
        assert!(out.status.success());
        assert_eq!(
            me_status(&server, &session).await,
            401,
            "set-password ends sessions"
        );
        assert_eq!(login_status(&server, "frank", "frank-pass-2").await, 200);

        let out = server.cli(&["user", "list"], None);
        let listing = text(&out.stdout);
        for name in ["admin", "alice", "bob", "charlie", "frank"] {
            assert!(listing.contains(name), "{listing}");
        }
        let out = server.cli(&["user", "disable", "nobody"], None);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("no user named"));

        // init-db --demo is idempotent.
        let out = server.cli(&["init-db", "--demo"], None);
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("already present"));
        let admin = token(&server, "admin", "admin123").await;
        let me: Value = api_client()
            .get(server.url("/api/auth/me"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["is_admin"], true);
    }
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let mut server = Server::start(testkit::Backend::Sqlite).await;
    let status = server.terminate();
    assert!(status.success(), "{status:?}\n{}", server.log());
    assert!(
        server
            .log_containing(&["shutdown signal received"])
            .await
            .contains("shutdown signal received")
    );
}

/// The directory finds people one shares a room with by part of their name,
/// anyone else only by their exact name, and shows admin and disabled
/// flags to site admins only.
#[tokio::test]
async fn the_directory_does_not_list_everyone() {
    use testkit::{call, new_user};
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, dora) = new_user(&server, "dora").await;
        let (zed_id, _) = new_user(&server, "zed-outsider").await;
        let alice = token(&server, "alice", "password123").await;
        let admin = token(&server, "admin", "admin123").await;
        let names = |body: &Value| -> Vec<String> {
            body["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned())
                .collect()
        };

        // Part of a name finds only people dora shares a room with (the
        // demo users share the Lobby with each other, not with her).
        let (s, body) = call(&server, Some(&dora), "GET", "/api/users?q=a", None).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(names(&body), ["dora"], "{body}");
        let (_, body) = call(&server, Some(&dora), "GET", "/api/users?q=ali", None).await;
        assert!(names(&body).is_empty(), "{body}");
        // The exact name finds anyone (to start a DM with them).
        let (_, body) = call(&server, Some(&dora), "GET", "/api/users?q=Alice", None).await;
        assert_eq!(names(&body), ["alice"]);
        assert!(body["users"][0].get("is_admin").is_none(), "{body}");
        assert!(body["users"][0].get("disabled").is_none(), "{body}");
        // alice finds the people of her rooms by part of a name.
        let (_, body) = call(&server, Some(&alice), "GET", "/api/users?q=b", None).await;
        assert_eq!(names(&body), ["bob"], "{body}");
        // One person by id: only someone one shares a room with.
        let (s, _) = call(
            &server,
            Some(&dora),
            "GET",
            &format!("/api/users/{zed_id}"),
            None,
        )
        .await;
        assert_eq!(s, 404);
        let (s, body) = call(&server, Some(&alice), "GET", "/api/users/1", None).await;
        assert_eq!(s, 200, "{body}");
        assert!(body["user"].get("is_admin").is_none(), "{body}");

        // A site admin sees everyone, with the flags.
        let (_, body) = call(&server, Some(&admin), "GET", "/api/users?q=o", None).await;
        let all = names(&body);
        assert!(
            all.contains(&"dora".to_owned()) && all.contains(&"zed-outsider".to_owned()),
            "{body}"
        );
        assert_eq!(body["users"][0]["disabled"], false, "{body}");
        let (s, body) = call(
            &server,
            Some(&admin),
            "GET",
            &format!("/api/users/{zed_id}"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(body["user"]["is_admin"], false);
    }
}

/// Registrations are counted per client address, taken names and all.
#[tokio::test]
async fn registrations_are_limited_per_address() {
    for backend in backends() {
        let server =
            Server::start_with(backend, &[("REGISTER_LIMIT", "3"), ("TRUST_PROXY", "true")]).await;
        let client = api_client();
        let register = |name: String, from: &'static str| {
            client
                .post(server.url("/api/auth/register"))
                .header("X-Forwarded-For", from)
                .json(&json!({"username": name, "password": "long-enough-1"}))
                .send()
        };
        for i in 0..3 {
            let r = register(format!("signup{i}"), "203.0.113.5").await.unwrap();
            assert_eq!(r.status(), 201, "{backend:?}");
        }
        let r = register("signup3".into(), "203.0.113.5").await.unwrap();
        assert_eq!(r.status(), 429, "{backend:?}");
        assert!(r.headers().contains_key("retry-after"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
        // Another address is not affected; invalid requests are not counted.
        let r = register("signup3".into(), "198.51.100.7").await.unwrap();
        assert_eq!(r.status(), 201);
        let r = register("x".into(), "198.51.100.8").await.unwrap();
        assert_eq!(r.status(), 422);
    }
}

/// Hundreds of sign-ins at once are answered, not queued without bound:
/// work beyond the hashing queue is shed with 503 and `Retry-After`. And
/// hundreds that their clients give up on after 0.3 s do not pile up in
/// front of a real one: a job whose client left is dropped unrun.
#[tokio::test]
async fn abandoned_sign_ins_do_not_delay_a_real_one() {
    let server = Server::start_with(testkit::Backend::Sqlite, &[("TRUST_PROXY", "true")]).await;
    let burst = |timeout_ms: u64, round: u32| {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_millis(timeout_ms))
            .build()
            .unwrap();
        let server = &server;
        async move {
            let attempts = (0..300u32).map(|i| {
                client
                    .post(server.url("/api/auth/login"))
                    // Each from its own address, so no address is locked out.
                    .header("X-Forwarded-For", format!("10.{round}.{}.{}", i / 250, i % 250 + 1))
                    .json(&json!({"username": format!("nobody{round}x{i}"), "password": "long-enough-1"}))
                    .send()
            });
            futures_util::future::join_all(attempts).await
        }
    };

    let answered = burst(30_000, 1).await;
    let statuses: Vec<u16> = answered
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 503)),
        "{statuses:?}"
    );
    let shed: Vec<_> = answered
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|r| r.status() == 503)
        .collect();
    assert!(!shed.is_empty(), "the queue is bounded: {statuses:?}");
    assert!(shed.iter().all(|r| r.headers().contains_key("retry-after")));

    let _ = burst(300, 2).await;
    let started = std::time::Instant::now();
    let r = api_client()
        .post(server.url("/api/auth/login"))
        .header("X-Forwarded-For", "192.0.2.10")
        .json(&json!({"username": "alice", "password": "password123"}))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(r.status(), 200);
    assert!(
        took < std::time::Duration::from_millis(1500),
        "a real sign-in waited {took:?} behind abandoned ones"
    );
}

/// Guesses lock the account and the address for strangers, but not for a
/// browser that signed in to the account before: it presents its device
/// cookie, its attempts are counted on their own, and the right password
/// lets its owner in. Its own wrong guesses still lock it.
#[tokio::test]
async fn a_lockout_does_not_keep_the_owner_out() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alices_browser = browser();
        let r = login(&alices_browser, &server, "alice", "password123").await;
        assert_eq!(r.status(), 200);
        let set: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let device = set
            .iter()
            .find(|c| c.starts_with("securechat_device="))
            .expect("a device cookie");
        assert!(
            device.contains("HttpOnly") && device.contains("SameSite=Strict"),
            "{device}"
        );

        // A stranger guesses until alice's account (and this address) lock.
        let stranger = browser();
        for i in 0..5 {
            let r = login(&stranger, &server, "alice", &format!("guess-{i}")).await;
            assert_eq!(r.status(), 401);
        }
        for i in 0..20 {
            let r = login(&stranger, &server, &format!("ghost{i}"), "guess").await;
            assert!(matches!(r.status().as_u16(), 401 | 429));
        }
        let r = login(&stranger, &server, "alice", "password123").await;
        assert_eq!(
            r.status(),
            429,
            "{backend:?}: the stranger stays locked out"
        );
        let r = login(&browser(), &server, "bob", "password456").await;
        assert_eq!(r.status(), 429, "the address is locked for strangers too");

        // alice's browser gets in with the right password.
        let r = login(&alices_browser, &server, "alice", "password123").await;
        assert_eq!(r.status(), 200, "{backend:?}: the owner is not locked out");
        // A device cookie is bound to its account: it does not help with bob's.
        let r = login(&alices_browser, &server, "bob", "password456").await;
        assert_eq!(r.status(), 429);
        // Its own wrong guesses lock it as well.
        let mut codes = Vec::new();
        for i in 0..6 {
            codes.push(
                login(&alices_browser, &server, "alice", &format!("typo-{i}"))
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(codes.last(), Some(&429), "{codes:?}");
    }
}

/// `aIice` and `al1ce` cannot be registered beside `alice`, over the API or
/// the CLI, nor both of two look-alikes registered at the same moment; an
/// account from before the rule gets its skeleton at the next start.
#[tokio::test]
async fn look_alike_usernames_are_refused() {
    for backend in backends() {
        let mut server = Server::start(backend).await;
        let client = api_client();
        let register = |name: &str| {
            client
                .post(server.url("/api/auth/register"))
                .json(&json!({"username": name, "password": "a long enough passphrase"}))
                .send()
        };
        for twin in ["aIice", "al1ce", "ALICE", "a1ice"] {
            let response = register(twin).await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, 409, "{backend:?} {twin}: {body}");
            let code = if twin == "ALICE" {
                "username_taken"
            } else {
                "username_confusable"
            };
            assert_eq!(body["code"], code, "{twin}: {body}");
        }
        let out = server.cli(
            &["user", "add", "bo6", "--password-stdin"],
            Some("a long enough passphrase\n"),
        );
        assert!(
            out.status.success(),
            "bo6 is not bob: {}",
            text(&out.stderr)
        );
        let out = server.cli(
            &["user", "add", "charIie", "--password-stdin"],
            Some("a long enough passphrase\n"),
        );
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("looks too much like"),
            "{}",
            text(&out.stderr)
        );

        // Two look-alikes at once: exactly one gets the name.
        let (a, b) = tokio::join!(register("mallory"), register("maIIory"));
        let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{backend:?}");

        // An account stored before skeletons existed gets one at start-up.
        db_execute(
            &server,
            "UPDATE users SET username_skeleton = NULL WHERE username = 'bob'",
        )
        .await;
        server.restart();
        let id: i64 = db_count(
            &server,
            "SELECT id FROM users WHERE username = 'bob' AND $1 = 1",
            1,
        )
        .await;
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM users WHERE id = $1 AND username_skeleton IS NOT NULL",
                id
            )
            .await,
            1
        );
        let response = api_client()
            .post(server.url("/api/auth/register"))
            .json(&json!({"username": "b0b", "password": "a long enough passphrase"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "{backend:?}");
    }
}

/// New passwords are judged by a strength estimator, on registration, on a
/// change and in the CLI: eight spaces, control characters, the username
/// and the current password are refused with a message saying what to do.
#[tokio::test]
async fn passwords_that_are_easy_to_guess_are_refused() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let client = api_client();
        let register = |username: &str, password: &str| {
            client
                .post(server.url("/api/auth/register"))
                .json(&json!({"username": username, "password": password}))
                .send()
        };
        for (password, code) in [
            ("        ", "weak_password"),
            ("\0\0\0\0\0\0\0\0", "invalid_password"),
            ("gregory1", "weak_password"),
            ("password123", "weak_password"),
            ("qwertyuiop", "weak_password"),
            ("Gregory.Hall", "weak_password"),
        ] {
            let response = register("Gregory.Hall", password).await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                (status.as_u16(), body["code"].as_str()),
                (422, Some(code)),
                "{password:?}: {body}"
            );
            assert!(
                body["message"].as_str().unwrap_or("").len() > 20,
                "the message says what to do: {body}"
            );
        }
        let response = register("Gregory.Hall", "oak-ferry-lantern-5")
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{backend:?}");

        let session = token(&server, "Gregory.Hall", "oak-ferry-lantern-5").await;
        for (new, code) in [
            ("oak-ferry-lantern-5", "same_password"),
            ("12345678", "weak_password"),
            ("gregory.hall", "weak_password"),
        ] {
            let response = post_as(
                &server,
                &session,
                "/api/auth/password",
                json!({"current_password": "oak-ferry-lantern-5", "new_password": new}),
            )
            .await;
            assert_eq!(response.status(), 422, "{new:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], code, "{new:?}: {body}");
        }
        assert_eq!(
            login_status(&server, "Gregory.Hall", "oak-ferry-lantern-5").await,
            200
        );

        let out = server.cli(
            &["user", "add", "hank", "--password-stdin"],
            Some("hank1234\n"),
        );
        assert!(!out.status.success(), "the CLI refuses a weak password too");
        assert!(
            text(&out.stderr).contains("easy to guess"),
            "{}",
            text(&out.stderr)
        );
        let out = server.cli(
            &["user", "set-password", "alice", "--password-stdin"],
            Some("alice123\n"),
        );
        assert!(!out.status.success());
    }
}
