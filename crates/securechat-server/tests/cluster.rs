//! Several `securechat serve` nodes sharing one PostgreSQL database and one
//! Redis, with clients spread over them: pushes cross nodes, a kick on one
//! node cuts a socket on another, key events cross nodes, presence follows
//! sockets on every node, and a node killed with SIGKILL loses no
//! acknowledged message while its clients resume on another node.
//!
//! Needs `TEST_DATABASE_URL` (PostgreSQL) and Redis at `TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`); `.ci/run` provides both. Without
//! `TEST_DATABASE_URL` these tests say so and pass, like the PostgreSQL half
//! of the other suites.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::collections::HashSet;
use std::time::Duration;

use securechat_client::{EventStream, Socket};
use securechat_crypto::{ChannelKey, SealedShare, SharePurpose};
use serde_json::json;
use testkit::{
    Backend, Server, WAIT, ask, call, connect, member, new_user, next_event, no_event, token,
};

/// The nodes of one test cluster; dropping it stops them and removes the
/// cluster's Redis keys.
struct TestCluster {
    nodes: Vec<Server>,
    redis: String,
    prefix: String,
}

impl std::ops::Deref for TestCluster {
    type Target = Vec<Server>;
    fn deref(&self) -> &Vec<Server> {
        &self.nodes
    }
}

impl std::ops::DerefMut for TestCluster {
    fn deref_mut(&mut self) -> &mut Vec<Server> {
        &mut self.nodes
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let Ok(mut conn) =
            redis::Client::open(self.redis.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// Starts `n` nodes of one fresh cluster (own database, own Redis prefix).
async fn cluster(n: usize) -> Option<TestCluster> {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |v| v.is_empty()) {
        eprintln!("TEST_DATABASE_URL is not set: skipping the cluster test");
        return None;
    }
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let prefix = format!("sctest-{}-{}", std::process::id(), rand::random::<u32>());
    let secret = format!("cluster-test-secret-{:032x}", rand::random::<u128>());
    let first = Server::start_with(
        Backend::Postgres,
        &[
            ("REDIS_URL", &redis),
            ("REDIS_PREFIX", &prefix),
            ("SECRET_KEY", &secret),
        ],
    )
    .await;
    let mut nodes = vec![];
    for _ in 1..n {
        nodes.push(Server::start_node(&first).await);
    }
    nodes.insert(0, first);
    Some(TestCluster {
        nodes,
        redis,
        prefix,
    })
}

/// (room id, channel id) by names, as the token's user sees them.
async fn channel(server: &Server, token: &str, room: &str, channel: &str) -> (i64, i64) {
    testkit::room_and_channel(server, token, room, channel).await
}

async fn user_id(server: &Server, token: &str) -> i64 {
    let (_, me) = call(server, Some(token), "GET", "/api/auth/me", None).await;
    me["user"]["id"].as_i64().unwrap()
}

/// The next `presence` event about `user`.
async fn presence_of(events: &mut EventStream, user: i64, within: Duration) -> bool {
    let found = tokio::time::timeout(within, async {
        loop {
            let event = events.recv().await.expect("connection ended");
            if event.name == "presence" && event.data()["user_id"] == user {
                return event.data()["online"].as_bool().unwrap();
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no presence of user {user} within {within:?}"))
}

#[tokio::test]
async fn messages_typing_presence_and_kicks_cross_nodes() {
    let Some(nodes) = cluster(3).await else {
        return;
    };
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let alice = token(a, "alice", "password123").await;
    let bob = token(b, "bob", "password456").await;
    let charlie = token(c, "charlie", "password789").await;
    let bob_id = user_id(b, &bob).await;
    let charlie_id = user_id(c, &charlie).await;
    let (_, lobby) = channel(a, &alice, "Lobby", "general").await;

    let (on_a, mut a_events) = connect(a, &alice).await;
    let (on_b, mut b_events) = connect(b, &bob).await;
    assert!(
        presence_of(&mut a_events, bob_id, WAIT).await,
        "bob's socket on B is announced to alice on A"
    );
    let (on_c, mut c_events) = connect(c, &charlie).await;
    for s in [&on_a, &on_b, &on_c] {
        assert_eq!(
            ask(s, "join_channel", json!({"channel_id": lobby})).await["success"],
            true
        );
    }

    // A message sent on A arrives on B and C.
    let sent = ask(
        &on_a,
        "send_message",
        json!({"channel_id": lobby, "content": "hello from A", "client_msg_id": "x-1"}),
    )
    .await;
    assert_eq!(sent["success"], true, "{sent}");
    let id = sent["message"]["id"].clone();
    for events in [&mut b_events, &mut c_events] {
        let got = next_event(events, "new_message").await;
        assert_eq!(
            (got["id"].clone(), got["content"].clone()),
            (id.clone(), json!("hello from A"))
        );
    }
    // Edits and typing from B reach A and C; the typing throttle is shared.
    let edited = ask(
        &on_a,
        "edit_message",
        json!({"message_id": id, "content": "hello from A (edited)"}),
    )
    .await;
    assert_eq!(edited["success"], true);
    assert_eq!(
        next_event(&mut c_events, "message_edited").await["content"],
        "hello from A (edited)"
    );
    assert_eq!(
        ask(&on_b, "typing", json!({"channel_id": lobby})).await["forwarded"],
        true
    );
    assert_eq!(next_event(&mut a_events, "typing").await["user_id"], bob_id);
    let (bob_on_c, _bob_c_events) = connect(c, &bob).await;
    assert_eq!(
        ask(&bob_on_c, "typing", json!({"channel_id": lobby})).await["forwarded"],
        false,
        "a second node does not forward the same user's typing within the interval"
    );

    // Presence: bob now has sockets on B and C; closing B's keeps him online.
    on_b.close().await;
    no_event(&mut a_events, "presence", Duration::from_millis(700)).await;
    bob_on_c.close().await;
    assert!(!presence_of(&mut a_events, bob_id, WAIT).await);

    // A kick on A stops delivery to charlie's socket on C.
    let (project, project_general) = channel(a, &alice, "Project X", "general").await;
    let (charlie_b, mut charlie_b_events) = connect(b, &charlie).await;
    for s in [&on_a, &charlie_b] {
        assert_eq!(
            ask(s, "join_channel", json!({"channel_id": project_general})).await["success"],
            true
        );
    }
    let (s, _) = call(
        a,
        Some(&alice),
        "DELETE",
        &format!("/api/rooms/{project}/members/{charlie_id}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        next_event(&mut charlie_b_events, "member_left").await["reason"],
        "kicked"
    );
    let after = ask(
        &on_a,
        "send_message",
        json!({"channel_id": project_general, "content": "after the kick", "client_msg_id": "x-2"}),
    )
    .await;
    assert_eq!(after["success"], true);
    no_event(
        &mut charlie_b_events,
        "new_message",
        Duration::from_millis(700),
    )
    .await;
}

#[tokio::test]
async fn key_rotation_and_key_requests_cross_nodes() {
    let Some(nodes) = cluster(2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = member(a, "alice", "password123").await;
    let bob = member(b, "bob", "password456").await;
    let (room, secrets) = channel(a, &alice.token, "Project X", "secrets").await;
    // alice keys the channel (version 1) for both; the share to bob, made on
    // A, reaches bob's socket on B.
    let v1 = ChannelKey::generate().unwrap();
    let (_on_b_early, mut b_early) = connect(b, &bob.token).await;
    for to in [&alice, &bob] {
        let sealed = SealedShare::seal_format1(
            &alice.identity,
            &to.identity.bundle(),
            secrets,
            1,
            SharePurpose::Initial,
            &v1,
        )
        .unwrap();
        let (s, body) = call(
            a,
            Some(&alice.token),
            "POST",
            "/api/channels/share_key",
            Some(json!({
                "user_id": to.id, "channel_id": secrets, "encrypted_key": sealed.to_wire(),
                "is_key_rotation": false, "key_version": 1,
            })),
        )
        .await;
        assert_eq!(s, 200, "{body}");
    }
    let shared = next_event(&mut b_early, "channel_key_share").await;
    assert_eq!(shared["channel_id"], secrets);
    let (_on_a, mut a_events) = connect(a, &alice.token).await;
    let (_on_b, mut b_events) = connect(b, &bob.token).await;
    let (dave_id, dave_token) = new_user(a, "dave").await;

    // Adding dave on A: the rotation is announced to members on both nodes.
    let (s, _) = call(
        a,
        Some(&alice.token),
        "POST",
        &format!("/api/rooms/{room}/members"),
        Some(json!({"user_id": dave_id})),
    )
    .await;
    assert!(s == 200 || s == 201, "{s}");
    for events in [&mut a_events, &mut b_events] {
        let rotation = next_event(events, "key_rotation_needed").await;
        assert_eq!(rotation["channel_id"], secrets);
        assert_eq!(rotation["reason"], "member_added");
    }

    // dave, on B, asks for the key: the request reaches alice on A.
    let (_on_b_dave, _) = connect(b, &dave_token).await;
    let (s, req) = call(
        b,
        Some(&dave_token),
        "POST",
        &format!("/api/channels/{secrets}/request_key"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{req}");
    let asked = next_event(&mut a_events, "channel_key_request").await;
    assert_eq!(asked["requester_id"], dave_id);
    assert_eq!(asked["request_id"], req["request_id"]);
}

/// Sends `content` until acked, reconnecting to `fallback` if the node
/// dies; the same `client_msg_id` makes a retry of a committed send return
/// the stored message instead of a second one.
async fn send_surviving(
    socket: &mut Socket,
    fallback: &Server,
    token: &str,
    channel: i64,
    content: &str,
    client_id: &str,
) -> i64 {
    loop {
        let attempt = socket
            .emit_with_ack(
                "send_message",
                &json!({"channel_id": channel, "content": content, "client_msg_id": client_id}),
                WAIT,
            )
            .await;
        match attempt {
            Ok(ack) if ack["success"] == true => return ack["message"]["id"].as_i64().unwrap(),
            Ok(ack) if ack["code"] == "rate_limited" => {
                let ms = ack["retry_after_ms"].as_u64().unwrap();
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Ok(ack) => panic!("send refused: {ack}"),
            Err(_) => {
                let (fresh, _) = connect(fallback, token).await;
                *socket = fresh;
            }
        }
    }
}

#[tokio::test]
async fn sigkill_loses_no_acked_message_and_clients_resume_elsewhere() {
    let Some(mut nodes) = cluster(2).await else {
        return;
    };
    let b = nodes.pop().unwrap();
    let mut a = nodes.pop().unwrap();
    let alice = token(&a, "alice", "password123").await;
    let bob = token(&a, "bob", "password456").await;
    let admin = token(&a, "admin", "admin123").await;
    let charlie = token(&b, "charlie", "password789").await;
    let admin_id = user_id(&a, &admin).await;
    let (_, lobby) = channel(&a, &alice, "Lobby", "general").await;

    // charlie on B watches presence; admin has a socket only on A.
    let (_charlie_b, mut charlie_events) = connect(&b, &charlie).await;
    let (_admin_a, _) = connect(&a, &admin).await;
    assert!(presence_of(&mut charlie_events, admin_id, WAIT).await);

    // bob reads on A; alice streams messages on A.
    let (bob_a, mut bob_events) = connect(&a, &bob).await;
    let joined = ask(&bob_a, "join_channel", json!({"channel_id": lobby})).await;
    let start = joined["messages"]
        .as_array()
        .unwrap()
        .last()
        .map_or(0, |m| m["id"].as_i64().unwrap());
    let (mut sender, _) = connect(&a, &alice).await;

    let mut acked = Vec::new();
    let mut seen: Vec<i64> = Vec::new();
    for i in 0..60 {
        if i == 25 {
            a.kill();
        }
        let id = send_surviving(
            &mut sender,
            &b,
            &alice,
            lobby,
            &format!("stream {i}"),
            &format!("stream-{i}"),
        )
        .await;
        acked.push(id);
        if i < 25 {
            // Before the kill bob sees every message live (through node A).
            let got = next_event(&mut bob_events, "new_message").await;
            seen.push(got["id"].as_i64().unwrap());
        }
    }
    // bob's connection to A is gone; drain what arrived, then resume on B.
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(200), bob_events.recv()).await
    {
        if event.name == "new_message" {
            seen.push(event.data()["id"].as_i64().unwrap());
        }
    }
    let last = seen.last().copied().unwrap_or(start);
    let (bob_b, mut bob_b_events) = connect(&b, &bob).await;
    let resumed = ask(
        &bob_b,
        "join_channel",
        json!({"channel_id": lobby, "after": last}),
    )
    .await;
    assert_eq!(resumed["success"], true, "{resumed}");
    seen.extend(
        resumed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap()),
    );

    // Every acked message is there once, in order, nothing else: no gap,
    // no duplicate, and a retried send was not stored twice.
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert_eq!(seen, acked, "bob has exactly the acked stream, in order");
    let (_, history) = call(
        &b,
        Some(&bob),
        "GET",
        &format!("/api/channels/{lobby}/messages?after={start}&limit=100"),
        None,
    )
    .await;
    let stored: Vec<i64> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(stored, acked, "the database holds each acked message once");

    // New messages reach bob live on B.
    let id = send_surviving(&mut sender, &b, &alice, lobby, "after", "stream-after").await;
    assert_eq!(next_event(&mut bob_b_events, "new_message").await["id"], id);

    // admin's only socket died with A: B reaps A and announces admin
    // offline within the node TTL plus a heartbeat. (charlie's socket was
    // told on connecting that admin was online; that event comes first.)
    while presence_of(&mut charlie_events, admin_id, Duration::from_secs(30)).await {}
}

/// Every table's rows as text, sorted, read with plain SQL
/// on either engine: booleans as 0/1, bytes as lowercase hex.
async fn dump(
    url: &str,
    tables: &[(String, Vec<(String, String)>)],
) -> Vec<Vec<Vec<Option<String>>>> {
    use sqlx::{Connection, Row};
    let pg = url.starts_with("postgres");
    let mut out = Vec::new();
    for (table, columns) in tables {
        let exprs: Vec<String> = columns
            .iter()
            .map(|(name, ty)| match (pg, ty.as_str()) {
                (true, "boolean") => format!("({name})::int::text"),
                (true, "bytea") => format!("encode({name}, 'hex')"),
                (true, _) => format!("({name})::text"),
                (false, "bytea") => format!("lower(hex({name}))"),
                (false, "boolean") => format!("CAST(CAST({name} AS INTEGER) AS TEXT)"),
                (false, _) => format!("CAST({name} AS TEXT)"),
            })
            .collect();
        // Sorted here, not in SQL: the engines collate text differently.
        let sql = format!("SELECT {} FROM {table}", exprs.join(", "));
        let rows: Vec<Vec<Option<String>>> = if pg {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
                .collect()
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
                .collect()
        };
        let mut rows = rows;
        rows.sort();
        out.push(rows);
    }
    out
}

#[tokio::test]
async fn migrate_to_postgres_copies_a_populated_demo_database_row_by_row() {
    use sqlx::Connection;
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: skipping the migration test");
        return;
    };
    // Populate an SQLite deployment: demo data, sessions, messages, keys,
    // shares, a key request, a kick (membership log).
    let mut server = Server::start(Backend::Sqlite).await;
    let alice = member(&server, "alice", "password123").await;
    let bob = member(&server, "bob", "password456").await;
    let (room, secrets) = channel(&server, &alice.token, "Project X", "secrets").await;
    let (_, lobby) = channel(&server, &alice.token, "Lobby", "general").await;
    let key = ChannelKey::generate().unwrap();
    for to in [&alice, &bob] {
        let sealed = SealedShare::seal_format1(
            &alice.identity,
            &to.identity.bundle(),
            secrets,
            1,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let (s, _) = call(
            &server,
            Some(&alice.token),
            "POST",
            "/api/channels/share_key",
            Some(
                json!({"user_id": to.id, "channel_id": secrets, "encrypted_key": sealed.to_wire(),
                "is_key_rotation": false, "key_version": 1}),
            ),
        )
        .await;
        assert_eq!(s, 200);
    }
    let (socket, _) = connect(&server, &alice.token).await;
    for i in 0..20 {
        let ack = ask(
            &socket,
            "send_message",
            json!({"channel_id": lobby, "content": format!("before the move {i}"),
                "client_msg_id": format!("m-{i}")}),
        )
        .await;
        assert_eq!(ack["success"], true);
    }
    let (dave, dave_token) = new_user(&server, "dave").await;
    call(
        &server,
        Some(&alice.token),
        "POST",
        &format!("/api/rooms/{room}/members"),
        Some(json!({"user_id": dave})),
    )
    .await;
    call(
        &server,
        Some(&dave_token),
        "POST",
        &format!("/api/channels/{secrets}/request_key"),
        None,
    )
    .await;
    // Webhooks: an incoming one that posted (a message carrying its name)
    // and an outgoing one with a queued delivery.
    let (_, general) = channel(&server, &alice.token, "Project X", "general").await;
    let (s, made) = call(
        &server,
        Some(&alice.token),
        "POST",
        &format!("/api/channels/{general}/webhooks"),
        Some(json!({"name": "CI"})),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    let (s, outgoing) = call(
        &server,
        Some(&alice.token),
        "POST",
        &format!("/api/channels/{general}/outgoing_webhooks"),
        Some(json!({"url": "https://192.0.1.1/hook"})),
    )
    .await;
    assert_eq!(s, 201, "{outgoing}");
    let posted = testkit::api_client()
        .post(made["webhook"]["url"].as_str().unwrap())
        .json(&json!({"text": "from the webhook", "username": "Jenkins"}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let ack = ask(
        &socket,
        "send_message",
        json!({"channel_id": general, "content": "for the outgoing webhook",
            "client_msg_id": "m-outgoing"}),
    )
    .await;
    assert_eq!(ack["success"], true);
    testkit::db_count_becomes(
        &server,
        "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1",
        outgoing["webhook"]["id"].as_i64().unwrap(),
        1,
        "a queued delivery",
    )
    .await;
    socket.close().await;
    server.terminate();

    let name = format!(
        "securechat_migrate_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    );
    let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let target = format!("{base}/{name}");
    let out = server.cli(&["migrate-to-postgres", "--to", &target], None);
    let stdout = testkit::text(&out.stdout);
    assert!(
        out.status.success(),
        "{}{}",
        stdout,
        testkit::text(&out.stderr)
    );
    assert!(stdout.contains("verified"), "{stdout}");

    // Independent row-by-row comparison of every table.
    let mut pg = sqlx::PgConnection::connect(&target).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut pg)
    .await
    .unwrap();
    let mut tables: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for (table, column, ty) in columns {
        match tables.last_mut() {
            Some((t, cols)) if *t == table => cols.push((column, ty)),
            _ => tables.push((table, vec![(column, ty)])),
        }
    }
    for wanted in [
        "users",
        "sessions",
        "messages",
        "channel_keys",
        "key_requests",
        "membership_log",
    ] {
        assert!(
            tables.iter().any(|(t, _)| t == wanted),
            "{wanted} is copied"
        );
    }
    let before = dump(&server.db_url, &tables).await;
    let after = dump(&target, &tables).await;
    for (i, (table, _)) in tables.iter().enumerate() {
        assert_eq!(before[i], after[i], "{table} differs");
    }
    let messages = tables.iter().position(|(t, _)| t == "messages").unwrap();
    assert!(after[messages].len() >= 20);
    let sessions = tables.iter().position(|(t, _)| t == "sessions").unwrap();
    assert!(after[sessions].len() >= 3);

    // A second run refuses the now-populated target.
    let again = server.cli(&["migrate-to-postgres", "--to", &target], None);
    assert!(!again.status.success());
    // New rows get fresh ids: the identity sequences moved past the copy.
    let env = [
        ("DATABASE_URL".to_owned(), target.clone()),
        ("APP_ENV".to_owned(), "development".to_owned()),
    ];
    let add = testkit::run_binary(
        &env,
        &["user", "add", "zed", "--password-stdin"],
        Some("zed-password-1\n"),
    );
    assert!(add.status.success(), "{}", testkit::text(&add.stderr));
    drop(pg);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}

/// A local nginx load balancer (the Debian package) in front of `nodes`:
/// round-robin, WebSocket upgrade passed through, as in docs/DEPLOY.md.
struct Nginx {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(nodes: &[&Server]) -> Option<Self> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let binary = binary.expect("nginx is not installed: `make nginx-deps` installs it");
        let dir = tempfile::tempdir().unwrap();
        let port = testkit::free_port();
        let d = dir.path().display();
        let upstreams: String = nodes
            .iter()
            .map(|n| {
                format!(
                    "server 127.0.0.1:{} max_fails=1 fail_timeout=30s;\n",
                    n.port
                )
            })
            .collect();
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
               upstream securechat {{\n{upstreams}  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
                   proxy_pass http://securechat;\n      proxy_http_version 1.1;\n\
                   proxy_set_header Host $http_host;\n\
                   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                   proxy_set_header Upgrade $http_upgrade;\n\
                   proxy_set_header Connection $connection_upgrade;\n\
                   proxy_read_timeout 1h;\n      proxy_buffering off;\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = std::process::Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Owned at once, so that Drop stops it whatever happens next.
        let nginx = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(nginx);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nginx did not start: {}",
            std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nginx {
    /// SIGTERM, not SIGKILL: the master then stops its workers too.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let _ = self.child.wait();
    }
}

/// A client of the nginx front: the URL is nginx's, the nodes behind it.
async fn via(nginx: &Nginx, token: &str) -> (Socket, EventStream) {
    let options = securechat_client::SocketOptions::new(&nginx.base)
        .unwrap()
        .token(token);
    Socket::connect(options).await.unwrap()
}

#[tokio::test]
async fn chat_through_nginx_in_front_of_the_cluster_survives_a_node_kill() {
    let Some(mut nodes) = cluster(2).await else {
        return;
    };
    let Some(nginx) = Nginx::start(&[&nodes[0], &nodes[1]]) else {
        return;
    };
    let alice = token(&nodes[0], "alice", "password123").await;
    let bob = token(&nodes[1], "bob", "password456").await;
    let (_, lobby) = channel(&nodes[0], &alice, "Lobby", "general").await;

    // Four sockets through nginx's round robin: both nodes get some.
    let (alice_1, _) = via(&nginx, &alice).await;
    let (bob_1, mut bob_1_events) = via(&nginx, &bob).await;
    let (alice_2, _) = via(&nginx, &alice).await;
    let (bob_2, mut bob_2_events) = via(&nginx, &bob).await;
    // The connect handler (which logs) runs just after the handshake.
    for node in nodes.iter() {
        let mut served = false;
        for _ in 0..50 {
            served = node.log().contains("socket connected");
            if served {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(served, "each node serves sockets");
    }
    for s in [&alice_1, &bob_1, &alice_2, &bob_2] {
        assert_eq!(
            ask(s, "join_channel", json!({"channel_id": lobby})).await["success"],
            true
        );
    }
    let mut sent = Vec::new();
    for (i, s) in [&alice_1, &alice_2].into_iter().enumerate() {
        let ack = ask(
            s,
            "send_message",
            json!({"channel_id": lobby, "content": format!("via nginx {i}"), "client_msg_id": format!("n-{i}")}),
        )
        .await;
        sent.push(ack["message"]["id"].as_i64().unwrap());
    }
    for events in [&mut bob_1_events, &mut bob_2_events] {
        for id in &sent {
            assert_eq!(next_event(events, "new_message").await["id"], *id);
        }
    }

    // Node 0 dies; nginx sends the reconnects to node 1, which resumes.
    nodes[0].kill();
    let mut sender = alice_1;
    let id = send_surviving(
        &mut sender,
        &nodes[1],
        &alice,
        lobby,
        "after the kill",
        "n-after",
    )
    .await;
    let (bob_3, _) = via(&nginx, &bob).await;
    let resumed = ask(
        &bob_3,
        "join_channel",
        json!({"channel_id": lobby, "after": sent[1]}),
    )
    .await;
    let got: Vec<i64> = resumed["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![id]);
}

#[tokio::test]
async fn logout_on_one_node_closes_the_sessions_sockets_on_another() {
    let Some(nodes) = cluster(2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let ending = token(a, "bob", "password456").await;
    let staying = token(a, "bob", "password456").await;
    let (_ending_b, mut ending_events) = connect(b, &ending).await;
    let (staying_b, mut staying_events) = connect(b, &staying).await;

    // Logged out on A; the socket of that session lives on B. B's own sweep
    // would take 30 s: this must be far quicker.
    let (s, _) = call(a, Some(&ending), "POST", "/api/auth/logout", None).await;
    assert_eq!(s, 200);
    next_event(&mut ending_events, "session_ended").await;
    no_event(
        &mut staying_events,
        "session_ended",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(
        ask(&staying_b, "typing", json!({"channel_id": 1})).await["success"],
        true,
        "the other session's socket stays open"
    );
}

#[tokio::test]
async fn send_rate_and_login_lockout_hold_across_nodes() {
    let Some(nodes) = cluster(2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = token(a, "alice", "password123").await;
    let (_, lobby) = channel(a, &alice, "Lobby", "general").await;
    let (on_a, _) = connect(a, &alice).await;
    let (on_b, _) = connect(b, &alice).await;
    // 60 sends alternating between the nodes, as fast as acks come back:
    // per-node buckets (30 each) would take them all; the shared one (a
    // burst of 30, then 10 per second) refuses many.
    let mut accepted = 0;
    let mut limited = 0;
    let started = std::time::Instant::now();
    for i in 0..60 {
        let socket = if i % 2 == 0 { &on_a } else { &on_b };
        let ack = ask(
            socket,
            "send_message",
            json!({"channel_id": lobby, "content": format!("burst {i}"), "client_msg_id": format!("r-{i}")}),
        )
        .await;
        match ack["code"].as_str() {
            None => accepted += 1,
            Some("rate_limited") => limited += 1,
            Some(other) => panic!("unexpected refusal {other}: {ack}"),
        }
    }
    assert!(accepted >= 30, "the burst passes: {accepted}");
    // The shared bucket refills 10 a second while the sends go on; on a
    // loaded machine they take longer, so its allowance is counted from
    // the time they took (per-node buckets would take all 60).
    let allowance = 30.0 + started.elapsed().as_secs_f64() * 10.0 + 2.0;
    assert!(
        limited > 0 && f64::from(accepted) <= allowance,
        "one bucket for both nodes: {accepted} accepted, {limited} limited, {allowance:.0} allowed"
    );

    // Five wrong passwords on A lock the account on B too (the counters are
    // in the shared database).
    for _ in 0..5 {
        assert_eq!(testkit::login_status(a, "bob", "wrong-password").await, 401);
    }
    assert_eq!(testkit::login_status(b, "bob", "password456").await, 429);
}
