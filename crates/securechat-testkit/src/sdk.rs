//! The SDK's side of a test: a [`securechat_client::Client`] signed in as a
//! demo user, and channel ids as it sees them.

use super::server::Server;

/// A client logged in as `username` (demo passwords).
pub async fn login(server: &Server, username: &str) -> securechat_client::Client {
    let password = match username {
        "alice" => "password123",
        "bob" => "password456",
        "charlie" => "password789",
        "admin" => "admin123",
        other => panic!("no demo password for {other}"),
    };
    let mut client = securechat_client::Client::new(&server.base).unwrap();
    client.login(username, password).await.unwrap();
    client
}

/// The id of `room`/`channel` as `client` sees it.
pub async fn channel_id(client: &securechat_client::Client, room: &str, channel: &str) -> i64 {
    let rooms = client.rooms().await.unwrap();
    let room = rooms
        .iter()
        .find(|r| r.name == room)
        .unwrap_or_else(|| panic!("no room {room}"));
    room.channels
        .iter()
        .find(|c| c.name == channel)
        .unwrap_or_else(|| panic!("no channel {channel}"))
        .id
}
