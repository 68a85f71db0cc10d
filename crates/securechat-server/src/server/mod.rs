//! Running the server: connect and migrate, bind (HTTP or HTTPS), serve
//! until SIGTERM or Ctrl-C, then drain in-flight requests and close the
//! database cleanly.
//!
//! Every connection passes the [`gate`] (a cap below the open-file limit,
//! which [`limits`] raises at start) and the timeouts [`limits`] sets on
//! the HTTP builder, so idle and trickling sockets cannot starve the rest.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum_server::accept::DefaultAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};

use crate::auth::password::Hasher;
use crate::auth::{store, throttle};
use crate::cluster::Cluster;
use crate::config::ServeConfig;
use crate::state::AppState;
use crate::storage::{Db, now_ms};

mod gate;
mod limits;

use gate::{Gate, GateAcceptor};

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often blobs nothing refers to are removed.
const FILE_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// How often expired sessions, stale throttle counters and old device
/// shares are deleted.
const JANITOR_INTERVAL: Duration = Duration::from_secs(600);

/// Serves until a shutdown signal.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let db = Db::connect_for_server(&config.settings.database_url).await?;
    db.migrate().await?;
    crate::auth::store::fill_username_skeletons(&db).await?;
    crate::search::store::catch_up_cjk(&db).await?;
    // One crypto provider for the whole process (TLS listener, S3 client).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let default_rooms =
        crate::rooms::store::default_rooms(&db, &config.settings.default_rooms).await?;
    let vapid = crate::webpush::keys::load(&db, &config.push).await?;
    let state = AppState::new(
        db.clone(),
        Hasher::for_this_machine()?,
        &config,
        default_rooms,
        vapid,
    )?;
    // Both read the root certificates: before any socket is accepted.
    let push_clients =
        crate::webpush::sender::clients().context("cannot set up HTTPS for Web Push requests")?;
    let webhook_clients = crate::webhooks::outgoing::clients()
        .context("cannot set up HTTPS for outgoing webhooks")?;
    let stop_push = std::sync::Arc::new(tokio::sync::Notify::new());
    let push_sender = {
        let (state, stop) = (state.clone(), std::sync::Arc::clone(&stop_push));
        state.clone().webpush.spawn(async move {
            let db = state.db.for_background(crate::webpush::DB_CONNECTIONS);
            crate::webpush::sender::run(state, db, push_clients, stop).await;
        })
    };
    let stop_webhooks = std::sync::Arc::new(tokio::sync::Notify::new());
    let webhook_sender = {
        let (state, stop) = (state.clone(), std::sync::Arc::clone(&stop_webhooks));
        state.clone().webhooks.spawn(async move {
            let db = state.db.for_background(crate::webhooks::DB_CONNECTIONS);
            crate::webhooks::outgoing::run(state, db, webhook_clients, stop).await;
        })
    };
    let email_digests = tokio::spawn(crate::email::digest::run(state.clone()));
    let janitor = tokio::spawn(janitor(db.clone(), config.device_share_retention_days));
    let file_sweep = tokio::spawn(crate::files::cleanup::run(
        db.clone(),
        state.files.blobs.clone(),
        FILE_SWEEP_INTERVAL,
    ));
    let reminders = tokio::spawn(crate::reminders::due::run(db.clone(), state.notify.clone()));
    let retention_purge = tokio::spawn(crate::retention::purge::run(
        db.clone(),
        state.notify.clone(),
        Duration::from_secs(config.retention_purge_secs),
    ));
    let (realtime, cluster) = match &config.redis_url {
        None => (crate::realtime::local_layer(&state), None),
        Some(url) => {
            let (cluster, adapter) = Cluster::connect(url, &config.redis_prefix).await?;
            let _ = state.cluster.set(cluster.clone());
            let layer = crate::realtime::cluster_layer(&state, cluster.clone(), adapter).await?;
            (layer, Some(cluster))
        }
    };
    let app = crate::app::router_with(state, realtime)
        .into_make_service_with_connect_info::<SocketAddr>();

    let addr = SocketAddr::new(config.host, config.port);
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("cannot listen on {addr} (HOST/PORT); is the port in use?"))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let gate = Gate::new(limits::connection_cap(config.connections.max));
    tracing::info!(cap = gate.cap(), "connection limit");

    let handle = axum_server::Handle::new();
    let on_signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        on_signal.graceful_shutdown(Some(DRAIN_TIMEOUT));
    });
    let plain = GateAcceptor::new(gate, DefaultAcceptor::new());
    match &config.tls {
        None => {
            let mut server = axum_server::from_tcp(listener).acceptor(plain);
            limits::configure(server.http_builder(), &config.connections);
            announce("http", local, &db);
            server
                .handle(handle)
                .serve(app)
                .await
                .context("server error")?;
        }
        Some(tls) => {
            let rustls = RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .context("cannot load SSL_CERT_PATH / SSL_KEY_PATH (PEM certificate and key)")?;
            let mut server = axum_server::from_tcp(listener)
                .acceptor(RustlsAcceptor::new(rustls).acceptor(plain));
            limits::configure(server.http_builder(), &config.connections);
            announce("https", local, &db);
            server
                .handle(handle)
                .serve(app)
                .await
                .context("server error")?;
        }
    }
    janitor.abort();
    // A digest being mailed stays leased and is mailed after the next start.
    email_digests.abort();
    file_sweep.abort();
    // A batch cut off is rolled back whole; the next start deletes it.
    retention_purge.abort();
    // A claimed reminder is pushed in the round that claimed it.
    reminders.abort();
    // Hands the pushes in flight back to the queue for the next start.
    stop_push.notify_one();
    if tokio::time::timeout(Duration::from_secs(5), push_sender)
        .await
        .is_err()
    {
        tracing::warn!("the web push sender did not stop in time");
    }
    // Hands the webhook deliveries in flight back for the next start.
    stop_webhooks.notify_one();
    if tokio::time::timeout(Duration::from_secs(5), webhook_sender)
        .await
        .is_err()
    {
        tracing::warn!("the outgoing webhook sender did not stop in time");
    }
    if let Some(cluster) = cluster
        && let Err(e) = cluster.leave().await
    {
        tracing::warn!(error = %e, "leaving the cluster failed; peers reap this node shortly");
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Prints the one line scripts and tests wait for, then logs the same.
fn announce(scheme: &str, local: SocketAddr, db: &Db) {
    println!("Securechat listening on {scheme}://{local}");
    tracing::info!(%local, database = db.engine(), "listening");
}

/// Resolves on SIGTERM or Ctrl-C.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    // Registered now, not when first polled: a SIGTERM that arrives while
    // the server is still starting must not kill it with the default action.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        )
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM / SIGINT");
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown signal received; draining requests");
    }
}

/// Deletes expired sessions, stale login counters and device-mailbox key
/// shares older than `share_retention_days`, periodically (and once at
/// start).
async fn janitor(db: Db, share_retention_days: u32) {
    let mut tick = tokio::time::interval(JANITOR_INTERVAL);
    let share_retention_ms = i64::from(share_retention_days) * 24 * 3600 * 1000;
    loop {
        tick.tick().await;
        let now = now_ms();
        match crate::devices::store::purge_shares(&db, now - share_retention_ms).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(shares = n, "unfetched device shares past retention deleted"),
            Err(e) => tracing::warn!(error = %e, "purging device shares failed"),
        }
        if let Err(e) = crate::devices::store::purge_links(&db, now).await {
            tracing::warn!(error = %e, "purging expired device links failed");
        }
        if let Err(e) = store::purge_expired_sessions(&db, now).await {
            tracing::warn!(error = %e, "purging expired sessions failed");
        }
        if let Err(e) = throttle::purge(&db, now).await {
            tracing::warn!(error = %e, "purging login counters failed");
        }
        if let Err(e) = crate::passkeys::store::purge_challenges(&db, now).await {
            tracing::warn!(error = %e, "purging expired WebAuthn challenges failed");
        }
    }
}
