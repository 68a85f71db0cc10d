//! Email about missed messages, when `SMTP_URL` is set: a person adds an
//! address on their account page and confirms it with a code mailed to
//! it; from then on, a message that would notify them (the same decision
//! as Web Push, `webpush::decide`) and is still unread after the delay
//! (15 minutes by default) goes into one digest mail, at most one per
//! delay window. Plaintext channels show sender and text; encrypted
//! channels and DMs only how many messages came and from whom. Every
//! digest carries an unsubscribe link that works without signing in.
//!
//! - [`compose`]: what a mail says (pure).
//! - [`http`]: the routes (address, code, removal, unsubscribe).
//! - [`digest`]: the background task that claims due digests and mails them.
//! - [`store`]: the SQL.
//!
//! Messages are recorded for a digest by the push fan-out
//! (`webpush::fanout`), which already decides who hears about what. The
//! rows are in the database, so digests survive a restart.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::auth::token::Keys;
use crate::config::email::EmailConfig;

pub mod compose;
pub mod digest;
pub mod http;
pub mod store;

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// This node's email: the SMTP relay and the settings digests need.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `PUBLIC_URL`: links in mail point here.
    pub public_url: String,
    /// How long a message stays unread before it is mailed.
    pub delay_ms: i64,
    /// How often the digest task looks for due digests.
    pub drain_ms: i64,
}

/// Why a mail was not sent. Carries no address and no SMTP credentials.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the address cannot be mailed")]
    Address,
    #[error("the mail cannot be built: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("the SMTP server refused or could not be reached: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl Email {
    /// Builds the SMTP client from the configuration (no connection yet).
    pub fn new(config: &EmailConfig) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|_| {
                anyhow::anyhow!("SMTP_URL is not a valid SMTP URL (the value is not shown)")
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|_| anyhow::anyhow!("SMTP_FROM is not an address"))?;
        let ms = |secs: u64| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        Ok(Self {
            transport,
            from,
            public_url: config.public_url.clone(),
            delay_ms: ms(config.delay_secs),
            drain_ms: ms(config.drain_secs),
        })
    }

    /// Mails `mail` to `to`, with `List-Unsubscribe` headers (RFC 2369,
    /// RFC 8058 one-click) when `unsubscribe` is given.
    pub async fn send(
        &self,
        to: &str,
        mail: &compose::Mail,
        unsubscribe: Option<&str>,
    ) -> Result<(), SendError> {
        let to = to.parse::<Mailbox>().map_err(|_| SendError::Address)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone());
        if let Some(url) = unsubscribe {
            builder = builder
                .header(ListUnsubscribe(url.to_owned()))
                .header(ListUnsubscribePost);
        }
        let message = builder.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))?;
        self.transport.send(message).await?;
        Ok(())
    }

    /// The page that unsubscribes the holder of `token`.
    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/api/email/unsubscribe?token={token}", self.public_url)
    }

    /// The app, for links in mail.
    pub fn app_url(&self) -> String {
        format!("{}/", self.public_url)
    }
}

/// An unsubscribe token: `USER_ID.MAC`, the MAC binding it to the person
/// and to the moment their address was verified, so that it stops working
/// once the address is removed or replaced. Nothing is stored for it.
pub fn unsubscribe_token(keys: &Keys, user_id: i64, verified_at: i64) -> String {
    let mac = keys.email_mac("unsubscribe", &format!("{user_id}:{verified_at}"));
    format!("{user_id}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// The person a token names, if its shape is right (its MAC is checked
/// against the stored address with [`unsubscribe_token`]).
pub fn token_user(token: &str) -> Option<i64> {
    let (id, mac) = token.split_once('.')?;
    (mac.len() == 43 && id.len() <= 19)
        .then(|| id.parse::<i64>().ok())
        .flatten()
}

/// What a verification code is stored as.
pub fn code_hash(keys: &Keys, user_id: i64, code: &str) -> Vec<u8> {
    keys.email_mac("code", &format!("{user_id}:{code}"))
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim_matches(['<', '>']).to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}
