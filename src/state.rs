//! What every request handler shares: the database, the configuration, the key caches and the
//! outbound HTTP client. One `Arc`, cheap to clone.
use std::{ops::Deref, sync::Arc};

use sea_orm::DatabaseConnection;
use url::Url;

use crate::{config::Config, lti::keys::PlatformKeyCache, session::SessionKeys};

/// The application state handed to axum.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The shared parts of the running service.
pub struct App {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The one clock every time-based decision reads (tests move it).
    pub clock: crate::lti::clock::Clock,
    /// Validated configuration.
    pub config: Config,
    /// The external base URL, ending in `/`.
    pub public_base: Url,
    /// Platform key sets.
    pub platform_keys: PlatformKeyCache,
    /// Session token keys.
    pub sessions: SessionKeys,
    /// The guarded client for every URL that came from outside.
    pub http: crate::outbound::Outbound,
    /// Registrations and approved deployments, briefly cached.
    pub registry: crate::registry::Registry,
    /// Platform access tokens, per registration and scope set.
    pub tokens: Arc<crate::lti::token::TokenCache>,
    /// The organisations each person is contact person for, briefly cached (grants are rare).
    pub contacts: crate::registry::TtlCache<i64, Vec<String>>,
    /// Whether each person has an administrator role, briefly cached (grants are rare).
    pub admin_roles: crate::registry::TtlCache<i64, bool>,
    /// Workshop occasions per context, briefly cached (display only; this instance's own changes
    /// are seen at once).
    pub occasions: crate::registry::TtlCache<
        i64,
        std::collections::HashMap<String, entity::workshop_occasion::Model>,
    >,
    /// Parsed course versions.
    pub courses: crate::learning::context::CourseCache,
    /// Whether a person's session may go on, per (person, deployment, context), for a few seconds:
    /// erasure, a disabled deployment or a revocation is seen by every instance within that time.
    pub session_standing:
        crate::registry::TtlCache<(i64, i64, Option<i64>), Option<crate::session::SessionStanding>>,
    /// Who may frame the tool: the registered platforms' web origins and `frame_ancestors`,
    /// briefly cached.
    pub platform_origins: crate::registry::TtlCache<(), Arc<Vec<String>>>,
    /// The operator's `frame_ancestors`, read once at start.
    pub frame_ancestors: Vec<String>,
    /// Requests per client to the forms anyone can reach (feedback, registration).
    pub public_forms: PublicFormLimiter,
    /// What recent launches recorded, to skip rewriting identical rows.
    pub recent_launches: crate::registry::TtlCache<String, crate::store::launch_record::Recorded>,
    /// Sign-in providers' discovery documents, by issuer, kept briefly.
    pub signin_metadata: crate::registry::TtlCache<String, std::sync::Arc<crate::oidc::Discovered>>,
    /// The deployment's mail server, when mail is configured.
    pub mail: Option<Arc<crate::mail::Mailer>>,
}

impl App {
    /// An absolute URL of this tool.
    pub fn url(&self, path: &str) -> Url {
        self.public_base
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.public_base.clone())
    }
}

/// Requests per client to the public forms, by the operator's `public_form_requests_per_minute`.
pub type PublicFormLimiter = governor::RateLimiter<
    std::net::IpAddr,
    governor::state::keyed::DefaultKeyedStateStore<std::net::IpAddr>,
    governor::clock::DefaultClock,
>;

/// The limiter: `per_minute` requests a minute per client, all of them at once at most.
pub fn public_form_limiter(per_minute: u32) -> PublicFormLimiter {
    let per_minute =
        std::num::NonZeroU32::new(per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
}

impl App {
    /// What a roster sync reaches.
    pub fn roster_reach(&self) -> crate::learning::roster::RosterReach<'_> {
        crate::learning::roster::RosterReach {
            db: &self.db,
            registry: &self.registry,
            http: &self.http,
            tokens: &self.tokens,
            clock: &self.clock,
        }
    }

    /// Whether the database answers and every migration is applied: `Ok(0)` when ready, else how
    /// many migrations are pending.
    pub async fn database_readiness(&self) -> Result<usize, Unready> {
        crate::store::ping(&self.db)
            .await
            .map_err(Unready::Unreachable)?;
        crate::store::pending_migrations(&self.db)
            .await
            .map_err(Unready::MigrationsUnknown)
    }
}

/// Why the database is not ready.
#[derive(Debug, thiserror::Error)]
pub enum Unready {
    /// No answer.
    #[error("database unreachable: {0}")]
    Unreachable(sea_orm::DbErr),
    /// The migration table could not be read.
    #[error("migration status unknown: {0}")]
    MigrationsUnknown(sea_orm::DbErr),
}
