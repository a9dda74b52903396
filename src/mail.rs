//! Sending mail: the SMTP transport of the deployment's configuration (lettre, on rustls), and each
//! message with its opt-out link. The mail itself is composed where it is queued
//! (`learning::mail`); this module only adds what every mail carries:
//! - the sender the operator configured;
//! - a footer and the `List-Unsubscribe` headers (RFC 2369, and RFC 8058's one-click POST), whose
//!   link names the person only through a signed token, so opting out needs no login.
//!
//! No SMTP URL, no mail: nothing is queued and nothing is sent.
use std::{sync::Arc, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox,
        header::{ContentType, HeaderName, HeaderValue},
    },
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    config::{Config, ConfigError},
    session::SessionKeys,
};

/// The configured way out: transport, sender, and what the opt-out link needs.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_base: Url,
    keys: SessionKeys,
}

/// Why a mail did not go.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server could not be reached, or answered 4xx: try again later.
    #[error("{0}")]
    Later(String),
    /// The server refused it for good (5xx), or the address cannot be used: do not retry.
    #[error("{0}")]
    Refused(String),
}

/// What an opt-out link carries, signed: whose mail stops. The page speaks the browser's language.
#[derive(Debug, Serialize, Deserialize)]
struct OptOutClaims {
    /// Always "mail-opt-out": a session or a feed token is not an opt-out.
    purpose: String,
    uid: i64,
    exp: i64,
}

impl crate::session::Expiring for OptOutClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// How long an opt-out link works: mail is kept in inboxes for years, but a course run is at most
/// a year or so; past that, the person answers from a newer mail.
const OPT_OUT_SECONDS: i64 = 400 * 86_400;

/// The signed part of an opt-out address for `user_id`.
pub fn opt_out_token(keys: &SessionKeys, user_id: i64, now: i64) -> Option<String> {
    keys.issue_claims(&OptOutClaims {
        purpose: "mail-opt-out".into(),
        uid: user_id,
        exp: now + OPT_OUT_SECONDS,
    })
    .ok()
}

/// The person an opt-out token names, or `None` when it is not one (or too old).
pub fn opt_out_user(keys: &SessionKeys, token: &str, now: i64) -> Option<i64> {
    let claims = keys.verify_claims::<OptOutClaims>(token, now).ok()?;
    (claims.purpose == "mail-opt-out").then_some(claims.uid)
}

/// How long one mail may take, from the connection to the server's last answer.
const MAIL_TIMEOUT: Duration = Duration::from_secs(20);

impl Mailer {
    /// The mailer of `config`, or `None` when mail is not configured.
    pub fn from_config(
        config: &Config,
        public_base: &Url,
        keys: &SessionKeys,
    ) -> Result<Option<Arc<Mailer>>, ConfigError> {
        let url = config.mail_smtp_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let invalid = |key, problem: String| ConfigError::Invalid { key, problem };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| invalid("mail_smtp_url", e.to_string()))?
            .timeout(Some(MAIL_TIMEOUT))
            .build();
        let from = config
            .mail_from
            .trim()
            .parse::<Mailbox>()
            .map_err(|e| invalid("mail_from", e.to_string()))?;
        Ok(Some(Arc::new(Mailer {
            transport,
            from,
            public_base: public_base.clone(),
            keys: keys.clone(),
        })))
    }

    /// The opt-out address for `user_id`.
    pub fn opt_out_url(&self, user_id: i64, now: i64) -> Option<Url> {
        let token = opt_out_token(&self.keys, user_id, now)?;
        self.public_base.join(&format!("mail/opt-out/{token}")).ok()
    }

    /// Hands one queued mail to the server, with the opt-out footer and headers.
    pub async fn send(&self, row: &entity::mail_outbox::Model, now: i64) -> Result<(), SendError> {
        let to = row
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| SendError::Refused(format!("the address cannot be used: {e}")))?;
        let opt_out = self
            .opt_out_url(row.user_id, now)
            .ok_or_else(|| SendError::Later("no opt-out link could be made".into()))?;
        let body = format!(
            "{}\n\n-- \nVill du inte få fler mejl från kursen? Avsluta dem här: {opt_out}\n\
             No more mail from the course? Opt out here: {opt_out}\n",
            row.body.trim_end()
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{opt_out}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .body(body)
            .map_err(|e| SendError::Refused(format!("the mail could not be built: {e}")))?;
        // lettre's own timeout bounds the connect only: a server that takes the connection and
        // never answers would hold the worker's pass, and every delivery behind it, for good.
        match tokio::time::timeout(MAIL_TIMEOUT, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) if error.is_permanent() => Err(SendError::Refused(error.to_string())),
            Ok(Err(error)) => Err(SendError::Later(error.to_string())),
            Err(_) => Err(SendError::Later(format!(
                "the mail server did not answer within {} s",
                MAIL_TIMEOUT.as_secs()
            ))),
        }
    }
}
