//! The rooms and messages SDK against the real server binary (see `securechat-testkit`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use securechat_client::{
    Error, EventStream, HistoryQuery, Message, NewRoom, OutgoingMessage, Role, RoomKind,
    SendOptions,
};
use securechat_testkit::sdk::{channel_id, login};
use securechat_testkit::{Backend, Server};

const WAIT: Duration = Duration::from_secs(5);

fn code<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(error) => error
            .code()
            .unwrap_or_else(|| panic!("no code in {error:?}"))
            .to_owned(),
        Ok(value) => panic!("expected a refusal, got {value:?}"),
    }
}

/// The next `new_message` on `events`, skipping other events.
async fn next_message(events: &mut EventStream) -> Message {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = events.recv().await.expect("connection ended");
            if event.name == "new_message" {
                return event.parse::<Message>().unwrap();
            }
        }
    })
    .await
    .expect("no new_message in time")
}

#[tokio::test]
async fn rooms_directory_create_join_leave_members_dms_and_users() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;

    let rooms = alice.rooms().await.unwrap();
    let lobby = rooms.iter().find(|r| r.name == "Lobby").unwrap();
    assert_eq!(lobby.kind, RoomKind::Room);
    assert!(!lobby.is_private);
    assert_eq!(lobby.my_role, Some(Role::Member));
    let names: Vec<&str> = lobby.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["general", "random"]);
    assert!(lobby.channels.iter().all(|c| c.unread == Some(0)));
    let project = rooms.iter().find(|r| r.name == "Project X").unwrap();
    assert!(project.is_private);
    assert_eq!(project.my_role, Some(Role::Owner));
    assert!(
        project
            .channels
            .iter()
            .any(|c| c.name == "secrets" && c.is_encrypted)
    );

    // The directory lists public rooms only, searchable by name.
    let found = bob.public_rooms("LOB").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Lobby");
    assert!(
        bob.public_rooms("")
            .await
            .unwrap()
            .iter()
            .all(|r| !r.is_private),
        "no private room in the directory"
    );

    let club = alice
        .create_room(&NewRoom::public("Book Club").description("Monthly reads"))
        .await
        .unwrap();
    assert_eq!(club.my_role, Some(Role::Owner));
    assert_eq!(club.description, "Monthly reads");
    assert_eq!(club.channels.len(), 1);
    assert_eq!(club.channels[0].name, "general");
    assert_eq!(
        code(alice.create_room(&NewRoom::public("  ")).await),
        "invalid_name"
    );

    let joined = bob.join_room(club.id).await.unwrap();
    assert_eq!(joined.my_role, Some(Role::Member));
    assert_eq!(joined.member_count, 2);
    assert_eq!(joined.channels.len(), 1);
    let members = alice.room_members(club.id).await.unwrap();
    let roles: Vec<(&str, Role)> = members
        .iter()
        .map(|m| (m.username.as_str(), m.role))
        .collect();
    assert!(roles.contains(&("alice", Role::Owner)), "{roles:?}");
    assert!(roles.contains(&("bob", Role::Member)), "{roles:?}");

    bob.leave_room(club.id).await.unwrap();
    assert_eq!(alice.room_members(club.id).await.unwrap().len(), 1);
    assert!(bob.rooms().await.unwrap().iter().all(|r| r.id != club.id));
    assert_eq!(code(alice.leave_room(club.id).await), "owner_must_transfer");

    let secret = alice
        .create_room(&NewRoom::private("Hideout"))
        .await
        .unwrap();
    // Private rooms are invisible to outsiders.
    assert_eq!(code(bob.join_room(secret.id).await), "room_not_found");
    assert_eq!(bob.room(secret.id).await.unwrap_err().status(), Some(404));

    let users = alice.find_users("bo").await.unwrap();
    let bob_user = users.iter().find(|u| u.username == "bob").unwrap();
    let dm = alice.open_dm(bob_user.id).await.unwrap();
    assert!(dm.is_dm());
    assert_eq!(dm.display_name(), "@bob");
    assert_eq!(dm.channels.len(), 1);
    assert_eq!(alice.open_dm(bob_user.id).await.unwrap().id, dm.id);
    let bobs_view = bob.rooms().await.unwrap();
    let bobs_dm = bobs_view.iter().find(|r| r.id == dm.id).unwrap();
    assert_eq!(bobs_dm.display_name(), "@alice");
    let me = alice.me().await.unwrap();
    assert_eq!(code(alice.open_dm(me.id).await), "cannot_target_self");
}

#[tokio::test]
async fn send_join_history_dedup_and_refusals() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let general = channel_id(&alice, "Lobby", "general").await;
    let (a, _a_events) = alice.socket().await.unwrap();
    let (b, mut b_events) = bob.socket().await.unwrap();

    let first = OutgoingMessage::new(general, "hello, world");
    let sent = a.send_message(&first).await.unwrap();
    assert_eq!(sent.content.as_deref(), Some("hello, world"));
    assert_eq!(sent.sender_username.as_deref(), Some("alice"));
    assert_eq!(sent.client_msg_id, first.client_msg_id);
    assert_eq!(sent.channel_id, general);
    // The same message sent again is the same message.
    assert_eq!(a.send_message(&first).await.unwrap().id, sent.id);

    let joined = b.join_channel(general, None).await.unwrap();
    assert_eq!(joined.channel_id, general);
    assert_eq!(joined.messages.last().unwrap().id, sent.id);
    assert_eq!(
        joined.messages.iter().filter(|m| m.id == sent.id).count(),
        1
    );

    let reply = a
        .send_message(&OutgoingMessage::new(general, "live").reply_to(sent.id))
        .await
        .unwrap();
    let live = next_message(&mut b_events).await;
    assert_eq!(live, reply);
    assert_eq!(live.reply_to, Some(sent.id));

    // Unread counts come with the room list.
    let lobby = bob.rooms().await.unwrap();
    let unread = lobby
        .iter()
        .flat_map(|r| &r.channels)
        .find(|c| c.id == general)
        .unwrap()
        .unread;
    assert_eq!(unread, Some(2));

    // History: newest first; `after` oldest first; `before` pages back.
    let latest = bob
        .history(general, HistoryQuery::latest().limit(1))
        .await
        .unwrap();
    assert_eq!(latest.messages.len(), 1);
    assert_eq!(latest.messages[0].id, reply.id);
    assert!(latest.has_more);
    let older = bob
        .history(general, HistoryQuery::before(reply.id))
        .await
        .unwrap();
    assert_eq!(older.messages[0].id, sent.id);
    let newer = bob
        .history(general, HistoryQuery::after(sent.id - 1))
        .await
        .unwrap();
    let ids: Vec<i64> = newer.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, [sent.id, reply.id]);
    assert!(!newer.has_more);

    b.leave_channel(general).await.unwrap();
    a.send_message(&OutgoingMessage::new(general, "unheard"))
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_millis(300), next_message(&mut b_events)).await;
    assert!(heard.is_err(), "no new_message after leave_channel");

    // Refusals come back as `Error::Rejected` with the server's code.
    assert_eq!(
        code(a.send_message(&OutgoingMessage::new(general, "   ")).await),
        "empty_message"
    );
    let charlie = login(&server, "charlie").await;
    let hideout = charlie
        .create_room(&NewRoom::private("Charlie's"))
        .await
        .unwrap();
    let theirs = hideout.channels[0].id;
    assert_eq!(
        code(a.send_message(&OutgoingMessage::new(theirs, "hi")).await),
        "channel_not_found"
    );
    assert_eq!(
        code(a.join_channel(theirs, None).await),
        "channel_not_found"
    );
    assert_eq!(
        alice
            .history(theirs, HistoryQuery::latest())
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let secrets = channel_id(&alice, "Project X", "secrets").await;
    assert_eq!(
        code(
            a.send_message(&OutgoingMessage::new(secrets, "plain"))
                .await
        ),
        "plaintext_in_encrypted_channel"
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_with_the_same_client_msg_id() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = login(&server, "alice").await;
    let random = channel_id(&alice, "Lobby", "random").await;
    let (a, _events) = alice.socket().await.unwrap();

    // Twice the burst: the helper waits out every `rate_limited` answer.
    let mut ids = Vec::new();
    for i in 0..60 {
        let message = OutgoingMessage::new(random, format!("burst {i}"));
        ids.push(a.send_message(&message).await.unwrap().id);
    }
    let page = alice
        .history(random, HistoryQuery::after(0).limit(200))
        .await
        .unwrap();
    let stored: Vec<i64> = page.messages.iter().map(|m| m.id).collect();
    assert_eq!(stored, ids, "each message once, in order");

    // Without leave to wait, the refusal is returned with the wait.
    let impatient = SendOptions {
        max_rate_limit_wait: Duration::ZERO,
        ..SendOptions::default()
    };
    let mut refused = None;
    for i in 0..40 {
        let message = OutgoingMessage::new(random, format!("impatient {i}"));
        if let Err(error) = a.send_message_with(&message, &impatient).await {
            refused = Some(error);
            break;
        }
    }
    match refused {
        Some(Error::Rejected(rejection)) => {
            assert_eq!(rejection.code, "rate_limited");
            assert!(rejection.retry_after.unwrap() > Duration::ZERO);
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reconnecting_client_resumes_with_exactly_the_missed_messages() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let general = channel_id(&alice, "Lobby", "general").await;
    let (a, _a_events) = alice.socket().await.unwrap();
    a.send_message(&OutgoingMessage::new(general, "before"))
        .await
        .unwrap();

    let (b, _) = bob.socket().await.unwrap();
    let joined = b.join_channel(general, None).await.unwrap();
    let last_seen = joined.messages.last().unwrap().id;
    b.close().await;

    let mut missed = Vec::new();
    for i in 0..100 {
        let sent = a
            .send_message(&OutgoingMessage::new(general, format!("missed {i}")))
            .await
            .unwrap();
        missed.push(sent);
    }

    let (b, mut b_events) = bob.socket().await.unwrap();
    let resumed = bob.resume_channel(&b, general, last_seen).await.unwrap();
    assert_eq!(resumed, missed, "exactly the missed messages, in order");
    // Resuming at the newest message gives nothing, and live delivery goes on.
    let newest = resumed.last().unwrap().id;
    let (b2, _) = bob.socket().await.unwrap();
    assert!(
        bob.resume_channel(&b2, general, newest)
            .await
            .unwrap()
            .is_empty()
    );
    let after = a
        .send_message(&OutgoingMessage::new(general, "after"))
        .await
        .unwrap();
    assert_eq!(next_message(&mut b_events).await, after);
}
