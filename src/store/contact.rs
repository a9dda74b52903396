//! Contact persons and what they may read: their organisation's LMS courses.
use entity::{contact_person, context, deployment, lti_user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::StoreError;

/// Grants a person the contact role for an organisation.
pub async fn grant(
    db: &impl ConnectionTrait,
    platform_id: i64,
    sub: &str,
    organisation: &str,
    now: i64,
) -> Result<contact_person::Model, StoreError> {
    contact_person::Entity::insert(contact_person::ActiveModel {
        platform_id: Set(platform_id),
        sub: Set(sub.to_owned()),
        organisation: Set(organisation.to_owned()),
        granted_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|err| StoreError::from_insert(err, format!("contact person {sub} for {organisation}")))
}

/// The organisations a person (by `lti_user` row id) is contact person for.
pub async fn organisations_of(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<String>, DbErr> {
    let Some(user) = lti_user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(Vec::new());
    };
    Ok(contact_person::Entity::find()
        .filter(contact_person::Column::PlatformId.eq(user.platform_id))
        .filter(contact_person::Column::Sub.eq(user.sub))
        .order_by_asc(contact_person::Column::Organisation)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.organisation)
        .collect())
}

/// The LMS courses an organisation's people take part in: contexts of deployments that name it,
/// and those where a member belongs to it of their own (a regional course).
pub async fn contexts_with_people_of(
    db: &impl ConnectionTrait,
    organisation: &str,
) -> Result<Vec<context::Model>, DbErr> {
    use entity::{membership, person_organisation};
    use sea_orm::{QuerySelect, sea_query::Query};
    let own = contexts_of(db, organisation).await?;
    let members = Query::select()
        .column(person_organisation::Column::UserId)
        .from(person_organisation::Entity)
        .and_where(person_organisation::Column::Organisation.eq(organisation))
        .to_owned();
    let elsewhere: Vec<i64> = membership::Entity::find()
        .select_only()
        .column(membership::Column::ContextId)
        .distinct()
        .filter(membership::Column::UserId.in_subquery(members))
        .into_tuple()
        .all(db)
        .await?;
    let mut contexts = own;
    let known: Vec<i64> = contexts.iter().map(|c| c.id).collect();
    let more: Vec<i64> = elsewhere
        .into_iter()
        .filter(|id| !known.contains(id))
        .collect();
    if !more.is_empty() {
        contexts.extend(
            context::Entity::find()
                .filter(context::Column::Id.is_in(more))
                .all(db)
                .await?,
        );
        contexts.sort_by_key(|c| c.id);
    }
    Ok(contexts)
}

/// The LMS courses of an organisation: contexts of deployments that name it.
pub async fn contexts_of(
    db: &impl ConnectionTrait,
    organisation: &str,
) -> Result<Vec<context::Model>, DbErr> {
    let deployments: Vec<i64> = deployment::Entity::find()
        .filter(deployment::Column::Organisation.eq(organisation))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    context::Entity::find()
        .filter(context::Column::DeploymentId.is_in(deployments))
        .order_by_asc(context::Column::Id)
        .all(db)
        .await
}

/// The contact persons of an organisation: (`sub`, name when known).
pub async fn of_organisation(
    db: &impl ConnectionTrait,
    organisation: &str,
) -> Result<Vec<(String, Option<String>)>, DbErr> {
    let grants = contact_person::Entity::find()
        .filter(contact_person::Column::Organisation.eq(organisation))
        .all(db)
        .await?;
    let mut people = Vec::new();
    for grant in grants {
        let name = lti_user::Entity::find()
            .filter(lti_user::Column::PlatformId.eq(grant.platform_id))
            .filter(lti_user::Column::Sub.eq(grant.sub.as_str()))
            .one(db)
            .await?
            .and_then(|u| u.name);
        people.push((grant.sub, name));
    }
    Ok(people)
}

/// The organisations a person (by registration and `sub`) is contact person for.
pub async fn organisations_of_sub(
    db: &impl ConnectionTrait,
    platform_id: i64,
    sub: &str,
) -> Result<Vec<String>, DbErr> {
    Ok(contact_person::Entity::find()
        .filter(contact_person::Column::PlatformId.eq(platform_id))
        .filter(contact_person::Column::Sub.eq(sub))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.organisation)
        .collect())
}
