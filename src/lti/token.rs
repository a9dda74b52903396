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
    /// The platform refused.
    #[error("the token endpoint answered {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The start of the platform's answer.
        body: String,
    },
}

/// Asks `token_url` for a token with `scopes`, authenticating with a signed client assertion.
pub async fn request_access_token(
    http: &reqwest::Client,
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
        .post(token_url)
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
        let body = response.text().await.unwrap_or_default();
        return Err(TokenError::Refused {
            status: status.as_u16(),
            body: body.chars().take(300).collect(),
        });
    }
    Ok(response.json().await?)
}
