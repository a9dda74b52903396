//! The score outbox, line items and the facts the grade worker needs about a context. Claims use
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has a single writer and ignores the clause), and
//! every claim is a lease: a worker that stops never holds a row longer than the lease.
use std::collections::HashMap;

use super::lease;
use entity::{
    context, deployment, group_member, line_item, lti_user, membership, organisation,
    person_organisation, resource_link, score_outbox,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};

/// States of an outbox row.
pub mod state {
    /// Waiting to be posted (or to be posted again).
    pub const PENDING: &str = super::super::lease::PENDING;
    /// The platform accepted it.
    pub const SENT: &str = "sent";
    /// The platform refused it for good (the person cannot be graded there).
    pub const NOT_GRADABLE: &str = "not_gradable";
    /// A newer score for the same person and line item replaced it before it was posted.
    pub const SUPERSEDED: &str = "superseded";
}

/// Where a context's scores go, when it has AGS at all.
#[derive(Debug, Clone)]
pub struct GradeTarget {
    /// The context.
    pub context: context::Model,
    /// Its deployment (grade mode, platform).
    pub deployment: deployment::Model,
}

/// The context and its deployment, when launches into it carried AGS with the score scope.
pub async fn target(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Option<GradeTarget>, DbErr> {
    let Some(context) = context::Entity::find_by_id(context_id).one(db).await? else {
        return Ok(None);
    };
    if context.ags_scopes.is_none() {
        return Ok(None);
    }
    let Some(deployment) = deployment::Entity::find_by_id(context.deployment_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(GradeTarget {
        context,
        deployment,
    }))
}

/// The people an answer belongs to, who take part (not instructors): `u:<id>` is one person,
/// `g:<group>` the members of a group, `g:d<deployment>` everyone of the context in no group who
/// belongs to the deployment's organisation, `g:o<organisation>` everyone in no group who belongs to
/// that other organisation.
/// Returns (user id, LTI sub).
pub async fn participants_owning(
    db: &impl ConnectionTrait,
    context_id: i64,
    owner_key: &str,
) -> Result<Vec<(i64, String)>, DbErr> {
    let placed = || {
        Query::select()
            .column(group_member::Column::UserId)
            .from(group_member::Entity)
            .and_where(group_member::Column::ContextId.eq(context_id))
            .to_owned()
    };
    let mut people = Condition::all();
    if let Some(user) = owner_key.strip_prefix("u:") {
        let Ok(user) = user.parse::<i64>() else {
            return Ok(Vec::new());
        };
        people = people.add(membership::Column::UserId.eq(user));
    } else if let Some(deployment) = owner_key.strip_prefix("g:d") {
        // The deployment's own municipality: no group, and no other organisation of their own.
        let Ok(deployment) = deployment.parse::<i64>() else {
            return Ok(Vec::new());
        };
        let own = deployment::Entity::find_by_id(deployment)
            .one(db)
            .await?
            .and_then(|d| d.organisation);
        let mut elsewhere = Query::select()
            .column(person_organisation::Column::UserId)
            .from(person_organisation::Entity)
            .to_owned();
        if let Some(own) = own {
            elsewhere.and_where(person_organisation::Column::Organisation.ne(own));
        }
        people = people
            .add(membership::Column::UserId.not_in_subquery(placed()))
            .add(membership::Column::UserId.not_in_subquery(elsewhere));
    } else if let Some(organisation) = owner_key.strip_prefix("g:o") {
        // Another municipality's group in a regional course: no group, that organisation.
        let Ok(organisation) = organisation.parse::<i64>() else {
            return Ok(Vec::new());
        };
        let Some(named) = organisation::Entity::find_by_id(organisation)
            .one(db)
            .await?
        else {
            return Ok(Vec::new());
        };
        let members = Query::select()
            .column(person_organisation::Column::UserId)
            .from(person_organisation::Entity)
            .and_where(person_organisation::Column::Organisation.eq(named.name))
            .to_owned();
        people = people
            .add(membership::Column::UserId.not_in_subquery(placed()))
            .add(membership::Column::UserId.in_subquery(members));
    } else if let Some(group) = owner_key.strip_prefix("g:") {
        let Ok(group) = group.parse::<i64>() else {
            return Ok(Vec::new());
        };
        people = people.add(
            membership::Column::UserId.in_subquery(
                placed()
                    .and_where(group_member::Column::GroupId.eq(group))
                    .to_owned(),
            ),
        );
    } else {
        return Ok(Vec::new());
    }
    let members = membership::Entity::find()
        .filter(membership::Column::ContextId.eq(context_id))
        .filter(membership::Column::Role.eq("participant"))
        .filter(people)
        .all(db)
        .await?;
    let subs: HashMap<i64, String> = lti_user::Entity::find()
        .filter(lti_user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.sub))
        .collect();
    Ok(members
        .into_iter()
        .filter_map(|m| subs.get(&m.user_id).map(|sub| (m.user_id, sub.clone())))
        .collect())
}

/// The last score written per line item for a person (ignoring superseded rows): what the LMS has
/// or is about to get.
pub async fn latest_scores(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
) -> Result<HashMap<String, score_outbox::Model>, DbErr> {
    let rows = score_outbox::Entity::find()
        .filter(score_outbox::Column::ContextId.eq(context_id))
        .filter(score_outbox::Column::UserId.eq(user_id))
        .filter(score_outbox::Column::State.ne(state::SUPERSEDED))
        .order_by_asc(score_outbox::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.resource_id.clone(), row))
        .collect())
}

/// A score to queue.
#[derive(Debug, Clone)]
pub struct NewScore {
    /// Context row id.
    pub context_id: i64,
    /// The participant.
    pub user_id: i64,
    /// Which line item.
    pub resource_id: String,
    /// Label for creating the line item.
    pub label: String,
    /// Maximum for creating the line item.
    pub score_maximum: f64,
    /// Score JSON without timestamp.
    pub score: String,
    /// Unix milliseconds of the change.
    pub scored_at_ms: i64,
}

/// Queues scores. An older score for the same person and line item that is still waiting (and not
/// in flight) is superseded: only the latest needs to reach the gradebook.
pub async fn enqueue(db: &impl ConnectionTrait, scores: Vec<NewScore>) -> Result<(), DbErr> {
    if scores.is_empty() {
        return Ok(());
    }
    let now_ms = scores
        .iter()
        .map(|s| s.scored_at_ms)
        .max()
        .unwrap_or_default();
    let bulk = scores.len() > 100;
    if !bulk {
        // A participant's change: a few index lookups.
        for score in &scores {
            score_outbox::Entity::update_many()
                .col_expr(score_outbox::Column::State, Expr::value(state::SUPERSEDED))
                .filter(score_outbox::Column::ContextId.eq(score.context_id))
                .filter(score_outbox::Column::UserId.eq(score.user_id))
                .filter(score_outbox::Column::ResourceId.eq(score.resource_id.as_str()))
                .filter(score_outbox::Column::State.eq(state::PENDING))
                .filter(not_claimed(now_ms))
                .exec(db)
                .await?;
        }
    }
    score_outbox::Entity::insert_many(scores.into_iter().map(|s| score_outbox::ActiveModel {
        context_id: Set(s.context_id),
        user_id: Set(s.user_id),
        resource_id: Set(s.resource_id),
        label: Set(s.label),
        score_maximum: Set(s.score_maximum),
        score: Set(s.score),
        scored_at_ms: Set(s.scored_at_ms),
        state: Set(state::PENDING.into()),
        attempts: Set(0),
        next_attempt_at_ms: Set(s.scored_at_ms),
        claimed_by: Set(None),
        claimed_until_ms: Set(None),
        last_error: Set(None),
        sent_at_ms: Set(None),
        ..Default::default()
    }))
    .exec_without_returning(db)
    .await?;
    if bulk {
        supersede_waiting(db, now_ms).await?;
    }
    Ok(())
}

fn same_person_and_item(other: &str) -> Condition {
    let outer = score_outbox::Entity;
    let other = Alias::new(other);
    Condition::all()
        .add(
            Expr::col((other.clone(), score_outbox::Column::ContextId))
                .equals((outer, score_outbox::Column::ContextId)),
        )
        .add(
            Expr::col((other.clone(), score_outbox::Column::UserId))
                .equals((outer, score_outbox::Column::UserId)),
        )
        .add(
            Expr::col((other, score_outbox::Column::ResourceId))
                .equals((outer, score_outbox::Column::ResourceId)),
        )
}

/// A newer pending score for the same person and line item as the outbox row being updated.
fn newer_pending() -> sea_orm::sea_query::SelectStatement {
    let newer = Alias::new("newer");
    Query::select()
        .expr(Expr::val(1))
        .from_as(score_outbox::Entity, newer.clone())
        .cond_where(same_person_and_item("newer"))
        .and_where(
            Expr::col((newer.clone(), score_outbox::Column::Id))
                .gt(Expr::col((score_outbox::Entity, score_outbox::Column::Id))),
        )
        .and_where(Expr::col((newer, score_outbox::Column::State)).eq(state::PENDING))
        .to_owned()
}

fn not_claimed(now_ms: i64) -> Condition {
    Condition::any()
        .add(score_outbox::Column::ClaimedUntilMs.is_null())
        .add(score_outbox::Column::ClaimedUntilMs.lt(now_ms))
}

/// Collapses pending scores across the whole outbox: of several unclaimed pending scores for one
/// person and line item, only the latest stays pending. Returns how many were superseded. (After a
/// bulk `enqueue`, which does not look for older scores row by row.)
pub async fn supersede_waiting(db: &impl ConnectionTrait, now_ms: i64) -> Result<u64, DbErr> {
    let result = score_outbox::Entity::update_many()
        .col_expr(score_outbox::Column::State, Expr::value(state::SUPERSEDED))
        .filter(score_outbox::Column::State.eq(state::PENDING))
        .filter(not_claimed(now_ms))
        .filter(Expr::exists(newer_pending()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Claims up to `limit` due rows for `worker` until `lease_until_ms`, oldest first, skipping rows
/// other workers hold and any person and line item with a score in flight (so scores for one line
/// item reach the platform in order).
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u64,
) -> Result<Vec<score_outbox::Model>, DbErr> {
    lease::claim::<score_outbox::Entity>(db, worker, now_ms, lease_until_ms, limit).await
}

/// Marks rows the platform accepted.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    worker: &str,
    ids: Vec<i64>,
    now_ms: i64,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    lease::settle::<score_outbox::Entity>(worker)
        .col_expr(score_outbox::Column::State, Expr::value(state::SENT))
        .col_expr(score_outbox::Column::SentAtMs, Expr::value(now_ms))
        .col_expr(
            score_outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(score_outbox::Column::Id.is_in(ids))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records a refusal for good: not retried until an administrator asks.
pub async fn mark_not_gradable(
    db: &impl ConnectionTrait,
    worker: &str,
    id: i64,
    error: &str,
) -> Result<(), DbErr> {
    lease::settle::<score_outbox::Entity>(worker)
        .col_expr(
            score_outbox::Column::State,
            Expr::value(state::NOT_GRADABLE),
        )
        .col_expr(score_outbox::Column::LastError, Expr::value(error))
        .filter(score_outbox::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Makes every waiting score of a platform due now (it answers again after an outage); returns
/// how many.
pub async fn due_now_for_platform(
    db: &impl ConnectionTrait,
    platform_id: i64,
    now_ms: i64,
) -> Result<u64, DbErr> {
    let contexts = Query::select()
        .column((entity::context::Entity, entity::context::Column::Id))
        .from(entity::context::Entity)
        .inner_join(
            entity::deployment::Entity,
            Expr::col((entity::deployment::Entity, entity::deployment::Column::Id)).equals((
                entity::context::Entity,
                entity::context::Column::DeploymentId,
            )),
        )
        .and_where(
            Expr::col((
                entity::deployment::Entity,
                entity::deployment::Column::PlatformId,
            ))
            .eq(platform_id),
        )
        .to_owned();
    Ok(score_outbox::Entity::update_many()
        .col_expr(score_outbox::Column::NextAttemptAtMs, Expr::value(now_ms))
        .filter(score_outbox::Column::State.eq(state::PENDING))
        .filter(score_outbox::Column::NextAttemptAtMs.gt(now_ms))
        .filter(score_outbox::Column::ContextId.in_subquery(contexts))
        .exec(db)
        .await?
        .rows_affected)
}

/// Retires row `id`, which `worker` holds, when a newer score for the same person and line item
/// came in while it was in flight (the enqueue leaves a claimed row alone): only the newer one
/// matters, and were the older one sent after it, the gradebook would end on the older.
async fn retire_if_newer(db: &impl ConnectionTrait, worker: &str, id: i64) -> Result<(), DbErr> {
    lease::release_claim(score_outbox::Entity::update_many())
        .col_expr(score_outbox::Column::State, Expr::value(state::SUPERSEDED))
        .filter(score_outbox::Column::Id.eq(id))
        .filter(score_outbox::Column::ClaimedBy.eq(worker))
        .filter(Expr::exists(newer_pending()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Gives a row back unattempted, due at `next_attempt_at_ms` (its platform is not answering and
/// another score is probing it) — or retires it when a newer score came in meanwhile.
pub async fn postpone(
    db: &impl ConnectionTrait,
    worker: &str,
    id: i64,
    next_attempt_at_ms: i64,
) -> Result<(), DbErr> {
    retire_if_newer(db, worker, id).await?;
    lease::release_claim(score_outbox::Entity::update_many())
        .col_expr(
            score_outbox::Column::NextAttemptAtMs,
            Expr::value(next_attempt_at_ms),
        )
        .filter(score_outbox::Column::ClaimedBy.eq(worker))
        .filter(score_outbox::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Puts a row back for a later attempt — or, when a newer score for the same person and line item
/// came in meanwhile, retires it, since only the newer one matters.
pub async fn retry_later(
    db: &impl ConnectionTrait,
    worker: &str,
    id: i64,
    next_attempt_at_ms: i64,
    error: &str,
) -> Result<(), DbErr> {
    retire_if_newer(db, worker, id).await?;
    lease::settle::<score_outbox::Entity>(worker)
        .col_expr(
            score_outbox::Column::NextAttemptAtMs,
            Expr::value(next_attempt_at_ms),
        )
        .col_expr(score_outbox::Column::LastError, Expr::value(error))
        .filter(score_outbox::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Extends the worker's claims on the scores it still holds, while it is working on them: claims
/// stay short, so a killed worker's scores are free again soon.
pub async fn renew(
    db: &impl ConnectionTrait,
    worker: &str,
    lease_until_ms: i64,
) -> Result<u64, DbErr> {
    lease::renew::<score_outbox::Entity>(db, worker, lease_until_ms).await
}

/// Gives back every row a worker still holds (graceful shutdown).
pub async fn release(db: &impl ConnectionTrait, worker: &str) -> Result<u64, DbErr> {
    lease::release::<score_outbox::Entity>(db, worker).await
}

/// Rows in a state (all when `None`) of some contexts (all when `None`), newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    contexts: Option<&[i64]>,
    in_state: Option<&str>,
    limit: u64,
) -> Result<Vec<score_outbox::Model>, DbErr> {
    let mut query = score_outbox::Entity::find();
    if let Some(contexts) = contexts {
        query = query.filter(score_outbox::Column::ContextId.is_in(contexts.iter().copied()));
    }
    if let Some(in_state) = in_state {
        query = query.filter(score_outbox::Column::State.eq(in_state));
    }
    query
        .order_by_desc(score_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// One outbox row.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<score_outbox::Model>, DbErr> {
    score_outbox::Entity::find_by_id(id).one(db).await
}

/// Queues refused and waiting rows again, due now. `None` retries every one.
pub async fn retry(db: &impl ConnectionTrait, id: Option<i64>, now_ms: i64) -> Result<u64, DbErr> {
    let mut update = score_outbox::Entity::update_many()
        .col_expr(score_outbox::Column::State, Expr::value(state::PENDING))
        .col_expr(score_outbox::Column::NextAttemptAtMs, Expr::value(now_ms))
        .filter(score_outbox::Column::State.is_in([state::PENDING, state::NOT_GRADABLE]));
    if let Some(id) = id {
        update = update.filter(score_outbox::Column::Id.eq(id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// How many rows are in each state.
pub async fn counts(db: &impl ConnectionTrait) -> Result<HashMap<String, i64>, DbErr> {
    let rows: Vec<(String, i64)> = score_outbox::Entity::find()
        .select_only()
        .column(score_outbox::Column::State)
        .column_as(score_outbox::Column::Id.count(), "n")
        .group_by(score_outbox::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The latest row per person and line item of a context (what the LMS has or will get), by person.
pub async fn latest_in_context(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<HashMap<i64, Vec<score_outbox::Model>>, DbErr> {
    let rows = score_outbox::Entity::find()
        .filter(score_outbox::Column::ContextId.eq(context_id))
        .filter(score_outbox::Column::State.ne(state::SUPERSEDED))
        .order_by_asc(score_outbox::Column::Id)
        .all(db)
        .await?;
    let mut latest: HashMap<(i64, String), score_outbox::Model> = HashMap::new();
    for row in rows {
        latest.insert((row.user_id, row.resource_id.clone()), row);
    }
    let mut by_person: HashMap<i64, Vec<score_outbox::Model>> = HashMap::new();
    for ((user, _), row) in latest {
        by_person.entry(user).or_default().push(row);
    }
    Ok(by_person)
}

/// The line item the tool knows for a context's resource id.
pub async fn line_item(
    db: &impl ConnectionTrait,
    context_id: i64,
    resource_id: &str,
) -> Result<Option<String>, DbErr> {
    Ok(line_item::Entity::find()
        .filter(line_item::Column::ContextId.eq(context_id))
        .filter(line_item::Column::ResourceId.eq(resource_id))
        .one(db)
        .await?
        .map(|row| row.url))
}

/// Remembers a line item (the first one found wins).
pub async fn remember_line_item(
    db: &impl ConnectionTrait,
    context_id: i64,
    resource_id: &str,
    url: &str,
    now: i64,
) -> Result<(), DbErr> {
    line_item::Entity::insert(line_item::ActiveModel {
        context_id: Set(context_id),
        resource_id: Set(resource_id.to_owned()),
        url: Set(url.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([line_item::Column::ContextId, line_item::Column::ResourceId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The line item a launch brought for the context: a link opening `module` (per module), or a link
/// opening no particular module (the course). (link's lineitem URL, the LTI resource link id)
pub async fn launched_line_item(
    db: &impl ConnectionTrait,
    context_id: i64,
    module: Option<&str>,
) -> Result<Option<(String, String)>, DbErr> {
    let mut query = resource_link::Entity::find()
        .filter(resource_link::Column::ContextId.eq(context_id))
        .filter(resource_link::Column::AgsLineitemUrl.is_not_null());
    query = match module {
        Some(module) => query.filter(resource_link::Column::ModuleSlug.eq(module)),
        None => query.filter(resource_link::Column::ModuleSlug.is_null()),
    };
    Ok(query
        .order_by_asc(resource_link::Column::Id)
        .one(db)
        .await?
        .and_then(|link| {
            link.ags_lineitem_url
                .map(|url| (url, link.lti_resource_link_id))
        }))
}

/// Any resource link of the context (to tie a created line item to).
pub async fn any_resource_link(
    db: &impl ConnectionTrait,
    context_id: i64,
    module: Option<&str>,
) -> Result<Option<String>, DbErr> {
    let mut query =
        resource_link::Entity::find().filter(resource_link::Column::ContextId.eq(context_id));
    if let Some(module) = module {
        query = query.filter(resource_link::Column::ModuleSlug.eq(module));
    }
    Ok(query
        .order_by_asc(resource_link::Column::Id)
        .one(db)
        .await?
        .map(|link| link.lti_resource_link_id))
}

/// Sets a deployment's grade mode. `false` when there is no such deployment.
pub async fn set_grade_mode(
    db: &impl ConnectionTrait,
    deployment_id: i64,
    mode: &str,
) -> Result<bool, DbErr> {
    Ok(deployment::Entity::update_many()
        .col_expr(deployment::Column::GradeMode, Expr::value(mode))
        .filter(deployment::Column::Id.eq(deployment_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
