//! Cohorts (course runs), their organisations and course leaders, and which LMS courses are
//! linked to them.
use std::collections::HashMap;

use entity::{
    cohort, cohort_leader, cohort_link, cohort_organisation, context, deployment, lti_user,
    membership,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr, sea_query::OnConflict,
};

use super::StoreError;

/// What a new cohort says.
#[derive(Debug, Clone)]
pub struct NewCohort {
    pub name: String,
    pub code: String,
    pub course_version_id: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub created_by: String,
}

/// Stores a cohort; a conflict when the code is taken.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewCohort,
    now: i64,
) -> Result<cohort::Model, StoreError> {
    let code = new.code.clone();
    cohort::Entity::insert(cohort::ActiveModel {
        name: Set(new.name),
        code: Set(new.code),
        course_version_id: Set(new.course_version_id),
        starts_on: Set(new.starts_on),
        ends_on: Set(new.ends_on),
        created_by: Set(new.created_by),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|err| StoreError::from_insert(err, format!("cohort code {code}")))
}

/// The cohort with this id.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<cohort::Model>, DbErr> {
    cohort::Entity::find_by_id(id).one(db).await
}

/// The cohort with this code (as typed: case and separators do not matter).
pub async fn by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<cohort::Model>, DbErr> {
    cohort::Entity::find()
        .filter(cohort::Column::Code.eq(code))
        .one(db)
        .await
}

/// Every cohort, newest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<cohort::Model>, DbErr> {
    cohort::Entity::find()
        .order_by_desc(cohort::Column::Id)
        .all(db)
        .await
}

/// Adds an organisation to a cohort (nothing when it takes part already).
pub async fn add_organisation(
    db: &impl ConnectionTrait,
    cohort_id: i64,
    organisation: &str,
) -> Result<(), DbErr> {
    cohort_organisation::Entity::insert(cohort_organisation::ActiveModel {
        cohort_id: Set(cohort_id),
        organisation: Set(organisation.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            cohort_organisation::Column::CohortId,
            cohort_organisation::Column::Organisation,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The organisations taking part in a cohort, by name.
pub async fn organisations(
    db: &impl ConnectionTrait,
    cohort_id: i64,
) -> Result<Vec<String>, DbErr> {
    cohort_organisation::Entity::find()
        .select_only()
        .column(cohort_organisation::Column::Organisation)
        .filter(cohort_organisation::Column::CohortId.eq(cohort_id))
        .order_by_asc(cohort_organisation::Column::Organisation)
        .into_tuple::<String>()
        .all(db)
        .await
}

/// Makes a person a course leader of a cohort (nothing when they are one already).
pub async fn add_leader(
    db: &impl ConnectionTrait,
    cohort_id: i64,
    user_id: i64,
    added_by: &str,
    now: i64,
) -> Result<(), DbErr> {
    cohort_leader::Entity::insert(cohort_leader::ActiveModel {
        cohort_id: Set(cohort_id),
        user_id: Set(user_id),
        added_by: Set(added_by.to_owned()),
        added_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            cohort_leader::Column::CohortId,
            cohort_leader::Column::UserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The course leaders of a cohort, in name order.
pub async fn leaders(
    db: &impl ConnectionTrait,
    cohort_id: i64,
) -> Result<Vec<lti_user::Model>, DbErr> {
    let ids: Vec<i64> = cohort_leader::Entity::find()
        .select_only()
        .column(cohort_leader::Column::UserId)
        .filter(cohort_leader::Column::CohortId.eq(cohort_id))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    lti_user::Entity::find()
        .filter(lti_user::Column::Id.is_in(ids))
        .order_by_asc(lti_user::Column::Name)
        .all(db)
        .await
}

/// Whether a person is a course leader of a cohort.
pub async fn is_leader(
    db: &impl ConnectionTrait,
    cohort_id: i64,
    user_id: i64,
) -> Result<bool, DbErr> {
    Ok(cohort_leader::Entity::find()
        .filter(cohort_leader::Column::CohortId.eq(cohort_id))
        .filter(cohort_leader::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

/// Links an LMS course to a cohort. False when it is linked to another cohort already: a course
/// with answers in one run does not move to another by a code typed later.
pub async fn link_context(
    db: &impl ConnectionTrait,
    context_id: i64,
    cohort_id: i64,
) -> Result<bool, DbErr> {
    let result = context::Entity::update_many()
        .col_expr(context::Column::CohortId, Expr::value(cohort_id))
        .filter(context::Column::Id.eq(context_id))
        .filter(
            Condition::any()
                .add(context::Column::CohortId.is_null())
                .add(context::Column::CohortId.eq(cohort_id)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The cohort an LMS course is linked to.
pub async fn of_context(db: &impl ConnectionTrait, context_id: i64) -> Result<Option<i64>, DbErr> {
    Ok(context::Entity::find_by_id(context_id)
        .select_only()
        .column(context::Column::CohortId)
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten())
}

/// The LMS courses linked to a cohort, oldest first.
pub async fn contexts(
    db: &impl ConnectionTrait,
    cohort_id: i64,
) -> Result<Vec<context::Model>, DbErr> {
    context::Entity::find()
        .filter(context::Column::CohortId.eq(cohort_id))
        .order_by_asc(context::Column::Id)
        .all(db)
        .await
}

/// How many participants each cohort has (across its LMS courses).
pub async fn participant_counts(db: &impl ConnectionTrait) -> Result<HashMap<i64, i64>, DbErr> {
    let linked: HashMap<i64, i64> = context::Entity::find()
        .select_only()
        .column(context::Column::Id)
        .column(context::Column::CohortId)
        .filter(context::Column::CohortId.is_not_null())
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(context, cohort)| cohort.map(|c| (context, c)))
        .collect();
    let per_context: Vec<(i64, i64)> = membership::Entity::find()
        .select_only()
        .column(membership::Column::ContextId)
        .column_as(membership::Column::Id.count(), "n")
        .filter(membership::Column::ContextId.is_in(linked.keys().copied()))
        .filter(membership::Column::Role.eq("participant"))
        .group_by(membership::Column::ContextId)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = HashMap::new();
    for (context, n) in per_context {
        if let Some(cohort) = linked.get(&context) {
            *counts.entry(*cohort).or_insert(0) += n;
        }
    }
    Ok(counts)
}

/// Remembers that an LMS course (registration and LTI context id) belongs to a cohort, so that it
/// joins at its first launch. False when it is remembered for another cohort.
pub async fn remember_link(
    db: &impl ConnectionTrait,
    cohort_id: i64,
    platform_id: i64,
    lti_context_id: &str,
    linked_by: &str,
    now: i64,
) -> Result<bool, DbErr> {
    match linked_before_launch(db, platform_id, lti_context_id).await? {
        Some(cohort) => Ok(cohort == cohort_id),
        None => {
            cohort_link::Entity::insert(cohort_link::ActiveModel {
                cohort_id: Set(cohort_id),
                platform_id: Set(platform_id),
                lti_context_id: Set(lti_context_id.to_owned()),
                linked_by: Set(linked_by.to_owned()),
                linked_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(db)
            .await?;
            Ok(true)
        }
    }
}

/// The launched LMS courses of a registration with this LTI context id (one per deployment).
pub async fn launched_contexts(
    db: &impl ConnectionTrait,
    platform_id: i64,
    lti_context_id: &str,
) -> Result<Vec<context::Model>, DbErr> {
    let deployments: Vec<i64> = deployment::Entity::find()
        .select_only()
        .column(deployment::Column::Id)
        .filter(deployment::Column::PlatformId.eq(platform_id))
        .into_tuple()
        .all(db)
        .await?;
    context::Entity::find()
        .filter(context::Column::DeploymentId.is_in(deployments))
        .filter(context::Column::LtiContextId.eq(lti_context_id))
        .all(db)
        .await
}

/// The cohort an administrator linked this LMS course to before it was launched.
pub async fn linked_before_launch(
    db: &impl ConnectionTrait,
    platform_id: i64,
    lti_context_id: &str,
) -> Result<Option<i64>, DbErr> {
    Ok(cohort_link::Entity::find()
        .filter(cohort_link::Column::PlatformId.eq(platform_id))
        .filter(cohort_link::Column::LtiContextId.eq(lti_context_id))
        .one(db)
        .await?
        .map(|link| link.cohort_id))
}

/// The course version of the cohort an LMS course is linked to.
pub async fn course_version_of(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Option<i64>, DbErr> {
    let Some(cohort) = of_context(db, context_id).await? else {
        return Ok(None);
    };
    Ok(get(db, cohort).await?.map(|c| c.course_version_id))
}

/// An LMS course by row id.
pub async fn context(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Option<context::Model>, DbErr> {
    context::Entity::find_by_id(context_id).one(db).await
}

/// Whether a person leads any cohort.
pub async fn leads_any(db: &impl ConnectionTrait, user_id: i64) -> Result<bool, DbErr> {
    Ok(!led_by(db, user_id).await?.is_empty())
}

/// The cohorts a person leads, newest first.
pub async fn led_by(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<cohort::Model>, DbErr> {
    let ids: Vec<i64> = cohort_leader::Entity::find()
        .select_only()
        .column(cohort_leader::Column::CohortId)
        .filter(cohort_leader::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    cohort::Entity::find()
        .filter(cohort::Column::Id.is_in(ids))
        .order_by_desc(cohort::Column::Id)
        .all(db)
        .await
}
