//! Administrators' grants, API tokens (hashes only) and the audit log.
use entity::{admin_grant, api_token, audit_log};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};

/// Grants a role (idempotent).
pub async fn grant(
    db: &impl ConnectionTrait,
    platform_id: i64,
    sub: &str,
    role: &str,
    organisation: &str,
    granted_by: &str,
    now: i64,
) -> Result<(), DbErr> {
    admin_grant::Entity::insert(admin_grant::ActiveModel {
        platform_id: Set(platform_id),
        sub: Set(sub.to_owned()),
        role: Set(role.to_owned()),
        organisation: Set(organisation.to_owned()),
        granted_at: Set(now),
        granted_by: Set(granted_by.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            admin_grant::Column::PlatformId,
            admin_grant::Column::Sub,
            admin_grant::Column::Role,
            admin_grant::Column::Organisation,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Takes a grant back; returns whether there was one.
pub async fn revoke_grant(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(admin_grant::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// The grants of a person.
pub async fn grants_of(
    db: &impl ConnectionTrait,
    platform_id: i64,
    sub: &str,
) -> Result<Vec<admin_grant::Model>, DbErr> {
    admin_grant::Entity::find()
        .filter(admin_grant::Column::PlatformId.eq(platform_id))
        .filter(admin_grant::Column::Sub.eq(sub))
        .all(db)
        .await
}

/// Every grant (of one organisation when given).
pub async fn grants(
    db: &impl ConnectionTrait,
    organisation: Option<&str>,
) -> Result<Vec<admin_grant::Model>, DbErr> {
    let mut query = admin_grant::Entity::find();
    if let Some(organisation) = organisation {
        query = query.filter(admin_grant::Column::Organisation.eq(organisation));
    }
    query.order_by_asc(admin_grant::Column::Id).all(db).await
}

/// Removes the grants of a person (erasure).
pub async fn delete_grants_of(
    db: &impl ConnectionTrait,
    platform_id: i64,
    sub: &str,
) -> Result<u64, DbErr> {
    Ok(admin_grant::Entity::delete_many()
        .filter(admin_grant::Column::PlatformId.eq(platform_id))
        .filter(admin_grant::Column::Sub.eq(sub))
        .exec(db)
        .await?
        .rows_affected)
}

/// A new token's row.
pub struct NewToken<'a> {
    /// SHA-256 of the token, hex.
    pub token_hash: &'a str,
    /// The token's first characters.
    pub prefix: &'a str,
    /// What it is for.
    pub label: &'a str,
    /// `completions:read` or `admin`.
    pub scope: &'a str,
    /// The organisation it is limited to.
    pub organisation: Option<&'a str>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Stores a token's hash.
pub async fn insert_token(
    db: &impl ConnectionTrait,
    token: NewToken<'_>,
) -> Result<api_token::Model, DbErr> {
    let inserted = api_token::Entity::insert(api_token::ActiveModel {
        token_hash: Set(token.token_hash.to_owned()),
        prefix: Set(token.prefix.to_owned()),
        label: Set(token.label.to_owned()),
        scope: Set(token.scope.to_owned()),
        organisation: Set(token.organisation.map(str::to_owned)),
        created_at: Set(token.created_at),
        expires_at: Set(token.expires_at),
        ..Default::default()
    })
    .exec(db)
    .await?;
    api_token::Entity::find_by_id(inserted.last_insert_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the token just stored".into()))
}

/// The token with this hash.
pub async fn token_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
}

/// Notes a token's use, at most once a minute (a busy sync should not write on every call).
pub async fn touch_token(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<(), DbErr> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(api_token::Column::LastUsedAt.is_null())
                .add(api_token::Column::LastUsedAt.lt(now - 60)),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// Every token, newest first.
pub async fn tokens(db: &impl ConnectionTrait) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await
}

/// Revokes a token; returns whether one was live.
pub async fn revoke_token(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<bool, DbErr> {
    Ok(api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// One audit entry.
pub struct AuditEntry<'a> {
    /// Who.
    pub actor: &'a str,
    /// What (`deployment.approve`, `person.erase`, …).
    pub action: &'a str,
    /// On what (`deployment:3`).
    pub target: &'a str,
    /// Whose data.
    pub organisation: Option<&'a str>,
    /// From where.
    pub origin: &'a str,
    /// Parameters, JSON.
    pub detail: &'a str,
    /// Unix ms.
    pub at_ms: i64,
}

/// Appends to the audit log.
pub async fn audit(db: &impl ConnectionTrait, entry: AuditEntry<'_>) -> Result<(), DbErr> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        at_ms: Set(entry.at_ms),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action.to_owned()),
        target: Set(entry.target.to_owned()),
        organisation: Set(entry.organisation.map(str::to_owned)),
        origin: Set(entry.origin.to_owned()),
        detail: Set(entry.detail.to_owned()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Audit entries, newest first, before `before_id` when given, of one organisation when given.
pub async fn audit_entries(
    db: &impl ConnectionTrait,
    organisation: Option<&str>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    let mut query = audit_log::Entity::find();
    if let Some(organisation) = organisation {
        query = query.filter(audit_log::Column::Organisation.eq(organisation));
    }
    if let Some(before) = before_id {
        query = query.filter(audit_log::Column::Id.lt(before));
    }
    query
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
