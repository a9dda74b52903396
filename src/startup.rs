//! Building and running the service: bind first (so port 0 works and the public URL can default
//! to the bound address), connect, migrate, make sure the tool has its keys, then serve.
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use url::Url;

use crate::{
    config::{Config, redact_url},
    lti::{
        self,
        keys::{PlatformKeyCache, PlatformKeyPolicy},
    },
    session::{self, SessionKeys},
    state::{App, AppState},
    store,
};

/// How long an identical relaunch skips rewriting the person, context, link and membership rows.
const RECENT_LAUNCH_TTL: Duration = Duration::from_secs(600);

/// A built service, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    _database_held: Option<store::backup::Held>,
    metrics: Option<crate::measure::MetricsListener>,
    state: AppState,
}

impl Application {
    /// Binds, connects, migrates and prepares keys.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, crate::lti::clock::Clock::default()).await
    }

    /// Builds the service on `clock`: tests give every instance of one deployment the same clock,
    /// and move it.
    pub async fn build_with_clock(
        config: Config,
        clock: crate::lti::clock::Clock,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {} (COURSEBRIDGE_BIND)", config.bind))?;
        let address = listener.local_addr()?;
        let metrics = match config.metrics_bind {
            Some(bind) => Some(crate::measure::MetricsListener::bind(bind).await?),
            None => None,
        };
        let public_base = config.public_base(address)?;
        let database_held = hold_database(&config.database_url)?;
        let db = open_database(&config.database_url).await?;
        ensure_tool_key(&db, &clock).await?;
        crate::admin::courses::ensure_demo(&db, &clock)
            .await
            .context("cannot import the demo course")?;
        let sessions = session_keys(&db).await?;
        let mail = crate::mail::Mailer::from_config(&config, &public_base, &sessions)?;
        let http = config.outbound_client()?;
        let platform_keys = PlatformKeyCache::new(
            http.clone(),
            clock.clone(),
            PlatformKeyPolicy {
                ttl: Duration::from_secs(config.platform_jwks_ttl_seconds),
                refetch_interval: Duration::from_secs(config.platform_jwks_refetch_seconds),
            },
        );
        let frame_ancestors = config.extra_frame_ancestors()?;
        let cache_ttl = Duration::from_secs(config.cache_ttl_seconds);
        let public_forms =
            crate::state::public_form_limiter(config.public_form_requests_per_minute);
        let state = AppState(Arc::new(App {
            db,
            courses: crate::learning::context::CourseCache::with_ttl(cache_ttl, clock.clone()),
            tokens: Arc::new(crate::lti::token::TokenCache::new(clock.clone())),
            config,
            public_base,
            platform_keys,
            sessions,
            http,
            registry: crate::registry::Registry::with_ttl(cache_ttl, &clock),
            contacts: crate::registry::TtlCache::new(cache_ttl, 100_000, &clock),
            admin_roles: crate::registry::TtlCache::new(cache_ttl, 100_000, &clock),
            occasions: crate::registry::TtlCache::new(cache_ttl, 100_000, &clock),
            public_forms,
            session_standing: crate::registry::TtlCache::new(
                crate::admission::SESSION_STANDING_TTL,
                100_000,
                &clock,
            ),
            platform_origins: crate::registry::TtlCache::new(cache_ttl, 1, &clock),
            frame_ancestors,
            recent_launches: crate::registry::TtlCache::new(RECENT_LAUNCH_TTL, 100_000, &clock),
            signin_metadata: crate::registry::TtlCache::new(
                std::time::Duration::from_secs(600),
                100,
                &clock,
            ),
            mail,
            clock,
        }));
        Ok(Self {
            listener,
            _database_held: database_held,
            metrics,
            state,
        })
    }

    /// The address actually bound.
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where `/metrics` listens, when `metrics_bind` is set.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|metrics| metrics.address())
    }

    /// The public base URL (ends in `/`).
    pub fn public_base(&self) -> &Url {
        &self.state.public_base
    }

    /// The shared state (tests and `demo` use its database handle).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = self.state.config.grade_worker.then(|| {
            let worker = Arc::new(self.grade_worker());
            tokio::spawn(worker.run_until(wait_for(stopped.clone())))
        });
        if let Some(metrics) = self.metrics {
            tokio::spawn(metrics.serve(self.state.clone(), wait_for(stopped.clone())));
        }
        let router = crate::web::router(self.state.clone());
        let limits = crate::serve::ConnectionLimits {
            max_connections: self.state.config.max_connections,
            header_read_timeout: Duration::from_secs(self.state.config.header_read_timeout_seconds),
            keep_alive_idle: self.state.config.keep_alive_idle(),
            shutdown_grace: Duration::from_secs(30),
        };
        crate::serve::serve(self.listener, router, limits, async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
        if let Some(worker) = worker {
            // The worker finishes its batch and gives back what it holds.
            let _ = worker.await;
        }
        Ok(())
    }

    /// A worker sharing this service's database, HTTP client, token cache, mailer and clock.
    pub fn grade_worker(&self) -> crate::worker::Worker {
        crate::worker::Worker::new(
            self.state.db.clone(),
            self.state.http.clone(),
            self.state.tokens.clone(),
            self.state.clock.clone(),
            crate::worker::WorkerSettings::from_config(&self.state.config),
        )
        .with_mail(self.state.mail.clone())
    }
}

/// The keys sessions and other signed tokens (feeds, opt-out links) are signed with: one secret in
/// the database, made on first start, shared by every instance.
pub async fn session_keys(db: &DatabaseConnection) -> anyhow::Result<SessionKeys> {
    let secret =
        store::tool_setting::get_or_create(db, session::SETTING_NAME, SessionKeys::generate_secret)
            .await?;
    Ok(SessionKeys::from_secret(&secret)?)
}

/// Completes when the watched flag turns true (or its sender is gone).
pub async fn wait_for(mut flag: tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}

/// Connects and applies migrations, with messages that say which database.
pub async fn open_database(url: &str) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect(url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(url)))?;
    refuse_newer_schema(&db, url).await?;
    let _migrating = store::backup::hold_for_migration(url)?;
    store::migrate(&db)
        .await
        .with_context(|| format!("cannot migrate the database {}", redact_url(url)))?;
    Ok(db)
}

/// Opens the database without migrating it; every command but `migrate --check` migrates.
pub async fn connect_database(url: &str) -> anyhow::Result<DatabaseConnection> {
    store::connect(url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(url)))
}

/// A newer version migrated the database: this one would misread what it wrote.
async fn refuse_newer_schema(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    if let store::SchemaState::Ahead(unknown) = store::schema_state(db).await? {
        anyhow::bail!(
            "the database {} was migrated by a newer coursebridge (migrations {} are unknown to \
             this one): run that version, or restore a backup taken before the upgrade",
            redact_url(url),
            unknown.join(", ")
        );
    }
    Ok(())
}

/// The lock servers and workers share on an SQLite database, so that a restore waits for them.
pub fn hold_database(url: &str) -> anyhow::Result<Option<store::backup::Held>> {
    store::backup::hold_shared(url).map_err(|err| match err {
        store::backup::LockError::Busy(path) => anyhow::anyhow!(
            "a restore is running on this database ({} is locked)",
            path.display()
        ),
        other => anyhow::anyhow!(other),
    })
}

/// Generates the tool's first signing key when there is none.
pub async fn ensure_tool_key(
    db: &DatabaseConnection,
    clock: &crate::lti::clock::Clock,
) -> anyhow::Result<()> {
    if store::tool_key::current(db).await?.is_none() {
        let pem = lti::keys::generate_private_key_pem()?;
        let key =
            store::tool_key::insert(db, &lti::keys::new_kid(), &pem, clock.now_unix()).await?;
        tracing::info!(kid = %key.kid, "generated the tool's first signing key");
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
