//! What operators watch: how long the outboxes to gradebooks, webhook receivers and mail servers
//! are, for the metrics. Deployment-wide, so a system principal's alone.
use std::time::Duration;

use sea_orm::ConnectionTrait;

use super::{access::Principal, directory::AdminError};
use crate::store;

/// Where the schema stands against this binary (`migrate --check`).
pub use crate::store::SchemaState;

/// The database pool's connections now, idle and in use (no data: the pool's own count).
pub fn pool_connections(db: &sea_orm::DatabaseConnection) -> store::PoolConnections {
    store::pool_connections(db)
}

/// One outbox as the metrics show it.
#[derive(Debug, Clone, Copy)]
pub struct OutboxHealth {
    /// `scores`, `webhooks` or `mail`.
    pub kind: &'static str,
    /// Rows waiting to be delivered.
    pub pending: i64,
    /// How long the oldest of them has waited (zero when none waits).
    pub oldest_age: Duration,
}

/// The three outboxes' waiting rows, with their oldest row's age by the principal's clock.
pub async fn outbox_health(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<Vec<OutboxHealth>, AdminError> {
    principal.require_system()?;
    let now_ms = principal.now_ms();
    let kinds = ["scores", "webhooks", "mail"];
    let waiting = store::operations::waiting(db).await?;
    Ok(kinds
        .into_iter()
        .zip(waiting)
        .map(|(kind, waiting)| OutboxHealth {
            kind,
            pending: waiting.rows,
            oldest_age: waiting.oldest_ms.map_or(Duration::ZERO, |oldest| {
                Duration::from_millis(now_ms.saturating_sub(oldest).max(0) as u64)
            }),
        })
        .collect())
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The copy's size in bytes.
    pub bytes: u64,
    /// SQLite's `integrity_check` of the copy: `ok`, or its first problem.
    pub integrity: String,
}

/// Copies a running SQLite database to `out` (a new file) in one consistent snapshot, checks the
/// copy, and records the backup in the audit log (after the copy, so not in it).
pub async fn backup(
    db: &sea_orm::DatabaseConnection,
    principal: &Principal,
    database_url: &str,
    out: &std::path::Path,
) -> Result<Backup, AdminError> {
    principal.require_system()?;
    if store::sqlite_file(database_url).is_none() {
        return Err(AdminError::Invalid(
            "backup copies an SQLite database; for PostgreSQL use pg_dump (docs/OPERATIONS.md)"
                .into(),
        ));
    }
    if out.exists() {
        return Err(AdminError::Invalid(format!(
            "{} exists: a backup goes to a new file",
            out.display()
        )));
    }
    store::backup::copy_into(db, out).await?;
    let check = store::backup::check_copy(out).await?;
    let bytes = std::fs::metadata(out).map_or(0, |meta| meta.len());
    let transaction = store::begin_write(db).await?;
    principal
        .audit(
            &transaction,
            "database.backup",
            &out.display().to_string(),
            None,
            serde_json::json!({ "bytes": bytes, "integrity": check.integrity }),
        )
        .await?;
    transaction.commit().await?;
    Ok(Backup {
        bytes,
        integrity: check.integrity,
    })
}

/// What a restore put back.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Migrations applied to the copy because it came from an older version.
    pub migrated: usize,
}

/// Puts a backup in the place of an SQLite database. Refused while a server or worker has the
/// database open, for a copy that fails SQLite's integrity check, and for one a newer version
/// migrated. The copy is checked beside the database and renamed into its place, so a refused or
/// failed restore leaves the database as it was.
pub async fn restore(
    principal: &Principal,
    database_url: &str,
    from: &std::path::Path,
) -> Result<Restored, AdminError> {
    principal.require_system()?;
    let Some(database) = store::sqlite_file(database_url) else {
        return Err(AdminError::Invalid(
            "restore puts back an SQLite database; for PostgreSQL use pg_restore (docs/OPERATIONS.md)"
                .into(),
        ));
    };
    if !from.is_file() {
        return Err(AdminError::Invalid(format!(
            "{} is not a file",
            from.display()
        )));
    }
    let _held = store::backup::hold_exclusive(&database).map_err(|err| match err {
        store::backup::LockError::Busy(_) => AdminError::Conflict(format!(
            "a server or worker uses {}: stop every one first",
            database.display()
        )),
        other => AdminError::Invalid(other.to_string()),
    })?;
    let incoming = store::backup::stage(from, &database).map_err(|err| {
        AdminError::Invalid(format!(
            "cannot copy {} beside the database: {err}",
            from.display()
        ))
    })?;
    let refused = |problem: String| {
        let _ = std::fs::remove_file(&incoming);
        AdminError::Invalid(problem)
    };
    let check = match store::backup::check_copy(&incoming).await {
        Ok(check) => check,
        Err(err) => {
            return Err(refused(format!(
                "{} is not an SQLite database: {err}",
                from.display()
            )));
        }
    };
    if check.integrity != "ok" {
        return Err(refused(format!(
            "{} fails SQLite's integrity check: {}",
            from.display(),
            check.integrity
        )));
    }
    let migrated = match check.schema {
        store::SchemaState::Ahead(unknown) => {
            return Err(refused(format!(
                "{} was migrated by a newer coursebridge ({}): restore it with that version",
                from.display(),
                unknown.join(", ")
            )));
        }
        store::SchemaState::Behind(pending) => pending.len(),
        store::SchemaState::Current => 0,
    };
    store::backup::put_in_place(&incoming, &database).map_err(|err| {
        AdminError::Invalid(format!(
            "cannot put the copy in place of {}: {err}",
            database.display()
        ))
    })?;
    let db = store::connect(database_url).await?;
    store::migrate(&db).await?;
    let transaction = store::begin_write(&db).await?;
    principal
        .audit(
            &transaction,
            "database.restore",
            &from.display().to_string(),
            None,
            serde_json::json!({ "migrated": migrated }),
        )
        .await?;
    transaction.commit().await?;
    db.close().await?;
    Ok(Restored { migrated })
}

/// Where the database's schema stands against this binary.
pub async fn schema_state(
    db: &sea_orm::DatabaseConnection,
    principal: &Principal,
) -> Result<store::SchemaState, AdminError> {
    principal.require_system()?;
    Ok(store::schema_state(db).await?)
}
