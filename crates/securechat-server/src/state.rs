//! What every request handler can reach: the database, the password hasher,
//! the derived secret keys and the few settings that shape responses.

use std::ops::Deref;
use std::sync::Arc;

use anyhow::Context;

use crate::auth::password::Hasher;
use crate::auth::token::Keys;
use crate::commands::Commands;
use crate::config::observability::MetricsToken;
use crate::config::{SendRate, ServeConfig};
use crate::email::Email;
use crate::files::Files;
use crate::messages::plaintext::PlaintextChannels;
use crate::messages::writer::MessageWriter;
use crate::notify::Notifier;
use crate::oidc::provider::Provider;
use crate::rooms::events::RoomEvents;
use crate::storage::Db;
use crate::twofactor::policy::Policy as TwoFactorPolicy;
use crate::webhooks::Webhooks;
use crate::webpush::WebPush;
use crate::webpush::vapid::VapidKey;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    pub db: Db,
    pub hasher: Hasher,
    pub keys: Keys,
    pub web: WebSettings,
    /// Committed room changes, for the real-time and key layers.
    pub events: RoomEvents,
    /// Pushes to users' sockets from HTTP handlers.
    pub notify: Notifier,
    /// The blob store and upload limits.
    pub files: Files,
    /// How fast one user may send messages.
    pub send_rate: SendRate,
    /// Registrations one client address may make per quarter hour.
    pub register_limit: Option<u32>,
    /// `REGISTRATION_MODE`: who may register when the Admin page has not
    /// chosen (its choice, stored in the database, wins).
    pub registration_default: crate::admin::mode::RegistrationMode,
    /// This node's connection to its cluster's Redis (`REDIS_URL`), set
    /// once the node has joined; empty for a single server.
    pub cluster: std::sync::OnceLock<crate::cluster::Cluster>,
    /// Socket.IO connections one account may hold open on this node.
    pub sockets_per_user: Option<usize>,
    /// The rooms every new account joins (`DEFAULT_ROOMS`, resolved to ids
    /// at start-up).
    pub default_rooms: Vec<i64>,
    /// Group commit for new messages.
    pub writer: MessageWriter,
    /// Channels seen to be plaintext (their sends skip a query).
    pub plaintext: PlaintextChannels,
    /// Web Push: the VAPID key, its settings, the fan-out of new messages.
    pub webpush: WebPush,
    /// Email digests: the SMTP relay and their settings (`None`: no
    /// `SMTP_URL`, no email).
    pub email: Option<Email>,
    /// `TWO_FACTOR_REQUIRED`: who must have a second factor to get past
    /// enrolment.
    pub two_factor: TwoFactorPolicy,
    /// Single sign-on's provider (`None`: no `OIDC_ISSUER`).
    pub oidc: Option<Arc<Provider>>,
    /// `METRICS_TOKEN`, which `GET /metrics` requires (`None`: no metrics).
    pub metrics_token: Option<MetricsToken>,
    /// Webhooks: the incoming rate limit, the outgoing settings and the
    /// bells of their background tasks.
    pub webhooks: Webhooks,
    /// Registered slash commands: their HTTP clients and rate limit.
    pub commands: Commands,
}

/// Settings that shape cookies and the cross-site check.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Browsers reach us over HTTPS (directly or via a proxy): cookies get
    /// `Secure` and the `__Host-` prefix, responses get HSTS.
    pub https: bool,
    /// `PUBLIC_URL`'s origin, accepted in `Origin` besides our own `Host`.
    pub public_origin: Option<String>,
    /// Believe `X-Forwarded-For` for the client address.
    pub trust_proxy: bool,
}

impl AppState {
    /// Fails when the file store cannot be opened or the message writer
    /// cannot start its thread. `vapid` is the node's checked VAPID key
    /// (`webpush::keys::load`).
    pub fn new(
        db: Db,
        hasher: Hasher,
        config: &ServeConfig,
        default_rooms: Vec<i64>,
        vapid: VapidKey,
    ) -> anyhow::Result<Self> {
        // One crypto provider for the process: the HTTP clients some
        // domains keep (single sign-on, slash commands) need it, also where
        // a state is built without `server::run` (tests).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let files = Files::open(&config.files)?;
        let email = config.email.as_ref().map(Email::new).transpose()?;
        Ok(Self(Arc::new(Inner {
            writer: MessageWriter::start(db.clone())?,
            db,
            hasher,
            keys: Keys::derive(&config.secret),
            web: WebSettings {
                https: config.https(),
                public_origin: config.public_origin.clone(),
                trust_proxy: config.trust_proxy,
            },
            events: RoomEvents::default(),
            notify: Notifier::default(),
            files,
            send_rate: config.send_rate,
            register_limit: config.register_limit,
            registration_default: config.registration_mode,
            cluster: std::sync::OnceLock::new(),
            sockets_per_user: config.sockets_per_user,
            default_rooms,
            plaintext: PlaintextChannels::default(),
            webpush: WebPush::new(vapid, &config.push)
                .context("cannot start the Web Push background thread")?,
            email,
            two_factor: config.two_factor,
            oidc: config
                .oidc
                .clone()
                .map(Provider::new)
                .transpose()
                .context("cannot build single sign-on's HTTP client")?
                .map(Arc::new),
            metrics_token: config.metrics_token.clone(),
            webhooks: Webhooks::new(config.webhook_allow_hosts.clone())
                .context("cannot start the webhooks' background thread")?,
            commands: Commands::new(config.webhook_allow_hosts.clone())
                .context("cannot build the slash commands' HTTP clients")?,
        })))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
