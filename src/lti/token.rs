//! OAuth 2.0 client_credentials with a JWT client assertion (Security Framework §4.1, RFC 7523):
//! how the tool gets an access token for a platform's services (AGS, NRPS).
use serde::{Deserialize, Serialize};

use super::keys::SigningKey;

/// The client assertion type of RFC 7523.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Claims of the client assertion JWT.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientAssertion {
    /// The tool's client_id.
    pub iss: String,
    /// The tool's client_id.
    pub sub: String,
    /// The token endpoint, or the registration's token audience.
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry (five minutes after `iat`).
    pub exp: i64,
    /// Unique per assertion, so a platform can refuse replays.
    pub jti: String,
}

impl ClientAssertion {
    /// A fresh assertion for `client_id` towards `audience`.
    pub fn new(client_id: &str, audience: &str, now: i64) -> Self {
        Self {
            iss: client_id.to_owned(),
            sub: client_id.to_owned(),
            aud: audience.to_owned(),
            iat: now,
            exp: now + 300,
            jti: super::random_token(16),
        }
    }
}

/// An access token as the platform returned it.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessToken {
    /// The bearer token.
    pub access_token: String,
    /// `Bearer` (in any capitalisation).
    pub token_type: String,
    /// Lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Granted scopes, space separated.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Why no access token was obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The assertion could not be signed.
    #[error("the client assertion could not be signed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// The request failed before an answer arrived.
    #[error("the token endpoint could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
    /// The endpoint is not one the tool calls, or its answer could not be read.
    #[error("token endpoint: {0}")]
    Outbound(#[from] crate::outbound::OutboundError),
    /// The platform refused.
    #[error("the token endpoint answered HTTP {status}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The start of the platform's answer.
        body: String,
    },
}

/// Asks `token_url` for a token with `scopes`, authenticating with a signed client assertion.
pub async fn request_access_token(
    http: &crate::outbound::Outbound,
    token_url: &str,
    audience: &str,
    client_id: &str,
    key: &SigningKey,
    scopes: &[&str],
    now: i64,
) -> Result<AccessToken, TokenError> {
    let assertion = key.sign(&ClientAssertion::new(client_id, audience, now))?;
    let scope = scopes.join(" ");
    let response = http
        .post("token endpoint", token_url)?
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
            ("scope", scope.as_str()),
        ])
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        let body = crate::outbound::body_for_log(response).await;
        tracing::info!(code = "TOKEN_REFUSED", status = status.as_u16(), body = %body,
            "the token endpoint refused the client assertion");
        return Err(TokenError::Refused {
            status: status.as_u16(),
            body,
        });
    }
    Ok(crate::outbound::read_json(response).await?)
}

/// Access tokens per (registration, scope set), reused until shortly before they expire: platforms
/// rate-limit their token endpoints (Canvas does), and a token per call would hit that.
/// Expiry is read from the application's clock, so a test that moves time sees tokens expire.
#[derive(Default)]
pub struct TokenCache {
    clock: super::clock::Clock,
    /// The token and until when it is used (Unix ms).
    tokens: std::sync::Mutex<std::collections::HashMap<(i64, String), (String, i64)>>,
    /// One fetch at a time per key: callers that miss together (a launch's background roster sync
    /// and the instructor's own) wait for the one token instead of each asking for another.
    fetching: std::sync::Mutex<std::collections::HashMap<(i64, String), FetchLock>>,
}

/// Held while one token is fetched for a key.
type FetchLock = std::sync::Arc<tokio::sync::Mutex<()>>;

/// Renew this long before the platform's expiry, so a token never expires mid-request.
const EXPIRY_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// How a platform is asked for tokens.
#[derive(Debug, Clone)]
pub struct TokenEndpoint<'a> {
    /// Registration row id (the cache key).
    pub registration: i64,
    /// The token URL.
    pub url: &'a str,
    /// The client assertion's `aud`: the token URL, or the registration's token audience.
    pub audience: &'a str,
    /// The tool's client_id at the platform.
    pub client_id: &'a str,
}

impl TokenCache {
    /// An empty cache on `clock`.
    pub fn new(clock: super::clock::Clock) -> Self {
        Self {
            clock,
            tokens: std::sync::Mutex::default(),
            fetching: std::sync::Mutex::default(),
        }
    }

    fn key(registration: i64, scopes: &[&str]) -> (i64, String) {
        let mut sorted: Vec<&str> = scopes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        (registration, sorted.join(" "))
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(i64, String), (String, i64)>> {
        crate::sync::lock(&self.tokens)
    }

    /// A bearer token for `scopes`: the cached one, or a new one from the platform.
    pub async fn token(
        &self,
        http: &crate::outbound::Outbound,
        endpoint: &TokenEndpoint<'_>,
        key: &SigningKey,
        scopes: &[&str],
    ) -> Result<String, TokenError> {
        let cache_key = Self::key(endpoint.registration, scopes);
        if let Some(token) = self.cached(&cache_key) {
            return Ok(token);
        }
        let fetch = crate::sync::lock(&self.fetching)
            .entry(cache_key.clone())
            .or_default()
            .clone();
        let _fetching = fetch.lock().await;
        // Another caller may have fetched it while this one waited.
        if let Some(token) = self.cached(&cache_key) {
            return Ok(token);
        }
        let granted = request_access_token(
            http,
            endpoint.url,
            endpoint.audience,
            endpoint.client_id,
            key,
            scopes,
            self.clock.now_unix(),
        )
        .await?;
        if !granted.token_type.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::Refused {
                status: 200,
                body: format!("token type {:?} is not Bearer", granted.token_type),
            });
        }
        let lifetime = std::time::Duration::from_secs(granted.expires_in.unwrap_or(3600));
        let until = self.clock.now_ms() + lifetime.saturating_sub(EXPIRY_MARGIN).as_millis() as i64;
        self.lock()
            .insert(cache_key, (granted.access_token.clone(), until));
        Ok(granted.access_token)
    }

    /// The cached token for `cache_key`, while it is good.
    fn cached(&self, cache_key: &(i64, String)) -> Option<String> {
        let tokens = self.lock();
        let (token, until) = tokens.get(cache_key)?;
        (self.clock.now_ms() < *until).then(|| token.clone())
    }

    /// Forgets the token for `scopes` (after the platform answered 401 to it).
    pub fn forget(&self, registration: i64, scopes: &[&str]) {
        self.lock().remove(&Self::key(registration, scopes));
    }
}
