//! Completion records and the change sequence that orders them. The sequence is a counter row
//! incremented inside the writer's transaction: its row lock makes concurrent writers take numbers
//! in commit order (SQLite has one writer anyway), so a reader that has seen number N has seen
//! every record with a smaller number, and a cursor over the sequence never skips a change.
use entity::{change_counter, completion_record, context, deployment, lti_user, platform};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

const COMPLETION_COUNTER: &str = "completion";

/// An LMS course as a cohort: the context and its deployment.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// The LMS course.
    pub context: context::Model,
    /// The deployment it was launched through (organisation, grade mode).
    pub deployment: deployment::Model,
}

/// The context and its deployment.
pub async fn cohort(db: &impl ConnectionTrait, context_id: i64) -> Result<Option<Cohort>, DbErr> {
    let Some(context) = context::Entity::find_by_id(context_id).one(db).await? else {
        return Ok(None);
    };
    Ok(deployment::Entity::find_by_id(context.deployment_id)
        .one(db)
        .await?
        .map(|deployment| Cohort {
            context,
            deployment,
        }))
}

/// The record of a person in a context.
pub async fn get(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
) -> Result<Option<completion_record::Model>, DbErr> {
    completion_record::Entity::find()
        .filter(completion_record::Column::ContextId.eq(context_id))
        .filter(completion_record::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// Takes the next change number. Call it last in the transaction: it holds the counter's row lock
/// until commit.
pub async fn next_sequence(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let updated = change_counter::Entity::update_many()
        .col_expr(
            change_counter::Column::Value,
            Expr::col(change_counter::Column::Value).add(1),
        )
        .filter(change_counter::Column::Name.eq(COMPLETION_COUNTER))
        .exec_with_returning(db)
        .await?;
    updated
        .first()
        .map(|row| row.value)
        .ok_or_else(|| DbErr::RecordNotFound("the completion change counter".into()))
}

/// What a record says now.
pub struct RecordChange<'a> {
    /// Context row id.
    pub context_id: i64,
    /// Person row id.
    pub user_id: i64,
    /// The person's organisation.
    pub organisation: Option<&'a str>,
    /// The record JSON.
    pub record: &'a str,
    /// When.
    pub now_ms: i64,
}

/// Writes a record under a new change number, returning the number.
pub async fn store(db: &impl ConnectionTrait, change: RecordChange<'_>) -> Result<i64, DbErr> {
    let sequence = next_sequence(db).await?;
    completion_record::Entity::insert(completion_record::ActiveModel {
        context_id: Set(change.context_id),
        user_id: Set(change.user_id),
        organisation: Set(change.organisation.map(str::to_owned)),
        sequence: Set(sequence),
        updated_at_ms: Set(change.now_ms),
        record: Set(change.record.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            completion_record::Column::ContextId,
            completion_record::Column::UserId,
        ])
        .update_columns([
            completion_record::Column::Organisation,
            completion_record::Column::Sequence,
            completion_record::Column::UpdatedAtMs,
            completion_record::Column::Record,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(sequence)
}

/// Moves a person's records to another organisation, each under a new change number, so that sync
/// clients that read by change number see the move. Returns how many moved.
pub async fn move_person(
    db: &impl ConnectionTrait,
    user_id: i64,
    organisation: &str,
    now_ms: i64,
) -> Result<usize, DbErr> {
    let records = completion_record::Entity::find()
        .filter(completion_record::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let mut moved = 0;
    for record in records {
        if record.organisation.as_deref() == Some(organisation) {
            continue;
        }
        store(
            db,
            RecordChange {
                context_id: record.context_id,
                user_id,
                organisation: Some(organisation),
                record: &record.record,
                now_ms,
            },
        )
        .await?;
        moved += 1;
    }
    Ok(moved)
}

/// Which records a reader may see and wants.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Only this organisation's (a token limited to one).
    pub organisation: Option<String>,
    /// Only this cohort's.
    pub context_id: Option<i64>,
    /// Only records changed at or after this (Unix ms).
    pub updated_since_ms: Option<i64>,
    /// Only records after this change number (the cursor).
    pub after_sequence: i64,
}

/// A record with everything needed to show it.
#[derive(Debug, Clone)]
pub struct RecordRow {
    /// The record.
    pub record: completion_record::Model,
    /// The person.
    pub user: lti_user::Model,
    /// The cohort.
    pub cohort: Cohort,
    /// The platform.
    pub platform: platform::Model,
    /// The cohort (course run) the LMS course is linked to.
    pub course_run: Option<entity::cohort::Model>,
}

/// Up to `limit` records in change order.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &RecordFilter,
    limit: u64,
) -> Result<Vec<completion_record::Model>, DbErr> {
    let mut query = completion_record::Entity::find()
        .filter(completion_record::Column::Sequence.gt(filter.after_sequence));
    if let Some(organisation) = &filter.organisation {
        query = query.filter(completion_record::Column::Organisation.eq(organisation.as_str()));
    }
    if let Some(context_id) = filter.context_id {
        query = query.filter(completion_record::Column::ContextId.eq(context_id));
    }
    if let Some(since) = filter.updated_since_ms {
        query = query.filter(completion_record::Column::UpdatedAtMs.gte(since));
    }
    query
        .order_by_asc(completion_record::Column::Sequence)
        .limit(limit)
        .all(db)
        .await
}

/// The people, cohorts and platforms of `records`, joined in memory (a page is small).
pub async fn with_context(
    db: &impl ConnectionTrait,
    records: Vec<completion_record::Model>,
) -> Result<Vec<RecordRow>, DbErr> {
    use std::collections::HashMap;
    let users: HashMap<i64, lti_user::Model> = lti_user::Entity::find()
        .filter(lti_user::Column::Id.is_in(records.iter().map(|r| r.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let contexts: HashMap<i64, context::Model> = context::Entity::find()
        .filter(context::Column::Id.is_in(records.iter().map(|r| r.context_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let deployments: HashMap<i64, deployment::Model> = deployment::Entity::find()
        .filter(deployment::Column::Id.is_in(contexts.values().map(|c| c.deployment_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let platforms: HashMap<i64, platform::Model> = platform::Entity::find()
        .filter(platform::Column::Id.is_in(deployments.values().map(|d| d.platform_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let runs: HashMap<i64, entity::cohort::Model> = entity::cohort::Entity::find()
        .filter(entity::cohort::Column::Id.is_in(contexts.values().filter_map(|c| c.cohort_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok(records
        .into_iter()
        .filter_map(|record| {
            let user = users.get(&record.user_id)?.clone();
            let context = contexts.get(&record.context_id)?.clone();
            let deployment = deployments.get(&context.deployment_id)?.clone();
            let platform = platforms.get(&deployment.platform_id)?.clone();
            let course_run = context.cohort_id.and_then(|id| runs.get(&id).cloned());
            Some(RecordRow {
                course_run,
                record,
                user,
                cohort: Cohort {
                    context,
                    deployment,
                },
                platform,
            })
        })
        .collect())
}

/// Score outbox facts per (context, person) of `records`: whether anything is still on its way or
/// was refused. `None` when the person has no scores at all.
pub async fn gradebook_states(
    db: &impl ConnectionTrait,
    records: &[RecordRow],
) -> Result<std::collections::HashMap<(i64, i64), GradebookState>, DbErr> {
    use entity::score_outbox;
    use std::collections::HashMap;
    let mut states: HashMap<(i64, i64), GradebookState> = HashMap::new();
    if records.is_empty() {
        return Ok(states);
    }
    let rows: Vec<(i64, i64, String)> = score_outbox::Entity::find()
        .select_only()
        .column(score_outbox::Column::ContextId)
        .column(score_outbox::Column::UserId)
        .column(score_outbox::Column::State)
        .filter(score_outbox::Column::UserId.is_in(records.iter().map(|r| r.record.user_id)))
        .filter(score_outbox::Column::ContextId.is_in(records.iter().map(|r| r.record.context_id)))
        .filter(score_outbox::Column::State.ne(super::grades::state::SUPERSEDED))
        .into_tuple()
        .all(db)
        .await?;
    for (context_id, user_id, state) in rows {
        let entry = states
            .entry((context_id, user_id))
            .or_insert(GradebookState::UpToDate);
        let this = match state.as_str() {
            super::grades::state::SENT => GradebookState::UpToDate,
            super::grades::state::NOT_GRADABLE => GradebookState::Refused,
            _ => GradebookState::OnItsWay,
        };
        if this > *entry {
            *entry = this;
        }
    }
    Ok(states)
}

/// Whether the LMS gradebook has a person's latest score. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GradebookState {
    /// Every score was accepted.
    UpToDate,
    /// A score waits in the outbox.
    OnItsWay,
    /// The platform refused a score.
    Refused,
}

/// Deletes the records of a person (erasure).
pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, DbErr> {
    Ok(completion_record::Entity::delete_many()
        .filter(completion_record::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
