//! The only place that builds database queries. Every function takes `&impl ConnectionTrait`, so it
//! works on the pool and inside a transaction alike, on SQLite and PostgreSQL alike.
use std::{path::Path, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};

pub mod accessibility;
pub mod admin;
pub mod backup;
pub mod cohorts;
pub mod completions;
pub mod contact;
pub mod course;
pub mod deployment;
pub mod exchange;
pub mod grades;
pub mod group;
pub mod held;
pub mod invitations;
pub mod launch_record;
pub mod lease;
pub mod lms_courses;
pub mod mail;
pub mod operations;
pub mod organisations;
pub mod people;
pub mod platform;
mod prepared;
pub mod review;
pub mod roster;
pub mod self_assessment;
pub mod signin;
pub mod spaces;
pub mod submission;
pub mod tool_key;
pub mod tool_setting;
pub mod used_login;
pub mod webhooks;

/// A storage failure, with unique-constraint violations told apart (they are the caller's fault).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same unique key exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Anything else from the database.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl StoreError {
    pub(crate) fn from_insert(err: DbErr, what: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what.into()),
            _ => StoreError::Db(err),
        }
    }
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), waiting out other writers with the busy timeout: a deferred transaction that reads
/// first and writes later fails with "database is locked" (SQLITE_BUSY_SNAPSHOT) when another
/// process — the CLI beside a server, or another instance — wrote in between, and waiting cannot
/// help it. PostgreSQL ignores the mode.
/// The wait (for a pooled connection, and on SQLite for the write lock) is measured.
pub async fn begin_write<C: sea_orm::TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    let started = std::time::Instant::now();
    let transaction = db
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await;
    metrics::histogram!(WRITE_WAIT).record(started.elapsed().as_secs_f64());
    transaction
}

/// The metric of how long a write waited for its connection and, on SQLite, the write lock.
pub const WRITE_WAIT: &str = "coursebridge_db_write_wait_seconds";

/// The pool's connections now.
#[derive(Debug, Clone, Copy)]
pub struct PoolConnections {
    /// Open and waiting for a query.
    pub idle: usize,
    /// Open and checked out.
    pub in_use: usize,
}

/// How many of the pool's connections are idle and how many are in use.
pub fn pool_connections(db: &DatabaseConnection) -> PoolConnections {
    // The pool getters panic on the other backend, so the backend is asked first.
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size() as usize, pool.num_idle())
        }
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size() as usize, pool.num_idle())
        }
        _ => (0, 0),
    };
    PoolConnections {
        idle,
        in_use: size.saturating_sub(idle),
    }
}

/// Opens the database. For SQLite the file's folder is created, and WAL, foreign keys and a busy
/// timeout are set on every connection, so that the CLI can write while a server runs.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        // A ping on every checkout doubles the round trips of a launch; only connections idle
        // long enough to have been dropped by a server, proxy or firewall are tested.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if let Some(folder) = sqlite_folder(url) {
            std::fs::create_dir_all(&folder).map_err(|err| {
                DbErr::Custom(format!(
                    "cannot create the folder {}: {err}",
                    folder.display()
                ))
            })?;
        }
        // One connection. SQLite has one writer at a time anyway; every connection keeps its own
        // page cache (which a write from another invalidates) and is a worker thread that each
        // statement wakes. Measured with `bench launch` (docs/DECISIONS.md): 1 connection beat
        // 2, 4 and 8 in CPU per launch at the same throughput. The rule that follows: code holding
        // a transaction passes it down and never asks the pool for a second connection.
        options.max_connections(1);
        // No idle reaping and no lifetime for the one connection to a local file: sqlx's reaper
        // task can spin at 100 % CPU and hang shutdown (launchbadge/sqlx#3645), seen here as a
        // test process stuck after its test had passed; a local file gains nothing from recycling.
        options.idle_timeout(None).max_lifetime(None);
        options.map_sqlx_sqlite_opts(|opts| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
            // No mmap_size: a mapped database file counts in the server's RSS for every page any
            // read touched (a 200 MB course file downloaded 8 times at once peaked at 220 MiB), and
            // `bench launch` measured no difference without it (docs/DECISIONS.md).
        });
    } else {
        options.max_connections(16);
        if tls_protects_nothing(url, std::env::var_os("PGSSLMODE").is_some()) {
            options.map_sqlx_postgres_opts(|opts| {
                opts.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable)
            });
        }
    }
    Database::connect(options).await
}

/// Whether the URL names a PostgreSQL on this host's loopback and leaves TLS to the default
/// (`prefer`, which takes TLS whenever the server offers it, as Debian's does). Whoever can read
/// loopback traffic is already root on the machine, so TLS there protects nothing, and it cost
/// 18 % of the database server's CPU per launch and 8 % of the tool's (docs/DECISIONS.md). An
/// `sslmode` in the URL or `PGSSLMODE` (`env_chooses`) is kept as given.
fn tls_protects_nothing(url: &str, env_chooses: bool) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let tls_chosen = parsed
        .query_pairs()
        .any(|(key, _)| key == "sslmode" || key == "ssl-mode")
        || env_chooses;
    // `postgres:` is no special scheme to the URL parser, so an address comes as a domain.
    let loopback = match parsed.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    loopback && !tls_chosen
}

/// The folder of an SQLite database file URL, when it has one.
fn sqlite_folder(url: &str) -> Option<std::path::PathBuf> {
    let path = sqlite_file(url)?;
    let parent = path.parent()?;
    (!parent.as_os_str().is_empty()).then(|| parent.to_path_buf())
}

/// The file of an SQLite database URL; `None` for PostgreSQL and in-memory databases.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(Path::new(path).to_path_buf())
}

/// Where the database's schema stands against this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// Every migration this binary knows is applied, and no other.
    Current,
    /// These migrations wait to be applied (`migrate`, or the next `serve`).
    Behind(Vec<String>),
    /// A newer binary applied these, which this one does not know: it must not serve.
    Ahead(Vec<String>),
}

/// Compares the applied migrations with this binary's, writing nothing (not even the migration
/// table, which sea-orm's own status query creates).
pub async fn schema_state(db: &DatabaseConnection) -> Result<SchemaState, DbErr> {
    let exists = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'seaql_migrations'"
        }
        _ => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
    };
    let applied: Vec<String> = if db.query_one_raw(raw(db, exists)).await?.is_some() {
        db.query_all_raw(raw(db, "SELECT version FROM seaql_migrations"))
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", "version"))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    let unknown: Vec<String> = applied
        .iter()
        .filter(|name| !known.contains(name))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Ok(SchemaState::Ahead(unknown));
    }
    let pending: Vec<String> = known
        .into_iter()
        .filter(|name| !applied.contains(name))
        .collect();
    Ok(if pending.is_empty() {
        SchemaState::Current
    } else {
        SchemaState::Behind(pending)
    })
}

fn raw(db: &DatabaseConnection, sql: &str) -> sea_orm::Statement {
    sea_orm::Statement::from_string(db.get_database_backend(), sql.to_owned())
}

/// Applies every pending migration. Instances started together would each apply the same ones
/// and all but one fail ("duplicate key value", seen with two `serve` processes on a new
/// PostgreSQL database): on PostgreSQL an advisory lock, held by a transaction of its own while
/// the migrations run on the pool's other connections, lets one go at a time; the next finds
/// nothing pending. SQLite's callers hold `backup::hold_for_migration` instead.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::TransactionTrait;
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let lock = db.begin().await?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await?;
    let migrated = Migrator::up(db, None).await;
    lock.commit().await?;
    migrated
}

/// The advisory lock key of migrations: any number, the same in every version.
const MIGRATION_LOCK: i64 = 0x636f_7572_7365;

/// How many migrations are not applied yet (0 when the schema is current).
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}

/// A round trip to the database.
pub async fn ping(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tls_is_left_out_only_on_loopback_and_only_when_nothing_chooses() {
        use super::tls_protects_nothing;
        assert!(tls_protects_nothing(
            "postgres://app@127.0.0.1:5432/cb",
            false
        ));
        assert!(tls_protects_nothing("postgres://app@localhost/cb", false));
        assert!(tls_protects_nothing(
            "postgresql://app@[::1]:5432/cb",
            false
        ));
        assert!(!tls_protects_nothing(
            "postgres://app@db.region.se/cb",
            false
        ));
        assert!(!tls_protects_nothing("postgres://app@10.0.0.5/cb", false));
        assert!(!tls_protects_nothing(
            "postgres://app@127.0.0.1/cb?sslmode=require",
            false
        ));
        assert!(!tls_protects_nothing(
            "postgres://app@localhost/cb?sslmode=prefer",
            false
        ));
        // PGSSLMODE chooses for every URL.
        assert!(!tls_protects_nothing(
            "postgres://app@127.0.0.1:5432/cb",
            true
        ));
    }

    use super::*;

    #[tokio::test]
    async fn the_bundled_sqlite_keeps_one_plan_per_statement() {
        // .cargo/config.toml builds SQLite with the query planner stability guarantee; without
        // it every `.one()` (a bound LIMIT) is prepared again on each run.
        let db = connect("sqlite::memory:").await.unwrap();
        let options: Vec<String> = db
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA compile_options",
            ))
            .await
            .unwrap()
            .iter()
            .filter_map(|row| row.try_get_by_index::<String>(0).ok())
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
    }

    #[test]
    fn sqlite_folder_is_found_for_relative_and_absolute_files() {
        assert_eq!(
            sqlite_folder("sqlite://data/coursebridge.db?mode=rwc"),
            Some("data".into())
        );
        assert_eq!(sqlite_folder("sqlite:///tmp/x/a.db"), Some("/tmp/x".into()));
        assert_eq!(sqlite_folder("sqlite::memory:"), None);
        assert_eq!(sqlite_folder("sqlite://a.db"), None);
    }
}
