//! The session a launched page carries: a short-lived HS256 token of row ids (platform, deployment,
//! context, user), role, language and times, nothing personal: it travels in page URLs, so it lands
//! in browser history and proxy logs. Pages pass it along themselves, so a learner inside an LMS
//! iframe never needs a third-party cookie after the launch. The key is generated once per
//! installation and shared through the database by every instance. Whether the session may still
//! be used (person, deployment still there; not revoked; not idle) is `admission::resume_session`.
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::lti::claims::ToolRole;

/// Name of the installation setting that holds the key.
pub const SETTING_NAME: &str = "session_hmac_key";

/// What a session token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Registration row id.
    pub pid: i64,
    /// Deployment row id.
    pub did: i64,
    /// Context row id, when the launch had a context.
    pub cid: Option<i64>,
    /// Resource link row id.
    pub rid: Option<i64>,
    /// Person row id.
    pub uid: i64,
    /// The tool role.
    pub role: ToolRole,
    /// UI language code.
    pub lang: String,
    /// When the session began (its launch), Unix seconds.
    pub iat: i64,
    /// When this token was issued; a session not used for `session_idle_seconds` ends.
    pub seen: i64,
    /// Expiry, Unix seconds: the session's start plus `session_ttl_seconds` at most.
    pub exp: i64,
    /// The person's display name, read from the database when the session is resumed.
    #[serde(skip)]
    pub name: Option<String>,
    /// The context's title, read with the name.
    #[serde(skip)]
    pub ctx: Option<String>,
    /// The token the page's links carry: the one it came with, or a fresh one with `seen` now.
    #[serde(skip)]
    pub link_token: String,
}

/// Signs and verifies session tokens.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

/// A session token that is not (or no longer) valid.
#[derive(Debug, thiserror::Error)]
#[error("invalid session token: {0}")]
pub struct SessionError(String);

/// Claims with an expiry, which `verify_claims` checks against the application's clock.
pub trait Expiring {
    /// Unix seconds after which the claims are refused.
    fn exp(&self) -> i64;
}

impl Session {
    /// The language the session's pages speak: the launch's locale, Swedish by default.
    pub fn page_language(&self) -> crate::i18n::Lang {
        crate::i18n::Lang::from_locale(Some(&self.lang))
    }
}

impl Expiring for Session {
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl SessionKeys {
    /// Keys from the stored base64 secret.
    pub fn from_secret(secret_b64: &str) -> Result<Self, SessionError> {
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(secret_b64)
            .map_err(|err| SessionError(err.to_string()))?;
        if secret.len() < 32 {
            return Err(SessionError("the stored session key is too short".into()));
        }
        let encoding =
            EncodingKey::from_secret(&secret).map_err(|err| SessionError(err.to_string()))?;
        let decoding =
            DecodingKey::from_secret(&secret).map_err(|err| SessionError(err.to_string()))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        // Expiry is checked against the application's clock, not the library's wall time.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp"]);
        Ok(Self {
            encoding,
            decoding,
            validation,
        })
    }

    /// A new random secret, to be stored once.
    pub fn generate_secret() -> String {
        crate::lti::random_token(32)
    }

    /// Signs a session.
    pub fn issue(&self, session: &Session) -> Result<String, SessionError> {
        self.issue_claims(session)
    }

    /// Verifies a token: signature, algorithm and expiry at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Session, SessionError> {
        self.verify_claims(token, now)
    }

    /// Signs other short-lived claims a page carries (they must have `exp`).
    pub fn issue_claims<T: Serialize>(&self, claims: &T) -> Result<String, SessionError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|err| SessionError(err.to_string()))
    }

    /// Verifies claims signed by `issue_claims`: signature, algorithm, shape, and expiry at `now`
    /// (Unix seconds; valid through the second of `exp`).
    pub fn verify_claims<T: serde::de::DeserializeOwned + Expiring>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<T, SessionError> {
        let claims = jsonwebtoken::decode::<T>(token, &self.decoding, &self.validation)
            .map_err(|err| SessionError(err.to_string()))?
            .claims;
        if claims.exp() < now {
            return Err(SessionError("expired".into()));
        }
        Ok(claims)
    }
}

/// What was read about a session's person and context: whether it may go on, and the names its
/// pages show. `admission::resume_session` reads it; the application state caches it briefly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStanding {
    /// Sessions that began before this are revoked.
    pub(crate) revoked_at: Option<i64>,
    /// The person's display name.
    pub(crate) name: Option<String>,
    /// The context's title.
    pub(crate) context_title: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(exp: i64) -> Session {
        Session {
            pid: 1,
            did: 2,
            cid: Some(3),
            rid: Some(4),
            uid: 5,
            role: ToolRole::Participant,
            lang: "sv".into(),
            iat: exp - 60,
            seen: exp - 60,
            exp,
            name: None,
            ctx: None,
            link_token: String::new(),
        }
    }

    #[test]
    fn issued_tokens_verify_and_tampered_or_expired_ones_do_not() {
        let keys = SessionKeys::from_secret(&SessionKeys::generate_secret()).unwrap();
        let now = crate::lti::clock::Clock::default().now_unix();
        let token = keys.issue(&session(now + 60)).unwrap();
        assert_eq!(keys.verify(&token, now).unwrap(), session(now + 60));

        let mut tampered = token.clone();
        tampered.insert(tampered.len() / 2, 'x');
        assert!(keys.verify(&tampered, now).is_err());

        let expired = keys.issue(&session(now - 1)).unwrap();
        assert!(keys.verify(&expired, now).is_err());

        let other = SessionKeys::from_secret(&SessionKeys::generate_secret()).unwrap();
        assert!(other.verify(&token, now).is_err());
    }
}
