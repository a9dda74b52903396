//! Figures about the service's own queues, for its metrics.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, Func},
};

use super::lease::PENDING;

/// One outbox's waiting rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// How many rows wait to be delivered.
    pub rows: i64,
    /// When the oldest of them was queued (Unix milliseconds), if any wait.
    pub oldest_ms: Option<i64>,
}

/// The scores, webhooks and mail waiting, in that order.
pub async fn waiting(db: &impl ConnectionTrait) -> Result<[Waiting; 3], DbErr> {
    use entity::{mail_outbox, score_outbox, webhook_delivery};
    Ok([
        waiting_in::<score_outbox::Entity>(
            db,
            score_outbox::Column::State,
            score_outbox::Column::ScoredAtMs,
        )
        .await?,
        waiting_in::<webhook_delivery::Entity>(
            db,
            webhook_delivery::Column::State,
            webhook_delivery::Column::CreatedAtMs,
        )
        .await?,
        waiting_in::<mail_outbox::Entity>(
            db,
            mail_outbox::Column::State,
            mail_outbox::Column::CreatedAtMs,
        )
        .await?,
    ])
}

/// One outbox's pending rows and the earliest `queued` time among them.
async fn waiting_in<E: EntityTrait>(
    db: &impl ConnectionTrait,
    state: E::Column,
    queued: E::Column,
) -> Result<Waiting, DbErr> {
    let found: Option<(i64, Option<i64>)> = E::find()
        .select_only()
        .column_as(state.count(), "n")
        .column_as(Expr::expr(Func::min(Expr::col(queued))), "oldest")
        .filter(state.eq(PENDING))
        .into_tuple()
        .one(db)
        .await?;
    let (rows, oldest_ms) = found.unwrap_or((0, None));
    Ok(Waiting { rows, oldest_ms })
}

/// The process ids of PostgreSQL's backends serving the current database, but for the one that
/// asks: the servers' connections, whose CPU the launch benchmark reads from /proc. Empty on
/// SQLite, which has no server processes.
pub async fn other_backends(db: &impl ConnectionTrait) -> Result<Vec<u32>, DbErr> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get_by_index::<i32>(0).map(|pid| pid as u32))
        .collect()
}
