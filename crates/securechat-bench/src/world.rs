//! What scenarios stand on: accounts (registered once per target), a room
//! with channels everyone belongs to, and many sockets.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use securechat_client::{Client, EventStream, NewRoom, SessionToken, Socket};
use tokio::sync::Semaphore;

/// Password of every benchmark account.
pub const PASSWORD: &str = "bench-password-2026";
/// Connections opened at once while ramping up.
const CONNECT_CONCURRENCY: usize = 256;
/// Ports one source address can use towards one server (the ephemeral range
/// holds ~28k); further connections come from the next 127.0.0.x.
const PER_SOURCE_ADDRESS: usize = 20_000;

/// One account and its session.
#[derive(Clone)]
pub struct Account {
    pub user_id: i64,
    pub username: String,
    pub token: String,
}

/// Registers and logs in `count` accounts, `concurrency` at a time (each is
/// two Argon2id hashes on the server).
pub async fn accounts(base: &str, count: usize) -> Result<Vec<Account>> {
    // A connection per request: a server may close an idle keep-alive
    // connection just as a POST reuses it (gunicorn after 2 s), and a
    // login that fails that way is not retried by the HTTP client.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let limit = Arc::new(Semaphore::new(16));
    let mut tasks = FuturesOrdered::new();
    for i in 0..count {
        let http = http.clone();
        let base = base.to_owned();
        let limit = Arc::clone(&limit);
        tasks.push_back(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let username = format!("bench{i}");
            let mut client = Client::with_http_client(&base, http)?;
            client
                .register(&username, PASSWORD)
                .await
                .with_context(|| format!("registering {username}"))?;
            let user = client
                .login(&username, PASSWORD)
                .await
                .with_context(|| format!("logging in {username}"))?;
            let token = client
                .token()
                .map(|t| t.expose().to_owned())
                .ok_or_else(|| anyhow!("no token after login"))?;
            anyhow::Ok(Account {
                user_id: user.id,
                username,
                token,
            })
        }));
    }
    let mut out = Vec::with_capacity(count);
    while let Some(joined) = tasks.next().await {
        out.push(joined??);
    }
    Ok(out)
}

/// An SDK client logged in as `account`.
pub fn client(base: &str, http: &reqwest::Client, account: &Account) -> Result<Client> {
    Ok(Client::with_http_client(base, http.clone())?
        .with_token(SessionToken::new(account.token.clone())))
}

/// A public room owned by `accounts[0]` with `channels` channels, joined by
/// every other account; returns (room id, channel ids).
pub async fn room(
    base: &str,
    accounts: &[Account],
    name: &str,
    channels: usize,
) -> Result<(i64, Vec<i64>)> {
    let http = reqwest::Client::new();
    let owner = client(base, &http, &accounts[0])?;
    let room = owner
        .create_room(&NewRoom::public(name))
        .await
        .context("creating the room")?;
    let mut ids = Vec::with_capacity(channels);
    for i in 0..channels {
        let channel = owner
            .create_channel(room.id, &format!("c{i}"), false)
            .await
            .context("creating a channel")?;
        ids.push(channel.id);
    }
    let limit = Arc::new(Semaphore::new(32));
    let mut joins = FuturesOrdered::new();
    for account in &accounts[1..] {
        let member = client(base, &http, account)?;
        let limit = Arc::clone(&limit);
        let room_id = room.id;
        joins.push_back(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await?;
            member
                .join_room(room_id)
                .await
                .context("joining the room")?;
            anyhow::Ok(())
        }));
    }
    while let Some(joined) = joins.next().await {
        joined??;
    }
    Ok((room.id, ids))
}

/// One connection of the load.
pub struct Conn {
    pub socket: Socket,
    pub events: EventStream,
}

/// Opens one socket per token, [`CONNECT_CONCURRENCY`] at a time, spreading
/// source addresses over 127.0.0.x past the ephemeral-port limit.
pub async fn connect_all(base: &str, tokens: &[&str]) -> Result<Vec<Conn>> {
    let limit = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut tasks = FuturesOrdered::new();
    for (i, token) in tokens.iter().enumerate() {
        let source = u8::try_from(1 + i / PER_SOURCE_ADDRESS)
            .map_err(|_| anyhow!("too many connections for 127.0.0.0/24"))?;
        let options = securechat_client::SocketOptions::new(base)?
            .token(token)
            .local_addr(IpAddr::V4(Ipv4Addr::new(127, 0, 0, source)))
            .connect_timeout(Duration::from_secs(30))
            .event_buffer(1024);
        let limit = Arc::clone(&limit);
        tasks.push_back(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let (socket, events) = Socket::connect(options).await?;
            anyhow::Ok(Conn { socket, events })
        }));
    }
    let mut out = Vec::with_capacity(tokens.len());
    while let Some(joined) = tasks.next().await {
        out.push(joined?.with_context(|| format!("connection {} failed", out.len()))?);
    }
    Ok(out)
}

/// Joins each socket to its channel, `CONNECT_CONCURRENCY` at a time.
pub async fn join_all(conns: &[Conn], channel_of: impl Fn(usize) -> i64) -> Result<()> {
    let limit = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut tasks = FuturesOrdered::new();
    for (i, conn) in conns.iter().enumerate() {
        let socket = conn.socket.clone();
        let channel = channel_of(i);
        let limit = Arc::clone(&limit);
        tasks.push_back(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await?;
            socket
                .join_channel(channel, None)
                .await
                .with_context(|| format!("joining channel {channel}"))?;
            anyhow::Ok(())
        }));
    }
    while let Some(joined) = tasks.next().await {
        joined??;
    }
    Ok(())
}

/// Closes every socket (politely, so servers free them at once).
pub async fn close_all(sockets: Vec<Socket>) {
    let mut closing = FuturesOrdered::new();
    for socket in sockets {
        closing.push_back(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), socket.close()).await;
        });
    }
    while closing.next().await.is_some() {}
}
