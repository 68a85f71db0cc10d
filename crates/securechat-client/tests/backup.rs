//! The key backup through the SDK against the real server binary (see
//! `securechat-testkit`), on SQLite and, with `TEST_DATABASE_URL`, on
//! PostgreSQL: a recovery key brings back the identity, the pins and the
//! verified log heads, kept up to date after the backup was made.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use securechat_client::{NewRoom, SecureClient};
use securechat_crypto::Identity;
use securechat_testkit::sdk::login;
use securechat_testkit::{Server, backends};
use sqlx::Connection;

/// Replaces `user_id`'s published key on the server's database, as a
/// server that lies would.
async fn swap_key(server: &Server, user_id: i64, bundle: &str) {
    if server.db_url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&server.db_url).await.unwrap();
        sqlx::query("UPDATE user_keys SET public_key = $1 WHERE user_id = $2")
            .bind(bundle)
            .bind(user_id)
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&server.db_url)
            .await
            .unwrap();
        sqlx::query("UPDATE user_keys SET public_key = ? WHERE user_id = ?")
            .bind(bundle)
            .bind(user_id)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_recovery_key_restores_identity_pins_and_log_heads() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let bob = SecureClient::open(login(&server, "bob").await, dir.path().join("bob.json"))
            .await
            .unwrap();
        let bob_id = bob.user_id();
        let bob_key = bob.bundle().to_wire();

        // alice backs up first, then pins bob and verifies a room's log:
        // the backup on the server follows.
        let mut alice =
            SecureClient::open(login(&server, "alice").await, dir.path().join("alice.json"))
                .await
                .unwrap();
        let words = alice.backup_with_recovery_key().await.unwrap();
        assert_eq!(words.split(' ').count(), 12, "{words}");
        let saved = std::fs::read_to_string(alice.store_path()).unwrap();
        assert!(!saved.contains(&words), "the words are never stored");
        alice.safety_number(bob_id).await.unwrap();
        let room = alice
            .create_room(&NewRoom::private("recovered"))
            .await
            .unwrap();
        alice.verified_log(room.id).await.unwrap();
        let head = alice.store().log_pins[&room.id];
        assert!(alice.store().pins.contains_key(&bob_id));
        assert!(!alice.sync_backup().await.unwrap(), "already up to date");

        // Mistyped words are refused with what to fix.
        let mut typo: Vec<&str> = words.split(' ').collect();
        typo[3] = "notaword";
        let err = SecureClient::restore(
            login(&server, "alice").await,
            dir.path().join("typo.json"),
            &typo.join(" "),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Some("recovery_key_unknown_word"), "{err}");
        assert!(err.to_string().contains("word 4"), "{err}");

        // A fresh key store restores from the words alone.
        let mut second = SecureClient::restore(
            login(&server, "alice").await,
            dir.path().join("second.json"),
            &words,
        )
        .await
        .unwrap();
        assert_eq!(second.bundle(), alice.bundle(), "{backend:?}");
        assert_eq!(second.store().pins[&bob_id].current, bob_key);
        assert_eq!(second.store().log_pins[&room.id], head);

        // The server now serves another key for bob: the restored pin
        // makes it an offered change, never a silent new pin.
        let fake = Identity::generate(bob_id).unwrap().bundle().to_wire();
        swap_key(&server, bob_id, &fake).await;
        let info = second.safety_number(bob_id).await.unwrap();
        assert!(info.offered, "the swapped key must not be trusted");
        assert_eq!(second.store().pins[&bob_id].current, bob_key);
        assert_eq!(
            second.store().pins[&bob_id].offered.as_deref(),
            Some(fake.as_str())
        );
        // The restored log head is extended, not replaced.
        second.verified_log(room.id).await.unwrap();
        assert_eq!(second.store().log_pins[&room.id], head);
    }
}

#[tokio::test]
async fn a_backup_passphrase_must_be_strong_and_not_the_login_password() {
    let server = Server::start(securechat_testkit::Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let mut alice =
        SecureClient::open(login(&server, "alice").await, dir.path().join("alice.json"))
            .await
            .unwrap();
    // The demo login password of alice.
    let err = alice
        .backup_with_passphrase("password123")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("passphrase_is_password"), "{err}");
    let err = alice
        .backup_with_passphrase("qwerty12345")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("weak_passphrase"), "{err}");
    assert_eq!(
        alice.client().key_backup().await.unwrap(),
        None,
        "nothing stored"
    );
    let pass = "plinth orbit saffron ledger kettle";
    alice.backup_with_passphrase(pass).await.unwrap();
    let second = SecureClient::restore(
        login(&server, "alice").await,
        dir.path().join("second.json"),
        pass,
    )
    .await
    .unwrap();
    assert_eq!(second.bundle(), alice.bundle());
}
