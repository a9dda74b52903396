//! What instructors read and change: the participants of a context, its submissions, the review
//! transitions and their trail, and workshop occasions.
use std::collections::HashMap;

use entity::{lti_user, membership, submission, submission_event, workshop_occasion};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr, sea_query::OnConflict,
};

/// Everyone in a context with the participant role, with their person row, by name then id.
pub async fn participants(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Vec<(membership::Model, lti_user::Model)>, DbErr> {
    let members = membership::Entity::find()
        .filter(membership::Column::ContextId.eq(context_id))
        .filter(membership::Column::Role.eq("participant"))
        .all(db)
        .await?;
    let users: HashMap<i64, lti_user::Model> = lti_user::Entity::find()
        .filter(lti_user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut rows: Vec<_> = members
        .into_iter()
        .filter_map(|m| users.get(&m.user_id).cloned().map(|u| (m, u)))
        .collect();
    rows.sort_by_key(|(_, person)| (person.name.clone(), person.id));
    Ok(rows)
}

/// Every submission of a context.
pub async fn submissions(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Vec<submission::Model>, DbErr> {
    submission::Entity::find()
        .filter(submission::Column::ContextId.eq(context_id))
        .all(db)
        .await
}

/// One submission, only when it belongs to the context.
pub async fn submission_in_context(
    db: &impl ConnectionTrait,
    context_id: i64,
    id: i64,
) -> Result<Option<submission::Model>, DbErr> {
    submission::Entity::find_by_id(id)
        .filter(submission::Column::ContextId.eq(context_id))
        .one(db)
        .await
}

/// The trail of a submission, oldest first.
pub async fn events(
    db: &impl ConnectionTrait,
    submission_id: i64,
) -> Result<Vec<submission_event::Model>, DbErr> {
    submission_event::Entity::find()
        .filter(submission_event::Column::SubmissionId.eq(submission_id))
        .order_by_asc(submission_event::Column::Id)
        .all(db)
        .await
}

/// Records a status change.
pub async fn record_event(
    db: &impl ConnectionTrait,
    submission_id: i64,
    actor_id: i64,
    from: &str,
    to: &str,
    feedback: Option<String>,
    at: i64,
) -> Result<(), DbErr> {
    submission_event::Entity::insert(submission_event::ActiveModel {
        submission_id: Set(submission_id),
        actor_id: Set(actor_id),
        from_status: Set(from.to_owned()),
        to_status: Set(to.to_owned()),
        feedback: Set(feedback),
        at: Set(at),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// A review decision.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    /// Context row id (the submission must belong to it).
    pub context_id: i64,
    /// Submission row id.
    pub submission_id: i64,
    /// The version the instructor read.
    pub version: i64,
    /// `returned` or `approved`.
    pub to_status: &'a str,
    /// Feedback for the participant.
    pub feedback: Option<String>,
    /// The instructor.
    pub actor_id: i64,
    /// Now.
    pub now: i64,
}

/// Moves a submitted answer to `returned` or `approved`, with its trail entry. Run it inside a
/// transaction. `None` when the answer is not (or no longer) submitted at the version the
/// instructor read; then nothing was written.
pub async fn decide(
    txn: &impl ConnectionTrait,
    decision: Decision<'_>,
) -> Result<Option<submission::Model>, DbErr> {
    let update = submission::Entity::update_many()
        .col_expr(submission::Column::Status, Expr::value(decision.to_status))
        .col_expr(
            submission::Column::Version,
            Expr::value(decision.version + 1),
        )
        .col_expr(submission::Column::UpdatedAt, Expr::value(decision.now))
        // The feedback shown is the latest decision's, or none: an approval without words does
        // not leave the return's feedback standing beside "approved" (the events keep it).
        .col_expr(
            submission::Column::Feedback,
            Expr::value(decision.feedback.clone()),
        );
    let mut updated = update
        .filter(submission::Column::Id.eq(decision.submission_id))
        .filter(submission::Column::ContextId.eq(decision.context_id))
        .filter(submission::Column::Version.eq(decision.version))
        .filter(submission::Column::Status.eq("submitted"))
        .exec_with_returning(txn)
        .await?;
    let Some(row) = updated.pop() else {
        return Ok(None);
    };
    record_event(
        txn,
        row.id,
        decision.actor_id,
        "submitted",
        decision.to_status,
        decision.feedback,
        decision.now,
    )
    .await?;
    Ok(Some(row))
}

/// Names of people by row id.
pub async fn people(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<HashMap<i64, lti_user::Model>, DbErr> {
    Ok(lti_user::Entity::find()
        .filter(lti_user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// The workshop occasions of a context, by module slug: its own, and for a context in a run the
/// run's, which win for the modules the run's course leaders set.
pub async fn occasions(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<HashMap<String, workshop_occasion::Model>, DbErr> {
    let mut found: HashMap<String, workshop_occasion::Model> = workshop_occasion::Entity::find()
        .filter(workshop_occasion::Column::ContextId.eq(context_id))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.module_slug.clone(), o))
        .collect();
    if let Some(run) = super::cohorts::of_context(db, context_id).await? {
        for o in run_occasions(db, run).await? {
            found.insert(
                o.module_slug.clone(),
                workshop_occasion::Model {
                    id: 0,
                    context_id,
                    module_slug: o.module_slug,
                    starts_at: o.starts_at,
                    place: o.place,
                    updated_at: o.updated_at,
                },
            );
        }
    }
    Ok(found)
}

/// The contexts with a workshop starting in `[from, until]` (Unix seconds): by their own occasion,
/// or by their run's. A context's own occasion may be overridden by its run's; the caller reads
/// the effective ones with [`occasions`].
pub async fn contexts_with_workshops_between(
    db: &impl ConnectionTrait,
    from: i64,
    until: i64,
) -> Result<Vec<i64>, DbErr> {
    let mut found: Vec<i64> = workshop_occasion::Entity::find()
        .select_only()
        .column(workshop_occasion::Column::ContextId)
        .filter(workshop_occasion::Column::StartsAt.between(from, until))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    let runs = sea_orm::sea_query::Query::select()
        .column(entity::cohort_occasion::Column::CohortId)
        .from(entity::cohort_occasion::Entity)
        .and_where(entity::cohort_occasion::Column::StartsAt.between(from, until))
        .to_owned();
    found.extend(
        entity::context::Entity::find()
            .select_only()
            .column(entity::context::Column::Id)
            .filter(entity::context::Column::CohortId.in_subquery(runs))
            .into_tuple::<i64>()
            .all(db)
            .await?,
    );
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// The workshop occasions a run's course leaders set.
pub async fn run_occasions(
    db: &impl ConnectionTrait,
    cohort_id: i64,
) -> Result<Vec<entity::cohort_occasion::Model>, DbErr> {
    entity::cohort_occasion::Entity::find()
        .filter(entity::cohort_occasion::Column::CohortId.eq(cohort_id))
        .all(db)
        .await
}

/// Sets (or replaces) the workshop occasion of a module for a whole run.
pub async fn set_run_occasion(
    db: &impl ConnectionTrait,
    cohort_id: i64,
    module_slug: &str,
    starts_at: i64,
    place: &str,
    now: i64,
) -> Result<(), DbErr> {
    use entity::cohort_occasion;
    cohort_occasion::Entity::insert(cohort_occasion::ActiveModel {
        cohort_id: Set(cohort_id),
        module_slug: Set(module_slug.to_owned()),
        starts_at: Set(starts_at),
        place: Set(place.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            cohort_occasion::Column::CohortId,
            cohort_occasion::Column::ModuleSlug,
        ])
        .update_columns([
            cohort_occasion::Column::StartsAt,
            cohort_occasion::Column::Place,
            cohort_occasion::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Sets (or replaces) the workshop occasion of a module.
pub async fn set_occasion(
    db: &impl ConnectionTrait,
    context_id: i64,
    module_slug: &str,
    starts_at: i64,
    place: &str,
    now: i64,
) -> Result<(), DbErr> {
    workshop_occasion::Entity::insert(workshop_occasion::ActiveModel {
        context_id: Set(context_id),
        module_slug: Set(module_slug.to_owned()),
        starts_at: Set(starts_at),
        place: Set(place.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            workshop_occasion::Column::ContextId,
            workshop_occasion::Column::ModuleSlug,
        ])
        .update_columns([
            workshop_occasion::Column::StartsAt,
            workshop_occasion::Column::Place,
            workshop_occasion::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
