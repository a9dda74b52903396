//! LMS courses (contexts) as administrators list them: each a cohort of its own unless linked to one.
use std::collections::HashMap;

use entity::{context, context_course, deployment, membership};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// A cohort with its deployment, participant count and pinned course version.
#[derive(Debug, Clone)]
pub struct LmsCourseSummary {
    /// The LMS course.
    pub context: context::Model,
    /// Its deployment.
    pub deployment: deployment::Model,
    /// People taking part (not instructors).
    pub participants: i64,
    /// The course version row it runs, once pinned.
    pub course_version_id: Option<i64>,
}

/// Every cohort (of one organisation when given), newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    organisation: Option<&str>,
) -> Result<Vec<LmsCourseSummary>, DbErr> {
    let mut deployments = deployment::Entity::find();
    if let Some(organisation) = organisation {
        deployments = deployments.filter(deployment::Column::Organisation.eq(organisation));
    }
    let deployments: HashMap<i64, deployment::Model> = deployments
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let contexts = context::Entity::find()
        .filter(context::Column::DeploymentId.is_in(deployments.keys().copied()))
        .order_by_desc(context::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = contexts.iter().map(|c| c.id).collect();
    let counts: HashMap<i64, i64> = membership::Entity::find()
        .select_only()
        .column(membership::Column::ContextId)
        .column_as(membership::Column::Id.count(), "n")
        .filter(membership::Column::ContextId.is_in(ids.clone()))
        .filter(membership::Column::Role.eq("participant"))
        .group_by(membership::Column::ContextId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let pins: HashMap<i64, i64> = context_course::Entity::find()
        .filter(context_course::Column::ContextId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.context_id, p.course_version_id))
        .collect();
    Ok(contexts
        .into_iter()
        .filter_map(|context| {
            let deployment = deployments.get(&context.deployment_id)?.clone();
            Some(LmsCourseSummary {
                participants: counts.get(&context.id).copied().unwrap_or(0),
                course_version_id: pins.get(&context.id).copied(),
                context,
                deployment,
            })
        })
        .collect())
}
