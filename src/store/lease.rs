//! The one claim/lease query the worker's queues share: the score outbox, the webhook outbox and
//! the mail outbox. A worker claims due rows until a lease runs out (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
//! SQLite has a single writer and ignores the clause), so a worker that stops never holds a row
//! longer than its lease. Rows with the same ordering key (one person's line item, one
//! organisation) go out one at a time and in order.
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoSimpleExpr, QueryFilter,
    UpdateMany,
    sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, Query},
};

/// The state of a row waiting for (another) attempt, in both queues.
pub const PENDING: &str = "pending";

/// A table the worker claims rows of under a lease.
pub trait Queue: EntityTrait {
    /// The row id.
    const ID: Self::Column;
    /// `pending`, `sent`, …
    const STATE: Self::Column;
    /// When the row is due (Unix ms).
    const NEXT_ATTEMPT_AT_MS: Self::Column;
    /// The worker holding the row.
    const CLAIMED_BY: Self::Column;
    /// Until when it holds it (Unix ms).
    const CLAIMED_UNTIL_MS: Self::Column;
    /// Attempts made.
    const ATTEMPTS: Self::Column;
    /// Rows equal in these columns go out one at a time, in order.
    const ORDERED_BY: &'static [Self::Column];
    /// Whether an earlier row of the same key waiting for its retry holds back the later ones
    /// (webhook events must arrive in order; a newer score replaces an older one instead).
    const EARLIER_HOLDS_BACK: bool;
}

/// Claims up to `limit` due rows for `worker` until `lease_until_ms`, oldest first, skipping rows
/// other workers hold and every key with a row in flight.
pub async fn claim<Q: Queue>(
    db: &impl ConnectionTrait,
    worker: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u64,
) -> Result<Vec<Q::Model>, DbErr> {
    let due = Alias::new("due");
    let same_key = |other: &Alias| {
        Q::ORDERED_BY.iter().fold(Condition::all(), |all, column| {
            all.add(Expr::col((other.clone(), *column)).equals((due.clone(), *column)))
        })
    };
    let busy = Alias::new("busy");
    let in_flight = Query::select()
        .expr(Expr::val(1))
        .from_as(Q::default(), busy.clone())
        .cond_where(same_key(&busy))
        .and_where(Expr::col((busy.clone(), Q::STATE)).eq(PENDING))
        .and_where(Expr::col((busy, Q::CLAIMED_UNTIL_MS)).gte(now_ms))
        .to_owned();
    let mut candidates = Query::select();
    candidates
        .column((due.clone(), Q::ID))
        .from_as(Q::default(), due.clone())
        .and_where(Expr::col((due.clone(), Q::STATE)).eq(PENDING))
        .and_where(Expr::col((due.clone(), Q::NEXT_ATTEMPT_AT_MS)).lte(now_ms))
        .cond_where(
            Condition::any()
                .add(Expr::col((due.clone(), Q::CLAIMED_UNTIL_MS)).is_null())
                .add(Expr::col((due.clone(), Q::CLAIMED_UNTIL_MS)).lt(now_ms)),
        )
        .and_where(Expr::exists(in_flight).not());
    if Q::EARLIER_HOLDS_BACK {
        let earlier = Alias::new("earlier");
        let earlier_waiting = Query::select()
            .expr(Expr::val(1))
            .from_as(Q::default(), earlier.clone())
            .cond_where(same_key(&earlier))
            .and_where(Expr::col((earlier.clone(), Q::ID)).lt(Expr::col((due.clone(), Q::ID))))
            .and_where(Expr::col((earlier.clone(), Q::STATE)).eq(PENDING))
            .and_where(Expr::col((earlier, Q::NEXT_ATTEMPT_AT_MS)).gt(now_ms))
            .to_owned();
        candidates.and_where(Expr::exists(earlier_waiting).not());
    }
    candidates
        .order_by((due.clone(), Q::NEXT_ATTEMPT_AT_MS), sea_orm::Order::Asc)
        .order_by((due, Q::ID), sea_orm::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    Q::update_many()
        .col_expr(Q::CLAIMED_BY, Expr::value(worker))
        .col_expr(Q::CLAIMED_UNTIL_MS, Expr::value(lease_until_ms))
        .filter(Q::ID.into_simple_expr().in_subquery(candidates.to_owned()))
        .exec_with_returning(db)
        .await
}

/// `update` with the claim given back.
pub fn release_claim<Q: Queue>(update: UpdateMany<Q>) -> UpdateMany<Q> {
    update
        .col_expr(Q::CLAIMED_BY, Expr::value(Option::<String>::None))
        .col_expr(Q::CLAIMED_UNTIL_MS, Expr::value(Option::<i64>::None))
}

/// An update of the rows `worker` holds that gives the claim back and counts the attempt.
pub fn settle<Q: Queue>(worker: &str) -> UpdateMany<Q> {
    release_claim(Q::update_many())
        .col_expr(Q::ATTEMPTS, Expr::col(Q::ATTEMPTS).add(1))
        .filter(Q::CLAIMED_BY.eq(worker))
}

/// Extends `worker`'s lease on the rows it still holds, while it works on them: leases stay short,
/// so a killed worker's rows are free again soon.
pub async fn renew<Q: Queue>(
    db: &impl ConnectionTrait,
    worker: &str,
    lease_until_ms: i64,
) -> Result<u64, DbErr> {
    Ok(Q::update_many()
        .col_expr(Q::CLAIMED_UNTIL_MS, Expr::value(lease_until_ms))
        .filter(Q::CLAIMED_BY.eq(worker))
        .filter(Q::STATE.eq(PENDING))
        .exec(db)
        .await?
        .rows_affected)
}

/// Gives back every row `worker` still holds (graceful shutdown).
pub async fn release<Q: Queue>(db: &impl ConnectionTrait, worker: &str) -> Result<u64, DbErr> {
    Ok(release_claim(Q::update_many())
        .filter(Q::CLAIMED_BY.eq(worker))
        .filter(Q::STATE.eq(PENDING))
        .exec(db)
        .await?
        .rows_affected)
}

impl Queue for entity::score_outbox::Entity {
    const ID: Self::Column = entity::score_outbox::Column::Id;
    const STATE: Self::Column = entity::score_outbox::Column::State;
    const NEXT_ATTEMPT_AT_MS: Self::Column = entity::score_outbox::Column::NextAttemptAtMs;
    const CLAIMED_BY: Self::Column = entity::score_outbox::Column::ClaimedBy;
    const CLAIMED_UNTIL_MS: Self::Column = entity::score_outbox::Column::ClaimedUntilMs;
    const ATTEMPTS: Self::Column = entity::score_outbox::Column::Attempts;
    const ORDERED_BY: &'static [Self::Column] = &[
        entity::score_outbox::Column::ContextId,
        entity::score_outbox::Column::UserId,
        entity::score_outbox::Column::ResourceId,
    ];
    const EARLIER_HOLDS_BACK: bool = false;
}

impl Queue for entity::webhook_delivery::Entity {
    const ID: Self::Column = entity::webhook_delivery::Column::Id;
    const STATE: Self::Column = entity::webhook_delivery::Column::State;
    const NEXT_ATTEMPT_AT_MS: Self::Column = entity::webhook_delivery::Column::NextAttemptAtMs;
    const CLAIMED_BY: Self::Column = entity::webhook_delivery::Column::ClaimedBy;
    const CLAIMED_UNTIL_MS: Self::Column = entity::webhook_delivery::Column::ClaimedUntilMs;
    const ATTEMPTS: Self::Column = entity::webhook_delivery::Column::Attempts;
    const ORDERED_BY: &'static [Self::Column] = &[entity::webhook_delivery::Column::Organisation];
    const EARLIER_HOLDS_BACK: bool = true;
}

impl Queue for entity::mail_outbox::Entity {
    const ID: Self::Column = entity::mail_outbox::Column::Id;
    const STATE: Self::Column = entity::mail_outbox::Column::State;
    const NEXT_ATTEMPT_AT_MS: Self::Column = entity::mail_outbox::Column::NextAttemptAtMs;
    const CLAIMED_BY: Self::Column = entity::mail_outbox::Column::ClaimedBy;
    const CLAIMED_UNTIL_MS: Self::Column = entity::mail_outbox::Column::ClaimedUntilMs;
    const ATTEMPTS: Self::Column = entity::mail_outbox::Column::Attempts;
    // One mail per row: each goes out on its own, none holds back another.
    const ORDERED_BY: &'static [Self::Column] = &[entity::mail_outbox::Column::Id];
    const EARLIER_HOLDS_BACK: bool = false;
}
