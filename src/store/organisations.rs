//! Organisations: the municipalities and regions that own their people's records.
use entity::{deployment, organisation};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, sea_query::OnConflict,
};

/// The organisation with this name.
pub async fn find(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<organisation::Model>, DbErr> {
    organisation::Entity::find()
        .filter(organisation::Column::Name.eq(name))
        .one(db)
        .await
}

/// Every organisation, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<organisation::Model>, DbErr> {
    organisation::Entity::find()
        .order_by_asc(organisation::Column::Name)
        .all(db)
        .await
}

/// Makes sure an organisation of this name exists (deployments and grants name organisations).
pub async fn ensure(
    db: &impl ConnectionTrait,
    name: &str,
    now: i64,
) -> Result<organisation::Model, DbErr> {
    organisation::Entity::insert(organisation::ActiveModel {
        name: Set(name.to_owned()),
        retention_action: Set(RETENTION_ANONYMISE.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(organisation::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    find(db, name)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("organisation {name}")))
}

/// Retention: personal content removed, identity replaced, counts kept.
pub const RETENTION_ANONYMISE: &str = "anonymise";
/// Retention: everything of the person removed.
pub const RETENTION_DELETE: &str = "delete";

/// What an administrator may change about an organisation. `None` leaves a field as it is;
/// `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct OrganisationChange {
    /// The webhook URL and its secret.
    pub webhook: Option<Option<(String, String)>>,
    /// Months after a cohort closes, and the action.
    pub retention: Option<Option<(i32, String)>>,
}

/// Applies a change.
pub async fn change(
    db: &impl ConnectionTrait,
    row: organisation::Model,
    change: OrganisationChange,
) -> Result<organisation::Model, DbErr> {
    let mut active: organisation::ActiveModel = row.into();
    if let Some(webhook) = change.webhook {
        let (url, secret) = webhook.unzip();
        active.webhook_url = Set(url);
        active.webhook_secret = Set(secret);
    }
    if let Some(retention) = change.retention {
        match retention {
            Some((months, action)) => {
                active.retention_months = Set(Some(months));
                active.retention_action = Set(action);
            }
            None => active.retention_months = Set(None),
        }
    }
    active.update(db).await
}

/// The deployments of an organisation.
pub async fn deployments_of(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Vec<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .filter(deployment::Column::Organisation.eq(name))
        .all(db)
        .await
}
