//! The mail outbox and the opt-outs. Mail is queued in the transaction of what it tells, once per
//! `dedupe_key`, only to people with an address who have not opted out, and claimed by the worker
//! under a lease (`store::lease`), like scores and webhook events.
use super::lease;
use entity::{lti_user, mail_opt_out, mail_outbox};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr, sea_query::OnConflict,
};

/// States of a mail.
pub mod state {
    /// Waiting to be sent (or sent again).
    pub const PENDING: &str = super::super::lease::PENDING;
    /// The mail server took it.
    pub const SENT: &str = "sent";
    /// Given up after the last attempt, or refused for good by the server.
    pub const FAILED: &str = "failed";
    /// The person opted out before it went.
    pub const OPTED_OUT: &str = "opted_out";
}

/// A mail to queue.
pub struct NewMail<'a> {
    /// What it is about, once (a second mail with the same key is not queued).
    pub dedupe_key: String,
    pub user_id: i64,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues `mail` unless one with its key was queued before. `true` when it was queued.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    mail: NewMail<'_>,
    now_ms: i64,
) -> Result<bool, DbErr> {
    let inserted = mail_outbox::Entity::insert(mail_outbox::ActiveModel {
        dedupe_key: Set(mail.dedupe_key),
        user_id: Set(mail.user_id),
        recipient: Set(mail.recipient.to_owned()),
        subject: Set(mail.subject.to_owned()),
        body: Set(mail.body.to_owned()),
        state: Set(state::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at_ms: Set(now_ms),
        created_at_ms: Set(now_ms),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(mail_outbox::Column::DedupeKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// Of `user_ids`, the people mail may go to, with their address: those with an address who have
/// not opted out.
pub async fn recipients(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
) -> Result<Vec<(i64, String)>, DbErr> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let opted_out = sea_orm::sea_query::Query::select()
        .column(mail_opt_out::Column::UserId)
        .from(mail_opt_out::Entity)
        .to_owned();
    let people = lti_user::Entity::find()
        .filter(lti_user::Column::Id.is_in(user_ids.iter().copied()))
        .filter(lti_user::Column::Id.not_in_subquery(opted_out))
        .filter(
            Condition::all()
                .add(lti_user::Column::Email.is_not_null())
                .add(lti_user::Column::Email.ne("")),
        )
        .order_by_asc(lti_user::Column::Id)
        .all(db)
        .await?;
    Ok(people
        .into_iter()
        .filter_map(|person| Some((person.id, person.email?)))
        .collect())
}

/// Records that `user_id` wants no more mail, and drops what is still waiting for them. Asking
/// twice changes nothing.
pub async fn opt_out(db: &impl ConnectionTrait, user_id: i64, now: i64) -> Result<(), DbErr> {
    mail_opt_out::Entity::insert(mail_opt_out::ActiveModel {
        user_id: Set(user_id),
        opted_out_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(mail_opt_out::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::State, Expr::value(state::OPTED_OUT))
        .filter(mail_outbox::Column::UserId.eq(user_id))
        .filter(mail_outbox::Column::State.eq(state::PENDING))
        .exec(db)
        .await
        .map(|_| ())
}

/// Whether `user_id` opted out.
pub async fn opted_out(db: &impl ConnectionTrait, user_id: i64) -> Result<bool, DbErr> {
    Ok(mail_opt_out::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some())
}

/// Claims up to `limit` due mails.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u64,
) -> Result<Vec<mail_outbox::Model>, DbErr> {
    // Each mail stands alone: the order they go in does not matter.
    lease::claim::<mail_outbox::Entity>(db, worker, now_ms, lease_until_ms, limit).await
}

fn settle(worker: &str, id: i64) -> sea_orm::UpdateMany<mail_outbox::Entity> {
    lease::settle::<mail_outbox::Entity>(worker).filter(mail_outbox::Column::Id.eq(id))
}

/// Ends a claimed mail in `final_state` (`sent`, `failed`, `opted_out`).
pub async fn finish(
    db: &impl ConnectionTrait,
    worker: &str,
    id: i64,
    final_state: &str,
    now_ms: i64,
    error: Option<&str>,
) -> Result<(), DbErr> {
    let mut update =
        settle(worker, id).col_expr(mail_outbox::Column::State, Expr::value(final_state));
    if final_state == state::SENT {
        update = update.col_expr(mail_outbox::Column::SentAtMs, Expr::value(now_ms));
    }
    if let Some(error) = error {
        update = update.col_expr(mail_outbox::Column::LastError, Expr::value(error));
    }
    update.exec(db).await.map(|_| ())
}

/// Try again at `next_attempt_at_ms`.
pub async fn retry_later(
    db: &impl ConnectionTrait,
    worker: &str,
    id: i64,
    next_attempt_at_ms: i64,
    error: &str,
) -> Result<(), DbErr> {
    settle(worker, id)
        .col_expr(
            mail_outbox::Column::NextAttemptAtMs,
            Expr::value(next_attempt_at_ms),
        )
        .col_expr(mail_outbox::Column::LastError, Expr::value(error))
        .exec(db)
        .await
        .map(|_| ())
}

/// Gives back every mail a worker still holds.
pub async fn release(db: &impl ConnectionTrait, worker: &str) -> Result<u64, DbErr> {
    lease::release::<mail_outbox::Entity>(db, worker).await
}

/// Mails to one person (all when `None`), newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Option<i64>,
    limit: u64,
) -> Result<Vec<mail_outbox::Model>, DbErr> {
    let mut query = mail_outbox::Entity::find();
    if let Some(user_id) = user_id {
        query = query.filter(mail_outbox::Column::UserId.eq(user_id));
    }
    query
        .order_by_desc(mail_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes mails that were settled (sent, failed, opted out) before `cutoff_ms`: what they said
/// lives on in the course, and a mail's copy is personal data with no further use.
pub async fn purge_settled(db: &impl ConnectionTrait, cutoff_ms: i64) -> Result<u64, DbErr> {
    Ok(mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::State.ne(state::PENDING))
        .filter(mail_outbox::Column::CreatedAtMs.lt(cutoff_ms))
        .exec(db)
        .await?
        .rows_affected)
}

/// Removes every mail and the opt-out of a person (erasure).
pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, DbErr> {
    mail_opt_out::Entity::delete_many()
        .filter(mail_opt_out::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
