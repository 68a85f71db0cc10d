//! Incoming webhooks against the real binary, on every configured storage
//! backend: a post appears live over Socket.IO, in history and in search,
//! shown as the integration; a wrong or deleted secret is the same 404; a
//! flood gets 429s with `Retry-After`; bodies are bounded; encrypted
//! channels have none; and who may make, list and delete them (the room's
//! owner and admins; not members, outsiders or the signed-out).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::{Value, json};
use testkit::{
    Server, api_client, ask, backends, call, connect, new_user, next_event, room_and_channel, token,
};

/// Makes a webhook in `channel` as `token`; its id and URL.
async fn make(server: &Server, token: &str, channel: i64, body: Value) -> (i64, String) {
    let (s, made) = call(
        server,
        Some(token),
        "POST",
        &format!("/api/channels/{channel}/webhooks"),
        Some(body),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["success"], true);
    let url = made["webhook"]["url"].as_str().unwrap().to_owned();
    (made["webhook"]["id"].as_i64().unwrap(), url)
}

/// `DELETE path` as `who`; the status.
async fn delete(server: &Server, who: Option<&str>, path: &str) -> u16 {
    call(server, who, "DELETE", path, None).await.0
}

/// POSTs `body` to a webhook URL, signed out: the status, `Retry-After`
/// and the JSON answer.
async fn hook(url: &str, body: &Value) -> (u16, Option<String>, Value) {
    let response = api_client().post(url).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_post_appears_live_in_history_and_search_shown_as_the_webhook() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_hook_id, url) = make(&server, &alice, general, json!({"name": "CI"})).await;
        assert!(url.starts_with(&server.url("/api/hooks/")), "{url}");

        let (c, mut c_events) = connect(&server, &charlie).await;
        assert_eq!(
            ask(&c, "join_channel", json!({"channel_id": general})).await["success"],
            true
        );
        let text = "**Build 42** passed: `main` is green";
        let (s, _, posted) = hook(
            &url,
            &json!({"text": text, "username": "Jenkins", "icon_url": "https://ci.example/j.png",
                    "channel": "#ignored", "attachments": []}),
        )
        .await;
        assert_eq!(s, 200, "{backend:?}: {posted}");
        let id = posted["message_id"].as_i64().unwrap();
        let live = next_event(&mut c_events, "new_message").await;
        assert_eq!(live["id"], id);
        assert_eq!(live["content"], text);
        assert_eq!(live["webhook"]["name"], "Jenkins");
        assert_eq!(live["webhook"]["icon_url"], "https://ci.example/j.png");
        assert_eq!(live["sender_username"], "alice");

        let (s, history) = call(
            &server,
            Some(&charlie),
            "GET",
            &format!("/api/channels/{general}/messages"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{history}");
        let stored = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .expect("in history")
            .clone();
        assert_eq!(stored["webhook"]["name"], "Jenkins");
        assert_eq!(stored["content"], text);
        let (s, found) = call(&server, Some(&charlie), "GET", "/api/search?q=green", None).await;
        assert_eq!(s, 200, "{found}");
        assert!(found.to_string().contains("Build 42"), "{found}");

        // Its maker cannot edit what the webhook posted.
        let edit = ask(
            &connect(&server, &alice).await.0,
            "edit_message",
            json!({"message_id": id, "content": "forged"}),
        )
        .await;
        assert_eq!(edit["success"], false, "{edit}");

        // Without overrides allowed, the webhook's own name shows.
        let (_, plain) = make(
            &server,
            &alice,
            general,
            json!({"name": "Alerts", "allow_overrides": false}),
        )
        .await;
        let (s, _, _) = hook(&plain, &json!({"text": "disk 91%", "username": "root"})).await;
        assert_eq!(s, 200);
        let live = next_event(&mut c_events, "new_message").await;
        assert_eq!(live["webhook"]["name"], "Alerts");
        assert_eq!(live["webhook"]["icon_url"], Value::Null);
    }
}

#[tokio::test]
async fn wrong_and_deleted_secrets_are_the_same_404_and_bodies_are_bounded() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (hook_id, url) = make(&server, &alice, general, json!({"name": "CI"})).await;
        let secret = url.rsplit('/').next().unwrap().to_owned();

        let mut wrong = secret.clone();
        let last = if wrong.ends_with('A') { "B" } else { "A" };
        wrong.replace_range(wrong.len() - 1.., last);
        let body = json!({"text": "hello"});
        let (s, _, refused) = hook(&server.url(&format!("/api/hooks/{wrong}")), &body).await;
        assert_eq!(s, 404, "{backend:?}: {refused}");
        assert_eq!(refused["code"], "webhook_not_found");
        let (s, _, garbage) = hook(&server.url("/api/hooks/not-a-secret"), &body).await;
        assert_eq!((s, &garbage["code"]), (404, &refused["code"]));

        // Bounds: no text, text past 8 KiB, a body past 16 KiB.
        assert_eq!(hook(&url, &json!({"username": "x"})).await.0, 422);
        assert_eq!(hook(&url, &json!({"text": "x".repeat(9000)})).await.0, 413);
        let huge = json!({"text": "hi", "attachments": ["y".repeat(20_000)]});
        assert_eq!(hook(&url, &huge).await.0, 413);
        let (s, _, bad) = hook(&url, &json!({"text": "hi", "icon_url": "http://x/i.png"})).await;
        assert_eq!((s, &bad["code"]), (422, &json!("invalid_icon_url")));

        // The list never shows the secret.
        let path = format!("/api/channels/{general}/webhooks");
        let (s, listed) = call(&server, Some(&alice), "GET", &path, None).await;
        assert_eq!(s, 200);
        assert_eq!(listed["webhooks"][0]["id"], hook_id);
        assert_eq!(listed["webhooks"][0]["name"], "CI");
        assert_eq!(listed["webhooks"][0]["creator_username"], "alice");
        assert!(!listed.to_string().contains(&secret));

        // Deleted: the right secret now gets the wrong one's answer.
        assert_eq!(hook(&url, &body).await.0, 200);
        assert_eq!(
            delete(&server, Some(&alice), &format!("{path}/{hook_id}")).await,
            200
        );
        let (s, _, gone) = hook(&url, &body).await;
        assert_eq!((s, &gone), (404, &refused));
        assert_eq!(
            delete(&server, Some(&alice), &format!("{path}/{hook_id}")).await,
            404
        );
    }
}

#[tokio::test]
async fn a_flood_gets_429_with_retry_after() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_, url) = make(&server, &alice, general, json!({"name": "Flood"})).await;
        let (_, other) = make(&server, &alice, general, json!({"name": "Calm"})).await;
        let answers = futures_util::future::join_all((0..60).map(|i| {
            let url = url.clone();
            async move { hook(&url, &json!({"text": format!("flood {i}")})).await }
        }))
        .await;
        let ok = answers.iter().filter(|a| a.0 == 200).count();
        let limited: Vec<_> = answers.iter().filter(|a| a.0 == 429).collect();
        assert_eq!(
            ok + limited.len(),
            answers.len(),
            "{backend:?}: {answers:?}"
        );
        // 20 in a burst, then one a second while the flood lasts.
        assert!((20..=35).contains(&ok), "{ok} of 60 passed");
        let wait: u64 = limited[0].1.as_deref().unwrap().parse().unwrap();
        assert!((1..=2).contains(&wait), "Retry-After {wait}");
        // Another webhook has its own limit.
        assert_eq!(hook(&other, &json!({"text": "still here"})).await.0, 200);
        // And the flooded one posts again after waiting.
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        assert_eq!(hook(&url, &json!({"text": "later"})).await.0, 200);
    }
}

#[tokio::test]
async fn encrypted_channels_and_dms_have_no_webhooks() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, secrets) = room_and_channel(&server, &alice, "Project X", "secrets").await;
        let (s, body) = call(
            &server,
            Some(&alice),
            "POST",
            &format!("/api/channels/{secrets}/webhooks"),
            Some(json!({"name": "CI"})),
        )
        .await;
        assert_eq!(
            (s, &body["code"]),
            (409, &json!("encrypted_channel")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn only_the_rooms_owner_and_admins_manage_webhooks() {
    for backend in backends() {
        let server = Server::start(backend).await;
        // Project X (private): alice owns it, bob is an admin, charlie a
        // member; dave is in no room with them. Lobby is public.
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let admin = token(&server, "admin", "admin123").await;
        let (_, dave) = new_user(&server, "dave").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_, lobby) = room_and_channel(&server, &alice, "Lobby", "random").await;
        let path = format!("/api/channels/{general}/webhooks");
        let body = || Some(json!({"name": "CI"}));

        let expect = [
            (Some(&alice), 201, 200),
            (Some(&bob), 201, 200),
            (Some(&charlie), 403, 403),
            (Some(&dave), 404, 404),
            (None, 401, 401),
        ];
        for (who, create, list) in expect {
            let who = who.map(String::as_str);
            let (s, made) = call(&server, who, "POST", &path, body()).await;
            assert_eq!(s, create, "{backend:?} create: {made}");
            let (s, listed) = call(&server, who, "GET", &path, None).await;
            assert_eq!(s, list, "list: {listed}");
        }
        // A public room's outsider sees it, but is no admin of it.
        let lobby_path = format!("/api/channels/{lobby}/webhooks");
        assert_eq!(
            call(&server, Some(&dave), "POST", &lobby_path, body())
                .await
                .0,
            403
        );
        assert_eq!(
            call(&server, Some(&dave), "GET", &lobby_path, None).await.0,
            403
        );

        let (_, listed) = call(&server, Some(&alice), "GET", &path, None).await;
        let ids: Vec<i64> = listed["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 2);
        for (who, status) in [(Some(&charlie), 403), (Some(&dave), 404), (None, 401)] {
            let who = who.map(String::as_str);
            assert_eq!(
                delete(&server, who, &format!("{path}/{}", ids[0])).await,
                status
            );
        }
        // The admin deletes the owner's, the owner the admin's.
        let gone = delete(&server, Some(&bob), &format!("{path}/{}", ids[0])).await;
        assert_eq!(gone, 200);
        let gone = delete(&server, Some(&alice), &format!("{path}/{}", ids[1])).await;
        assert_eq!(gone, 200);
        // A webhook of another channel is not this channel's.
        let (other_id, _) = make(&server, &admin, lobby, json!({"name": "X"})).await;
        let gone = delete(&server, Some(&alice), &format!("{path}/{other_id}")).await;
        assert_eq!(gone, 404);
        // Ten a channel at most.
        for i in 0..10 {
            make(&server, &bob, general, json!({"name": format!("hook {i}")})).await;
        }
        let (s, full) = call(&server, Some(&bob), "POST", &path, body()).await;
        assert_eq!((s, &full["code"]), (409, &json!("too_many_webhooks")));
    }
}

/// The outgoing-webhook receiver: Python's standard library only, so it
/// needs no virtualenv (`WEBHOOK_PEER_PYTHON` names another Python).
const RECEIVER: testkit::PeerSpec = testkit::PeerSpec {
    what: "the webhook receiver",
    venv: "",
    python_var: "WEBHOOK_PEER_PYTHON",
    script: "tests/webhooks/receiver.py",
    requirements: "nothing (standard library only)",
};

/// The receiver's records so far, in arrival order.
fn received(dir: &std::path::Path) -> Vec<Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// Waits until the receiver holds `n` records.
async fn receive(dir: &std::path::Path, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let got = received(dir);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the receiver got {:?}, not {n} deliveries", received(dir));
}

/// Sends `text` to `channel` on `socket`; the message's id.
async fn say(socket: &securechat_client::Socket, channel: i64, text: &str) -> i64 {
    let ack = ask(
        socket,
        "send_message",
        json!({"channel_id": channel, "content": text,
               "client_msg_id": securechat_client::new_client_msg_id()}),
    )
    .await;
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn outgoing_deliveries_are_signed_filtered_retried_and_logged() {
    for backend in backends() {
        let receiver = testkit::PythonPeer::start(RECEIVER, |dir| {
            vec!["--out".into(), dir.as_os_str().to_owned()]
        });
        let allowed = format!("127.0.0.1:{}", receiver.port());
        let server = Server::start_with(backend, &[("WEBHOOK_ALLOW_HOSTS", &allowed)]).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_, secrets) = room_and_channel(&server, &alice, "Project X", "secrets").await;
        let path = format!("/api/channels/{general}/outgoing_webhooks");
        let url = format!("http://{allowed}/hook");

        // The SSRF guard: a private address not in WEBHOOK_ALLOW_HOSTS.
        let private = json!({"url": format!("http://127.0.0.1:{}/x", testkit::free_port())});
        let (s, refused) = call(&server, Some(&alice), "POST", &path, Some(private)).await;
        assert_eq!(
            (s, &refused["code"]),
            (422, &json!("invalid_url")),
            "{refused}"
        );
        // Members do not register them; encrypted channels have none.
        let body = json!({"url": url, "keywords": ["Deploy"]});
        let (s, _) = call(&server, Some(&charlie), "POST", &path, Some(body.clone())).await;
        assert_eq!(s, 403);
        let enc = format!("/api/channels/{secrets}/outgoing_webhooks");
        let (s, _) = call(&server, Some(&alice), "POST", &enc, Some(body.clone())).await;
        assert_eq!(s, 409);

        let (s, made) = call(&server, Some(&alice), "POST", &path, Some(body)).await;
        assert_eq!(s, 201, "{backend:?}: {made}");
        assert_eq!(made["webhook"]["keywords"], json!(["deploy"]));
        let webhook_id = made["webhook"]["id"].as_i64().unwrap();
        let secret = made["secret"].as_str().unwrap();
        std::fs::write(receiver.dir().join("secret"), secret).unwrap();
        // The receiver fails the first try.
        std::fs::write(receiver.dir().join("script"), "500\n").unwrap();
        let (_, incoming) = make(&server, &alice, general, json!({"name": "CI"})).await;

        let (a, _) = connect(&server, &alice).await;
        say(&a, general, "hello, nothing to see").await;
        let deploy = say(&a, general, "Please DEPLOY the release").await;
        // A webhook's own post never fires one.
        assert_eq!(
            hook(&incoming, &json!({"text": "deploy done"})).await.0,
            200
        );

        let got = receive(receiver.dir(), 2).await;
        for record in &got {
            assert_eq!(record["verified"], true, "{backend:?}: {record}");
            assert_eq!(record["content_type"], "application/json");
            assert_eq!(record["body"]["message"]["id"], deploy);
            assert_eq!(
                record["body"]["message"]["text"],
                "Please DEPLOY the release"
            );
            assert_eq!(record["body"]["message"]["username"], "alice");
            assert_eq!(record["body"]["trigger_word"], "deploy");
            assert_eq!(record["body"]["channel_id"], general);
        }
        assert_eq!(
            (got[0]["status"].as_i64(), got[1]["status"].as_i64()),
            (Some(500), Some(200))
        );
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert_eq!(
            received(receiver.dir()).len(),
            2,
            "only the keyword's message"
        );

        let log_path = format!("{path}/{webhook_id}/deliveries");
        let (s, log) = call(&server, Some(&alice), "GET", &log_path, None).await;
        assert_eq!(s, 200, "{log}");
        let entry = &log["deliveries"][0];
        assert_eq!(log["deliveries"].as_array().unwrap().len(), 1, "{log}");
        assert_eq!(entry["message_id"], deploy);
        assert_eq!(entry["status"], "delivered");
        assert_eq!(entry["attempts"], 2);
        assert_eq!(entry["last_status"], 200);
        assert_eq!(
            call(&server, Some(&charlie), "GET", &log_path, None)
                .await
                .0,
            403
        );

        // The receiver's check is real: under another secret it fails.
        std::fs::write(receiver.dir().join("secret"), "not-the-secret").unwrap();
        say(&a, general, "deploy again").await;
        let got = receive(receiver.dir(), 3).await;
        assert_eq!(got[2]["verified"], false);

        // Deleted: nothing more is sent.
        assert_eq!(
            delete(&server, Some(&alice), &format!("{path}/{webhook_id}")).await,
            200
        );
        say(&a, general, "deploy once more").await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(received(receiver.dir()).len(), 3);
    }
}

#[tokio::test]
async fn a_queued_delivery_survives_a_restart() {
    for backend in backends() {
        let mut receiver = testkit::PythonPeer::start(RECEIVER, |dir| {
            vec!["--out".into(), dir.as_os_str().to_owned()]
        });
        let allowed = format!("127.0.0.1:{}", receiver.port());
        let mut server = Server::start_with(backend, &[("WEBHOOK_ALLOW_HOSTS", &allowed)]).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let path = format!("/api/channels/{general}/outgoing_webhooks");
        let body = json!({"url": format!("http://{allowed}/hook")});
        let (s, made) = call(&server, Some(&alice), "POST", &path, Some(body)).await;
        assert_eq!(s, 201, "{made}");
        let log_path = format!("{path}/{}/deliveries", made["webhook"]["id"]);
        std::fs::write(
            receiver.dir().join("secret"),
            made["secret"].as_str().unwrap(),
        )
        .unwrap();

        // The receiver is down: the first try finds no one.
        receiver.stop();
        let (a, _) = connect(&server, &alice).await;
        let sent = say(&a, general, "while you were out").await;
        let mut tried = Value::Null;
        for _ in 0..100 {
            let (_, log) = call(&server, Some(&alice), "GET", &log_path, None).await;
            tried = log["deliveries"][0].clone();
            if tried["attempts"].as_i64() >= Some(1) && tried["last_error"].is_string() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(tried["status"], "pending", "{backend:?}: {tried}");

        // The server dies and comes back; the receiver too: it arrives.
        drop(a);
        server.kill();
        receiver.run();
        server.restart();
        let got = receive(receiver.dir(), 1).await;
        assert_eq!(got[0]["body"]["message"]["id"], sent);
        assert_eq!(got[0]["verified"], true);
        let alice = token(&server, "alice", "password123").await;
        let mut log = Value::Null;
        for _ in 0..50 {
            log = call(&server, Some(&alice), "GET", &log_path, None).await.1;
            if log["deliveries"][0]["status"] == "delivered" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(log["deliveries"][0]["status"], "delivered", "{log}");
    }
}
