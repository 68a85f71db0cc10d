//! `securechat-cli` against the real server binary (see `securechat-testkit`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use securechat_client::{Client, OutgoingMessage};
use securechat_testkit::{Backend, Server, sdk};

mod common;
use common::{cli, logged_in, login, stderr, stdout};

fn session(home: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(home.join("session.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn login_whoami_logout() {
    let server = Server::start(Backend::Sqlite).await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path().join("cli");

    let output = login(&home, &server, "alice", "password123\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("as alice"), "{}", stdout(&output));
    let saved = session(&home);
    assert_eq!(saved["username"], "alice");
    let token = saved["token"].as_str().unwrap().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.join("session.json")), 0o600);
        assert_eq!(mode(&home), 0o700);
    }

    let whoami = cli(&home, &["whoami"], "");
    assert!(whoami.status.success(), "{}", stderr(&whoami));
    assert!(
        stdout(&whoami).starts_with("alice (id "),
        "{}",
        stdout(&whoami)
    );

    let logout = cli(&home, &["logout"], "");
    assert!(logout.status.success(), "{}", stderr(&logout));
    assert!(!home.join("session.json").exists());
    let ended = Client::new(&server.base)
        .unwrap()
        .with_token(securechat_client::SessionToken::new(token));
    assert_eq!(
        ended.me().await.unwrap_err().status(),
        Some(401),
        "the server ended it"
    );

    let whoami = cli(&home, &["whoami"], "");
    assert!(!whoami.status.success());
    assert!(
        stderr(&whoami).contains("not logged in"),
        "{}",
        stderr(&whoami)
    );
    let logout = cli(&home, &["logout"], "");
    assert!(logout.status.success());
    assert!(stdout(&logout).contains("Not logged in"));
}

#[tokio::test]
async fn a_wrong_password_saves_nothing_and_says_why() {
    let server = Server::start(Backend::Sqlite).await;
    let home = tempfile::tempdir().unwrap();
    let output = login(home.path(), &server, "alice", "wrong-password\n");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("Wrong username or password"),
        "{}",
        stderr(&output)
    );
    assert!(!home.path().join("session.json").exists());

    let empty = login(home.path(), &server, "alice", "\n");
    assert!(!empty.status.success());
    assert!(stderr(&empty).contains("no password"), "{}", stderr(&empty));
}

#[tokio::test]
async fn a_session_ended_elsewhere_is_reported_and_forgotten() {
    let server = Server::start(Backend::Sqlite).await;
    let home = tempfile::tempdir().unwrap();
    let output = login(home.path(), &server, "bob", "password456\r\n");
    assert!(output.status.success(), "{}", stderr(&output));

    let mut elsewhere = Client::new(&server.base).unwrap();
    elsewhere.login("bob", "password456").await.unwrap();
    elsewhere.logout_all().await.unwrap();

    let whoami = cli(home.path(), &["whoami"], "");
    assert!(!whoami.status.success());
    assert!(stderr(&whoami).contains("has ended"), "{}", stderr(&whoami));
    assert!(!home.path().join("session.json").exists());
}

#[tokio::test]
async fn logging_in_again_ends_the_replaced_session() {
    let server = Server::start(Backend::Sqlite).await;
    let home = tempfile::tempdir().unwrap();
    assert!(
        login(home.path(), &server, "alice", "password123\n")
            .status
            .success()
    );
    let first = session(home.path())["token"].as_str().unwrap().to_owned();
    assert!(
        login(home.path(), &server, "alice", "password123\n")
            .status
            .success()
    );
    let second = session(home.path())["token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let old = Client::new(&server.base)
        .unwrap()
        .with_token(securechat_client::SessionToken::new(first));
    assert_eq!(old.me().await.unwrap_err().status(), Some(401));
}

#[tokio::test]
async fn rooms_lists_rooms_channels_unread_counts_and_dms_by_peer() {
    let server = Server::start(Backend::Sqlite).await;
    let home = logged_in(&server, "alice", "password123");
    let bob = sdk::login(&server, "bob").await;
    let general = sdk::channel_id(&bob, "Lobby", "general").await;
    let (socket, _events) = bob.socket().await.unwrap();
    for text in ["one", "two"] {
        socket
            .send_message(&OutgoingMessage::new(general, text))
            .await
            .unwrap();
    }
    let alice_id = bob.find_users("alice").await.unwrap()[0].id;
    bob.open_dm(alice_id).await.unwrap();

    let output = cli(home.path(), &["rooms"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("Lobby  (public, member, 4 members)\n  #general  2 unread\n  #random\n"),
        "{text}"
    );
    assert!(
        text.contains("Project X  (private, owner, 3 members)"),
        "{text}"
    );
    assert!(text.contains("#secrets  encrypted"), "{text}");
    assert!(text.contains("@bob  (direct message)"), "{text}");
    assert!(
        text.find("Project X").unwrap() < text.find("@bob").unwrap(),
        "DMs after rooms: {text}"
    );
}

#[tokio::test]
async fn send_resolves_names_reads_stdin_and_explains_bad_names() {
    let server = Server::start(Backend::Sqlite).await;
    let home = logged_in(&server, "alice", "password123");
    let alice = sdk::login(&server, "alice").await;
    let general = sdk::channel_id(&alice, "Lobby", "general").await;

    let output = cli(
        home.path(),
        &["send", "lobby/GENERAL", "hello", "there"],
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("to Lobby/general"),
        "{}",
        stdout(&output)
    );

    let id = general.to_string();
    let output = cli(
        home.path(),
        &["send", "--channel-id", &id, "-"],
        "from\nstdin\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let output = cli(home.path(), &["send", "Lobby/#general", "-", "dash"], "");
    assert!(output.status.success(), "{}", stderr(&output));

    let page = alice
        .history(general, securechat_client::HistoryQuery::after(0))
        .await
        .unwrap();
    let texts: Vec<&str> = page
        .messages
        .iter()
        .map(|m| m.content.as_deref().unwrap())
        .collect();
    assert_eq!(texts, ["hello there", "from\nstdin", "- dash"]);

    let missing = cli(home.path(), &["send", "Nowhere/general", "hi"], "");
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no room called `Nowhere`")
            && stderr(&missing).contains("Lobby, Project X"),
        "{}",
        stderr(&missing)
    );
    let channel = cli(home.path(), &["send", "Lobby/nope", "hi"], "");
    assert!(
        stderr(&channel).contains("Lobby/general, Lobby/random"),
        "{}",
        stderr(&channel)
    );
    let several = cli(home.path(), &["send", "lobby", "hi"], "");
    assert!(
        stderr(&several).contains("several channels"),
        "{}",
        stderr(&several)
    );
    let empty = cli(home.path(), &["send", "Lobby/general", "-"], "\n");
    assert!(
        stderr(&empty).contains("the message is empty"),
        "{}",
        stderr(&empty)
    );
    // An encrypted channel gets an envelope (the CLI starts the room's
    // log and makes version 1 of the key on this first send), never text.
    let encrypted = cli(
        home.path(),
        &["send", "Project X/secrets", "top secret"],
        "",
    );
    assert!(encrypted.status.success(), "{}", stderr(&encrypted));
    let secrets = sdk::channel_id(&alice, "Project X", "secrets").await;
    let stored = alice
        .history(secrets, securechat_client::HistoryQuery::latest())
        .await
        .unwrap()
        .messages;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].content, None);
    assert_eq!(stored[0].key_version, Some(1));
    assert!(
        !stored[0]
            .envelope
            .as_deref()
            .unwrap()
            .contains("top secret")
    );
    let logged_out = tempfile::tempdir().unwrap();
    let output = cli(logged_out.path(), &["send", "Lobby/general", "hi"], "");
    assert!(
        stderr(&output).contains("not logged in"),
        "{}",
        stderr(&output)
    );
}

/// A running `tail`, its stdout read line by line on a thread.
struct Tail {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: tempfile::NamedTempFile,
}

impl Tail {
    fn spawn(home: &Path, args: &[&str]) -> Self {
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_securechat-cli"))
            .arg("tail")
            .args(args)
            .env_clear()
            .env("SECURECHAT_CLI_HOME", home)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            stderr,
        }
    }

    /// What it has written to standard error so far.
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap()
    }

    /// The next line, within 15 seconds.
    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| panic!("no line from tail; its stderr:\n{}", self.stderr()))
    }

    /// Asserts nothing more is printed within `window`.
    fn quiet(&self, window: Duration) {
        if let Ok(line) = self.lines.recv_timeout(window) {
            panic!("unexpected line from tail: {line}");
        }
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `[HH:MM] sender: text`.
fn assert_line(line: &str, sender: &str, text: &str) {
    let (clock, rest) = line.split_at(8);
    assert!(
        clock.starts_with('[')
            && clock.ends_with("] ")
            && clock[1..6].chars().filter(char::is_ascii_digit).count() == 4
            && &clock[3..4] == ":",
        "{line}"
    );
    assert_eq!(rest, format!("{sender}: {text}"), "{line}");
}

#[tokio::test]
async fn send_then_tail_prints_history_then_live_messages() {
    let server = Server::start(Backend::Sqlite).await;
    let home = logged_in(&server, "alice", "password123");
    for text in ["first", "second", "third"] {
        let output = cli(home.path(), &["send", "Lobby/general", text], "");
        assert!(output.status.success(), "{}", stderr(&output));
    }

    let tail = Tail::spawn(home.path(), &["lobby/general", "-n", "2"]);
    assert_line(&tail.line(), "alice", "second");
    assert_line(&tail.line(), "alice", "third");

    let bob = sdk::login(&server, "bob").await;
    let general = sdk::channel_id(&bob, "Lobby", "general").await;
    let (socket, _events) = bob.socket().await.unwrap();
    // The tail may still be joining: whatever the timing, each message
    // appears once, in order.
    for text in ["live one", "live two"] {
        socket
            .send_message(&OutgoingMessage::new(general, text))
            .await
            .unwrap();
    }
    assert_line(&tail.line(), "bob", "live one");
    assert_line(&tail.line(), "bob", "live two");
    // Other channels stay out of it.
    let random = sdk::channel_id(&bob, "Lobby", "random").await;
    socket
        .send_message(&OutgoingMessage::new(random, "elsewhere"))
        .await
        .unwrap();
    tail.quiet(Duration::from_millis(500));
}

#[tokio::test]
async fn tail_reconnects_after_the_server_restarts_and_misses_nothing() {
    let mut server = Server::start(Backend::Sqlite).await;
    let home = logged_in(&server, "alice", "password123");
    let tail = Tail::spawn(home.path(), &["Lobby/general", "-n", "0"]);

    let bob = sdk::login(&server, "bob").await;
    let general = sdk::channel_id(&bob, "Lobby", "general").await;
    {
        let (socket, _events) = bob.socket().await.unwrap();
        socket
            .send_message(&OutgoingMessage::new(general, "before"))
            .await
            .unwrap();
    }
    assert_line(&tail.line(), "bob", "before");

    // Down long enough for a few failed attempts (0.25 s, 0.5 s, 1 s …), so
    // the tail is backing off when the messages below are sent: it must
    // catch up with them on rejoining, not live.
    server.restart_after(Duration::from_millis(1500));
    let (socket, _events) = bob.socket().await.unwrap();
    for i in 0..5 {
        socket
            .send_message(&OutgoingMessage::new(general, format!("after restart {i}")))
            .await
            .unwrap();
    }
    for i in 0..5 {
        assert_line(&tail.line(), "bob", &format!("after restart {i}"));
    }
    tail.quiet(Duration::from_millis(500));
    let log = tail.stderr();
    assert!(log.contains("reconnecting in"), "{log}");
    assert!(log.contains("cannot reconnect"), "{log}");
}

/// The 60-digit safety number `verify` prints, and (mine, theirs) fingerprints.
fn safety(output: &Output) -> (String, String, String) {
    assert!(output.status.success(), "{}", stderr(output));
    let text = stdout(output);
    let mut lines = text.lines();
    lines.find(|l| l.starts_with("Safety number with")).unwrap();
    let number = lines.next().unwrap().to_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    (
        number,
        field("Your fingerprint:"),
        field("Their fingerprint:"),
    )
}

#[tokio::test]
async fn login_makes_a_private_key_store_and_verify_shows_matching_safety_numbers() {
    let server = Server::start(Backend::Sqlite).await;
    let homes = tempfile::tempdir().unwrap();
    let alice_home = homes.path().join("alice");
    let bob_home = homes.path().join("bob");
    assert!(
        login(&alice_home, &server, "alice", "password123\n")
            .status
            .success()
    );
    assert!(
        login(&bob_home, &server, "bob", "password456\n")
            .status
            .success()
    );
    #[cfg(unix)]
    for home in [&alice_home, &bob_home] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("keys.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let (a_number, a_mine, a_theirs) = safety(&cli(&alice_home, &["verify", "bob"], ""));
    let (b_number, b_mine, b_theirs) = safety(&cli(&bob_home, &["verify", "alice"], ""));
    assert_eq!(a_number, b_number);
    let groups: Vec<&str> = a_number.split(' ').collect();
    assert_eq!(groups.len(), 12);
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
    );
    assert_eq!(
        (a_mine.as_str(), a_theirs.as_str()),
        (b_theirs.as_str(), b_mine.as_str())
    );
    assert_ne!(a_mine, a_theirs);

    // Another key store for alice (a new device) must not replace her identity.
    let other_store = homes.path().join("elsewhere.json");
    let output = Command::new(env!("CARGO_BIN_EXE_securechat-cli"))
        .args(["--key-store", other_store.to_str().unwrap(), "keys", "show"])
        .env_clear()
        .env("SECURECHAT_CLI_HOME", &alice_home)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("restore"), "{}", stderr(&output));

    // A backup under a recovery key (the default): the words are printed
    // once, and restore the same identity on that new device.
    let backup = cli(&alice_home, &["keys", "backup"], "");
    assert!(backup.status.success(), "{}", stderr(&backup));
    let printed = stdout(&backup);
    let words = printed
        .lines()
        .map(str::trim)
        .find(|l| l.split(' ').count() == 12)
        .unwrap_or_else(|| panic!("no 12 words in {printed}"))
        .to_owned();
    let restored = cli(
        &alice_home,
        &[
            "--key-store",
            other_store.to_str().unwrap(),
            "keys",
            "restore",
            "--stdin",
        ],
        &format!("{words}\n"),
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(stdout(&restored).contains(&a_mine), "{}", stdout(&restored));

    // A passphrase instead: the login password and a weak one are refused,
    // a strong one restores as well.
    for (passphrase, why) in [
        ("password123", "login password"),
        ("qwerty12345", "too easy to guess"),
    ] {
        let refused = cli(
            &alice_home,
            &["keys", "backup", "--passphrase-stdin"],
            &format!("{passphrase}\npassword123\n"),
        );
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains(why), "{}", stderr(&refused));
    }
    let backup = cli(
        &alice_home,
        &["keys", "backup", "--passphrase-stdin"],
        "plinth orbit saffron ledger kettle\npassword123\n",
    );
    assert!(backup.status.success(), "{}", stderr(&backup));
    let third_store = homes.path().join("third.json");
    let restored = cli(
        &alice_home,
        &[
            "--key-store",
            third_store.to_str().unwrap(),
            "keys",
            "restore",
            "--passphrase-stdin",
        ],
        "plinth orbit saffron ledger kettle\n",
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(stdout(&restored).contains(&a_mine), "{}", stdout(&restored));
}

#[tokio::test]
async fn tail_decrypts_an_encrypted_channel_and_flags_injected_plaintext() {
    let server = Server::start(Backend::Sqlite).await;
    let alice_home = logged_in(&server, "alice", "password123");
    let bob_home = logged_in(&server, "bob", "password456");
    let sent = cli(
        alice_home.path(),
        &["send", "Project X/secrets", "for bob's eyes only"],
        "",
    );
    assert!(sent.status.success(), "{}", stderr(&sent));

    // The server's database gets a plaintext row in the encrypted channel.
    let alice = sdk::login(&server, "alice").await;
    let secrets = sdk::channel_id(&alice, "Project X", "secrets").await;
    let alice_id = alice.me().await.unwrap().id;
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", server.db_path().display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO messages (channel_id, sender_id, content, key_version, client_msg_id, created_at) \
         VALUES (?, ?, 'send me your password', 1, 'injected-1', 0)",
    )
    .bind(secrets)
    .bind(alice_id)
    .execute(&pool)
    .await
    .unwrap();

    let tail = Tail::spawn(bob_home.path(), &["Project X/secrets"]);
    let first = tail.line();
    assert!(first.ends_with("alice: for bob's eyes only"), "{first}");
    let second = tail.line();
    assert!(
        second.contains("alice: [UNENCRYPTED, INJECTED")
            && second.contains("send me your password"),
        "{second}"
    );
}

#[tokio::test]
async fn create_room_starts_the_signed_log_and_an_encrypted_channel_works_at_once() {
    let server = Server::start(Backend::Sqlite).await;
    let home = logged_in(&server, "alice", "password123");
    let created = cli(
        home.path(),
        &["create-room", "Night shift", "--encrypted", "vault"],
        "",
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let text = stdout(&created);
    assert!(text.contains("signed membership log is started"), "{text}");
    assert!(text.contains("Created encrypted channel #vault"), "{text}");

    // The log exists before anyone needs a key: alice's `create` entry,
    // then her registration of #vault as an encrypted channel of the room.
    let alice = sdk::login(&server, "alice").await;
    let vault = sdk::channel_id(&alice, "Night shift", "vault").await;
    let room = alice
        .rooms()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == "Night shift")
        .unwrap();
    let log = alice.membership_log(room.id).await.unwrap();
    assert_eq!(log.entries.len(), 2, "{:?}", log.entries);
    let entry = securechat_crypto::MembershipEntry::parse(&log.entries[0]).unwrap();
    assert_eq!(entry.actor_id(), alice.me().await.unwrap().id);
    assert!(!entry.public(), "a private room");
    let registered = securechat_crypto::MembershipEntry::parse(&log.entries[1]).unwrap();
    assert_eq!(
        (registered.op(), registered.subject_id()),
        (securechat_crypto::Op::Channel, vault)
    );

    // The first message goes out encrypted and reads back.
    let sent = cli(
        home.path(),
        &["send", "Night shift/vault", "first words"],
        "",
    );
    assert!(sent.status.success(), "{}", stderr(&sent));
    let page = alice
        .history(vault, securechat_client::HistoryQuery::latest())
        .await
        .unwrap();
    assert!(page.messages[0].envelope.is_some() && page.messages[0].content.is_none());
}

/// `securechat-cli --key-store STORE device link`, running, with its
/// standard output as lines.
fn spawn_link(home: &Path, store: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_securechat-cli"))
        .args(["--key-store", store.to_str().unwrap(), "device", "link"])
        .env_clear()
        .env("SECURECHAT_CLI_HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines)
}

/// The next line containing `needle`, within 10 s.
fn line_with(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no line with {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

#[tokio::test]
async fn a_new_key_store_is_linked_by_code_after_comparing_numbers() {
    let server = Server::start(Backend::Sqlite).await;
    let home = tempfile::tempdir().unwrap();
    assert!(
        login(home.path(), &server, "alice", "password123\n")
            .status
            .success()
    );
    let setup = cli(home.path(), &["device", "setup"], "");
    assert!(setup.status.success(), "{}", stderr(&setup));

    // Numbers that do not match: the person says no, nothing is sent.
    let refused_store = home.path().join("refused.json");
    let (mut refused, refused_lines) = spawn_link(home.path(), &refused_store);
    let code_line = line_with(&refused_lines, "device approve ");
    let code = code_line.rsplit(' ').next().unwrap().to_owned();
    let no = cli(home.path(), &["device", "approve", &code], "n\n");
    assert!(!no.status.success());
    assert!(stderr(&no).contains("not approved"), "{}", stderr(&no));
    refused.kill().unwrap();
    refused.wait().unwrap();

    let phone_store = home.path().join("phone.json");
    let (mut phone, lines) = spawn_link(home.path(), &phone_store);
    let code_line = line_with(&lines, "device approve ");
    let code = code_line.rsplit(' ').next().unwrap().to_owned();
    let approve = cli(
        home.path(),
        &["device", "approve", &code.to_lowercase()],
        "y\n",
    );
    assert!(approve.status.success(), "{}", stderr(&approve));
    let on_laptop = stdout(&approve)
        .lines()
        .find_map(|l| {
            l.strip_prefix("The new device must show this number: ")
                .map(str::to_owned)
        })
        .unwrap();
    let on_phone = line_with(&lines, "Both devices must show this number: ");
    assert!(on_phone.ends_with(&on_laptop), "{on_phone} vs {on_laptop}");
    line_with(&lines, "Linked: this key store is device");
    assert!(phone.wait().unwrap().success());

    let list = cli(home.path(), &["device", "list"], "");
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(stdout(&list).lines().count(), 2, "{}", stdout(&list));
    let phone_keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&phone_store).unwrap()).unwrap();
    assert!(
        phone_keys["identity"].is_string(),
        "the phone holds alice's identity"
    );
    assert!(
        !refused_store.exists()
            || serde_json::from_slice::<serde_json::Value>(&std::fs::read(&refused_store).unwrap())
                .unwrap()["identity"]
                .is_null(),
        "the refused key store got nothing"
    );
}

#[tokio::test]
async fn search_prints_marked_results_pages_through_more_and_explains_a_bad_query() {
    let server = Server::start(Backend::Sqlite).await;
    let home = logged_in(&server, "alice", "password123");
    let bob = sdk::login(&server, "bob").await;
    let general = sdk::channel_id(&bob, "Lobby", "general").await;
    let project = sdk::channel_id(&bob, "Project X", "general").await;
    let (socket, _events) = bob.socket().await.unwrap();
    for i in 0..55 {
        socket
            .send_message(&OutgoingMessage::new(general, format!("rollout step {i}")))
            .await
            .unwrap();
    }
    socket
        .send_message(&OutgoingMessage::new(project, "the rollout of 频道密钥"))
        .await
        .unwrap();

    let output = cli(home.path(), &["search", "密钥"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("Project X/general · bob · ")
            && text.contains("\n  the rollout of 频道**密钥**\n"),
        "{text}"
    );
    assert!(
        text.contains("(1 encrypted channel was searched on this device: 0 messages decrypted"),
        "{text}"
    );
    let output = cli(home.path(), &["search", "密钥", "--local-depth", "0"], "");
    assert!(
        stdout(&output).contains(
            "(1 encrypted channel was not searched: the server cannot read them, and --local-depth is 0)"
        ),
        "{}",
        stdout(&output)
    );

    // More than one page of the server's (50) is fetched for -n 60.
    let output = cli(
        home.path(),
        &[
            "search",
            "rollout",
            "--in",
            "lobby/general",
            "--newest",
            "-n",
            "60",
        ],
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.matches("\n  **rollout** step ").count(), 55, "{text}");
    assert!(
        text.contains("**rollout** step 54\nLobby/general"),
        "newest first: {text}"
    );
    assert!(!text.contains("Project X"), "{text}");
    let output = cli(home.path(), &["search", "rollout", "-n", "3"], "");
    assert_eq!(stdout(&output).matches("· bob ·").count(), 3);
    assert!(stdout(&output).contains("(more results: raise -n, or narrow the search)"));

    let output = cli(home.path(), &["search", "nothing-like-this"], "");
    assert!(stdout(&output).starts_with("No messages found."));
    let output = cli(home.path(), &["search", "before:2026-02-30"], "");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("is not a date; write before:YYYY-MM-DD"),
        "{}",
        stderr(&output)
    );
}

/// Alice's encrypted channel `Night shift/vault` with one message sent
/// through the CLI, and bob's plaintext message in `Lobby/general`.
async fn vault_and_lobby(server: &Server) -> tempfile::TempDir {
    let home = logged_in(server, "alice", "password123");
    let created = cli(
        home.path(),
        &["create-room", "Night shift", "--encrypted", "vault"],
        "",
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let sent = cli(
        home.path(),
        &[
            "send",
            "Night shift/vault",
            "the vault password rotates at dawn",
        ],
        "",
    );
    assert!(sent.status.success(), "{}", stderr(&sent));
    let bob = sdk::login(server, "bob").await;
    let general = sdk::channel_id(&bob, "Lobby", "general").await;
    let (socket, _events) = bob.socket().await.unwrap();
    socket
        .send_message(&OutgoingMessage::new(
            general,
            "the lobby lamp rotates rotates slowly",
        ))
        .await
        .unwrap();
    home
}

#[tokio::test]
async fn search_finds_what_this_device_decrypts_in_encrypted_channels() {
    let server = Server::start(Backend::Sqlite).await;
    let home = vault_and_lobby(&server).await;

    let output = cli(home.path(), &["search", "rotates"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    // Both sources, one list in score order: bob's message has the word
    // twice, alice's once in a text of similar length.
    let lobby = text.find("Lobby/general · bob · ").unwrap_or(usize::MAX);
    let vault = text
        .find("Night shift/vault · alice · ")
        .unwrap_or(usize::MAX);
    assert!(lobby < vault && vault < text.len(), "{text}");
    assert!(
        text.contains(" · decrypted here\n  the vault password **rotates** at dawn\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  the lobby lamp **rotates** **rotates** slowly\n"),
        "{text}"
    );
    assert!(
        text.contains("(2 encrypted channels were searched on this device: 1 message decrypted"),
        "{text}"
    );
    // The envelope is on the server; the words are not.
    let server_only = cli(home.path(), &["search", "dawn", "--local-depth", "0"], "");
    assert!(stdout(&server_only).starts_with("No messages found."));
    // Filters apply to what was decrypted as the server applies them.
    let output = cli(home.path(), &["search", "dawn", "from:bob"], "");
    assert!(
        stdout(&output).starts_with("No messages found."),
        "{}",
        stdout(&output)
    );
    let output = cli(home.path(), &["search", "dawn", "in:vault", "--newest"], "");
    assert!(
        stdout(&output).starts_with("Night shift/vault · alice · "),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn search_lists_a_plaintext_message_once_and_not_as_decrypted() {
    let server = Server::start(Backend::Sqlite).await;
    let home = vault_and_lobby(&server).await;

    let output = cli(home.path(), &["search", "lamp"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.matches("**lamp**").count(), 1, "{text}");
    assert!(text.starts_with("Lobby/general · bob · "), "{text}");
    assert!(!text.contains("decrypted here"), "{text}");
}
