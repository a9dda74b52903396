//! The webhook outbox: completion events written in the transaction of the change, claimed by the
//! worker under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), like the score outbox.
use super::lease;
use entity::webhook_delivery;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

/// States of a delivery.
pub mod state {
    /// Waiting to be delivered (or delivered again).
    pub const PENDING: &str = super::super::lease::PENDING;
    /// The receiver answered 2xx.
    pub const SENT: &str = "sent";
    /// Given up after the last attempt; an administrator can retry it.
    pub const FAILED: &str = "failed";
}

/// Queues an event for an organisation's webhook.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    organisation: &str,
    user_id: i64,
    event: &str,
    now_ms: i64,
) -> Result<(), DbErr> {
    webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
        organisation: Set(organisation.to_owned()),
        user_id: Set(user_id),
        event: Set(event.to_owned()),
        state: Set(state::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at_ms: Set(now_ms),
        created_at_ms: Set(now_ms),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Claims up to `limit` due deliveries, oldest first. Events of one organisation are delivered in
/// order: an organisation with a delivery in flight is skipped, and an event waiting for its retry
/// holds back the later events of its organisation.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u64,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    let mut claimed =
        lease::claim::<webhook_delivery::Entity>(db, worker, now_ms, lease_until_ms, limit).await?;
    claimed.sort_by_key(|row| row.id);
    Ok(claimed)
}

/// An update of one row `worker` holds that gives the claim back and counts the attempt.
fn settle(worker: &str, id: i64) -> sea_orm::UpdateMany<webhook_delivery::Entity> {
    lease::settle::<webhook_delivery::Entity>(worker).filter(webhook_delivery::Column::Id.eq(id))
}

/// The receiver took it.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    worker: &str,
    id: i64,
    now_ms: i64,
) -> Result<(), DbErr> {
    settle(worker, id)
        .col_expr(webhook_delivery::Column::State, Expr::value(state::SENT))
        .col_expr(webhook_delivery::Column::SentAtMs, Expr::value(now_ms))
        .exec(db)
        .await
        .map(|_| ())
}

/// Try again at `next_attempt_at_ms`, or give up (`failed`) when `give_up`.
pub async fn retry_later(
    db: &impl ConnectionTrait,
    worker: &str,
    id: i64,
    next_attempt_at_ms: i64,
    error: &str,
    give_up: bool,
) -> Result<(), DbErr> {
    let mut update = settle(worker, id)
        .col_expr(
            webhook_delivery::Column::NextAttemptAtMs,
            Expr::value(next_attempt_at_ms),
        )
        .col_expr(webhook_delivery::Column::LastError, Expr::value(error));
    if give_up {
        update = update.col_expr(webhook_delivery::Column::State, Expr::value(state::FAILED));
    }
    update.exec(db).await.map(|_| ())
}

/// Gives back one claimed delivery untouched (its organisation's earlier event failed).
pub async fn release_one(db: &impl ConnectionTrait, worker: &str, id: i64) -> Result<(), DbErr> {
    lease::release_claim(webhook_delivery::Entity::update_many())
        .filter(webhook_delivery::Column::Id.eq(id))
        .filter(webhook_delivery::Column::ClaimedBy.eq(worker))
        .exec(db)
        .await
        .map(|_| ())
}

/// Gives back every delivery a worker still holds.
pub async fn release(db: &impl ConnectionTrait, worker: &str) -> Result<u64, DbErr> {
    lease::release::<webhook_delivery::Entity>(db, worker).await
}

/// Deliveries of an organisation (all when `None`) in a state, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    organisation: Option<&str>,
    in_state: Option<&str>,
    limit: u64,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    let mut query = webhook_delivery::Entity::find();
    if let Some(organisation) = organisation {
        query = query.filter(webhook_delivery::Column::Organisation.eq(organisation));
    }
    if let Some(in_state) = in_state {
        query = query.filter(webhook_delivery::Column::State.eq(in_state));
    }
    query
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Removes every event about a person (erasure: events carry their identifiers).
pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, DbErr> {
    Ok(webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
