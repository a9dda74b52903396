//! Deployments: approved ones may launch; unseen ones are recorded as pending.
use entity::deployment;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use super::StoreError;

/// Status of a deployment allowed to launch.
pub const APPROVED: &str = "approved";
/// Status of a deployment seen in a launch and waiting for an administrator.
pub const PENDING: &str = "pending";
/// Status of a deployment an administrator has switched off (launches refused, data kept).
pub const DISABLED: &str = "disabled";

/// The deployment `lti_deployment_id` of a platform.
pub async fn find(
    db: &impl ConnectionTrait,
    platform_id: i64,
    lti_deployment_id: &str,
) -> Result<Option<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .filter(deployment::Column::PlatformId.eq(platform_id))
        .filter(deployment::Column::LtiDeploymentId.eq(lti_deployment_id))
        .one(db)
        .await
}

/// A deployment by row id.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<deployment::Model>, DbErr> {
    deployment::Entity::find_by_id(id).one(db).await
}

/// Adds an approved deployment; `Conflict` when it exists.
pub async fn add(
    db: &impl ConnectionTrait,
    platform_id: i64,
    lti_deployment_id: &str,
    organisation: Option<String>,
    default_locale: Option<String>,
    now: i64,
) -> Result<deployment::Model, StoreError> {
    deployment::Entity::insert(deployment::ActiveModel {
        platform_id: Set(platform_id),
        lti_deployment_id: Set(lti_deployment_id.to_owned()),
        organisation: Set(organisation),
        status: Set(APPROVED.into()),
        created_at: Set(now),
        approved_at: Set(Some(now)),
        default_locale: Set(default_locale),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|err| StoreError::from_insert(err, format!("deployment {lti_deployment_id}")))
}

/// Records a deployment seen for the first time in a launch (pending, or approved when the
/// registration approves automatically) and returns the row as it now is. Safe under concurrent
/// first launches: the unique key decides, the loser reads the winner's row.
pub async fn record_seen(
    db: &impl ConnectionTrait,
    platform_id: i64,
    lti_deployment_id: &str,
    auto_approve: bool,
    organisation: Option<String>,
    now: i64,
) -> Result<deployment::Model, DbErr> {
    let status = if auto_approve { APPROVED } else { PENDING };
    deployment::Entity::insert(deployment::ActiveModel {
        platform_id: Set(platform_id),
        lti_deployment_id: Set(lti_deployment_id.to_owned()),
        organisation: Set(organisation),
        status: Set(status.into()),
        created_at: Set(now),
        approved_at: Set(auto_approve.then_some(now)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            deployment::Column::PlatformId,
            deployment::Column::LtiDeploymentId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    find(db, platform_id, lti_deployment_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("deployment {lti_deployment_id}")))
}

/// Approves a deployment; `None` when there is no such deployment.
pub async fn approve(
    db: &impl ConnectionTrait,
    platform_id: i64,
    lti_deployment_id: &str,
    now: i64,
) -> Result<Option<deployment::Model>, DbErr> {
    let Some(existing) = find(db, platform_id, lti_deployment_id).await? else {
        return Ok(None);
    };
    if existing.status == APPROVED {
        return Ok(Some(existing));
    }
    let updated = deployment::Entity::update(deployment::ActiveModel {
        id: Set(existing.id),
        status: Set(APPROVED.into()),
        approved_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(Some(updated))
}

/// All deployments, by platform then age.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .order_by_asc(deployment::Column::PlatformId)
        .order_by_asc(deployment::Column::Id)
        .all(db)
        .await
}

/// A deployment by row id, with a new status (and organisation, when given).
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: i64,
    status: &str,
    organisation: Option<&str>,
    now: i64,
) -> Result<Option<deployment::Model>, DbErr> {
    let Some(existing) = get(db, id).await? else {
        return Ok(None);
    };
    let mut change = deployment::ActiveModel {
        id: Set(existing.id),
        status: Set(status.to_owned()),
        ..Default::default()
    };
    if status == APPROVED && existing.approved_at.is_none() {
        change.approved_at = Set(Some(now));
    }
    if let Some(organisation) = organisation {
        change.organisation = Set(Some(organisation.to_owned()));
    }
    deployment::Entity::update(change).exec(db).await.map(Some)
}
