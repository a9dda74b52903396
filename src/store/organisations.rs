//! Organisations: the municipalities and regions that own their people's records.
use entity::{deployment, organisation, person_organisation};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, OnConflict},
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

/// Where a person's organisation came from: an administrator's or contact person's placement.
pub const SOURCE_PLACEMENT: &str = "placement";
/// … the LMS's custom parameter at the latest launch.
pub const SOURCE_LMS: &str = "lms";
/// … the person's own choice among the cohort's organisations.
pub const SOURCE_CHOICE: &str = "choice";

/// The organisation recorded for each of these people (absent: their deployment's).
pub async fn of_people(
    db: &impl ConnectionTrait,
    user_ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, person_organisation::Model>, DbErr> {
    Ok(person_organisation::Entity::find()
        .filter(person_organisation::Column::UserId.is_in(user_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.user_id, row))
        .collect())
}

/// The organisation recorded for a person.
pub async fn of_person(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<person_organisation::Model>, DbErr> {
    // Every launch asks this (the person's municipality group): its SQL text is kept. A person
    // has at most one row (unique `user_id`).
    static OF_PERSON: super::prepared::KeptSql = super::prepared::KeptSql::new();
    let rows: Vec<person_organisation::Model> = OF_PERSON
        .all(
            db,
            |backend| {
                use sea_orm::QueryTrait;
                person_organisation::Entity::find()
                    .filter(person_organisation::Column::UserId.eq(user_id))
                    .build(backend)
            },
            vec![user_id.into()],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// Records a person's organisation from `source`. A placement replaces anything; the LMS's value
/// or a choice never replaces a placement (a correction by an administrator holds for good).
pub async fn set_for_person(
    db: &impl ConnectionTrait,
    user_id: i64,
    organisation: &str,
    source: &str,
    set_by: Option<&str>,
    now: i64,
) -> Result<(), DbErr> {
    let mut on_conflict = OnConflict::column(person_organisation::Column::UserId);
    on_conflict.update_columns([
        person_organisation::Column::Organisation,
        person_organisation::Column::Source,
        person_organisation::Column::SetBy,
        person_organisation::Column::UpdatedAt,
    ]);
    if source != SOURCE_PLACEMENT {
        on_conflict.action_and_where(
            Expr::col((
                person_organisation::Entity,
                person_organisation::Column::Source,
            ))
            .ne(SOURCE_PLACEMENT),
        );
    }
    person_organisation::Entity::insert(person_organisation::ActiveModel {
        user_id: Set(user_id),
        organisation: Set(organisation.to_owned()),
        source: Set(source.to_owned()),
        set_by: Set(set_by.map(str::to_owned)),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(on_conflict.to_owned())
    .exec_without_returning(db)
    .await
    .map(|_| ())
    .or_else(|err| match err {
        // The conflict's WHERE kept a placement: nothing was written, as meant.
        DbErr::RecordNotInserted => Ok(()),
        other => Err(other),
    })
}
