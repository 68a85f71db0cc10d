//! `GET /api/search` against the real binary, on every configured storage
//! backend: ranking and paging, each filter, who finds what (outsiders,
//! removed members, encrypted channels), edits and deletes, Chinese text,
//! and query syntax that full-text engines treat specially.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::{Value, json};
use testkit::{
    Backend, Server, ask, backends, call, connect, db_count, db_execute, new_user,
    room_and_channel, token,
};

async fn send(socket: &securechat_client::Socket, channel: i64, content: &str, id: &str) -> i64 {
    let ack = ask(
        socket,
        "send_message",
        json!({"channel_id": channel, "content": content, "client_msg_id": id}),
    )
    .await;
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"]["id"].as_i64().unwrap()
}

fn encode(q: &str) -> String {
    percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The page's status and body for `q` with extra parameters.
async fn search_raw(server: &Server, token: &str, q: &str, extra: &str) -> (u16, Value) {
    call(
        server,
        Some(token),
        "GET",
        &format!("/api/search?q={}{extra}", encode(q)),
        None,
    )
    .await
}

/// The ids of the first page of results for `q`.
async fn ids(server: &Server, token: &str, q: &str, extra: &str) -> Vec<i64> {
    let (status, body) = search_raw(server, token, q, extra).await;
    assert_eq!(status, 200, "{q}: {body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn search_ranks_filters_pages_and_keeps_to_what_the_caller_may_read() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, lobby) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let (project, private) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let (b, _b_events) = connect(&server, &bob).await;

        let once = send(&a, lobby, "please deploy the release tonight", "s1").await;
        let thrice = send(&a, lobby, "Deploy, deploy, DEPLOY!", "s2").await;
        let long = format!(
            "{} then we deploy, {}",
            "a long story ".repeat(30),
            "and more ".repeat(30)
        );
        let long = send(&a, lobby, &long, "s3").await;
        let cjk = send(&a, lobby, "频道密钥轮换说明：每一百条消息轮换一次", "s4").await;
        let link = send(&a, lobby, "notes at https://example.org/deploy-notes", "s5").await;
        let syntax = send(&a, lobby, r#"odd NEAR(x -y) "quoted" a*b ((("#, "s6").await;
        let from_bob = send(&b, lobby, "bob will deploy tomorrow", "s7").await;
        let in_private = send(&b, private, "deploy plan for the private room", "s8").await;

        // Ranking: more occurrences per character first; ties newest first.
        let found = ids(&server, &alice, "deploy", "").await;
        assert_eq!(found[0], thrice, "{backend:?}: {found:?}");
        for id in [once, long, link, from_bob, in_private] {
            assert!(found.contains(&id), "{backend:?}: {id} in {found:?}");
        }
        let pos = |id| found.iter().position(|x| *x == id).unwrap();
        assert!(
            pos(once) < pos(long),
            "{backend:?}: a short message before a long one"
        );
        assert_eq!(
            ids(&server, &alice, "deploy", "&sort=newest").await[..2],
            [in_private, from_bob],
            "{backend:?}"
        );

        // The result carries its message, channel, room and a marked snippet.
        let (_, page) = search_raw(&server, &alice, "DEPLOY tonight", "").await;
        let first = &page["results"][0];
        assert_eq!(
            first["message"]["id"], once,
            "{backend:?}: every word must occur"
        );
        assert_eq!(page["results"].as_array().unwrap().len(), 1, "{backend:?}");
        assert_eq!(first["channel"], json!({"id": lobby, "name": "general"}));
        assert_eq!(first["room"]["name"], "Lobby");
        let marked: Vec<&str> = first["snippet"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["match"] == true)
            .map(|s| s["text"].as_str().unwrap())
            .collect();
        assert_eq!(marked, ["deploy", "tonight"], "{backend:?}");

        // Keyset paging walks every result once.
        let mut walked = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..20 {
            let extra = match &cursor {
                Some(c) => format!("&limit=2&before={c}"),
                None => "&limit=2".into(),
            };
            let (status, page) = search_raw(&server, &alice, "deploy", &extra).await;
            assert_eq!(status, 200, "{page}");
            for r in page["results"].as_array().unwrap() {
                walked.push(r["message"]["id"].as_i64().unwrap());
            }
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(walked, found, "{backend:?}: pages of 2 = one page");

        // Filters.
        assert_eq!(
            ids(&server, &alice, "deploy from:Bob", "").await,
            [from_bob, in_private]
        );
        assert_eq!(
            ids(
                &server,
                &alice,
                "deploy from:@bob in:#general",
                &format!("&channel_id={lobby}")
            )
            .await,
            [from_bob]
        );
        assert_eq!(
            ids(&server, &alice, "has:link", "").await,
            [link],
            "{backend:?}"
        );
        assert!(
            ids(&server, &alice, "deploy in:nowhere", "")
                .await
                .is_empty()
        );
        assert!(
            ids(&server, &alice, "deploy from:nobody", "")
                .await
                .is_empty()
        );
        let response = testkit::api_client()
            .post(server.url(&format!(
                "/api/channels/{lobby}/files?name=plan.txt&caption=deploy%20checklist"
            )))
            .bearer_auth(&alice)
            .header("content-type", "application/octet-stream")
            .body(b"1. deploy".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{backend:?}");
        let with_file = response.json::<Value>().await.unwrap()["message"]["id"]
            .as_i64()
            .unwrap();
        assert_eq!(
            ids(&server, &alice, "deploy has:file", "").await,
            [with_file],
            "{backend:?}"
        );
        let today = time::OffsetDateTime::now_utc().date();
        let day =
            |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        let yesterday = day(today.previous_day().unwrap());
        assert_eq!(
            ids(&server, &alice, &format!("tonight after:{yesterday}"), "").await,
            [once]
        );
        assert!(
            ids(
                &server,
                &alice,
                &format!("tonight before:{}", day(today)),
                ""
            )
            .await
            .is_empty()
        );
        assert!(
            ids(
                &server,
                &alice,
                &format!("tonight after:{}", day(today)),
                ""
            )
            .await
            .is_empty()
        );

        // Chinese: two characters (below a trigram) and longer runs.
        assert_eq!(ids(&server, &alice, "密钥", "").await, [cjk], "{backend:?}");
        assert_eq!(
            ids(&server, &alice, "频道密钥 一百条", "").await,
            [cjk],
            "{backend:?}"
        );

        // Syntax full-text engines interpret is searched literally, or refused clearly.
        for literal in ["NEAR(x -y)", "\"quoted\"", "a*b", "(((", "odd -y)"] {
            assert_eq!(
                ids(&server, &alice, literal, "").await,
                [syntax],
                "{backend:?}: {literal}"
            );
        }
        assert!(ids(&server, &alice, "\"unbalanced", "").await.is_empty());
        for (q, extra, code) in [
            ("x".repeat(10 * 1024), "", "invalid_search"),
            ("a\0b".into(), "", "invalid_search"),
            ("has:pdf".into(), "", "invalid_search"),
            ("before:2026-02-30".into(), "", "invalid_search"),
            ("deploy".into(), "&before=1.2.3", "invalid_cursor"),
            ("deploy".into(), "&sort=loudest", "invalid_query"),
        ] {
            let (status, body) = search_raw(&server, &alice, &q, extra).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some(code)),
                "{backend:?}: {body}"
            );
        }
        // Nothing typed: no results, not an error (an empty form field).
        let (status, body) = search_raw(&server, &alice, "   ", "&before=").await;
        assert_eq!(
            (status, body["results"].as_array().map(Vec::len)),
            (200, Some(0)),
            "{body}"
        );
        let (status, _) = call(&server, None, "GET", "/api/search?q=deploy", None).await;
        assert_eq!(status, 401, "{backend:?}: only for signed-in people");

        // Edits and deletes update what is found.
        let edited = ask(
            &a,
            "edit_message",
            json!({"message_id": once, "content": "please ship the release tonight"}),
        )
        .await;
        assert_eq!(edited["success"], true, "{edited}");
        assert!(
            !ids(&server, &alice, "deploy", "").await.contains(&once),
            "{backend:?}"
        );
        assert_eq!(
            ids(&server, &alice, "ship", "").await,
            [once],
            "{backend:?}"
        );
        let deleted = ask(&a, "delete_message", json!({"message_id": thrice})).await;
        assert_eq!(deleted["success"], true, "{deleted}");
        assert!(
            !ids(&server, &alice, "deploy", "").await.contains(&thrice),
            "{backend:?}"
        );

        // Encrypted channels are never searched, even if plaintext lands in one.
        db_execute(
            &server,
            "INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
             SELECT c.id, u.id, 'deploy injected into secrets', 'injected', 0 \
             FROM channels c, users u WHERE c.name = 'secrets' AND u.username_key = 'alice'",
        )
        .await;
        assert!(
            ids(&server, &alice, "injected", "").await.is_empty(),
            "{backend:?}"
        );

        // Outsiders: a new account finds nothing of rooms it is not in, and
        // naming a private channel is a 404.
        let (_, dave) = new_user(&server, "dave").await;
        assert!(
            ids(&server, &dave, "deploy", "").await.is_empty(),
            "{backend:?}"
        );
        let (status, _) =
            search_raw(&server, &dave, "deploy", &format!("&channel_id={private}")).await;
        assert_eq!(status, 404, "{backend:?}");

        // A removed member finds nothing of the room any more, old or new;
        // one who left a private room likewise.
        assert!(
            ids(&server, &charlie, "deploy", "")
                .await
                .contains(&in_private)
        );
        let (status, body) = call(
            &server,
            Some(&alice),
            "DELETE",
            &format!(
                "/api/rooms/{project}/members/{}",
                user_id(&server, &charlie).await
            ),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let after_removal = send(&b, private, "deploy after charlie left", "s9").await;
        let found = ids(&server, &charlie, "deploy", "").await;
        assert!(
            !found.contains(&in_private) && !found.contains(&after_removal),
            "{backend:?}: {found:?}"
        );
        assert!(found.contains(&from_bob), "{backend:?}: Lobby is still his");
        let (status, body) = call(
            &server,
            Some(&bob),
            "POST",
            &format!("/api/rooms/{project}/leave"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            !ids(&server, &bob, "deploy", "")
                .await
                .contains(&after_removal),
            "{backend:?}"
        );
    }
}

async fn user_id(server: &Server, token: &str) -> i64 {
    let (_, me) = call(server, Some(token), "GET", "/api/auth/me", None).await;
    me["user"]["id"].as_i64().unwrap()
}

/// Words of one or two Chinese, Japanese or Korean characters, below a
/// trigram: found through SQLite's index of those characters (and row by
/// row on PostgreSQL), kept through edits and deletes, and complete for
/// rows that reached the database without the server's writer once the
/// server has restarted.
#[tokio::test]
async fn short_cjk_words_are_found_through_edits_deletes_and_a_restart() {
    for backend in backends() {
        let mut server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, lobby) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let (a, _events) = connect(&server, &alice).await;
        let newest = "&sort=newest";

        let done = send(&a, lobby, "部署完成了", "c1").await;
        let tomorrow = send(&a, lobby, "明天再部署", "c2").await;
        let key = send(&a, lobby, "密钥", "c3").await;
        let korean = send(&a, lobby, "한국어 검색 시험", "c4").await;
        let mine = send(&a, lobby, "这是我的", "c5").await;
        let apart = send(&a, lobby, "部 then 署", "c6").await;

        assert_eq!(
            ids(&server, &alice, "部署", newest).await,
            [tomorrow, done],
            "{backend:?}"
        );
        assert_eq!(ids(&server, &alice, "密钥", "").await, [key], "{backend:?}");
        assert_eq!(
            ids(&server, &alice, "검색", "").await,
            [korean],
            "{backend:?}"
        );
        assert_eq!(
            ids(&server, &alice, "我的", "").await,
            [mine],
            "{backend:?}"
        );
        assert_eq!(
            ids(&server, &alice, "部", newest).await,
            [apart, tomorrow, done],
            "{backend:?}: one character"
        );
        assert_eq!(
            ids(&server, &alice, "部署 明天", "").await,
            [tomorrow],
            "{backend:?}: two short words"
        );
        let sqlite = backend == Backend::Sqlite;
        const INDEXED: &str = "SELECT COUNT(*) FROM messages_cjk WHERE rowid = $1";
        if sqlite {
            // The index is what finds them: a row taken out of it is not
            // found any more, though the message still holds the word.
            for id in [done, tomorrow, key, korean, mine, apart] {
                assert_eq!(db_count(&server, INDEXED, id).await, 1, "{id}");
            }
            db_execute(
                &server,
                "DELETE FROM messages_cjk WHERE rowid = \
                 (SELECT id FROM messages WHERE client_msg_id = 'c3')",
            )
            .await;
            assert!(ids(&server, &alice, "密钥", "").await.is_empty());
        }

        // An edit replaces the indexed characters; a delete removes them.
        let edited = ask(
            &a,
            "edit_message",
            json!({"message_id": done, "content": "已经上线了"}),
        )
        .await;
        assert_eq!(edited["success"], true, "{edited}");
        assert_eq!(
            ids(&server, &alice, "部署", "").await,
            [tomorrow],
            "{backend:?}"
        );
        assert_eq!(
            ids(&server, &alice, "上线", "").await,
            [done],
            "{backend:?}"
        );
        let deleted = ask(&a, "delete_message", json!({"message_id": tomorrow})).await;
        assert_eq!(deleted["success"], true, "{deleted}");
        assert!(
            ids(&server, &alice, "部署", "").await.is_empty(),
            "{backend:?}"
        );

        // A row written straight into the database (an import, an older
        // version), then a message through the server: the later message
        // must not hide the earlier row from the index once restarted.
        db_execute(
            &server,
            "INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
             SELECT c.id, u.id, '离线写入的消息', 'direct-1', 0 \
             FROM channels c JOIN rooms r ON r.id = c.room_id, users u \
             WHERE r.name = 'Lobby' AND c.name = 'general' AND u.username_key = 'alice'",
        )
        .await;
        // Edited through the server before the catch-up reached it: filed
        // once, under its new text.
        let direct_id = db_count(
            &server,
            "SELECT id FROM messages WHERE client_msg_id = 'direct-1' AND $1 = $1",
            0,
        )
        .await;
        let edited = ask(
            &a,
            "edit_message",
            json!({"message_id": direct_id, "content": "离线写入的消息，改过"}),
        )
        .await;
        assert_eq!(edited["success"], true, "{edited}");
        let after = send(&a, lobby, "再写一条", "c7").await;
        const DIRECT: &str = "SELECT COUNT(*) FROM messages_cjk WHERE rowid = \
             (SELECT id FROM messages WHERE client_msg_id = 'direct-1') AND $1 = $1";
        if sqlite {
            assert_eq!(db_count(&server, DIRECT, 0).await, 1, "indexed by the edit");
        }
        drop(a);
        server.restart();
        let alice = token(&server, "alice", "password123").await;
        let direct = ids(&server, &alice, "写入", "").await;
        assert_eq!(direct.len(), 1, "{backend:?}: {direct:?}");
        assert_eq!(
            ids(&server, &alice, "再写", "").await,
            [after],
            "{backend:?}"
        );
        assert_eq!(
            ids(&server, &alice, "改过", "").await,
            [direct_id],
            "{backend:?}"
        );
        if sqlite {
            assert_eq!(db_count(&server, DIRECT, 0).await, 1, "indexed at start");
            assert_eq!(db_count(&server, INDEXED, after).await, 1);
        }
    }
}
