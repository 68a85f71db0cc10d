//! Talking to the OpenID provider with the `openidconnect` crate: discovery
//! (cached, fetched again when stale or when an ID token does not verify,
//! which is how a rotated signing key is picked up), the authorization URL
//! with state, nonce and PKCE, and the code exchange with the ID token's
//! checks (signature, issuer, audience, expiry, nonce).
//!
//! Requests go through the server's own HTTP client: no redirects
//! followed (the `openidconnect` crate's advice against SSRF through
//! discovery), short timeouts, and bounded answers.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use tokio::sync::Mutex;

use super::config::OidcConfig;

/// How long discovery's answer (endpoints and signing keys) is reused.
const METADATA_TTL: Duration = Duration::from_secs(600);
/// Largest answer read from the provider.
const MAX_ANSWER: usize = 1024 * 1024;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why signing on with the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached or answered nonsense.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The code or the ID token was refused (expired, replayed, forged).
    #[error("the provider's answer was refused: {0}")]
    Refused(String),
}

/// An HTTP failure of the client the `openidconnect` crate is given.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// An error with its sources, `outer: inner: …` (the `openidconnect`
/// crate's errors say "Request failed" and keep the why as a source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// What the provider says about the person who signed on.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub preferred_username: Option<String>,
}

/// A sign-in just started: where to send the browser, and what to keep
/// until it comes back.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// The provider, its cached discovery document and the HTTP client.
pub struct Provider {
    config: OidcConfig,
    http: http_client::Client,
    metadata: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Provider {
    /// Fails only if the HTTP client cannot be built (no TLS provider).
    pub fn new(config: OidcConfig) -> Result<Self, http_client::Error> {
        let http = http_client::Client::builder()
            .redirect(http_client::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // A few requests per sign-on, minutes apart: a kept connection
            // would mostly be one the provider has closed meanwhile (a
            // reset on the next request), so none is kept.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("Securechat/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            config,
            http,
            metadata: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Performs one request for the `openidconnect` crate.
    async fn send(
        http: http_client::Client,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpError> {
        let request = http_client::Request::try_from(request).map_err(|e| HttpError(chain(&e)))?;
        let mut response = http
            .execute(request)
            .await
            .map_err(|e| HttpError(chain(&e)))?;
        let mut builder = openidconnect::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| HttpError(chain(&e)))? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(HttpError("the answer is too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|e| HttpError(chain(&e)))
    }

    /// The discovery document, from the cache while fresh.
    async fn metadata(&self) -> Result<CoreProviderMetadata, ProviderError> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, metadata)) = cached.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let http = self.http.clone();
        let client = move |request| Self::send(http.clone(), request);
        let metadata = CoreProviderMetadata::discover_async(issuer, &client)
            .await
            .map_err(|e| ProviderError::Unavailable(format!("discovery: {}", chain(&e))))?;
        *cached = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// Forgets the discovery document (signing keys may have rotated).
    async fn forget(&self) {
        *self.metadata.lock().await = None;
    }

    async fn client(&self) -> Result<Client, ProviderError> {
        let metadata = self.metadata().await?;
        let redirect = RedirectUrl::new(self.config.redirect_url.clone())
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.to_string())),
        )
        .set_redirect_uri(redirect))
    }

    /// The authorization URL of a new sign-in, with a fresh state, nonce
    /// and PKCE (S256) verifier.
    pub async fn start(&self) -> Result<Started, ProviderError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` for tokens and checks the ID token; the claims
    /// missing from it (providers that keep them to the userinfo endpoint)
    /// are asked of that endpoint, for the same subject.
    pub async fn finish(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Identity, ProviderError> {
        let client = self.client().await?;
        let http = self.http.clone();
        let send = move |request| Self::send(http.clone(), request);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&send)
            .await
            .map_err(|e| ProviderError::Refused(format!("code exchange: {}", chain(&e))))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| ProviderError::Refused("no ID token".into()))?;
        let claims =
            match id_token.claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned())) {
                Ok(claims) => claims.clone(),
                Err(e) => {
                    self.forget().await;
                    return Err(ProviderError::Refused(format!("ID token: {e}")));
                }
            };
        let mut identity = Identity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            preferred_username: claims.preferred_username().map(|u| u.to_string()),
        };
        if identity.email.is_none() || identity.preferred_username.is_none() {
            let request =
                client.user_info(token.access_token().clone(), Some(claims.subject().clone()));
            if let Ok(request) = request {
                let info: CoreUserInfoClaims = request
                    .request_async(&send)
                    .await
                    .map_err(|e| ProviderError::Unavailable(format!("userinfo: {}", chain(&e))))?;
                if identity.email.is_none() {
                    identity.email = info.email().map(|e| e.to_string());
                    identity.email_verified = info.email_verified().unwrap_or(false);
                }
                if identity.preferred_username.is_none() {
                    identity.preferred_username = info.preferred_username().map(|u| u.to_string());
                }
            }
        }
        Ok(identity)
    }
}
