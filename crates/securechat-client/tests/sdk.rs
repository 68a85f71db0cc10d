//! The REST SDK against the real server binary (see `securechat-testkit`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_client::{Client, Error, SessionToken};
use securechat_testkit::{Backend, Server};

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> (u16, String) {
    match result {
        Err(Error::Api(api)) => (api.status, api.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn registers_and_refuses_duplicate_or_invalid_accounts() {
    let server = Server::start(Backend::Sqlite).await;
    let client = Client::new(&server.base).unwrap();
    let user = client
        .register("dora", "correct horse battery staple")
        .await
        .unwrap();
    assert_eq!(user.username, "dora");
    assert!(user.id > 0);
    assert_eq!(
        api_error(client.register("DORA", "another kettle orbit").await),
        (409, "username_taken".into())
    );
    let (status, _) = api_error(client.register("eve", "short").await);
    assert_eq!(status, 422);
    // Registering does not log in.
    assert!(client.token().is_none());

    let mut dora = Client::new(&server.base).unwrap();
    assert_eq!(
        dora.login("dora", "correct horse battery staple")
            .await
            .unwrap()
            .id,
        user.id
    );
}

#[tokio::test]
async fn login_me_change_password_and_logout() {
    let server = Server::start(Backend::Sqlite).await;
    let mut alice = Client::new(&server.base).unwrap();
    let user = alice.login("alice", "password123").await.unwrap();
    assert_eq!(user.username, "alice");
    assert!(!user.is_admin);
    assert!(!user.created_at.is_empty());
    assert_eq!(alice.me().await.unwrap(), user);

    // A second session, which the password change must end.
    let mut other_device = Client::new(&server.base).unwrap();
    other_device.login("alice", "password123").await.unwrap();

    assert_eq!(
        api_error(
            alice
                .change_password("not-my-password", "river-lantern-quiet-9")
                .await
        ),
        (401, "invalid_credentials".into())
    );
    alice
        .change_password("password123", "river-lantern-quiet-9")
        .await
        .unwrap();
    assert_eq!(
        alice.me().await.unwrap().id,
        user.id,
        "this session stays valid"
    );
    assert_eq!(api_error(other_device.me().await).0, 401);

    let token = alice.token().cloned().unwrap();
    alice.logout().await.unwrap();
    assert!(alice.token().is_none());
    assert!(matches!(alice.me().await, Err(Error::NotLoggedIn)));
    let ended = Client::new(&server.base).unwrap().with_token(token);
    assert_eq!(api_error(ended.me().await), (401, "unauthenticated".into()));

    assert_eq!(
        api_error(alice.login("alice", "password123").await),
        (401, "invalid_credentials".into())
    );
    alice.login("alice", "river-lantern-quiet-9").await.unwrap();
    assert_eq!(alice.me().await.unwrap().username, "alice");
}

#[tokio::test]
async fn logout_all_ends_every_session_and_bad_tokens_are_refused() {
    let server = Server::start(Backend::Sqlite).await;
    let mut laptop = Client::new(&server.base).unwrap();
    laptop.login("bob", "password456").await.unwrap();
    let mut phone = Client::new(&server.base).unwrap();
    phone.login("bob", "password456").await.unwrap();
    phone.logout_all().await.unwrap();
    assert_eq!(api_error(laptop.me().await).0, 401);

    let forged = Client::new(&server.base)
        .unwrap()
        .with_token(SessionToken::new("not-a-real-token"));
    assert_eq!(api_error(forged.me().await).0, 401);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut client = Client::new(&format!("http://{address}")).unwrap();
    assert!(matches!(
        client.login("alice", "password123").await,
        Err(Error::Http(_))
    ));
}
