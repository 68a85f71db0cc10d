//! Single sign-on with OpenID Connect against a real provider, panva's
//! oidc-provider (`tests/oidc/provider.mjs`, installed by `make
//! oidc-peer`), on every configured storage backend: the whole
//! Authorization Code flow with PKCE through the provider's own sign-in
//! form, as a browser would follow it: a first sign-on creating an
//! account, a second one reaching the same account, linking to an
//! account by a verified email and refusing to by an unverified one, the
//! allowed email domains, a wrong state and a replayed callback, an
//! account with TOTP on still asked for its code, and the login throttle
//! on the callback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use testkit::{PeerSpec, Server, backends, call, db_count, db_execute, free_port, new_user};

const CLIENT_ID: &str = "securechat-test";
const CLIENT_SECRET: &str = "a-long-client-secret-for-the-test-provider";
const CALLBACK: &str = "/api/auth/oidc/callback";

/// pyotp, for the account with TOTP on.
const PYOTP: PeerSpec = PeerSpec {
    what: "the TOTP test peer (pyotp)",
    venv: "totp-peer",
    python_var: "TOTP_PEER",
    script: "tests/totp/totp_code.py",
    requirements: "tests/totp/requirements.txt",
};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The provider, running on a free port with the accounts the test gives.
struct Provider {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Provider {
    fn start(redirect_uri: &str, accounts: Value) -> Self {
        let script = repository().join("tests/oidc/provider.mjs");
        assert!(
            repository()
                .join("tests/oidc/node_modules/oidc-provider")
                .is_dir(),
            "the OpenID provider test peer is missing: run `make oidc-peer`"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.json");
        std::fs::write(&file, accounts.to_string()).unwrap();
        let port = free_port();
        let mut child = Command::new("node")
            .arg(script)
            .args(["--port", &port.to_string()])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .args(["--redirect-uri", redirect_uri])
            .arg("--accounts")
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening"), "provider: {line:?}");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The provider's accounts: id → claims.
fn accounts() -> Value {
    json!({
        "new-person": {"email": "newbie@example.com", "email_verified": true, "preferred_username": "newbie"},
        "another-alice": {"email": "alice.w@example.com", "email_verified": true, "preferred_username": "alice"},
        "carol-sso": {"email": "Carol@Example.com", "email_verified": true, "preferred_username": "carol.sso"},
        "carol-impostor": {"email": "carol@example.com", "email_verified": false, "preferred_username": "carol.fake"},
        "outsider": {"email": "someone@elsewhere.test", "email_verified": true, "preferred_username": "outsider"},
        "erin-sso": {"email": "erin@example.com", "email_verified": true, "preferred_username": "erin.sso"},
        "erin-impostor": {"email": "ERIN@example.com", "email_verified": false, "preferred_username": "erin.fake"},
    })
}

/// A browser: a cookie store, redirects followed by hand so the test sees
/// each one.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response, from: &str) -> String {
    let to = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    reqwest::Url::parse(from)
        .unwrap()
        .join(to)
        .unwrap()
        .to_string()
}

/// The action of the provider's sign-in form.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = html[start..].find('"').unwrap();
    [
        ("&#x2F;", "/"),
        ("&#47;", "/"),
        ("&#x3A;", ":"),
        ("&#58;", ":"),
        ("&#x3D;", "="),
        ("&#61;", "="),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(html[start..start + end].to_owned(), |text, (entity, c)| {
        text.replace(entity, c)
    })
}

/// Starts single sign-on in `client` and signs in at the provider as
/// `account`; the callback URL the provider redirects to (not yet
/// followed).
async fn through_provider(
    server: &Server,
    provider: &Provider,
    client: &reqwest::Client,
    account: &str,
) -> String {
    let mut url = server.url("/api/auth/oidc/login");
    for _ in 0..20 {
        if url.starts_with(&server.url(CALLBACK)) {
            return url;
        }
        let response = client.get(&url).send().await.unwrap();
        if response.status().is_redirection() {
            url = location(&response, &url);
            continue;
        }
        assert_eq!(response.status(), 200, "{url}");
        assert!(
            url.starts_with(&provider.base),
            "a form outside the provider: {url}"
        );
        let html = response.text().await.unwrap();
        let action = reqwest::Url::parse(&url)
            .unwrap()
            .join(&form_action(&html))
            .unwrap()
            .to_string();
        let posted = client
            .post(&action)
            .form(&[("prompt", "login"), ("login", account), ("password", "any")])
            .send()
            .await
            .unwrap();
        assert!(
            posted.status().is_redirection(),
            "login form: {}",
            posted.status()
        );
        url = location(&posted, &action);
    }
    panic!("no callback after 20 redirects; last {url}");
}

/// Follows the callback: where the server sends the browser.
async fn callback(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 303, "{url}");
    response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Single sign-on from start to end in a fresh browser: the browser and
/// where it landed.
async fn sign_on(server: &Server, provider: &Provider, account: &str) -> (reqwest::Client, String) {
    let client = browser();
    let url = through_provider(server, provider, &client, account).await;
    let landed = callback(&client, &url).await;
    (client, landed)
}

/// What the server logged about single sign-on, for failures.
async fn sso_log(server: &Server) -> String {
    server
        .log_containing(&["single sign-on did not complete"])
        .await
        .lines()
        .filter(|line| line.contains("single sign-on"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `GET /api/auth/me` with the browser's cookies.
async fn me(server: &Server, client: &reqwest::Client) -> (u16, Value) {
    let response = client.get(server.url("/api/auth/me")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A server whose single sign-on allows the email `domains`, and its provider.
async fn start(backend: testkit::Backend, domains: &str) -> (Server, Provider) {
    let port = free_port().to_string();
    let public = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&format!("{public}{CALLBACK}"), accounts());
    let server = Server::start_with(
        backend,
        &[
            ("PORT", &port),
            ("PUBLIC_URL", &public),
            ("OIDC_ISSUER", &provider.base),
            ("OIDC_CLIENT_ID", CLIENT_ID),
            ("OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("OIDC_ALLOWED_DOMAINS", domains),
            ("OIDC_LABEL", "Example ID"),
        ],
    )
    .await;
    (server, provider)
}

fn totp_code(secret: &str, steps: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    PYOTP
        .run_once(&[secret, &(now + steps * 30).to_string()])
        .trim()
        .to_owned()
}

#[tokio::test]
async fn single_sign_on_creates_links_and_refuses() {
    for backend in backends() {
        let (server, provider) = start(backend, "example.com").await;

        let (s, options) = call(&server, None, "GET", "/api/auth/options", None).await;
        assert_eq!(s, 200);
        assert_eq!(options["sso_enabled"], true);
        assert_eq!(options["sso_label"], "Example ID");

        // A first sign-on creates the account, named after the identity.
        let (client, landed) = sign_on(&server, &provider, "new-person").await;
        assert_eq!(landed, "/", "{}", sso_log(&server).await);
        let (s, first) = me(&server, &client).await;
        assert_eq!(s, 200, "{first}");
        assert_eq!(first["user"]["username"], "newbie");
        // The next one reaches the same account.
        let (client, landed) = sign_on(&server, &provider, "new-person").await;
        assert_eq!(landed, "/");
        let (_, again) = me(&server, &client).await;
        assert_eq!(again["user"]["id"], first["user"]["id"]);

        // A taken name gets a suffix; the demo's alice stays alone.
        let (client, _) = sign_on(&server, &provider, "another-alice").await;
        let (_, other) = me(&server, &client).await;
        assert_eq!(other["user"]["username"], "alice-2");

        // carol verified her address here.
        let (carol_id, _) = new_user(&server, "carol").await;
        db_execute(
            &server,
            "INSERT INTO email_addresses (user_id, address, verified_at, created_at) \
             SELECT id, 'carol@example.com', 1, 1 FROM users WHERE username = 'carol'",
        )
        .await;
        // An identity whose provider has not verified that address does
        // not reach her account, nor gets one of its own.
        let (client, landed) = sign_on(&server, &provider, "carol-impostor").await;
        assert_eq!(landed, "/login?sso_error=sso_email_unverified");
        assert_eq!(me(&server, &client).await.0, 401);
        // One whose provider has (in another letter case) is linked to it.
        let (client, landed) = sign_on(&server, &provider, "carol-sso").await;
        assert_eq!(landed, "/");
        let (_, carol) = me(&server, &client).await;
        assert_eq!(carol["user"]["id"], carol_id);
        assert_eq!(carol["user"]["username"], "carol");

        // Outside the allowed domains: refused, no account.
        let (client, landed) = sign_on(&server, &provider, "outsider").await;
        assert_eq!(landed, "/login?sso_error=sso_domain_not_allowed");
        assert_eq!(me(&server, &client).await.0, 401);
        let outsiders = db_count(
            &server,
            "SELECT COUNT(*) FROM users WHERE username_key = 'outsider' AND id > $1",
            0,
        )
        .await;
        assert_eq!(outsiders, 0);

        // A state that is not this browser's sign-in's.
        let client = browser();
        let url = through_provider(&server, &provider, &client, "new-person").await;
        let forged = url.replace("state=", "state=x");
        assert_eq!(
            callback(&client, &forged).await,
            "/login?sso_error=sso_invalid_state"
        );
        assert_eq!(me(&server, &client).await.0, 401);
        // The callback cleared the sign-in under way: the genuine URL no
        // longer works either.
        assert_eq!(
            callback(&client, &url).await,
            "/login?sso_error=sso_invalid_state"
        );

        // A replayed callback: refused once the sign-in it ended is gone,
        // and in another browser (no sign-in under way there).
        let client = browser();
        let url = through_provider(&server, &provider, &client, "new-person").await;
        assert_eq!(callback(&client, &url).await, "/");
        assert_eq!(
            callback(&client, &url).await,
            "/login?sso_error=sso_invalid_state"
        );
        assert_eq!(
            callback(&browser(), &url).await,
            "/login?sso_error=sso_invalid_state"
        );
        // With a new sign-in under way, an old code and state still fail.
        let fresh = browser();
        let _ = through_provider(&server, &provider, &fresh, "new-person").await;
        assert_eq!(
            callback(&fresh, &url).await,
            "/login?sso_error=sso_invalid_state"
        );

        // The provider's error (the person cancelled) comes back as one.
        assert_eq!(
            callback(
                &browser(),
                &server.url(&format!("{CALLBACK}?error=access_denied&state=x"))
            )
            .await,
            "/login?sso_error=sso_cancelled"
        );
    }
}

#[tokio::test]
async fn an_account_with_totp_still_gives_its_code() {
    for backend in backends() {
        // Any domain: the verified-email rule alone keeps strangers out.
        let (server, provider) = start(backend, "").await;
        let (erin_id, token) = new_user(&server, "erin").await;
        db_execute(
            &server,
            "INSERT INTO email_addresses (user_id, address, verified_at, created_at) \
             SELECT id, 'erin@example.com', 1, 1 FROM users WHERE username = 'erin'",
        )
        .await;
        let (s, setup) = call(
            &server,
            Some(&token),
            "POST",
            "/api/auth/2fa/totp/setup",
            None,
        )
        .await;
        assert_eq!(s, 200, "{setup}");
        let secret = setup["secret"].as_str().unwrap().to_owned();
        let (s, enabled) = call(
            &server,
            Some(&token),
            "POST",
            "/api/auth/2fa/totp/enable",
            Some(json!({"code": totp_code(&secret, 0)})),
        )
        .await;
        assert_eq!(s, 200, "{enabled}");

        // An identity whose provider has not verified erin's address is
        // refused, not linked.
        let (client, landed) = sign_on(&server, &provider, "erin-impostor").await;
        assert_eq!(landed, "/login?sso_error=sso_email_unverified");
        assert_eq!(me(&server, &client).await.0, 401);

        // The provider alone does not sign in.
        let (client, landed) = sign_on(&server, &provider, "erin-sso").await;
        assert_eq!(landed, "/login?sso=second_factor");
        assert_eq!(me(&server, &client).await.0, 401);
        let second = |body: Value| {
            let client = client.clone();
            let url = server.url("/api/auth/oidc/second-factor");
            async move {
                let response = client.post(url).json(&body).send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            }
        };
        let (s, body) = second(json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("second_factor_required"))
        );
        let (s, body) = second(json!({"totp_code": "000000"})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );
        // The code already used to enable it does not pass again.
        let (s, body) = second(json!({"totp_code": totp_code(&secret, 0)})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("invalid_second_factor"))
        );
        let (s, body) = second(json!({"totp_code": totp_code(&secret, 1)})).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["user"]["id"], erin_id);
        let (s, erin) = me(&server, &client).await;
        assert_eq!(s, 200);
        assert_eq!(erin["user"]["username"], "erin");
        // Without the provider first, the step is closed.
        let (s, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/oidc/second-factor",
            Some(json!({"totp_code": "123456"})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (401, Some("sso_second_factor_expired"))
        );
    }
}

#[tokio::test]
async fn the_callback_is_throttled_and_off_means_off() {
    for backend in backends() {
        let (server, _provider) = start(backend, "example.com").await;
        // Wrong states from one address lock it, as wrong passwords do.
        let mut landed = String::new();
        for _ in 0..25 {
            let client = browser();
            let _ = client
                .get(server.url("/api/auth/oidc/login"))
                .send()
                .await
                .unwrap();
            landed = callback(
                &client,
                &server.url(&format!("{CALLBACK}?code=abc&state=wrong")),
            )
            .await;
            if landed.ends_with("sso_throttled") {
                break;
            }
            assert_eq!(landed, "/login?sso_error=sso_invalid_state");
        }
        assert_eq!(landed, "/login?sso_error=sso_throttled");
    }
    let server = Server::start(testkit::Backend::Sqlite).await;
    let (_, options) = call(&server, None, "GET", "/api/auth/options", None).await;
    assert_eq!(options["sso_enabled"], false);
    assert_eq!(
        callback(&browser(), &server.url("/api/auth/oidc/login")).await,
        "/login?sso_error=sso_disabled"
    );
    assert_eq!(
        callback(&browser(), &server.url(CALLBACK)).await,
        "/login?sso_error=sso_disabled"
    );
}
