//! One typed configuration, loaded from defaults, then an optional TOML file, then `COURSEBRIDGE_*`
//! environment variables, and validated before anything starts.
use std::{net::SocketAddr, path::Path, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};
use url::Url;

/// Everything coursebridge can be told. Each field's name is also its TOML key and, upper-cased
/// behind `COURSEBRIDGE_`, its environment variable.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://…` (the embedded default) or `postgres://…`.
    pub database_url: String,
    /// Address the HTTP server listens on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Address `/metrics` (Prometheus text format) listens on, apart from the LTI routes; no
    /// metrics when unset. Keep it on loopback or a network only the monitoring reaches.
    pub metrics_bind: Option<SocketAddr>,
    /// `text` (the default) or `json`: one JSON object per log line, for a log collector. Read
    /// from `COURSEBRIDGE_LOG_FORMAT` when logging starts, before the rest of the configuration.
    pub log_format: String,
    /// The external base URL (scheme, host, optional path prefix) used in redirect URIs, the JWKS
    /// URL and links. Defaults to `http://` + the bound address.
    pub public_url: Option<Url>,
    /// Drop `Secure` (and `Partitioned`) from cookies, for plain-http development outside loopback.
    pub insecure_cookies: bool,
    /// How long the previous tool key stays published after `key rotate`.
    pub key_overlap_hours: u64,
    /// Allowed clock difference when checking `exp`, `iat` and `nbf` of platform tokens.
    pub clock_leeway_seconds: u64,
    /// How long a platform's key set is used before it is fetched again.
    pub platform_jwks_ttl_seconds: u64,
    /// Least time between two fetches of one platform's key set caused by an unknown `kid`.
    pub platform_jwks_refetch_seconds: u64,
    /// How long a login (state and nonce) may take before the platform's answer arrives.
    pub login_state_ttl_seconds: u64,
    /// The longest a session lasts from its launch.
    pub session_ttl_seconds: u64,
    /// A session not used for this long ends.
    pub session_idle_seconds: u64,
    /// Keep the email address a platform sends. Off: the course does not need it.
    pub store_email: bool,
    /// Timeout for calls to platforms (key sets, tokens, services).
    pub outbound_timeout_seconds: u64,
    /// Most HTTP connections open at once; keep it below the process's file descriptor limit.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers.
    pub header_read_timeout_seconds: u64,
    /// Seconds a keep-alive connection may wait for its next request before it is closed. A value
    /// over `header_read_timeout_seconds` acts as that: its deadline also runs while a connection
    /// waits.
    pub keep_alive_idle_seconds: u64,
    /// Web origins, space separated, that may frame the tool besides the registered platforms'
    /// own (an LMS that frames it from a host other than its issuer and login URL).
    pub frame_ancestors: String,
    /// Requests a minute one client may send to the forms reachable without a session (the
    /// accessibility feedback form, Dynamic Registration); past it they answer 429.
    pub public_form_requests_per_minute: u32,
    /// Take the client's address from the last `X-Forwarded-For` entry (set when a proxy you run
    /// adds it; otherwise every client could claim any address).
    pub trust_forwarded_for: bool,
    /// Let outbound calls use plain http and loopback addresses, for platforms on this machine:
    /// development, tests and benchmarks only (`demo` sets it). Private ranges stay refused.
    pub outbound_allow_loopback: bool,
    /// Seconds an instance trusts what it read of registrations, deployments, roles, workshop
    /// dates and course versions: a change made on another instance is seen within this.
    pub cache_ttl_seconds: u64,
    /// Most characters in one reflection answer.
    pub max_answer_chars: usize,
    /// Self-assessment aggregates are shown only when at least this many people answered.
    pub aggregate_min_respondents: usize,
    /// An instructor launch reads the roster again when the last read is older than this.
    pub roster_sync_age_seconds: u64,
    /// Run the grade worker inside `serve` (turn off when `coursebridge worker` runs apart).
    pub grade_worker: bool,
    /// Scores the grade worker claims at once.
    pub grade_batch_size: u64,
    /// Scores the grade worker posts at the same time.
    pub grade_concurrency: usize,
    /// How long a worker's claim on a score holds; a worker that stops releases it after this.
    pub grade_lease_seconds: u64,
    /// First retry delay after a transient failure, doubling per attempt (at most one hour).
    pub grade_retry_base_ms: u64,
    /// The longest a gradebook that stopped answering waits for its next probe: after an outage its
    /// waiting scores go out within this.
    pub grade_probe_max_seconds: u64,
    /// How often an idle grade worker looks for new scores.
    pub grade_poll_ms: u64,
    /// How often the worker applies organisations' retention rules, in seconds.
    pub retention_interval_seconds: u64,
    /// Accessibility statement: who operates the service (named in the statement; empty: not
    /// named, and `serve` warns).
    pub accessibility_operator: String,
    /// Accessibility statement: where people report problems (an email address; empty: the form
    /// alone, and `serve` warns).
    pub accessibility_contact: String,
    /// Accessibility statement: when the service was last assessed (YYYY-MM-DD).
    pub accessibility_assessed_on: String,
    /// Accessibility statement: known shortcomings, Swedish.
    pub accessibility_known_issues_sv: String,
    /// Accessibility statement: known shortcomings, English.
    pub accessibility_known_issues_en: String,
    /// Where mail goes out: `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465`, with
    /// `user:password@` when the server wants a login. Empty: no mail is queued or sent.
    pub mail_smtp_url: String,
    /// The sender of every mail, such as `Att leda digital omställning <kurs@region.se>`.
    pub mail_from: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/coursebridge.db?mode=rwc".into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_bind: None,
            log_format: "text".into(),
            public_url: None,
            insecure_cookies: false,
            key_overlap_hours: 72,
            clock_leeway_seconds: 5,
            platform_jwks_ttl_seconds: 600,
            platform_jwks_refetch_seconds: 10,
            login_state_ttl_seconds: 600,
            session_ttl_seconds: 8 * 3600,
            session_idle_seconds: 2 * 3600,
            store_email: false,
            outbound_timeout_seconds: 10,
            outbound_allow_loopback: false,
            public_form_requests_per_minute: 20,
            frame_ancestors: String::new(),
            max_connections: 1024,
            header_read_timeout_seconds: 10,
            keep_alive_idle_seconds: 5,
            trust_forwarded_for: false,
            max_answer_chars: 20_000,
            cache_ttl_seconds: 30,
            roster_sync_age_seconds: 3600,
            aggregate_min_respondents: 3,
            grade_worker: true,
            grade_batch_size: 200,
            grade_concurrency: 32,
            grade_lease_seconds: 30,
            grade_probe_max_seconds: 30,
            grade_retry_base_ms: 2000,
            grade_poll_ms: 500,
            retention_interval_seconds: 3600,
            accessibility_operator: String::new(),
            accessibility_contact: String::new(),
            accessibility_assessed_on: "2026-11-29".into(),
            accessibility_known_issues_sv: "Inga kända brister.".into(),
            accessibility_known_issues_en: "No known shortcomings.".into(),
            mail_smtp_url: String::new(),
            mail_from: String::new(),
        }
    }
}

/// What went wrong while loading the configuration; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl Config {
    /// Defaults → optional TOML file → `COURSEBRIDGE_*` environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Load(format!(
                    "the file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(Env::prefixed("COURSEBRIDGE_"))
            .extract()
            .map_err(|err| ConfigError::Load(describe_figment_error(err)))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that go beyond the types.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let scheme = self.database_url.split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            return Err(ConfigError::Invalid {
                key: "database_url",
                problem: format!(
                    "must start with sqlite:// or postgres://, found `{}`",
                    redact_url(&self.database_url)
                ),
            });
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid {
                key: "log_format",
                problem: format!("must be `text` or `json`, found `{}`", self.log_format),
            });
        }
        if let Some(url) = &self.public_url {
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(ConfigError::Invalid {
                    key: "public_url",
                    problem: format!("must be an http(s) URL with a host, found `{url}`"),
                });
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(ConfigError::Invalid {
                    key: "public_url",
                    problem: "must not carry a query or fragment".into(),
                });
            }
        }
        if !(1..=300).contains(&self.cache_ttl_seconds) {
            return Err(ConfigError::Invalid {
                key: "cache_ttl_seconds",
                problem: format!("must be 1 to 300, found {}", self.cache_ttl_seconds),
            });
        }
        for (key, value) in [
            ("login_state_ttl_seconds", self.login_state_ttl_seconds),
            ("session_ttl_seconds", self.session_ttl_seconds),
            ("session_idle_seconds", self.session_idle_seconds),
            ("outbound_timeout_seconds", self.outbound_timeout_seconds),
            ("platform_jwks_ttl_seconds", self.platform_jwks_ttl_seconds),
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            ("keep_alive_idle_seconds", self.keep_alive_idle_seconds),
            ("max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    problem: "must be greater than 0".into(),
                });
            }
        }
        self.extra_frame_ancestors()?;
        if self.aggregate_min_respondents < 2 {
            return Err(ConfigError::Invalid {
                key: "aggregate_min_respondents",
                problem: "must be at least 2, or single answers could be read off the aggregates"
                    .into(),
            });
        }
        if !(100..=1_000_000).contains(&self.max_answer_chars) {
            return Err(ConfigError::Invalid {
                key: "max_answer_chars",
                problem: "must be between 100 and 1000000".into(),
            });
        }
        self.check_mail()?;
        if self.clock_leeway_seconds > 300 {
            return Err(ConfigError::Invalid {
                key: "clock_leeway_seconds",
                problem: "must be at most 300; fix the clocks instead".into(),
            });
        }
        Ok(())
    }

    /// The `mail_smtp_url` and `mail_from` checks: both or neither, a URL lettre takes, a sender
    /// address, and `store_email` on (without it no address is kept to send to).
    fn check_mail(&self) -> Result<(), ConfigError> {
        let url = self.mail_smtp_url.trim();
        let from = self.mail_from.trim();
        if url.is_empty() && from.is_empty() {
            return Ok(());
        }
        if url.is_empty() || from.is_empty() {
            return Err(ConfigError::Invalid {
                key: if url.is_empty() {
                    "mail_smtp_url"
                } else {
                    "mail_from"
                },
                problem: "mail needs both mail_smtp_url and mail_from".into(),
            });
        }
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url).map_err(|error| ConfigError::Invalid {
            key: "mail_smtp_url",
            problem: format!(
                "must be smtp://host:port (STARTTLS with ?tls=required) or smtps://host:port: {error}"
            ),
        })?;
        from.parse::<lettre::message::Mailbox>()
            .map_err(|error| ConfigError::Invalid {
                key: "mail_from",
                problem: format!("must be an address such as Kursen <kurs@region.se>: {error}"),
            })?;
        if !self.store_email {
            return Err(ConfigError::Invalid {
                key: "store_email",
                problem: "must be true when mail is configured: mail goes to the address a launch \
                          or sign-in carries, which is kept only with store_email"
                    .into(),
            });
        }
        Ok(())
    }

    /// The public base URL, falling back to the address actually bound.
    pub fn public_base(&self, bound: SocketAddr) -> Result<Url, ConfigError> {
        let url = match &self.public_url {
            Some(url) => url.clone(),
            None => {
                Url::parse(&format!("http://{bound}/")).map_err(|err| ConfigError::Invalid {
                    key: "bind",
                    problem: err.to_string(),
                })?
            }
        };
        Ok(normalise_base(url))
    }

    /// How long a keep-alive connection waits for its next request: hyper's header deadline also
    /// runs while it waits, so never longer than that.
    pub fn keep_alive_idle(&self) -> Duration {
        Duration::from_secs(
            self.keep_alive_idle_seconds
                .min(self.header_read_timeout_seconds),
        )
    }

    /// The accessibility statement's values only the operator can give, where they are missing:
    /// the statement still reads right without them, but names no operator and no address.
    pub fn missing_statement_values(&self) -> Vec<&'static str> {
        [
            ("accessibility_operator", &self.accessibility_operator),
            ("accessibility_contact", &self.accessibility_contact),
        ]
        .into_iter()
        .filter(|(_, value)| value.trim().is_empty())
        .map(|(name, _)| name)
        .collect()
    }

    pub fn outbound_timeout(&self) -> Duration {
        Duration::from_secs(self.outbound_timeout_seconds)
    }

    /// The origins of `frame_ancestors`, checked.
    pub fn extra_frame_ancestors(&self) -> Result<Vec<String>, ConfigError> {
        self.frame_ancestors
            .split_whitespace()
            .map(|entry| {
                crate::lti::web_origin(entry).ok_or_else(|| ConfigError::Invalid {
                    key: "frame_ancestors",
                    problem: format!(
                        "`{entry}` is not an http(s) origin such as https://lms.example.se"
                    ),
                })
            })
            .collect()
    }

    /// The guarded client for URLs that came from outside, with this configuration's policy.
    pub fn outbound_client(&self) -> reqwest::Result<crate::outbound::Outbound> {
        crate::outbound::Outbound::new(self.outbound_timeout(), self.outbound_allow_loopback)
    }
}

/// A base URL must end in `/` so that `join("lti/login")` keeps any path prefix.
fn normalise_base(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

fn describe_figment_error(err: figment::Error) -> String {
    let mut parts = Vec::new();
    for error in err {
        let key = error.path.join(".");
        let source = error
            .metadata
            .as_ref()
            .map(|m| m.name.to_string())
            .unwrap_or_default();
        let key = if key.is_empty() {
            String::new()
        } else {
            let env = format!("COURSEBRIDGE_{}", key.to_uppercase());
            format!("key `{key}` (env {env}): ")
        };
        parts.push(format!("{key}{} [from {source}]", error.kind));
    }
    parts.join("; ")
}

/// A database URL with its password replaced, fit for messages and logs.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_use_embedded_sqlite() {
        let config = Config::default();
        config.validate().unwrap();
        assert!(
            config
                .database_url
                .starts_with("sqlite://data/coursebridge.db")
        );
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn the_statement_values_only_the_operator_can_give_are_named_when_missing() {
        let config = Config::default();
        assert_eq!(
            config.missing_statement_values(),
            ["accessibility_operator", "accessibility_contact"]
        );
        let set = Config {
            accessibility_operator: "Region Västerbotten".into(),
            accessibility_contact: "tillganglighet@example.se".into(),
            ..Config::default()
        };
        assert!(set.missing_statement_values().is_empty());
    }

    #[test]
    fn unknown_database_scheme_names_the_key() {
        let config = Config {
            database_url: "mysql://x".into(),
            ..Config::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("database_url"), "{message}");
    }

    #[test]
    fn the_keep_alive_idle_is_at_most_the_header_deadline() {
        let longer = Config {
            header_read_timeout_seconds: 2,
            ..Config::default()
        };
        longer.validate().unwrap();
        assert_eq!(longer.keep_alive_idle(), Duration::from_secs(2));
        let shorter = Config {
            keep_alive_idle_seconds: 1,
            ..Config::default()
        };
        assert_eq!(shorter.keep_alive_idle(), Duration::from_secs(1));
    }

    #[test]
    fn public_base_keeps_a_path_prefix() {
        let config = Config {
            public_url: Some(Url::parse("https://tools.example.se/coursebridge").unwrap()),
            ..Config::default()
        };
        let base = config.public_base("127.0.0.1:1".parse().unwrap()).unwrap();
        assert_eq!(
            base.join("lti/login").unwrap().as_str(),
            "https://tools.example.se/coursebridge/lti/login"
        );
    }

    #[test]
    fn the_example_file_is_a_valid_configuration() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        let loaded: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file_exact(path))
            .extract()
            .unwrap();
        loaded.validate().unwrap();
        assert_eq!(loaded.key_overlap_hours, 72);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
