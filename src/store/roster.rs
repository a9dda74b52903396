//! The roster of a context as the platform's membership service lists it.
use entity::{context, lti_user, membership};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

/// A context row, when it belongs to the deployment.
pub async fn context(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Option<context::Model>, DbErr> {
    context::Entity::find_by_id(context_id).one(db).await
}

/// One listed member.
#[derive(Debug, Clone)]
pub struct ListedMember<'a> {
    /// Registration row id.
    pub platform_id: i64,
    /// Context row id.
    pub context_id: i64,
    /// `sub`.
    pub sub: &'a str,
    /// Names, when shared.
    pub name: Option<&'a str>,
    /// Given name.
    pub given_name: Option<&'a str>,
    /// Family name.
    pub family_name: Option<&'a str>,
    /// Roles, space separated.
    pub lti_roles: String,
    /// The tool role.
    pub role: &'static str,
    /// Now.
    pub now: i64,
}

/// Records a listed member: the person (names only filled in, never erased) and the membership.
pub async fn record_member(
    db: &impl ConnectionTrait,
    member: ListedMember<'_>,
) -> Result<(), DbErr> {
    let mut names = Vec::new();
    if member.name.is_some() {
        names.push(lti_user::Column::Name);
    }
    if member.given_name.is_some() {
        names.push(lti_user::Column::GivenName);
    }
    if member.family_name.is_some() {
        names.push(lti_user::Column::FamilyName);
    }
    let mut conflict = OnConflict::columns([lti_user::Column::PlatformId, lti_user::Column::Sub]);
    if names.is_empty() {
        // Nothing to update: keep the row as launches left it.
        conflict.update_column(lti_user::Column::PlatformId);
    } else {
        conflict.update_columns(names);
    }
    let user = lti_user::Entity::insert(lti_user::ActiveModel {
        platform_id: Set(member.platform_id),
        sub: Set(member.sub.to_owned()),
        name: Set(member.name.map(str::to_owned)),
        given_name: Set(member.given_name.map(str::to_owned)),
        family_name: Set(member.family_name.map(str::to_owned)),
        email: Set(None),
        created_at: Set(member.now),
        updated_at: Set(member.now),
        ..Default::default()
    })
    .on_conflict(conflict.to_owned())
    .exec_with_returning(db)
    .await?;
    membership::Entity::insert(membership::ActiveModel {
        context_id: Set(member.context_id),
        user_id: Set(user.id),
        lti_roles: Set(member.lti_roles),
        role: Set(member.role.to_owned()),
        updated_at: Set(member.now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([membership::Column::ContextId, membership::Column::UserId])
            .update_columns([membership::Column::LtiRoles, membership::Column::Role])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Notes when the roster was read.
pub async fn mark_synced(
    db: &impl ConnectionTrait,
    context_id: i64,
    now: i64,
) -> Result<(), DbErr> {
    context::Entity::update_many()
        .col_expr(context::Column::RosterSyncedAt, Expr::value(now))
        .filter(context::Column::Id.eq(context_id))
        .exec(db)
        .await
        .map(|_| ())
}
