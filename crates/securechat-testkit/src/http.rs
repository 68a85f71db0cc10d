//! Talking to a server over HTTP: clients with and without cookies, login,
//! tokens, JSON calls, new accounts.

use super::server::Server;

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A client that keeps cookies, like a browser tab.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// A client without a cookie store, for bearer-token calls.
pub fn api_client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Logs in and returns the response body.
pub async fn login(
    client: &reqwest::Client,
    server: &Server,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(server.url("/api/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Logs in and returns the bearer token.
pub async fn token(server: &Server, username: &str, password: &str) -> String {
    let response = login(&api_client(), server, username, password).await;
    assert_eq!(response.status(), 200, "login {username}");
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// `GET /api/auth/me` with a bearer token; returns the status.
pub async fn me_status(server: &Server, token: &str) -> u16 {
    api_client()
        .get(server.url("/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Logs in with a fresh client and returns the status.
pub async fn login_status(server: &Server, username: &str, password: &str) -> u16 {
    login(&api_client(), server, username, password)
        .await
        .status()
        .as_u16()
}

/// POSTs JSON with a bearer token.
pub async fn post_as(
    server: &Server,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    api_client()
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Sends `method path` with an optional bearer token and JSON body; returns
/// the status and the JSON body (`Null` if none).
pub async fn call(
    server: &Server,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = api_client().request(method, server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let json = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// Registers `username` with a fixed password and returns a session token.
pub async fn new_user(server: &Server, username: &str) -> (i64, String) {
    let (status, body) = call(
        server,
        None,
        "POST",
        "/api/auth/register",
        Some(serde_json::json!({"username": username, "password": "plum-kettle-orbit-7"})),
    )
    .await;
    assert_eq!(status, 201, "register {username}: {body}");
    let id = body["user"]["id"].as_i64().unwrap();
    (id, token(server, username, "plum-kettle-orbit-7").await)
}
